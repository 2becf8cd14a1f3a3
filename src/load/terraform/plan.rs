//! `terraform show -json` plan files: `planned_values` (with child modules) into the
//! model, with `resource_changes[].change.after_unknown` marking unknown attributes and
//! the `configuration` section resolving what the plan leaves "known after apply".
//!
//! A plan alone carries no `lifecycle`, so a service-linked role's protection is
//! `NotShown`. When a module folder also has `.tf` files, [`read`] supplies the planned
//! values to the HCL evaluator instead (plan values win, lifecycle comes from HCL).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::rc::Rc;

use hcl_edit::structure::Block;

use super::eval::{Ctx, Eval, InstKey, Module, Res};
use super::resources::{Unmodelled, computed_attributes, map_instance};
use crate::load::{error_at, read_source};
use crate::model::{Diagnostic, Input, InputKind, LoadError};
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Entry, Value, ValueKind};

/// How deep `child_modules` and attribute values may nest.
const MAX_PLAN_DEPTH: usize = 32;
/// Attributes that name another resource: when the plan leaves one unknown and its
/// configuration is a single reference, the referenced attribute is taken.
const IDENTITY_ATTRIBUTES: &[&str] = &[
    "role",
    "user",
    "group",
    "policy_arn",
    "table_name",
    "stream_arn",
    "resource_arn",
    "key_id",
    "kms_key_id",
    "policy_id",
    "target_id",
    "permissions_boundary",
];
/// How many rounds of reference substitution (a reference to a substituted attribute).
const REFERENCE_ROUNDS: usize = 4;

/// One planned resource instance.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    pub address: String,
    pub rtype: String,
    pub name: String,
    pub data: bool,
    /// The instance-qualified module part of the address with its trailing dot
    /// (`module.a[0].`), empty for the root module.
    pub module: String,
    /// The instance key (`index` in the plan).
    pub key: InstKey,
    /// Planned attribute values: nulls removed (Terraform's "not set"), attributes that
    /// `after_unknown` marks replaced by unknown values.
    pub values: Value,
    /// The resource's `expressions` from the plan's `configuration` section.
    pub config: Option<Value>,
    pub span: Span,
}

/// A plan file as read.
pub(crate) struct Plan {
    pub file: FileId,
    pub text: std::sync::Arc<str>,
    pub resources: Vec<Planned>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether a file's text looks like a plan (the test discovery uses).
pub(crate) fn looks_like_plan(text: &str) -> bool {
    text.contains("\"format_version\"") && text.contains("\"planned_values\"")
}

/// Whether a file's text looks like a state file (`terraform show -json` of a state, or
/// a raw `terraform.tfstate`).
pub(crate) fn looks_like_state(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    (head.contains("\"format_version\"") && head.contains("\"values\"") && !text.contains("\"planned_values\""))
        || (head.contains("\"terraform_version\"") && head.contains("\"serial\"") && head.contains("\"lineage\""))
}

/// Reads a plan file into planned resources.
pub fn read(file: &Path, display: &str, sources: &SourceMap) -> Result<Plan, LoadError> {
    let (id, text) = read_source(file, display, sources)?;
    let plan = crate::json::parse(&text, id, 0)
        .map_err(|e| error_at(display, id, e.offset, format!("JSON syntax error: {}", e.message)))?;
    let mut out = Plan {
        file: id,
        text: text.clone(),
        resources: Vec::new(),
        diagnostics: Vec::new(),
    };
    let Some(root) = plan.get("planned_values").and_then(|p| p.get("root_module")) else {
        out.diagnostics.push(Diagnostic::note(
            "the plan has no planned_values.root_module; nothing to analyse",
            plan.span,
        ));
        return Ok(out);
    };
    let mut unknowns: BTreeMap<&str, &Value> = BTreeMap::new();
    for c in plan
        .get("resource_changes")
        .and_then(Value::as_list)
        .unwrap_or_default()
    {
        if let (Some(a), Some(u)) = (
            c.get("address").and_then(Value::as_str),
            c.get("change").and_then(|c| c.get("after_unknown")),
        ) {
            unknowns.entry(a).or_insert(u);
        }
    }
    let config = plan.get("configuration").and_then(|c| c.get("root_module"));
    walk_module(root, config, &unknowns, &mut out, 0);
    Ok(out)
}

/// Loads a plan file on its own.
pub fn load(file: &Path, display: &str, sources: &SourceMap) -> Input {
    let mut input = Input::new(display, InputKind::TerraformPlan);
    let plan = match read(file, display, sources) {
        Ok(p) => p,
        Err(e) => {
            input.errors.push(e);
            return input;
        }
    };
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let ctx = Rc::new(Ctx::new(sources, dir.clone(), dir));
    let mut module = Module::default();
    module.texts.insert(plan.file, plan.text.clone());
    let ev = Eval::new(module, ctx);
    let mut unmodelled = Unmodelled::default();
    input.diagnostics.extend(plan.diagnostics.iter().cloned());
    extract(&ev, &plan, &BTreeSet::new(), &mut input, &mut unmodelled);
    input.diagnostics.append(&mut ev.diagnostics.borrow_mut());
    input.diagnostics.extend(unmodelled.into_notes());
    input
}

/// Adds the plan's resources (except those at `skip` addresses) to `input`, resolving
/// unknown attributes through the configuration and adding computed attributes.
pub(crate) fn extract(ev: &Eval, plan: &Plan, skip: &BTreeSet<String>, input: &mut Input, unmodelled: &mut Unmodelled) {
    let objects = resolve(ev, plan);
    for p in &plan.resources {
        let base = p.address.strip_suffix(&p.key.suffix()).unwrap_or(&p.address);
        if skip.contains(base) {
            continue;
        }
        let Some(obj) = objects.get(&p.address) else { continue };
        map_instance(ev, &res_of(p), &p.address, obj, input, unmodelled);
    }
}

/// The planned values by address, for merging into the HCL evaluation.
pub(crate) fn values_by_address(plan: &Plan) -> BTreeMap<String, Value> {
    plan.resources
        .iter()
        .map(|p| (p.address.clone(), p.values.clone()))
        .collect()
}

/// A stand-in resource declaration for a planned resource (no HCL block).
fn res_of(p: &Planned) -> Res {
    Res {
        data: p.data,
        rtype: p.rtype.clone(),
        name: p.name.clone(),
        block: Block::new(hcl_edit::Ident::new_unchecked("resource")),
        file: p.span.file,
        span: p.span,
        from_plan: true,
    }
}

/// Each resource's object: planned values, attributes the provider computes, and
/// unknown identity attributes replaced through their configured references.
fn resolve(ev: &Eval, plan: &Plan) -> BTreeMap<String, Value> {
    let mut objects: BTreeMap<String, Value> = BTreeMap::new();
    for p in &plan.resources {
        let mut entries: Vec<Entry> = p.values.entries().to_vec();
        // An unknown attribute the configuration does not set is computed by the
        // provider: leave it to the computed attributes (ARNs, generated names).
        entries.retain(|e| !(e.value.is_unknown() && configured(p, &e.key).is_none()));
        computed_attributes(ev, &res_of(p), &p.address, &mut entries);
        objects.insert(p.address.clone(), Value::new(ValueKind::Map(entries), p.values.span));
    }
    for _ in 0..REFERENCE_ROUNDS {
        let mut changed = false;
        for p in &plan.resources {
            let Some(obj) = objects.get(&p.address) else { continue };
            let mut updates = Vec::new();
            for e in obj.entries() {
                if !e.value.is_unknown() || !IDENTITY_ATTRIBUTES.contains(&e.key.as_str()) {
                    continue;
                }
                if let Some(v) = configured(p, &e.key).and_then(|c| referenced(p, c, &objects)) {
                    updates.push((e.key.clone(), v));
                }
            }
            if updates.is_empty() {
                continue;
            }
            if let Some(ValueKind::Map(entries)) = objects.get_mut(&p.address).map(|o| &mut o.kind) {
                for (key, v) in updates {
                    if let Some(slot) = entries.iter_mut().rev().find(|e| e.key == key) {
                        slot.value = v;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    objects
}

/// The configuration expression of an attribute, if the plan has the configuration.
fn configured<'a>(p: &'a Planned, key: &str) -> Option<&'a Value> {
    p.config.as_ref()?.get(key)
}

/// The value of the one resource attribute a configuration expression references, when
/// it references exactly one (Terraform lists each reference with its prefixes).
fn referenced(p: &Planned, expr: &Value, objects: &BTreeMap<String, Value>) -> Option<Value> {
    let refs: Vec<&str> = expr
        .get("references")
        .and_then(Value::as_list)?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Keep the longest references: drop each that is a prefix of another.
    let leaves: Vec<&str> = refs
        .iter()
        .copied()
        .filter(|r| {
            !refs
                .iter()
                .any(|o| o.len() > r.len() && (o.starts_with(&format!("{r}.")) || o.starts_with(&format!("{r}["))))
        })
        .filter(|r| !r.starts_with("each.") && !r.starts_with("count.") && *r != "each" && *r != "count")
        .collect();
    let [one] = leaves.as_slice() else { return None };
    let (target, attr) = one.rsplit_once('.')?;
    let candidates = if target.ends_with(']') {
        vec![format!("{}{target}", p.module)]
    } else {
        vec![
            format!("{}{target}", p.module),
            format!("{}{target}{}", p.module, p.key.suffix()),
        ]
    };
    let obj = candidates.iter().find_map(|a| objects.get(a))?;
    let v = obj.get(attr)?;
    (!v.is_unknown()).then(|| v.clone())
}

fn walk_module(
    module: &Value,
    config: Option<&Value>,
    unknowns: &BTreeMap<&str, &Value>,
    out: &mut Plan,
    depth: usize,
) {
    if depth > MAX_PLAN_DEPTH {
        out.diagnostics.push(Diagnostic::note(
            "child modules nested too deeply; not analysed",
            module.span,
        ));
        return;
    }
    let prefix = module
        .get("address")
        .and_then(Value::as_str)
        .map(|a| format!("{a}."))
        .unwrap_or_default();
    for r in module.get("resources").and_then(Value::as_list).unwrap_or_default() {
        let (Some(address), Some(rtype), Some(name)) = (
            r.get("address").and_then(Value::as_str),
            r.get("type").and_then(Value::as_str),
            r.get("name").and_then(Value::as_str),
        ) else {
            out.diagnostics.push(Diagnostic::note(
                "a planned resource without address, type or name",
                r.span,
            ));
            continue;
        };
        let data = r.get("mode").and_then(Value::as_str) == Some("data");
        let mut values = r
            .get("values")
            .cloned()
            .unwrap_or_else(|| Value::new(ValueKind::Map(Vec::new()), r.span));
        drop_nulls(&mut values, 0);
        if let Some(u) = unknowns.get(address) {
            mark_unknown(&mut values, u, address, 0);
        }
        let key = match r.get("index").map(|i| &i.kind) {
            Some(ValueKind::Number(n)) => n.parse().map(InstKey::Int).unwrap_or(InstKey::Unknown),
            Some(ValueKind::Str(t)) => t
                .as_literal()
                .map(|s| InstKey::Str(s.to_string()))
                .unwrap_or(InstKey::Unknown),
            _ => InstKey::None,
        };
        let local = format!("{}{rtype}.{name}", if data { "data." } else { "" });
        let config = config
            .and_then(|c| c.get("resources"))
            .and_then(Value::as_list)
            .and_then(|rs| {
                rs.iter()
                    .find(|c| c.get("address").and_then(Value::as_str) == Some(&local))
            })
            .and_then(|c| c.get("expressions"))
            .cloned();
        out.resources.push(Planned {
            address: address.to_string(),
            rtype: rtype.to_string(),
            name: name.to_string(),
            data,
            module: prefix.clone(),
            key,
            values,
            config,
            span: r.span,
        });
    }
    for child in module.get("child_modules").and_then(Value::as_list).unwrap_or_default() {
        let call = child
            .get("address")
            .and_then(Value::as_str)
            .and_then(|a| a.rsplit("module.").next())
            .map(|last| last.split('[').next().unwrap_or(last).to_string());
        let child_config = match (config, call) {
            (Some(c), Some(call)) => c
                .get("module_calls")
                .and_then(|m| m.get(&call))
                .and_then(|m| m.get("module")),
            _ => None,
        };
        walk_module(child, child_config, unknowns, out, depth + 1);
    }
}

/// Removes null attributes (Terraform's "not set") from maps, at any depth.
fn drop_nulls(v: &mut Value, depth: usize) {
    if depth > MAX_PLAN_DEPTH {
        return;
    }
    match &mut v.kind {
        ValueKind::Map(entries) => {
            entries.retain(|e| !matches!(e.value.kind, ValueKind::Null));
            for e in entries {
                drop_nulls(&mut e.value, depth + 1);
            }
        }
        ValueKind::List(items) => {
            for i in items {
                drop_nulls(i, depth + 1);
            }
        }
        _ => {}
    }
}

/// Replaces the attributes `after_unknown` marks `true` by unknown values.
fn mark_unknown(values: &mut Value, unknown: &Value, path: &str, depth: usize) {
    if depth > MAX_PLAN_DEPTH {
        return;
    }
    match (&mut values.kind, &unknown.kind) {
        (ValueKind::Map(entries), ValueKind::Map(marks)) => {
            for mark in marks {
                let here = format!("{path}.{}", mark.key);
                match entries.iter_mut().rev().find(|e| e.key == mark.key) {
                    Some(entry) => mark_unknown(&mut entry.value, &mark.value, &here, depth + 1),
                    None if mark.value.as_bool() == Some(true) => entries.push(Entry {
                        key: mark.key.clone(),
                        key_span: mark.key_span,
                        value: Value::unknown(here, "known after apply", mark.value.span),
                    }),
                    None => {}
                }
            }
        }
        (ValueKind::List(items), ValueKind::List(marks)) => {
            for (i, (item, mark)) in items.iter_mut().zip(marks).enumerate() {
                mark_unknown(item, mark, &format!("{path}[{i}]"), depth + 1);
            }
        }
        (_, ValueKind::Bool(true)) => {
            *values = Value::unknown(path, "known after apply", values.span);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PolicyKind, Target};

    fn load_text(plan: &str) -> Input {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let path = tmp.path().join("plan.json");
        let _ = std::fs::write(&path, plan);
        let sources = SourceMap::new();
        load(&path, "plan.json", &sources)
    }

    #[test]
    fn plan_resources_and_unknowns() {
        let input = load_text(
            r#"{"format_version": "1.2", "planned_values": {"root_module": {
  "resources": [
    {"address": "aws_dynamodb_table.t", "mode": "managed", "type": "aws_dynamodb_table", "name": "t",
     "values": {"name": "orders"}},
    {"address": "aws_iam_role_policy.p", "mode": "managed", "type": "aws_iam_role_policy", "name": "p",
     "values": {"role": "r", "policy": "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}}"}}
  ],
  "child_modules": [{"resources": [
    {"address": "module.m.aws_iam_service_linked_role.s", "mode": "managed", "type": "aws_iam_service_linked_role",
     "name": "s", "values": {"aws_service_name": "kinesisreplication.dynamodb.amazonaws.com"}}]}]}},
  "resource_changes": [{"address": "aws_dynamodb_table.t", "change": {"after_unknown": {"arn": true}}}]}"#,
        );
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        assert_eq!(input.tables[0].name.to_string(), "orders");
        // The provider computes the ARN: derived from the name, as for HCL.
        assert_eq!(
            input.tables[0].arn.to_string(),
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders"
        );
        assert_eq!(input.policies[0].kind, PolicyKind::Inline);
        assert!(input.policies[0].document.get("Statement").is_some());
        assert_eq!(input.slrs[0].address, "module.m.aws_iam_service_linked_role.s");
        assert_eq!(input.slrs[0].protected, crate::model::Protection::NotShown);
    }

    #[test]
    fn nulls_are_unset_and_unconfigured_unknowns_are_computed() {
        let input = load_text(
            r#"{"format_version": "1.2", "planned_values": {"root_module": {"resources": [
    {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r",
     "values": {"name": "app", "path": "/", "permissions_boundary": null}}]}},
  "resource_changes": [{"address": "aws_iam_role.r", "change": {"after_unknown":
     {"arn": true, "managed_policy_arns": true, "inline_policy": true}}}],
  "configuration": {"root_module": {"resources": [
    {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r",
     "expressions": {"name": {"constant_value": "app"}}}]}}}"#,
        );
        assert!(input.attachments.is_empty(), "{:?}", input.attachments);
        assert_eq!(
            input.principals[0].arn.to_string(),
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/app"
        );
    }

    #[test]
    fn configuration_references_resolve_known_after_apply_names() {
        let input = load_text(
            r#"{"format_version": "1.2", "planned_values": {"root_module": {"resources": [
    {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r", "values": {}},
    {"address": "aws_iam_role_policy_attachment.a", "mode": "managed", "type": "aws_iam_role_policy_attachment",
     "name": "a", "values": {"policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}}]}},
  "resource_changes": [
    {"address": "aws_iam_role.r", "change": {"after_unknown": {"name": true, "arn": true}}},
    {"address": "aws_iam_role_policy_attachment.a", "change": {"after_unknown": {"role": true}}}],
  "configuration": {"root_module": {"resources": [
    {"address": "aws_iam_role.r", "expressions": {"name_prefix": {"constant_value": "app-"}}},
    {"address": "aws_iam_role_policy_attachment.a", "expressions": {
       "role": {"references": ["aws_iam_role.r.name", "aws_iam_role.r"]},
       "policy_arn": {"constant_value": "arn:aws:iam::aws:policy/AdministratorAccess"}}}]}}}"#,
        );
        let name = input.principals[0].name.clone();
        assert_eq!(name.to_string(), "${aws_iam_role.r.name}");
        match &input.attachments[0].target {
            Target::RoleName(t) => assert_eq!(*t, name),
            other => unreachable!("{other:?}"),
        }
    }
}
