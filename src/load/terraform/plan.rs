//! `terraform show -json` plan files: `planned_values` (with child modules) into the
//! model, with `resource_changes[].change.after_unknown` marking unknown attributes.
//!
//! A plan carries no `lifecycle`, so a service-linked role's protection is `NotShown`.

use std::path::Path;
use std::rc::Rc;

use hcl_edit::structure::Block;

use super::eval::{Ctx, Eval, Module, Res};
use super::resources::{Unmodelled, map_instance};
use crate::load::{error_at, read_source};
use crate::model::{Diagnostic, Input, InputKind};
use crate::source::SourceMap;
use crate::value::{Entry, Value, ValueKind};

/// How deep `child_modules` may nest.
const MAX_PLAN_DEPTH: usize = 32;

/// Loads a plan file.
pub fn load(file: &Path, display: &str, sources: &SourceMap) -> Input {
    let mut input = Input::new(display, InputKind::TerraformPlan);
    let (id, text) = match read_source(file, display, sources) {
        Ok(x) => x,
        Err(e) => {
            input.errors.push(e);
            return input;
        }
    };
    let plan = match crate::load::json::parse(&text, id, 0) {
        Ok(v) => v,
        Err(e) => {
            input.errors.push(error_at(
                display,
                id,
                e.offset,
                format!("JSON syntax error: {}", e.message),
            ));
            return input;
        }
    };
    let Some(root) = plan.get("planned_values").and_then(|p| p.get("root_module")) else {
        input.diagnostics.push(Diagnostic::note(
            "the plan has no planned_values.root_module; nothing to analyse",
            plan.span,
        ));
        return input;
    };
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let ctx = Rc::new(Ctx {
        sources,
        cwd: dir.clone(),
        root: dir,
        depth: std::cell::Cell::new(0),
    });
    let mut module = Module::default();
    module.texts.insert(id, text.clone());
    let ev = Eval::new(module, ctx);
    let changes: Vec<&Value> = plan
        .get("resource_changes")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .collect();
    let mut unmodelled = Unmodelled::default();
    walk_module(&ev, root, &changes, &mut input, &mut unmodelled, 0);
    input.diagnostics.append(&mut ev.diagnostics.borrow_mut());
    input.diagnostics.extend(unmodelled.into_notes());
    input
}

fn walk_module(
    ev: &Eval,
    module: &Value,
    changes: &[&Value],
    input: &mut Input,
    unmodelled: &mut Unmodelled,
    depth: usize,
) {
    if depth > MAX_PLAN_DEPTH {
        input.diagnostics.push(Diagnostic::note(
            "child modules nested too deeply; not analysed",
            module.span,
        ));
        return;
    }
    for r in module.get("resources").and_then(Value::as_list).unwrap_or_default() {
        let (Some(address), Some(rtype), Some(name)) = (
            r.get("address").and_then(Value::as_str),
            r.get("type").and_then(Value::as_str),
            r.get("name").and_then(Value::as_str),
        ) else {
            input.diagnostics.push(Diagnostic::note(
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
        let unknown = changes
            .iter()
            .find(|c| c.get("address").and_then(Value::as_str) == Some(address))
            .and_then(|c| c.get("change"))
            .and_then(|c| c.get("after_unknown"));
        if let Some(u) = unknown {
            mark_unknown(&mut values, u, address, 0);
        }
        let res = Res {
            data,
            rtype: rtype.to_string(),
            name: name.to_string(),
            block: Block::new(hcl_edit::Ident::new_unchecked("resource")),
            file: r.span.file,
            span: r.span,
            from_plan: true,
        };
        map_instance(ev, &res, address, &values, input, unmodelled);
    }
    for child in module.get("child_modules").and_then(Value::as_list).unwrap_or_default() {
        walk_module(ev, child, changes, input, unmodelled, depth + 1);
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
    use crate::model::PolicyKind;

    #[test]
    fn plan_resources_and_unknowns() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let plan = r#"{"format_version": "1.2", "planned_values": {"root_module": {
  "resources": [
    {"address": "aws_dynamodb_table.t", "mode": "managed", "type": "aws_dynamodb_table", "name": "t",
     "values": {"name": "orders"}},
    {"address": "aws_iam_role_policy.p", "mode": "managed", "type": "aws_iam_role_policy", "name": "p",
     "values": {"role": "r", "policy": "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}}"}}
  ],
  "child_modules": [{"resources": [
    {"address": "module.m.aws_iam_service_linked_role.s", "mode": "managed", "type": "aws_iam_service_linked_role",
     "name": "s", "values": {"aws_service_name": "kinesisreplication.dynamodb.amazonaws.com"}}]}]}},
  "resource_changes": [{"address": "aws_dynamodb_table.t", "change": {"after_unknown": {"arn": true}}}]}"#;
        let path = tmp.path().join("plan.json");
        let _ = std::fs::write(&path, plan);
        let sources = SourceMap::new();
        let input = load(&path, "plan.json", &sources);
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        assert_eq!(input.tables[0].name.to_string(), "orders");
        assert_eq!(input.tables[0].arn.opaques().count(), 1);
        assert_eq!(input.policies[0].kind, PolicyKind::Inline);
        assert!(input.policies[0].document.get("Statement").is_some());
        assert_eq!(input.slrs[0].address, "module.m.aws_iam_service_linked_role.s");
        assert_eq!(input.slrs[0].protected, crate::model::Protection::NotShown);
    }
}
