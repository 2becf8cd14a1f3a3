//! Terraform loader acceptance tests through the binary (issue 4): the corpus module of
//! NOTES.md item 7, HCL vs plan JSON of the same configuration, and the fixtures of
//! `testdata/terraform/` that pin expression features and resource types.
#![allow(clippy::panic)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{access, check_json, kdsguard, root};
use serde_json::Value;

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("KDSGUARD_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => root().join("../shared/corpus"),
    };
    if dir.join("INDEX.tsv").is_file() {
        Some(dir)
    } else {
        let _ = writeln!(std::io::stderr(), "skipped: no corpus at {}", dir.display());
        None
    }
}

/// `check --format json` run from `cwd`.
fn check_in(cwd: &Path, args: &[&str]) -> Value {
    let out = kdsguard()
        .current_dir(cwd)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn items<'a>(report: &'a Value, key: &str) -> Vec<&'a Value> {
    report[key].as_array().into_iter().flatten().collect()
}

fn by_id<'a>(report: &'a Value, key: &str, id: &str) -> &'a Value {
    items(report, key)
        .into_iter()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("no {key} with id {id} in {}", report[key]))
}

fn decision(report: &Value, principal: &str, capability: &str, resource: &str) -> String {
    access(report, principal, capability, resource)
        .first()
        .and_then(|a| a["decision"].as_str())
        .unwrap_or("absent")
        .to_string()
}

/// NOTES.md item 7: the only Terraform streaming destination of the corpus sits under a
/// `for_each` over a variable that reaches the module through the root module.
#[test]
fn corpus_milestone_02_streaming_destination_resolves_through_module_wiring() {
    let Some(corpus) = corpus_dir() else { return };
    let vars = root().join("testdata/terraform/corpus/milestone_02.tfvars");
    let vars = vars.to_string_lossy().into_owned();
    let input = "kevintruong__terraform-101-labs/milestone_02/dynamodb/lab/dev/ingest";
    // The corpus holds no .git: the repository's folder is the analysis root, as its git
    // top level would be, so the modules under `milestone_02/tf_modules` are inside.
    let repo = "kevintruong__terraform-101-labs";
    let report = check_in(&corpus, &["--root", repo, "--var-file", &vars, input]);
    assert_eq!(items(&report, "errors").len(), 0, "{}", report["errors"]);
    let orders = by_id(
        &report,
        "resources",
        &format!("{input}#module.aws_dynamodb.aws_dynamodb_table.basic-dynamodb-table[\"orders\"]"),
    );
    assert_eq!(orders["name"], "orders");
    // The tfvars give the stream as a literal ARN; it names the stream the sibling module
    // declares (same name, in whatever account and region the run deploys to), so the
    // table links to that declaration.
    assert_eq!(
        orders["stream"],
        format!("{input}#module.aws_data_stream.aws_kinesis_stream.aws_kds[\"orders-stream\"]"),
        "{orders}"
    );
    assert_eq!(
        orders["file"],
        "kevintruong__terraform-101-labs/milestone_02/tf_modules/aws_dynamodb/main.tf"
    );
    // `if v.stream_enable` leaves the audit table without a destination.
    let audit = by_id(
        &report,
        "resources",
        &format!("{input}#module.aws_dynamodb.aws_dynamodb_table.basic-dynamodb-table[\"audit\"]"),
    );
    assert!(audit["stream"].is_null(), "{audit}");
    // The stream module is wired too: its for_each instance has its name.
    let stream = by_id(
        &report,
        "resources",
        &format!("{input}#module.aws_data_stream.aws_kinesis_stream.aws_kds[\"orders-stream\"]"),
    );
    assert_eq!(stream["name"], "orders-stream");
}

/// The same configuration as HCL (a copy of `test.tf` alone) and as plan JSON gives the
/// same principals, resources, decisions and findings once ids and positions are
/// normalised; with both in the folder, the merged input gives them too.
#[test]
fn corpus_public_access_hcl_and_plan_agree() {
    let Some(corpus) = corpus_dir() else { return };
    let dir = corpus.join("awslabs__terraform-iam-policy-validator/iam_check/test/public_access");
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let hcl_dir = tmp.path().join("public_access");
    std::fs::create_dir_all(&hcl_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(dir.join("test.tf"), hcl_dir.join("test.tf")).unwrap_or_else(|e| panic!("{e}"));
    let hcl = check_in(tmp.path(), &["public_access"]);
    let plan = check_in(&dir, &["test_plan.json"]);
    let merged = check_in(&dir, &["test.tf"]);
    let normalise = |report: &Value| -> Value {
        fn strip(v: &Value) -> Value {
            match v {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "file" | "line" | "column" | "end_line" | "end_column"))
                        .map(|(k, v)| (k.clone(), strip(v)))
                        .collect(),
                ),
                Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
                Value::String(s) => Value::String(s.split_once('#').map_or(s.clone(), |(_, rest)| format!("#{rest}"))),
                other => other.clone(),
            }
        }
        let keys = ["principals", "resources", "access", "service_linked_roles", "findings"];
        let sorted = |v: Value| match v {
            Value::Array(mut items) => {
                items.sort_by_key(|x| x.to_string());
                Value::Array(items)
            }
            other => other,
        };
        Value::Object(
            keys.iter()
                .map(|k| (k.to_string(), sorted(strip(&report[*k]))))
                .collect(),
        )
    };
    assert_eq!(hcl["inputs"][0]["kind"], "terraform");
    assert_eq!(plan["inputs"][0]["kind"], "terraform-plan");
    let (h, p, m) = (normalise(&hcl), normalise(&plan), normalise(&merged));
    for key in ["principals", "resources", "access", "service_linked_roles", "findings"] {
        assert_eq!(h[key], p[key], "{key} differ between HCL and plan");
        assert_eq!(h[key], m[key], "{key} differ between HCL and HCL+plan");
    }
    let names: Vec<&str> = items(&hcl, "principals")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["iam_for_lambda_with_sns", "test_role"]);
    let kinds: Vec<&str> = items(&plan, "resources")
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"table") && kinds.contains(&"stream"), "{kinds:?}");
}

#[test]
fn module_for_each_count_formatlist_and_format() {
    let (report, _) = check_json(&["testdata/terraform/module_for_each"]);
    let base = "testdata/terraform/module_for_each#";
    let role = format!("{base}module.ops[0].aws_iam_role.operator");
    assert_eq!(by_id(&report, "principals", &role)["name"], "ops-01");
    for table in ["orders", "payments"] {
        let t = format!("{base}module.pipe[\"{table}\"].aws_dynamodb_table.t");
        let s = format!("{base}module.pipe[\"{table}\"].aws_kinesis_stream.s");
        assert_eq!(by_id(&report, "resources", &t)["stream"], s.as_str());
        assert_eq!(by_id(&report, "resources", &s)["name"], format!("{table}-changes"));
        assert_eq!(decision(&report, &role, "disable", &t), "allowed");
        // The stream statement's resources come from formatlist.
        assert_eq!(decision(&report, &role, "describe", &t), "allowed");
        assert_eq!(decision(&report, &role, "enable", &t), "absent");
    }
}

#[test]
fn json_syntax_configuration() {
    let (report, _) = check_json(&["testdata/terraform/json_syntax"]);
    let base = "testdata/terraform/json_syntax#";
    let user = format!("{base}aws_iam_user.admin");
    let table = format!("{base}aws_dynamodb_table.ledger");
    let p = by_id(&report, "principals", &user);
    assert_eq!(p["name"], "json-admin");
    assert_eq!(p["file"], "testdata/terraform/json_syntax/main.tf.json");
    let t = by_id(&report, "resources", &table);
    assert_eq!(t["name"], "ledger");
    assert_eq!(t["stream"], format!("{base}aws_kinesis_stream.ledger"));
    assert_eq!(decision(&report, &user, "enable", &table), "allowed");
    let slr = format!("{base}aws_iam_service_linked_role.kds");
    assert_eq!(decision(&report, &user, "delete-slr", &slr), "denied");
    // The Deny statement is found at its line in the .tf.json file.
    let denied = access(&report, &user, "delete-slr", &slr);
    let lines: Vec<u64> = denied
        .iter()
        .flat_map(|a| a["because"].as_array().into_iter().flatten())
        .filter_map(|b| b["line"].as_u64())
        .collect();
    assert!(lines.contains(&14), "{lines:?}");
}

#[test]
fn plan_merged_with_configuration() {
    let (report, _) = check_json(&["testdata/terraform/plan_merge"]);
    let base = "testdata/terraform/plan_merge#";
    // The plan decides the for_each instances and the table name (both from variables
    // without values); the policy and its role come from the configuration.
    let role = format!("{base}aws_iam_role.team[\"blue\"]");
    let table = format!("{base}aws_dynamodb_table.t");
    assert_eq!(by_id(&report, "principals", &role)["name"], "team-blue");
    assert_eq!(by_id(&report, "resources", &table)["name"], "billing");
    assert_eq!(decision(&report, &role, "disable", &table), "allowed");
    let merged: Vec<&Value> = items(&report, "principals")
        .into_iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| id.starts_with(base)))
        .collect();
    assert_eq!(merged.len(), 1, "{merged:?}");
    let notes = items(&report, "notes");
    assert!(
        notes
            .iter()
            .any(|n| n["file"] == "testdata/terraform/plan_merge/plan.json"
                && n["message"].as_str().is_some_and(|m| m.contains("merged"))),
        "{notes:?}"
    );
}

/// Registry and git modules load from the folders `.terraform/modules/modules.json`
/// records, with module addresses, nesting, instance keys and local modules inside them;
/// a call the manifest does not record, or records outside `.terraform/modules`, is noted.
#[test]
fn registry_and_git_modules_load_through_the_module_manifest() {
    let (report, _) = check_json(&["testdata/terraform/registry_module"]);
    assert_eq!(items(&report, "errors").len(), 0, "{}", report["errors"]);
    let base = "testdata/terraform/registry_module#";
    let installed = "testdata/terraform/registry_module/.terraform/modules";
    let app = format!("{base}aws_iam_role.app");
    let kds = format!("{base}module.kds.aws_dynamodb_table.this");
    let t = by_id(&report, "resources", &kds);
    assert_eq!(t["name"], "events");
    assert_eq!(t["file"], format!("{installed}/kds/main.tf"));
    assert_eq!(t["line"], 6);
    // The git module nested in the registry module has its own manifest key (`kds.stream`).
    let stream = format!("{base}module.kds.module.stream.aws_kinesis_stream.this");
    assert_eq!(t["stream"], stream.as_str());
    assert_eq!(by_id(&report, "resources", &stream)["name"], "events-changes");
    assert_eq!(
        by_id(&report, "resources", &stream)["file"],
        format!("{installed}/kds.stream/main.tf")
    );
    // for_each instances share the manifest key `audit`.
    for k in ["a", "b"] {
        let table = format!("{base}module.audit[\"{k}\"].aws_dynamodb_table.this");
        assert_eq!(by_id(&report, "resources", &table)["name"], format!("audit-{k}"));
    }
    // The root module's grant reaches the installed modules' outputs.
    assert_eq!(decision(&report, &app, "enable", &kds), "allowed");
    let audit_b = format!("{base}module.audit[\"b\"].aws_dynamodb_table.this");
    let audit_a = format!("{base}module.audit[\"a\"].aws_dynamodb_table.this");
    assert_eq!(decision(&report, &app, "enable", &audit_b), "allowed");
    assert_eq!(decision(&report, &app, "enable", &audit_a), "absent");
    // A local module inside the installed module.
    let reader = format!("{base}module.kds.module.grants.aws_iam_role.reader");
    assert_eq!(by_id(&report, "principals", &reader)["name"], "replication-reader");
    assert_eq!(decision(&report, &reader, "describe", &kds), "allowed");
    let notes: Vec<String> = items(&report, "notes")
        .iter()
        .filter_map(|n| n["message"].as_str().map(str::to_string))
        .collect();
    let noted = |module: &str, why: &str| {
        notes.iter().any(|m| {
            m.starts_with(&format!("module {module} ")) && m.contains(why) && m.contains("outputs are unknown")
        })
    };
    assert!(noted("absent", "has no entry for key `absent`"), "{notes:?}");
    assert!(noted("escape", "../modules is outside .terraform/modules"), "{notes:?}");
}

/// Every IAM attachment shape of issue 4 and the expression features that build the policies
/// (count, for_each, for, conditionals, locals, format, merge, replace, splat, dynamic
/// statements, the pseudo data sources), end to end through the JSON report.
#[test]
fn iam_shapes_and_expressions_reach_their_principals() {
    let dir = "testdata/terraform/iam_shapes";
    let (report, code) = check_json(&[dir]);
    assert_eq!(code, 1, "{}", report["errors"]);
    let id = |address: &str| format!("{dir}#{address}");
    // count + for expression + locals: tables; for_each + format: streams, linked per key.
    let orders = by_id(&report, "resources", &id("aws_dynamodb_table.t[0]"));
    assert_eq!(orders["name"], "prod-orders");
    assert_eq!(orders["stream"], id("aws_kinesis_stream.s[\"orders\"]"));
    let music = by_id(&report, "resources", &id("aws_dynamodb_table.t[1]"));
    assert_eq!(music["name"], "prod-music");
    assert_eq!(
        by_id(&report, "resources", &id("aws_kinesis_stream.s[\"music\"]"))["name"],
        "music-changes"
    );

    let (t0, t1) = (id("aws_dynamodb_table.t[0]"), id("aws_dynamodb_table.t[1]"));
    let slr = "slr:kinesisreplication.dynamodb.amazonaws.com";
    let role = id("aws_iam_role.bounded");
    // name_prefix: a generated name; AdministratorAccess capped by the boundary.
    assert_eq!(
        by_id(&report, "principals", &role)["name"],
        "${aws_iam_role.bounded.name}"
    );
    assert_eq!(decision(&report, &role, "enable", &t0), "allowed");
    assert!(
        access(&report, &role, "create-slr", slr).is_empty(),
        "the boundary allows no iam action"
    );
    // The SCP denies deleting the service-linked role to everyone.
    assert_eq!(decision(&report, &role, "delete-slr", slr), "denied");

    // alice: group policy built by a dynamic statement, and the group's share of a
    // multi-target aws_iam_policy_attachment whose resources come from a splat.
    let alice = id("aws_iam_user.alice");
    assert_eq!(decision(&report, &alice, "update", &t0), "allowed");
    assert_eq!(decision(&report, &alice, "update", &t1), "allowed");
    assert_eq!(decision(&report, &alice, "disable", &t1), "allowed");
    // The table's resource policy denies disabling to everyone but the bounded role.
    assert_eq!(decision(&report, &alice, "disable", &t0), "denied");
    assert_eq!(decision(&report, &role, "disable", &t0), "allowed");
    // bob: the users' share of the same attachment only.
    let bob = id("aws_iam_user.bob");
    assert_eq!(decision(&report, &bob, "disable", &t1), "allowed");
    assert!(access(&report, &bob, "update", &t1).is_empty());
    // A user only an attachment names is an external user.
    let contractor = by_id(&report, "principals", &id("user/contractor"));
    assert_eq!(contractor["kind"], "external-user");
    assert_eq!(decision(&report, &id("user/contractor"), "disable", &t1), "allowed");

    // Findings granted through a bundled AWS managed policy point at its attachment.
    let line = common::lines_with(Path::new(&format!("{dir}/main.tf")), "managed_policy_arns  =")[0] as u64;
    let rules: Vec<(String, u64)> = items(&report, "findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(rules, [("KDS002".to_string(), line), ("KDS006".to_string(), line)]);
}
