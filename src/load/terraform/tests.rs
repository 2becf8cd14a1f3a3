//! Unit tests of the Terraform loader: expressions, resources, policy documents, spans.

use std::path::Path;

use super::*;
use crate::model::{PolicyKind, PolicyRef, PrincipalKind, Protection, TableRef, Target};
use crate::value::{Symbol, Template};

fn write(dir: &Path, name: &str, text: &str) {
    if let Some(parent) = dir.join(name).parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(dir.join(name), text);
}

fn load_with(files: &[(&str, &str)], options: &LoadOptions) -> (Input, SourceMap, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    for (name, text) in files {
        write(tmp.path(), name, text);
    }
    let sources = SourceMap::new();
    let input = load_module(tmp.path(), ".", tmp.path(), options, &sources);
    (input, sources, tmp)
}

fn load(files: &[(&str, &str)]) -> (Input, SourceMap, tempfile::TempDir) {
    load_with(files, &LoadOptions::default())
}

/// Evaluates `local.x` after the given declarations.
fn eval_local(decls: &str, options: &LoadOptions) -> Value {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    write(tmp.path(), "main.tf", decls);
    let sources = SourceMap::new();
    let ctx = Rc::new(Ctx::new(&sources, tmp.path().to_path_buf(), tmp.path().to_path_buf()));
    let parsed = parse_module(tmp.path(), ".", String::new(), &ctx);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let mut input = Input::new(".", InputKind::Terraform);
    let mut module = parsed.module;
    module.inputs = root_inputs(tmp.path(), tmp.path(), options, &ctx, &mut input);
    let mut ev = Eval::new(module, ctx.clone());
    ev.make_child = Some(child_maker(vec![tmp.path().to_path_buf()]));
    ev.var("__nothing__", Span::builtin());
    let e = hcl_edit::parser::parse_expr("local.x").unwrap_or_else(|e| unreachable!("{e}"));
    ev.expr(&e, FileId::BUILTIN, &Scope::root())
}

fn lit(v: &Value) -> String {
    match &v.kind {
        ValueKind::Str(t) => t.to_string(),
        ValueKind::Number(n) => n.clone(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::List(items) => format!("[{}]", items.iter().map(lit).collect::<Vec<_>>().join(",")),
        ValueKind::Map(es) => format!(
            "{{{}}}",
            es.iter()
                .map(|e| format!("{}={}", e.key, lit(&e.value)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        ValueKind::Null => "null".into(),
        ValueKind::Unknown(u) => format!("?({}: {})", u.expr, u.reason),
    }
}

fn local(expr: &str) -> String {
    lit(&eval_local(
        &format!("locals {{\n  x = {expr}\n}}\n"),
        &LoadOptions::default(),
    ))
}

fn line_col(sources: &SourceMap, span: Span) -> (usize, usize) {
    sources.start(span).map(|lc| (lc.line, lc.column)).unwrap_or((0, 0))
}

#[test]
fn literals_templates_and_operators() {
    assert_eq!(local("\"a${1 + 2}b\""), "a3b");
    assert_eq!(local("[1, \"x\", true, null]"), "[1,x,true,null]");
    assert_eq!(local("{ a = 1, \"b\" = 2 }"), "{a=1,b=2}");
    assert_eq!(local("3 > 2 && !false ? \"yes\" : \"no\""), "yes");
    assert_eq!(local("(4 - 1) * 2 / 3"), "2");
    assert_eq!(local("\"%{ if true }on%{ else }off%{ endif }\""), "on");
    assert_eq!(local("\"%{ for s in [\"a\", \"b\"] }${s}-%{ endfor }\""), "a-b-");
    assert_eq!(local("\"a $${b} %%{c}\""), "a ${b} %{c}");
}

#[test]
fn heredocs_strip_indentation() {
    assert_eq!(local("<<EOF\n  a\n b\nEOF"), "  a\n b\n");
    assert_eq!(local("<<-EOF\n    a\n      b\n    EOF"), "a\n  b\n");
}

#[test]
fn for_expressions_and_splats() {
    assert_eq!(local("[for s in [\"a\", \"b\"] : upper(s)]"), "[A,B]");
    assert_eq!(local("{for k, v in {b = 1, a = 2} : v => k}"), "{2=a,1=b}");
    assert_eq!(local("[for s in [1, 2, 3] : s if s > 1]"), "[2,3]");
    assert_eq!(local("[{a = 1}, {a = 2}][*].a"), "[1,2]");
    assert_eq!(local("{a = {b = [\"x\"]}}.a.b[0]"), "x");
}

#[test]
fn functions() {
    assert_eq!(local("join(\",\", [\"a\", \"b\"])"), "a,b");
    assert_eq!(local("split(\",\", \"a,b\")"), "[a,b]");
    assert_eq!(local("format(\"%s-%d\", \"a\", 1)"), "a-1");
    assert_eq!(local("concat([1], [2, 3])"), "[1,2,3]");
    assert_eq!(local("merge({a = 1}, {b = 2}, {a = 3})"), "{b=2,a=3}");
    assert_eq!(local("lookup({a = 1}, \"b\", 9)"), "9");
    assert_eq!(local("element([\"a\", \"b\"], 3)"), "b");
    assert_eq!(local("length([1, 2])"), "2");
    assert_eq!(local("lower(\"AbC\")"), "abc");
    assert_eq!(local("replace(\"a-b-c\", \"-\", \"_\")"), "a_b_c");
    assert_eq!(local("toset([\"b\", \"a\", \"b\"])"), "[b,a]");
    assert_eq!(local("try(var.nope, \"fallback\")"), "fallback");
    assert_eq!(local("coalesce(\"\", \"x\")"), "x");
    assert_eq!(local("flatten([[1], [2, [3]]])"), "[1,2,3]");
    assert_eq!(local("distinct([1, 1, 2])"), "[1,2]");
    assert_eq!(local("compact([\"a\", \"\", \"b\"])"), "[a,b]");
    assert_eq!(local("contains([\"a\"], \"a\")"), "true");
    assert_eq!(local("keys({b = 1, a = 2})"), "[a,b]");
    assert_eq!(local("values({b = 1, a = 2})"), "[2,1]");
    assert_eq!(local("trimprefix(\"arn:x\", \"arn:\")"), "x");
    assert_eq!(local("trimsuffix(\"x.json\", \".json\")"), "x");
    assert_eq!(local("jsondecode(\"{\\\"a\\\": [1]}\")"), "{a=[1]}");
    assert_eq!(local("\"x${jsonencode([\"a\"])}\""), "x[\"a\"]");
    assert!(local("md5(\"x\")").starts_with("?(md5(\"x\"): function md5() is not evaluated"));
}

#[test]
fn variables_locals_and_cycles() {
    let decls = "variable \"a\" { default = \"d\" }\nvariable \"b\" {}\nvariable \"c\" {}\nlocals {\n  x = [var.a, var.b, var.c, local.y]\n  y = local.z\n  z = local.y\n}\n";
    let options = LoadOptions {
        tf_vars: vec![("c".into(), "[\"l\"]".into())],
        ..LoadOptions::default()
    };
    let v = lit(&eval_local(decls, &options));
    assert!(v.starts_with("[d,?(var.b: variable b has no value),[l],?("), "{v}");
    assert!(v.contains("cycle"), "{v}");
}

#[test]
fn tfvars_files_give_values() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    write(
        tmp.path(),
        "main.tf",
        "variable \"n\" {}\nresource \"aws_dynamodb_table\" \"t\" {\n  name = var.n\n}\n",
    );
    write(tmp.path(), "terraform.tfvars", "n = \"orders\"\n");
    let sources = SourceMap::new();
    let input = load_module(tmp.path(), ".", tmp.path(), &LoadOptions::default(), &sources);
    assert_eq!(input.tables[0].name, Template::lit("orders"));
}

#[test]
fn pseudo_data_sources_are_symbols() {
    let v = eval_local(
        "data \"aws_caller_identity\" \"c\" {}\ndata \"aws_region\" \"r\" {}\ndata \"aws_partition\" \"p\" {}\nlocals {\n  x = \"arn:${data.aws_partition.p.partition}:dynamodb:${data.aws_region.r.name}:${data.aws_caller_identity.c.account_id}:table/T\"\n}\n",
        &LoadOptions::default(),
    );
    let mut t = Template::lit("arn:");
    t.push_sym(Symbol::Partition);
    t.push_str(":dynamodb:");
    t.push_sym(Symbol::Region);
    t.push_str(":");
    t.push_sym(Symbol::Account);
    t.push_str(":table/T");
    assert_eq!(v.as_template(), Some(&t));
}

const ROLE_TF: &str = r#"resource "aws_iam_role" "r" {
  name = "replicator"
  assume_role_policy = "{}"
  managed_policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]
  inline_policy {
    name = "kds"
    policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "dynamodb:EnableKinesisStreamingDestination",
      "Resource": "${aws_dynamodb_table.t.arn}"
    }
  ]
}
EOF
  }
}

resource "aws_dynamodb_table" "t" {
  name = "orders"
}
"#;

#[test]
fn role_with_heredoc_inline_policy_points_into_the_heredoc() {
    let (input, sources, _tmp) = load(&[("main.tf", ROLE_TF)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let role = &input.principals[0];
    assert_eq!(role.kind, PrincipalKind::Role);
    assert_eq!(role.address, "aws_iam_role.r");
    assert_eq!(
        role.arn.to_string(),
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/replicator"
    );
    assert_eq!(line_col(&sources, role.span), (1, 1));
    let policy = input
        .policies
        .iter()
        .find(|p| p.kind == PolicyKind::Inline)
        .unwrap_or_else(|| panic!("no inline policy in {:?}", input.policies));
    assert_eq!(policy.address, "aws_iam_role.r/inline_policy/kds");
    assert_eq!(policy.kind, PolicyKind::Inline);
    let statements = policy
        .document
        .get("Statement")
        .and_then(Value::as_list)
        .unwrap_or_default();
    let st = &statements[0];
    assert_eq!(line_col(&sources, st.span), (11, 5));
    let action = st.get("Action").map(|a| a.span).unwrap_or_default();
    assert_eq!(line_col(&sources, action), (13, 17));
    let resource = st.get("Resource").and_then(Value::as_template).map(Template::to_string);
    assert_eq!(
        resource.as_deref(),
        Some("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders")
    );
    assert!(
        input
            .attachments
            .iter()
            .any(|a| a.policy == PolicyRef::Address(policy.address.clone())
                && a.target == Target::Address("aws_iam_role.r".into()))
    );
    assert!(
        input
            .attachments
            .iter()
            .any(|a| a.policy == PolicyRef::Arn(Template::lit("arn:aws:iam::aws:policy/AdministratorAccess")))
    );
}

#[test]
fn indented_heredoc_and_quoted_policy_spans() {
    let tf = "resource \"aws_iam_role_policy\" \"p\" {\n  role = aws_iam_role.r.name\n  policy = <<-EOT\n    {\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}\n  EOT\n}\nresource \"aws_iam_role\" \"r\" {}\nresource \"aws_iam_user_policy\" \"u\" {\n  user = \"bob\"\n  policy = \"{\\\"Statement\\\": {\\\"Effect\\\": \\\"Deny\\\", \\\"Action\\\": \\\"*\\\"}}\"\n}\n";
    let (input, sources, _tmp) = load(&[("main.tf", tf)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let p = input.policies.iter().find(|p| p.address == "aws_iam_role_policy.p");
    let st = p
        .and_then(|p| p.document.get("Statement"))
        .and_then(Value::as_list)
        .map(|l| l[0].clone());
    let action = st
        .as_ref()
        .and_then(|s| s.get("Action"))
        .map(|a| a.span)
        .unwrap_or_default();
    assert_eq!(line_col(&sources, action), (4, 50));
    // The role has a generated name; the policy names the role by reference, so by the
    // role's address, not by its (opaque) name.
    let att = input
        .attachments
        .iter()
        .find(|a| a.policy == PolicyRef::Address("aws_iam_role_policy.p".into()));
    let role = &input.principals[0];
    assert_eq!(
        att.map(|a| a.target.clone()),
        Some(Target::Address(role.address.clone()))
    );
    // A plain string is still a name.
    let bob = input
        .attachments
        .iter()
        .find(|a| a.policy == PolicyRef::Address("aws_iam_user_policy.u".into()));
    assert_eq!(
        bob.map(|a| a.target.clone()),
        Some(Target::UserName(Template::lit("bob")))
    );
    let u = input.policies.iter().find(|p| p.address == "aws_iam_user_policy.u");
    let effect = u
        .and_then(|p| p.document.get("Statement"))
        .and_then(|s| s.get("Effect"))
        .cloned();
    let effect = effect.unwrap_or_else(|| Value::unknown("", "", Span::builtin()));
    assert_eq!(effect.as_str(), Some("Deny"));
    assert_eq!(line_col(&sources, effect.span), (10, 42));
}

#[test]
fn jsonencode_policy_keeps_hcl_spans() {
    let tf = "resource \"aws_iam_policy\" \"p\" {\n  name = \"kds\"\n  path = \"/svc/\"\n  policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [{\n      Effect = \"Allow\"\n      Action = [\"dynamodb:DescribeKinesisStreamingDestination\"]\n      Resource = \"*\"\n    }]\n  })\n}\n";
    let (input, sources, _tmp) = load(&[("main.tf", tf)]);
    let p = &input.policies[0];
    assert_eq!(p.kind, PolicyKind::Managed);
    assert_eq!(
        p.arn.as_ref().map(Template::to_string).as_deref(),
        Some("arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/svc/kds")
    );
    let st = p
        .document
        .get("Statement")
        .and_then(Value::as_list)
        .map(|l| l[0].clone());
    let span = st.map(|s| s.span).unwrap_or_default();
    assert_eq!(line_col(&sources, span), (6, 18));
}

#[test]
fn policy_document_data_source() {
    let tf = r#"data "aws_iam_policy_document" "d" {
  statement {
    sid     = "Kds"
    actions = ["dynamodb:EnableKinesisStreamingDestination"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111122223333:root"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:username"
      values   = ["&{aws:username}"]
    }
  }
  dynamic "statement" {
    for_each = toset(["a", "b"])
    content {
      effect    = "Deny"
      actions   = ["kinesis:${statement.value}"]
      resources = ["*"]
    }
  }
}
resource "aws_iam_policy" "p" {
  policy = data.aws_iam_policy_document.d.json
}
"#;
    let (input, sources, _tmp) = load(&[("main.tf", tf)]);
    let doc = &input.policies[0].document;
    let sts = doc.get("Statement").and_then(Value::as_list).unwrap_or_default();
    assert_eq!(sts.len(), 3);
    assert_eq!(line_col(&sources, sts[0].span), (2, 3));
    assert_eq!(sts[0].get("Effect").and_then(Value::as_str), Some("Allow"));
    let principal = sts[0].get("Principal").map(lit);
    assert_eq!(principal.as_deref(), Some("{AWS=[arn:aws:iam::111122223333:root]}"));
    let cond = sts[0].get("Condition").map(lit);
    assert_eq!(cond.as_deref(), Some("{StringEquals={aws:username=[${aws:username}]}}"));
    let ckey = sts[0]
        .get("Condition")
        .and_then(|c| c.get("StringEquals"))
        .and_then(|m| m.entry("aws:username"));
    assert_eq!(ckey.map(|e| line_col(&sources, e.key_span)), Some((12, 7)));
    assert_eq!(sts[2].get("Action").map(lit).as_deref(), Some("[kinesis:b]"));
    assert_eq!(sts[2].get("Effect").and_then(Value::as_str), Some("Deny"));
    // The generated policy name is the same opaque value in the name and the ARN.
    let p = &input.policies[0];
    assert_eq!(
        p.name.as_ref().map(Template::to_string).as_deref(),
        Some("${aws_iam_policy.p.name}")
    );
}

#[test]
fn count_and_for_each_expand_with_addresses() {
    let tf = r#"resource "aws_dynamodb_table" "c" {
  count = 2
  name  = "t-${count.index}"
}
resource "aws_kinesis_stream" "s" {
  for_each = { b = "x", a = "y" }
  name     = "s-${each.key}-${each.value}"
}
resource "aws_iam_role_policy_attachment" "a" {
  role       = "r"
  policy_arn = aws_dynamodb_table.c[1].arn
}
resource "aws_iam_user" "u" {
  for_each = var.users
  name     = each.key
}
variable "users" {}
"#;
    let (input, _sources, _tmp) = load(&[("main.tf", tf)]);
    let tables: Vec<_> = input
        .tables
        .iter()
        .map(|t| (t.address.clone(), t.name.to_string()))
        .collect();
    assert_eq!(
        tables,
        [
            ("aws_dynamodb_table.c[0]".to_string(), "t-0".to_string()),
            ("aws_dynamodb_table.c[1]".into(), "t-1".into())
        ]
    );
    let streams: Vec<_> = input.streams.iter().map(|s| s.address.clone()).collect();
    assert_eq!(streams, ["aws_kinesis_stream.s[\"a\"]", "aws_kinesis_stream.s[\"b\"]"]);
    assert_eq!(input.streams[0].name, Template::lit("s-a-y"));
    match &input.attachments[0].policy {
        PolicyRef::Arn(t) => assert!(t.to_string().ends_with(":table/t-1"), "{t}"),
        other => unreachable!("{other:?}"),
    }
    assert_eq!(input.principals[0].address, "aws_iam_user.u");
    assert!(
        input
            .diagnostics
            .iter()
            .any(|d| d.message.contains("instances of aws_iam_user.u are not known"))
    );
}

#[test]
fn slr_destination_kms_and_scp() {
    let tf = r#"resource "aws_iam_service_linked_role" "kds" {
  aws_service_name = "kinesisreplication.dynamodb.amazonaws.com"
  lifecycle {
    prevent_destroy = true
  }
}
resource "aws_iam_service_linked_role" "other" {
  aws_service_name = "es.amazonaws.com"
}
resource "aws_dynamodb_table" "t" { name = "orders" }
resource "aws_kms_key" "k" {
  policy = jsonencode({ Statement = [] })
}
resource "aws_kinesis_stream" "s" {
  name            = "s"
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.k.arn
}
resource "aws_dynamodb_kinesis_streaming_destination" "d" {
  table_name = aws_dynamodb_table.t.name
  stream_arn = aws_kinesis_stream.s.arn
}
resource "aws_organizations_policy" "scp" {
  content = "{\"Statement\": []}"
}
resource "aws_organizations_policy_attachment" "a" {
  policy_id = aws_organizations_policy.scp.id
  target_id = "r-abcd"
}
resource "aws_s3_bucket" "b1" {}
resource "aws_s3_bucket" "b2" {}
"#;
    let (input, sources, _tmp) = load(&[("main.tf", tf)]);
    assert!(matches!(input.slrs[0].protected, Protection::Protected(s) if line_col(&sources, s) == (4, 5)));
    assert_eq!(input.slrs[1].protected, Protection::Unprotected);
    assert_eq!(
        input.destinations[0].table,
        TableRef::Address("aws_dynamodb_table.t".into())
    );
    assert!(
        input.destinations[0]
            .stream_arn
            .as_template()
            .is_some_and(|t| t.to_string().ends_with(":stream/s"))
    );
    assert_eq!(
        input.streams[0].kms_key.as_ref().and_then(Value::as_template),
        Some(&input.keys[0].arn)
    );
    let key_policy = input.policies.iter().find(|p| p.address == "aws_kms_key.k/policy");
    assert_eq!(
        key_policy.and_then(|p| p.resource.clone()),
        Some(input.keys[0].arn.clone())
    );
    let scp = input.policies.iter().find(|p| p.kind == PolicyKind::Scp);
    assert!(scp.is_some());
    let att = input
        .attachments
        .iter()
        .find(|a| matches!(a.target, Target::Organization(_)));
    assert_eq!(
        att.map(|a| a.policy.clone()),
        Some(PolicyRef::Address("aws_organizations_policy.scp".into()))
    );
    let notes: Vec<_> = input
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("aws_s3_bucket"))
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].message.starts_with("2 resources of type aws_s3_bucket"),
        "{}",
        notes[0].message
    );
}

#[test]
fn parse_errors_are_load_errors_and_other_files_still_load() {
    let (input, sources, _tmp) = load(&[
        ("a.tf", "resource \"aws_dynamodb_table\" \"t\" { name = \"x\" }\n"),
        ("b.tf", "resource \"x\" \"y\" {\n  a = = 1\n}\n"),
        ("c.tf.json", "{\n  \"resource\": [1,\n}"),
    ]);
    assert_eq!(input.tables.len(), 1);
    assert_eq!(input.errors.len(), 2);
    let err = &input.errors[0];
    assert_eq!(err.path, "b.tf");
    assert_eq!(err.span.map(|s| line_col(&sources, s)), Some((2, 7)));
    let err = &input.errors[1];
    assert_eq!(err.path, "c.tf.json");
    assert!(err.message.starts_with("JSON syntax error"), "{}", err.message);
    assert_eq!(err.span.map(|s| line_col(&sources, s)).map(|(l, _)| l), Some(3));
}

#[test]
fn json_syntax_declarations_evaluate_like_hcl() {
    let json = r#"{
  "variable": {"table": {"default": "orders"}},
  "locals": {"stream": "${var.table}-changes"},
  "data": {"aws_caller_identity": {"me": {}}},
  "resource": {
    "aws_dynamodb_table": {"t": {"name": "${var.table}", "hash_key": "id"}},
    "aws_kinesis_stream": {"s": {"name": "${local.stream}", "shard_count": 1}},
    "aws_iam_role_policy": {"p": {
      "role": "app",
      "policy": "${jsonencode({Statement = [{Effect = \"Allow\", Action = \"dynamodb:*\", Resource = aws_dynamodb_table.t.arn}]})}"
    }},
    "aws_iam_service_linked_role": {"slr": {
      "aws_service_name": "kinesisreplication.dynamodb.amazonaws.com",
      "lifecycle": {"prevent_destroy": true}
    }}
  },
  "output": {"arn": {"value": "${aws_kinesis_stream.s.arn}"}}
}
"#;
    let (input, sources, _tmp) = load(&[("main.tf.json", json)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    assert!(input.diagnostics.is_empty(), "{:?}", input.diagnostics);
    assert_eq!(input.tables[0].name.to_string(), "orders");
    assert_eq!(input.streams[0].name.to_string(), "orders-changes");
    assert_eq!(line_col(&sources, input.tables[0].span).0, 6);
    let doc = &input.policies[0].document;
    let st = doc.get("Statement").and_then(|s| s.as_list()).and_then(|l| l.first());
    let resource = st.and_then(|s| s.get("Resource")).and_then(Value::as_template);
    assert_eq!(
        resource.map(ToString::to_string).as_deref(),
        Some("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders")
    );
    match &input.slrs[0].protected {
        Protection::Protected(span) => assert_eq!(line_col(&sources, *span), (14, 40)),
        other => unreachable!("{other:?}"),
    }
}

#[test]
fn json_syntax_policy_document_statements_point_at_their_objects() {
    let json = r#"{
  "data": {"aws_iam_policy_document": {"d": {
    "statement": [
      {"actions": ["dynamodb:EnableKinesisStreamingDestination"], "resources": ["*"]},
      {"effect": "Deny", "actions": ["iam:DeleteServiceLinkedRole"], "resources": ["*"]}
    ]
  }}},
  "resource": {"aws_iam_policy": {"p": {"name": "p", "policy": "${data.aws_iam_policy_document.d.json}"}}}
}
"#;
    let (input, sources, _tmp) = load(&[("main.tf.json", json)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    assert!(input.diagnostics.is_empty(), "{:?}", input.diagnostics);
    let statements = input.policies[0]
        .document
        .get("Statement")
        .and_then(|s| s.as_list())
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    assert_eq!(statements.len(), 2);
    assert_eq!(line_col(&sources, statements[0].span), (4, 7));
    assert_eq!(line_col(&sources, statements[1].span), (5, 7));
    assert_eq!(statements[1].get("Effect").and_then(Value::as_str), Some("Deny"));
}

#[test]
fn tfvars_json_and_environment_variables() {
    let options = LoadOptions {
        tf_env_vars: vec![("a".into(), "from-env".into()), ("b".into(), "from-env".into())],
        ..LoadOptions::default()
    };
    let (input, _sources, _tmp) = load_with(
        &[
            (
                "main.tf",
                "variable \"a\" {}\nvariable \"b\" {}\nresource \"aws_dynamodb_table\" \"a\" { name = var.a }\nresource \"aws_dynamodb_table\" \"b\" { name = var.b }\n",
            ),
            ("terraform.tfvars.json", "{\"b\": \"from-json\"}"),
        ],
        &options,
    );
    let names: Vec<String> = input.tables.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["from-env", "from-json"]);
}

#[test]
fn local_modules_are_loaded_with_prefixed_addresses() {
    let (input, _sources, _tmp) = load(&[
        (
            "main.tf",
            "module \"db\" {\n  source = \"./modules/db\"\n  table  = \"orders\"\n}\nresource \"aws_iam_role_policy_attachment\" \"a\" {\n  role       = \"r\"\n  policy_arn = module.db.arn\n}\nmodule \"remote\" {\n  source = \"terraform-aws-modules/iam/aws\"\n}\n",
        ),
        (
            "modules/db/main.tf",
            "variable \"table\" {}\nresource \"aws_dynamodb_table\" \"t\" {\n  name = var.table\n}\noutput \"arn\" {\n  value = aws_dynamodb_table.t.arn\n}\nmodule \"loop\" {\n  source = \"../db\"\n}\n",
        ),
    ]);
    assert_eq!(input.tables[0].address, "module.db.aws_dynamodb_table.t");
    assert_eq!(input.tables[0].name, Template::lit("orders"));
    assert_eq!(input.module_dirs, ["modules/db"]);
    match &input.attachments[0].policy {
        PolicyRef::Arn(t) => assert!(t.to_string().ends_with(":table/orders")),
        other => unreachable!("{other:?}"),
    }
    assert!(input.diagnostics.iter().any(|d| d.message.contains("module remote")));
    // A cycle is an error (shown without -v) that names the chain of calls.
    assert!(
        input
            .errors
            .iter()
            .any(|e| e.message.contains("module cycle: module.db.module.loop (source ../db)")),
        "{:?}",
        input.errors
    );
}

#[test]
fn file_and_templatefile_policies_point_into_their_files() {
    let (input, sources, _tmp) = load(&[
        (
            "main.tf",
            "resource \"aws_iam_policy\" \"f\" {\n  policy = file(\"${path.module}/p.json\")\n}\nresource \"aws_iam_policy\" \"t\" {\n  policy = templatefile(\"${path.module}/p.tpl\", { table = \"orders\" })\n}\n",
        ),
        (
            "p.json",
            "{\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]\n}\n",
        ),
        (
            "p.tpl",
            "{\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"${table}\"}]\n}\n",
        ),
    ]);
    for (addr, path) in [("aws_iam_policy.f", "p.json"), ("aws_iam_policy.t", "p.tpl")] {
        let p = input.policies.iter().find(|p| p.address == addr);
        let st = p
            .and_then(|p| p.document.get("Statement"))
            .and_then(Value::as_list)
            .map(|l| l[0].clone());
        let span = st.map(|s| s.span).unwrap_or_default();
        assert_eq!(sources.path(span), path);
        assert_eq!(line_col(&sources, span), (2, 17));
    }
    let t = input.policies.iter().find(|p| p.address == "aws_iam_policy.t");
    let r = t
        .and_then(|p| p.document.get("Statement"))
        .and_then(Value::as_list)
        .and_then(|l| l[0].get("Resource").cloned());
    assert_eq!(r.as_ref().and_then(Value::as_str), Some("orders"));
}

#[test]
fn unknown_interpolation_in_policy_json() {
    let tf = "variable \"arns\" {}\nresource \"aws_iam_policy\" \"p\" {\n  policy = <<EOF\n{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": ${jsonencode(var.arns)}, \"Condition\": {\"StringEquals\": {\"aws:username\": \"${var.user}\"}}}]}\nEOF\n}\n";
    let (input, _sources, _tmp) = load(&[("main.tf", tf)]);
    let st = input.policies[0]
        .document
        .get("Statement")
        .and_then(Value::as_list)
        .map(|l| l[0].clone());
    let st = st.unwrap_or_else(|| Value::unknown("", "", Span::builtin()));
    assert!(st.get("Resource").is_some_and(Value::is_unknown), "{st:?}");
    let user = st
        .get("Condition")
        .and_then(|c| c.get("StringEquals"))
        .and_then(|m| m.get("aws:username"));
    assert!(
        user.and_then(Value::as_template)
            .is_some_and(|t| t.opaques().count() == 1)
    );
}

#[test]
fn deep_nesting_does_not_crash() {
    let deep = format!("{}1{}", "[".repeat(60), "]".repeat(60));
    assert!(local(&deep).starts_with("[[["));
    let too_deep = format!("locals {{\n  x = {}1{}\n}}\n", "[".repeat(500), "]".repeat(500));
    let (input, _sources, _tmp) = load(&[("main.tf", &too_deep)]);
    assert_eq!(input.errors.len(), 1);
    let chain: String = (0..300).map(|i| format!("  l{i} = local.l{}\n", i + 1)).collect();
    let v = eval_local(
        &format!("locals {{\n  x = local.l0\n{chain}  l300 = 1\n}}\n"),
        &LoadOptions::default(),
    );
    assert!(v.is_unknown() || lit(&v) == "1");
}

fn fixture(name: &str) -> (Input, SourceMap) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = SourceMap::new();
    let dir = root.join("testdata/terraform").join(name);
    let input = load_module(
        &dir,
        &format!("testdata/terraform/{name}"),
        root,
        &LoadOptions::default(),
        &sources,
    );
    (input, sources)
}

#[test]
fn fixture_replication() {
    let (input, sources) = fixture("replication");
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    assert_eq!(input.tables.len(), 1);
    assert_eq!(input.streams.len(), 1);
    assert_eq!(input.keys.len(), 1);
    assert_eq!(input.slrs.len(), 1);
    assert!(matches!(input.slrs[0].protected, Protection::Protected(_)));
    let table = &input.tables[0];
    assert_eq!(input.destinations[0].table, TableRef::Address(table.address.clone()));
    assert_eq!(
        input.destinations[0].stream_arn.as_template(),
        Some(&input.streams[0].arn)
    );
    assert_eq!(
        input.streams[0].kms_key.as_ref().and_then(Value::as_template),
        Some(&input.keys[0].arn)
    );
    // The managed policy's statement names the table by the same ARN template.
    let managed = input.policies.iter().find(|p| p.address == "aws_iam_policy.replicator");
    let st = managed
        .and_then(|p| p.document.get("Statement"))
        .and_then(Value::as_list)
        .unwrap_or_default();
    assert_eq!(st.len(), 3);
    assert_eq!(
        st[0]
            .get("Resource")
            .and_then(Value::as_list)
            .and_then(|l| l[0].as_template()),
        Some(&table.arn)
    );
    // The heredoc policy built from a local points into the heredoc.
    let user_policy = input
        .policies
        .iter()
        .find(|p| p.address == "aws_iam_user_policy.auditor");
    let st = user_policy
        .and_then(|p| p.document.get("Statement"))
        .and_then(Value::as_list)
        .unwrap_or_default();
    assert_eq!(
        st.first().and_then(|s| s.get("Resource")).and_then(Value::as_template),
        Some(&table.arn)
    );
    let action = st
        .first()
        .and_then(|s| s.get("Action"))
        .map(|a| line_col(&sources, a.span));
    assert_eq!(action, Some((118, 21)));
    assert_eq!(input.memberships.len(), 1);
    assert_eq!(input.groups.len(), 1);
    assert_eq!(input.principals.len(), 2);
    // Three grants, and the role's trust policy.
    assert_eq!(input.attachments.len(), 4);
    let trust: Vec<&str> = input
        .policies
        .iter()
        .filter(|p| p.kind == PolicyKind::Trust)
        .map(|p| p.address.as_str())
        .collect();
    assert_eq!(trust.len(), 1, "{trust:?}");
    assert!(trust[0].ends_with(" (trust policy)"), "{trust:?}");
}

#[test]
fn fixture_modules() {
    let (input, _sources) = fixture("modules");
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    assert_eq!(input.module_dirs, ["testdata/terraform/modules/modules/kds"]);
    assert_eq!(input.tables[0].address, "module.kds.aws_dynamodb_table.this");
    assert_eq!(
        input.destinations[0].address,
        "module.kds.aws_dynamodb_kinesis_streaming_destination.this"
    );
    let role_policy = &input.policies[0];
    let st = role_policy
        .document
        .get("Statement")
        .and_then(Value::as_list)
        .unwrap_or_default();
    assert_eq!(
        st[0].get("Resource").and_then(Value::as_template),
        Some(&input.tables[0].arn)
    );
}

#[test]
fn long_reference_chains_end_without_overflowing_the_stack() {
    let mut tf = String::new();
    for i in 0..400 {
        tf.push_str(&format!(
            "resource \"aws_iam_role\" \"r{i}\" {{\n  name = \"${{aws_iam_role.r{}.name}}-x\"\n  path = jsonencode([for x in [aws_iam_role.r{}.path] : x])\n}}\n",
            i + 1,
            i + 1
        ));
    }
    tf.push_str("resource \"aws_iam_role\" \"r400\" {\n  name = \"end\"\n  path = \"/\"\n}\n");
    let (input, _sources, _tmp) = load(&[("main.tf", &tf)]);
    assert_eq!(input.principals.len(), 401);
}

#[test]
fn format_verbs_and_formatlist() {
    assert_eq!(
        local(r#"format("%s-%03d-%x-%.2f-%5s|%-4s|", "a", 7, 255, 3.14159, "r", "l")"#),
        "a-007-ff-3.14-    r|l   |"
    );
    assert_eq!(local(r#"format("%[2]s/%[1]s", "x", "y")"#), "y/x");
    assert_eq!(local(r#"format("%q %t %%", "q", true)"#), "\"q\" true %");
    assert_eq!(local(r#"format("%#v", {a = [1, "b"]})"#), "{\"a\":[1,\"b\"]}");
    assert_eq!(local(r#"formatlist("%s:%s", ["a", "b"], "z")"#), "[a:z,b:z]");
    assert_eq!(local(r#"formatlist("%s=%s", ["a", "b"], ["1", "2"])"#), "[a=1,b=2]");
    assert!(local(r#"formatlist("%s%s", ["a"], ["1", "2"])"#).starts_with("?("));
    assert!(local(r#"format("%z", 1)"#).starts_with("?("));
    assert_eq!(local(r#"replace("a_b_c", "_", "-")"#), "a-b-c");
}

#[test]
fn replace_with_a_regular_expression_is_unknown_and_says_why() {
    let v = eval_local(
        "locals {\n  x = replace(\"a-b-1\", \"/[0-9]+/\", \"n\")\n}\n",
        &LoadOptions::default(),
    );
    let reason = eval::unknown_reason(&v).unwrap_or_default();
    assert!(reason.starts_with("replace(): "), "{reason}");
    assert!(reason.contains("/[0-9]+/ is a regular expression"), "{reason}");
    assert!(matches!(&v.kind, ValueKind::Unknown(u) if u.expr.starts_with("replace(")));
    // A lone slash is a plain search string.
    assert_eq!(local(r#"replace("a/b", "/", "-")"#), "a-b");
    let unknown_string = local(r#"replace(var.nope, "/x/", "y")"#);
    assert!(unknown_string.contains("replace()"), "{unknown_string}");
}

#[test]
fn module_count_and_for_each_expand_with_instance_addresses() {
    let (input, _sources, _tmp) = load(&[
        (
            "main.tf",
            "module \"t\" {\n  source   = \"./t\"\n  for_each = toset([\"a\", \"b\"])\n  name     = each.key\n}\nmodule \"c\" {\n  source = \"./t\"\n  count  = 1\n  name   = \"c${count.index}\"\n}\nresource \"aws_iam_role_policy\" \"p\" {\n  role   = \"r\"\n  policy = jsonencode({Statement = [{Effect = \"Allow\", Action = \"dynamodb:*\", Resource = [module.t[\"b\"].arn, module.c[0].arn, module.t[\"a\"]]}]})\n}\n",
        ),
        (
            "t/main.tf",
            "variable \"name\" {}\nresource \"aws_dynamodb_table\" \"x\" { name = var.name }\noutput \"arn\" { value = aws_dynamodb_table.x.arn }\n",
        ),
    ]);
    let addresses: Vec<&str> = input.tables.iter().map(|t| t.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "module.t[\"a\"].aws_dynamodb_table.x",
            "module.t[\"b\"].aws_dynamodb_table.x",
            "module.c[0].aws_dynamodb_table.x"
        ]
    );
    let names: Vec<String> = input.tables.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["a", "b", "c0"]);
    let st = input.policies[0]
        .document
        .get("Statement")
        .and_then(|s| s.as_list())
        .and_then(|l| l.first());
    let resources: Vec<String> = st
        .and_then(|s| s.get("Resource"))
        .and_then(|r| r.as_list())
        .unwrap_or_default()
        .iter()
        .map(lit)
        .collect();
    assert!(resources[0].ends_with(":table/b"), "{resources:?}");
    assert!(resources[1].ends_with(":table/c0"), "{resources:?}");
    assert!(resources[2].starts_with("{arn="), "{resources:?}");
}

#[test]
fn registry_module_without_manifest_is_noted_and_its_outputs_are_unknown() {
    let (input, _sources, _tmp) = load(&[(
        "main.tf",
        "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\nresource \"aws_dynamodb_table\" \"t\" {\n  name = module.vpc.name\n}\n",
    )]);
    let note = input.diagnostics.iter().find(|d| {
        d.message
            .starts_with("module vpc (source terraform-aws-modules/vpc/aws) is not loaded")
    });
    let Some(note) = note else {
        unreachable!("no note: {:?}", input.diagnostics)
    };
    assert!(note.message.contains("modules.json"), "{}", note.message);
    assert!(note.message.ends_with("its outputs are unknown"), "{}", note.message);
    let names: Vec<bool> = input.tables.iter().map(|t| t.name.is_literal()).collect();
    assert_eq!(names, [false]);
}

#[test]
fn manifest_key_of_a_nested_installed_module_ignores_instance_keys() {
    let (input, _sources, _tmp) = load(&[
        (
            "main.tf",
            "module \"p\" {\n  source   = \"acme/p/aws\"\n  for_each = toset([\"x\"])\n  name     = each.key\n}\n",
        ),
        (
            ".terraform/modules/modules.json",
            r#"{"Modules":[{"Key":"p","Source":"registry.terraform.io/acme/p/aws","Dir":".terraform/modules/p"},{"Key":"p.s","Source":"git::https://e/s.git","Dir":".terraform/modules/p.s"}]}"#,
        ),
        (
            ".terraform/modules/p/main.tf",
            "variable \"name\" {}\nmodule \"s\" {\n  source = \"git::https://e/s.git\"\n  name   = \"${var.name}-s\"\n}\n",
        ),
        (
            ".terraform/modules/p.s/main.tf",
            "variable \"name\" {}\nresource \"aws_kinesis_stream\" \"k\" {\n  name = var.name\n}\n",
        ),
    ]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let streams: Vec<(&str, String)> = input
        .streams
        .iter()
        .map(|s| (s.address.as_str(), s.name.to_string()))
        .collect();
    assert_eq!(
        streams,
        [("module.p[\"x\"].module.s.aws_kinesis_stream.k", "x-s".to_string())]
    );
}

#[test]
fn null_arguments_are_not_set() {
    let (input, _, _tmp) = load(&[(
        "main.tf",
        r#"
variable "boundary" {
  default = null
}
variable "arns" {
  default = null
}
resource "aws_iam_role" "r" {
  name                 = "r"
  permissions_boundary = var.boundary
  managed_policy_arns  = var.arns
  assume_role_policy   = "{}"
}
resource "aws_iam_role" "generated" {
  name               = null
  assume_role_policy = "{}"
}
resource "aws_iam_role" "generated_too" {
  name               = var.boundary
  assume_role_policy = "{}"
}
resource "aws_iam_policy_attachment" "p" {
  name       = "p"
  roles      = [aws_iam_role.r.name, null]
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}
resource "aws_iam_role" "counted" {
  count              = null
  name               = "counted"
  assume_role_policy = "{}"
}
resource "aws_kms_key" "k" {
  policy = var.boundary
}
data "aws_iam_policy_document" "d" {
  version = null
  statement {
    sid       = null
    actions   = ["dynamodb:*"]
    resources = ["*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = null
    }
  }
  source_policy_documents = null
}
resource "aws_iam_role_policy" "d" {
  role   = aws_iam_role.r.name
  policy = data.aws_iam_policy_document.d.json
}
"#,
    )]);
    // No boundary and no managed policy list: nothing attached from them.
    let boundaries: Vec<_> = input.attachments.iter().filter(|a| a.boundary).collect();
    assert!(boundaries.is_empty(), "{boundaries:?}");
    let unknown: Vec<_> = input
        .attachments
        .iter()
        .filter(|a| matches!(a.policy, PolicyRef::Unknown(_)))
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
    // The null list element names no role.
    let roles: Vec<_> = input
        .attachments
        .iter()
        .filter(|a| a.policy == PolicyRef::Arn(Template::lit("arn:aws:iam::aws:policy/ReadOnlyAccess")))
        .collect();
    assert_eq!(roles.len(), 1, "{roles:?}");
    // A null name is a generated name, distinct per resource.
    let name = |addr: &str| {
        input
            .principals
            .iter()
            .find(|p| p.address == addr)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let (g1, g2) = (name("aws_iam_role.generated"), name("aws_iam_role.generated_too"));
    assert!(!g1.is_literal() && !g2.is_literal());
    assert_ne!(g1, g2);
    // `count = null` is one instance, without an index.
    assert!(input.principals.iter().any(|p| p.address == "aws_iam_role.counted"));
    // A key whose policy is null has AWS's default key policy: none is declared.
    assert!(!input.policies.iter().any(|p| p.address == "aws_kms_key.k/policy"));
    // Null arguments of a policy document are left out of the document.
    let doc = input
        .policies
        .iter()
        .find(|p| p.address == "aws_iam_role_policy.d")
        .map(|p| p.document.clone())
        .unwrap_or_else(|| Value::unknown("", "", Span::builtin()));
    assert_eq!(doc.get("Version").and_then(Value::as_str), Some("2012-10-17"));
    let st = doc
        .get("Statement")
        .and_then(Value::as_list)
        .and_then(|s| s.first().cloned())
        .unwrap_or_else(|| Value::unknown("", "", Span::builtin()));
    assert!(st.get("Sid").is_none(), "{st:?}");
}

#[test]
fn references_carry_the_identity_of_the_resource_they_read() {
    let child = r#"
variable "name" {}
resource "aws_iam_role" "role" {
  name = var.name
}
resource "aws_iam_policy" "p" {
  name   = var.name
  policy = "{\"Statement\": []}"
}
resource "aws_iam_role_policy_attachment" "a" {
  role       = aws_iam_role.role.name
  policy_arn = aws_iam_policy.p.arn
}
resource "aws_iam_user" "u" {
  name = var.name
}
resource "aws_iam_group" "g" {
  name = var.name
}
resource "aws_iam_user_group_membership" "m" {
  user   = aws_iam_user.u.name
  groups = [aws_iam_group.g.name]
}
resource "aws_dynamodb_table" "t" {
  name = var.name
}
resource "aws_dynamodb_kinesis_streaming_destination" "d" {
  table_name = aws_dynamodb_table.t.name
  stream_arn = aws_kinesis_stream.s.arn
}
resource "aws_kinesis_stream" "s" {
  name = var.name
}
output "role_name" {
  value = aws_iam_role.role.id
}
"#;
    let root = r#"
module "a" {
  source = "./child"
  name   = "same"
}
module "b" {
  source = "./child"
  name   = "same"
}
resource "aws_iam_role_policy" "via_output" {
  role   = module.b.role_name
  policy = "{\"Statement\": []}"
}
resource "aws_iam_role_policy" "by_name" {
  role   = "same"
  policy = "{\"Statement\": []}"
}
"#;
    let (input, _, _tmp) = load(&[("main.tf", root), ("child/main.tf", child)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let target_of = |policy: &str| {
        input
            .attachments
            .iter()
            .find(|a| a.policy == PolicyRef::Address(policy.into()))
            .map(|a| a.target.clone())
    };
    for m in ["a", "b"] {
        let att = input
            .attachments
            .iter()
            .find(|a| a.policy == PolicyRef::Address(format!("module.{m}.aws_iam_policy.p")))
            .map(|a| a.target.clone());
        assert_eq!(att, Some(Target::Address(format!("module.{m}.aws_iam_role.role"))));
    }
    assert_eq!(
        target_of("aws_iam_role_policy.via_output"),
        Some(Target::Address("module.b.aws_iam_role.role".into()))
    );
    assert_eq!(
        target_of("aws_iam_role_policy.by_name"),
        Some(Target::RoleName(Template::lit("same")))
    );
    let memberships: Vec<(Option<String>, Option<String>)> = input
        .memberships
        .iter()
        .map(|m| (m.user_address.clone(), m.group_address.clone()))
        .collect();
    assert_eq!(
        memberships,
        [
            (
                Some("module.a.aws_iam_user.u".to_string()),
                Some("module.a.aws_iam_group.g".to_string())
            ),
            (
                Some("module.b.aws_iam_user.u".to_string()),
                Some("module.b.aws_iam_group.g".to_string())
            )
        ]
    );
    let tables: Vec<TableRef> = input.destinations.iter().map(|d| d.table.clone()).collect();
    assert_eq!(
        tables,
        [
            TableRef::Address("module.a.aws_dynamodb_table.t".into()),
            TableRef::Address("module.b.aws_dynamodb_table.t".into())
        ]
    );
}

#[test]
fn invalid_json_policy_files_are_located_load_errors() {
    let (input, sources, _tmp) = load(&[
        (
            "main.tf",
            r#"resource "aws_iam_policy" "t" {
  count  = 2
  policy = templatefile("${path.module}/p.tpl", { table = "orders" })
}
resource "aws_iam_policy" "inline" {
  policy = <<-EOT
    {"Statement": [{"Effect": "Allow",}]}
  EOT
}
data "aws_iam_policy_document" "merged" {
  source_policy_documents = [file("${path.module}/bad.json")]
  statement {
    actions   = ["s3:*"]
    resources = ["*"]
  }
}
resource "aws_iam_policy" "merged" {
  policy = data.aws_iam_policy_document.merged.json
}
"#,
        ),
        (
            "p.tpl",
            "{\n  \"Statement\": [{\"Effect\": \"Allow\" \"Action\": \"*\", \"Resource\": \"${table}\"}]\n}\n",
        ),
        ("bad.json", "{\"Statement\": [],}\n"),
    ]);
    let located: Vec<(String, (usize, usize))> = input
        .errors
        .iter()
        .map(|e| (e.path.clone(), line_col(&sources, e.span.unwrap_or_default())))
        .collect();
    // Once per file, however many instances read it; at the JSON problem in the file.
    assert_eq!(
        located,
        [("p.tpl".to_string(), (2, 35)), ("bad.json".to_string(), (1, 17))],
        "{:?}",
        input.errors
    );
    // Each policy is an unknown one for whoever it is attached to.
    let doc = |addr: &str| {
        input
            .policies
            .iter()
            .find(|p| p.address == addr)
            .map(|p| crate::iam::policy::parse(&p.document).0)
            .unwrap_or_default()
    };
    assert!(doc("aws_iam_policy.t[0]").unknown.is_some());
    assert!(
        doc("aws_iam_policy.merged").unknown.is_some(),
        "the merged document's statements are not dropped"
    );
    // JSON inside a .tf file is not a file that fails to load: a warning.
    assert!(doc("aws_iam_policy.inline").unknown.is_some());
    assert!(
        input
            .diagnostics
            .iter()
            .any(|d| d.message.contains("not valid JSON") && sources.path(d.span) == "main.tf")
    );
}

#[test]
fn aws_iam_policy_data_sources_resolve_aws_managed_policies() {
    let (input, _, _tmp) = load(&[(
        "main.tf",
        r#"
data "aws_iam_policy" "by_name" {
  name = "AmazonDynamoDBFullAccess"
}
data "aws_iam_policy" "service_role" {
  name = "AWSLambdaBasicExecutionRole"
}
data "aws_iam_policy" "by_arn" {
  arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
data "aws_iam_policy" "customer" {
  name = "my-own-policy"
}
resource "aws_iam_role_policy_attachment" "a" {
  for_each   = { n = data.aws_iam_policy.by_name.arn, s = data.aws_iam_policy.service_role.arn, a = data.aws_iam_policy.by_arn.arn, c = data.aws_iam_policy.customer.arn }
  role       = "r"
  policy_arn = each.value
}
resource "aws_iam_role_policy" "copy" {
  role   = "r"
  policy = data.aws_iam_policy.by_name.policy
}
"#,
    )]);
    let arns: Vec<String> = input
        .attachments
        .iter()
        .filter_map(|a| match &a.policy {
            PolicyRef::Arn(t) => Some(t.to_string()),
            _ => None,
        })
        .collect();
    assert!(
        arns.contains(&"arn:${AWS::Partition}:iam::aws:policy/AmazonDynamoDBFullAccess".to_string()),
        "{arns:?}"
    );
    assert!(
        arns.contains(&"arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole".to_string()),
        "{arns:?}"
    );
    assert!(
        arns.contains(&"arn:aws:iam::aws:policy/AdministratorAccess".to_string()),
        "{arns:?}"
    );
    // A customer managed policy named by the data source stays unknown.
    let unknown: Vec<&PolicyRef> = input
        .attachments
        .iter()
        .map(|a| &a.policy)
        .filter(|p| matches!(p, PolicyRef::Unknown(_)))
        .collect();
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(
        format!("{unknown:?}").contains("data.aws_iam_policy.customer.arn"),
        "{unknown:?}"
    );
    // `.policy` is the bundled document itself.
    let doc = input
        .policies
        .iter()
        .find(|p| p.address == "aws_iam_role_policy.copy")
        .map(|p| crate::iam::policy::parse(&p.document).0)
        .unwrap_or_default();
    assert!(doc.unknown.is_none());
    assert!(!doc.statements.is_empty());
    assert!(doc.statements.iter().all(|s| s.span.is_builtin()));
    // Known data sources are not reported as unmodelled.
    assert!(
        !input
            .diagnostics
            .iter()
            .any(|d| d.message.contains("aws_iam_policy not modelled"))
    );
}

/// A width or precision of `format()` is an allocation the input chooses: past the
/// template length limit it is refused, not attempted (it once asked for ~100 GB).
#[test]
fn format_widths_past_the_template_length_limit_are_refused() {
    let huge = local("format(\"%99999999999d\", 1)");
    assert!(huge.contains("exceeds the template length limit"), "{huge}");
    let precise = local("format(\"%.99999999999f\", 1.5)");
    assert!(precise.contains("exceeds the template length limit"), "{precise}");
    assert_eq!(local("format(\"%5d|%.1f\", 7, 2.25)"), "    7|2.2");
}

#[test]
fn count_past_the_instance_limit_is_an_error_at_the_expression() {
    let (input, sources, _tmp) = load(&[(
        "main.tf",
        "resource \"aws_iam_role\" \"r\" {\n  count = 20000\n  name  = \"r\"\n}\n",
    )]);
    let [e] = input.errors.as_slice() else {
        unreachable!("{:?}", input.errors)
    };
    assert!(
        e.message
            .starts_with("count is 20000; the block is not expanded: exceeds the instance limit (10000"),
        "{}",
        e.message
    );
    assert_eq!(e.span.and_then(|s| sources.start(s)).map(|l| l.line), Some(2));
}

/// Two known lists of 6,000 numbers each: together longer than what is evaluated one by one.
fn long_lists() -> String {
    let list = vec!["1"; 6000].join(", ");
    format!("locals {{\n  a = [{list}]\n  b = [{list}]\n")
}

#[test]
fn collections_past_the_item_limit_are_unknown_not_cut_short() {
    let unknown = |expr: &str| {
        let v = eval_local(&format!("{}  x = {expr}\n}}\n", long_lists()), &LoadOptions::default());
        assert!(v.is_unknown(), "{expr} = {}", lit(&v));
        lit(&v)
    };
    // Before, these were silently cut to 10,000 elements (length 10000).
    assert!(unknown("length([for i in concat(local.a, local.b) : i])").contains("not known"));
    assert!(unknown("length(range(20000))").contains("more than the 10000"));
    assert!(unknown("length(formatlist(\"%d\", concat(local.a, local.b)))").contains("more than the 10000"));
    let long_literal = format!("[{}]", vec!["0"; 10_001].join(","));
    assert!(unknown(&format!("length({long_literal})")).contains("too long"));
    // Within the limit, nothing changes.
    assert_eq!(local("length(range(5))"), "5");
    assert_eq!(local("length([for i in range(3) : i])"), "3");
}

#[test]
fn a_collection_past_the_item_limit_says_so_in_a_note() {
    let text = format!(
        "{}}}\nresource \"aws_iam_policy\" \"p\" {{\n  name   = format(\"n%d\", length([for i in concat(local.a, local.b) : i]))\n  policy = \"{{}}\"\n}}\n",
        long_lists()
    );
    let (input, _sources, _tmp) = load(&[("main.tf", &text)]);
    assert!(
        input.diagnostics.iter().any(|d| d
            .message
            .starts_with("a collection of 12000 elements is longer than the 10000")),
        "{:?}",
        input.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

/// The trust policy of AWS Control Tower Account Factory's admin role, reduced: a second
/// statement only when an unknown variable is not empty.
const AFT_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": { "AWS": "arn:aws:iam::${account}:root" },
      "Action": "sts:AssumeRole"
    }
    %{ if oidc_provider_arn != "" }
    ,{
      "Effect": "Allow",
      "Principal": { "Federated": "${oidc_provider_arn}" },
      "Action": "sts:AssumeRoleWithWebIdentity"
    }
    %{ endif }
  ]
}
"#;

fn trust_statements(input: &Input) -> Vec<Value> {
    input
        .policies
        .iter()
        .find(|p| p.kind == PolicyKind::Trust)
        .and_then(|p| p.document.get("Statement"))
        .and_then(Value::as_list)
        .map(<[Value]>::to_vec)
        .unwrap_or_default()
}

#[test]
fn an_unknown_template_if_renders_both_branches_and_the_one_branch_statement_is_conditional() {
    let tf = "variable \"oidc\" {}\nresource \"aws_iam_role\" \"admin\" {\n  name = \"admin\"\n  assume_role_policy = templatefile(\"${path.module}/trust.tpl\", { account = \"111122223333\", oidc_provider_arn = var.oidc })\n}\n";
    let (input, sources, _tmp) = load(&[("main.tf", tf), ("trust.tpl", AFT_TRUST)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let statements = trust_statements(&input);
    assert_eq!(statements.len(), 2, "{statements:?}");
    // The account-root statement is in both branches: read as written.
    assert!(statements[0].get("Condition").is_none(), "{:?}", statements[0]);
    assert_eq!(
        statements[0]
            .get("Principal")
            .and_then(|p| p.get("AWS"))
            .and_then(Value::as_str),
        Some("arn:aws:iam::111122223333:root")
    );
    // The OIDC statement holds only under the template condition, which it names.
    let marker = statements[1]
        .get("Condition")
        .and_then(|c| c.get("%{ if }"))
        .unwrap_or_else(|| unreachable!("no template-if condition: {:?}", statements[1]));
    let ValueKind::Unknown(u) = &marker.kind else {
        unreachable!("{marker:?}")
    };
    assert_eq!(u.expr, "oidc_provider_arn != \"\"");
    assert!(u.reason.contains("var.oidc"), "{}", u.reason);
    assert_eq!(sources.path(marker.span), "trust.tpl");
    // Both statements point into the template file.
    assert!(statements.iter().all(|s| sources.path(s.span) == "trust.tpl"));
}

#[test]
fn a_known_template_if_renders_one_branch_only() {
    let tf = "resource \"aws_iam_role\" \"admin\" {\n  name = \"admin\"\n  assume_role_policy = templatefile(\"${path.module}/trust.tpl\", { account = \"111122223333\", oidc_provider_arn = \"\" })\n}\n";
    let (input, _sources, _tmp) = load(&[("main.tf", tf), ("trust.tpl", AFT_TRUST)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let statements = trust_statements(&input);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert!(statements[0].get("Condition").is_none());
}

#[test]
fn json_that_depends_on_an_unknown_is_an_unknown_document_not_an_error() {
    // A `for` over an unknown list writes the statement list: JSON only once it is known.
    let tpl = "{\"Statement\": [\n%{ for a in actions }{\"Effect\": \"Allow\", \"Action\": \"${a}\", \"Resource\": \"*\"},%{ endfor }\n{\"Effect\": \"Deny\", \"Action\": \"iam:*\", \"Resource\": \"*\"}]}\n";
    let tf = "variable \"actions\" {}\nresource \"aws_iam_policy\" \"p\" {\n  policy = templatefile(\"${path.module}/p.tpl\", { actions = var.actions })\n}\n";
    let (input, _sources, _tmp) = load(&[("main.tf", tf), ("p.tpl", tpl)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let doc = &input.policies[0].document;
    assert!(doc.is_unknown(), "{doc:?}");
    assert!(
        input
            .diagnostics
            .iter()
            .any(|d| d.message.contains("read as an unknown document")),
        "{:?}",
        input.diagnostics
    );
}

#[test]
fn a_template_not_json_in_its_known_text_stays_a_located_error() {
    // The comma after the first statement is missing whichever branch is taken.
    let tpl = "{\"Statement\": [\n{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}\n{\"Effect\": \"Allow\", \"Action\": \"sqs:*\", \"Resource\": \"*\"}\n%{ if flag }, {\"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}%{ endif }\n]}\n";
    let tf = "variable \"flag\" {}\nresource \"aws_iam_policy\" \"p\" {\n  policy = templatefile(\"${path.module}/p.tpl\", { flag = var.flag })\n}\n";
    let (input, sources, _tmp) = load(&[("main.tf", tf), ("p.tpl", tpl)]);
    assert_eq!(input.errors.len(), 1, "{:?}", input.errors);
    let at = input.errors[0].span.unwrap_or_default();
    // jsonc-parser reports the missing comma at the end of the statement before it.
    assert_eq!((sources.path(at), line_col(&sources, at).0), ("p.tpl".to_string(), 2));
}

#[test]
fn a_missing_file_is_missing_even_when_the_working_folder_is_outside_the_root() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let repo = tmp.path().join("repo");
    let tf = "resource \"aws_iam_policy\" \"p\" {\n  policy = file(\"generated/policy.json\")\n}\nresource \"aws_iam_policy\" \"q\" {\n  policy = file(\"../../secret.json\")\n}\n";
    write(&repo, "infra/main.tf", tf);
    write(tmp.path(), "secret.json", "{}");
    let options = LoadOptions {
        root: Some(repo.clone()),
        ..LoadOptions::default()
    };
    let sources = SourceMap::new();
    // Run from a folder beside the repository, as `kdsguard check /path/to/repo/infra` does.
    std::fs::create_dir_all(tmp.path().join("elsewhere")).unwrap_or_else(|e| unreachable!("{e}"));
    let input = load_module(
        &repo.join("infra"),
        "infra",
        &tmp.path().join("elsewhere"),
        &options,
        &sources,
    );
    // The generated file is not there: only unknown. The file above the repository is there
    // and outside it: still a load error.
    assert_eq!(input.errors.len(), 1, "{:?}", input.errors);
    assert!(
        input.errors[0].message.contains("../../secret.json"),
        "{:?}",
        input.errors
    );
    assert!(input.errors[0].message.contains("resolves to"), "{:?}", input.errors);
    let p = input.policies.iter().find(|p| p.address == "aws_iam_policy.p");
    assert!(p.is_some_and(|p| p.document.is_unknown()), "{p:?}");
}

#[test]
fn an_empty_boundary_is_none_and_an_empty_role_name_is_generated() {
    let tf = "resource \"aws_iam_role\" \"r\" {\n  name = \"\"\n  permissions_boundary = \"\"\n  assume_role_policy = \"{}\"\n}\nresource \"aws_iam_user\" \"u\" {\n  name = \"ops\"\n  permissions_boundary = \"\"\n}\nresource \"aws_iam_user\" \"b\" {\n  name = \"bounded\"\n  permissions_boundary = \"arn:aws:iam::111122223333:policy/boundary\"\n}\n";
    let (input, _sources, _tmp) = load(&[("main.tf", tf)]);
    let boundaries: Vec<&Target> = input
        .attachments
        .iter()
        .filter(|a| a.boundary)
        .map(|a| &a.target)
        .collect();
    assert_eq!(boundaries, [&Target::Address("aws_iam_user.b".into())]);
    let role = input.principals.iter().find(|p| p.address == "aws_iam_role.r");
    let name = role.map(|r| r.name.to_string()).unwrap_or_default();
    assert_eq!(name, "${aws_iam_role.r.name}", "a generated name, not \"\"");
    assert!(role.is_some_and(|r| r.arn.to_string().ends_with(":role/${aws_iam_role.r.name}")));
}

#[test]
fn too_many_unknown_template_ifs_are_said_and_leave_the_document_unknown() {
    // Five unknown `if`s make 32 combinations, past the limit: the branches are not read,
    // a note says so, and the policy is unknown (never a grant dropped, never an error).
    let stmt = |k: usize| {
        format!("%{{ if f{k} }}, {{\"Effect\": \"Allow\", \"Action\": \"s3:Get{k}\", \"Resource\": \"*\"}}%{{ endif }}")
    };
    let tpl = format!(
        "{{\"Statement\": [\n{{\"Effect\": \"Allow\", \"Action\": \"sqs:*\", \"Resource\": \"*\"}}\n{}\n]}}\n",
        (0..5).map(stmt).collect::<Vec<_>>().join("\n")
    );
    let vars = (0..5).map(|k| format!("f{k} = var.f")).collect::<Vec<_>>().join(", ");
    let tf = format!(
        "variable \"f\" {{}}\nresource \"aws_iam_policy\" \"p\" {{\n  policy = templatefile(\"${{path.module}}/p.tpl\", {{ {vars} }})\n}}\n"
    );
    let (input, _sources, _tmp) = load(&[("main.tf", tf.as_str()), ("p.tpl", tpl.as_str())]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    assert!(
        input.policies[0].document.is_unknown(),
        "{:?}",
        input.policies[0].document
    );
    assert!(
        input
            .diagnostics
            .iter()
            .any(|d| d.message.contains("more than 16 combinations of branches")),
        "{:?}",
        input.diagnostics
    );
}

#[test]
fn a_policy_documents_minified_json_reads_as_its_json() {
    let decls = r#"data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["dynamodb:DescribeKinesisStreamingDestination"]
    resources = ["*"]
  }
}
locals {
  whole = data.aws_iam_policy_document.d
  x = [
    data.aws_iam_policy_document.d.json,
    data.aws_iam_policy_document.d.minified_json,
    local.whole.minified_json,
    keys(local.whole),
  ]
}
"#;
    let v = eval_local(decls, &LoadOptions::default());
    let items = v.as_list().unwrap_or_default();
    assert_eq!(items.len(), 4, "{}", lit(&v));
    let json = lit(&items[0]);
    assert!(json.contains("dynamodb:DescribeKinesisStreamingDestination"), "{json}");
    assert_eq!(lit(&items[1]), json);
    assert_eq!(lit(&items[2]), json);
    // The whole object lists both attributes, `minified_json` right after `json`.
    let keys = lit(&items[3]);
    assert!(keys.contains("json,minified_json"), "{keys}");
    // A value read through either attribute says where it comes from.
    let origin = |v: &Value| v.origin.as_ref().map(|o| o.attribute.clone());
    assert_eq!(origin(&items[1]).as_deref(), Some("minified_json"));
}

#[test]
fn a_reference_reads_one_attribute_marked_with_its_resource_and_an_unset_one_as_unknown() {
    let decls = r#"resource "aws_iam_policy" "p" {
  name   = "kds"
  policy = "{}"
}
locals {
  x = [aws_iam_policy.p.name, aws_iam_policy.p.description]
}
"#;
    let v = eval_local(decls, &LoadOptions::default());
    let items = v.as_list().unwrap_or_default();
    assert_eq!(items.len(), 2, "{}", lit(&v));
    assert_eq!(lit(&items[0]), "kds");
    let origin = items[0].origin.as_deref();
    assert_eq!(
        origin.map(|o| (o.address.as_str(), o.rtype.as_str(), o.attribute.as_str())),
        Some(("aws_iam_policy.p", "aws_iam_policy", "name"))
    );
    let unset = lit(&items[1]);
    assert!(unset.contains("`description` is not set in configuration"), "{unset}");
}

#[test]
fn a_long_quoted_policy_points_at_its_statement_not_at_the_string() {
    // Over 160 bytes of raw text: positions are still exact per byte.
    let pad = "x".repeat(200);
    let tf = format!(
        "resource \"aws_iam_user_policy\" \"u\" {{\n  user = \"bob\"\n  policy = \"{{\\\"Statement\\\": {{\\\"Sid\\\": \\\"{pad}\\\", \\\"Effect\\\": \\\"Deny\\\", \\\"Action\\\": \\\"*\\\"}}}}\"\n}}\n"
    );
    let (input, sources, _tmp) = load(&[("main.tf", &tf)]);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    let u = input.policies.iter().find(|p| p.address == "aws_iam_user_policy.u");
    let effect = u
        .and_then(|p| p.document.get("Statement"))
        .and_then(|s| s.get("Effect"))
        .cloned()
        .unwrap_or_else(|| Value::unknown("", "", Span::builtin()));
    assert_eq!(effect.as_str(), Some("Deny"));
    let line = tf.lines().nth(2).unwrap_or_default();
    let column = line.find("\\\"Deny").map_or(0, |c| c + 1);
    assert_eq!(line_col(&sources, effect.span), (3, column));
}

/// An input as text to compare, its notes and errors in a fixed order (the loader's order
/// of them is not part of its answer: the run sorts them).
fn input_text(mut input: Input) -> String {
    input
        .diagnostics
        .sort_by(|a, b| (a.span, &a.message).cmp(&(b.span, &b.message)));
    input
        .errors
        .sort_by(|a, b| (&a.path, a.span, &a.message).cmp(&(&b.path, b.span, &b.message)));
    format!("{input:#?}")
}

#[test]
fn a_root_read_in_two_halves_gives_the_input_read_whole() {
    // Every Terraform folder of testdata (references across the halves, locals, count and
    // for_each, modules, unknowns, broken files), read whole, in two halves on two
    // threads, and in two halves on one thread.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    let mut stack = vec![root.join("testdata")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut has_tf = false;
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            dirs.push(dir);
        }
    }
    dirs.sort();
    assert!(dirs.len() > 50, "{}", dirs.len());
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"));
    let mut split_somewhere = 0;
    for dir in &dirs {
        let read = |split_from: usize| {
            let sources = SourceMap::new();
            let options = LoadOptions::default();
            input_text(load_module_split(dir, ".", root, &options, &sources, split_from))
        };
        let whole = read(usize::MAX);
        assert_eq!(whole, read(2), "{}: two halves on two threads", dir.display());
        assert_eq!(
            whole,
            one_thread.install(|| read(2)),
            "{}: two halves on one thread",
            dir.display()
        );
        if whole.matches("Table {").count() + whole.matches("Principal {").count() >= 2 {
            split_somewhere += 1;
        }
    }
    assert!(split_somewhere > 20, "{split_somewhere}");
}
