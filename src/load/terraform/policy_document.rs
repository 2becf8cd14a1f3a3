//! `data "aws_iam_policy_document"` into the IAM JSON shape, with spans on the HCL.
//!
//! Each `statement` block (static or from a `dynamic "statement"`) becomes a statement
//! map whose span is the block; each key's span is the attribute or block that set it.
//! `source_policy_documents` and `override_policy_documents` are merged by `Sid` as the
//! provider does.

use hcl_edit::Span as _;
use hcl_edit::structure::Body;

use super::eval::{Eval, ReadJson, Scope, iterate, map_value, unknown_reason};
use crate::source::{FileId, Span};
use crate::value::{Entry, Part, Template, Value, ValueKind};

/// Builds the policy document a data block declares.
pub fn build(ev: &Eval, body: &Body, file: FileId, scope: &Scope, span: Span) -> Value {
    let mut statements: Vec<Value> = Vec::new();
    if let Some(attr) = body.get_attribute("source_policy_documents") {
        let v = ev.expr(&attr.value, file, scope);
        for doc in documents(ev, &v) {
            statements.extend(doc_statements(&doc));
        }
    }
    let mut own = Vec::new();
    for_each_block(ev, body, "statement", file, scope, &mut |b, bspan, s| {
        own.push(statement(ev, b, file, s, bspan))
    });
    for st in own {
        replace_or_push(&mut statements, st);
    }
    if let Some(attr) = body.get_attribute("override_policy_documents") {
        let v = ev.expr(&attr.value, file, scope);
        for doc in documents(ev, &v) {
            for st in doc_statements(&doc) {
                replace_or_push(&mut statements, st);
            }
        }
    }
    for key in ["source_json", "override_json"] {
        if let Some(attr) = body.get_attribute(key) {
            ev.note(
                format!("`{key}` of aws_iam_policy_document is not merged (deprecated argument)"),
                ev.span(file, attr.span()),
            );
        }
    }
    let version = match body.get_attribute("version").map(|a| ev.expr(&a.value, file, scope)) {
        Some(v) if !matches!(v.kind, ValueKind::Null) => v,
        _ => Value::str("2012-10-17", span),
    };
    let mut entries = vec![Entry {
        key: "Version".into(),
        key_span: version.span,
        value: version,
    }];
    if let Some((key_span, value)) = argument(ev, body, "policy_id", file, scope) {
        entries.push(Entry {
            key: "Id".into(),
            key_span,
            value,
        });
    }
    entries.push(Entry {
        key: "Statement".into(),
        key_span: span,
        value: Value::new(ValueKind::List(statements), span),
    });
    Value::new(ValueKind::Map(entries), span)
}

/// Calls `f` for every block named `name` in `body`, expanding `dynamic "name"` blocks
/// whose collection is known (the iterator bound in the scope passed to `f`).
pub(crate) fn for_each_block(
    ev: &Eval,
    body: &Body,
    name: &str,
    file: FileId,
    scope: &Scope,
    f: &mut dyn FnMut(&Body, Span, &Scope),
) {
    for block in body.blocks() {
        let bspan = ev.span(file, super::json_syntax::block_span(block));
        if block.ident.as_str() == name {
            f(&block.body, bspan, scope);
            continue;
        }
        if block.ident.as_str() != "dynamic" || block.labels.first().map(|l| l.as_str()) != Some(name) {
            continue;
        }
        let iterator = block
            .body
            .get_attribute("iterator")
            .and_then(|a| a.value.as_variable().map(|v| v.as_str().to_string()))
            .unwrap_or_else(|| name.to_string());
        let Some(content) = block.body.get_blocks("content").next() else {
            ev.note(format!("dynamic \"{name}\" block without `content`"), bspan);
            continue;
        };
        let cspan = ev.span(file, super::json_syntax::block_span(content));
        let coll = match block.body.get_attribute("for_each") {
            Some(a) => ev.expr(&a.value, file, scope),
            None => ev.unknown_at(bspan, "dynamic block without for_each"),
        };
        match iterate(&coll).filter(|items| ev.within_items(items.len(), bspan)) {
            Some(items) => {
                for (k, v) in items {
                    let it = map_value(vec![("key", k), ("value", v)], cspan);
                    let inner = scope.with(iterator.clone(), it);
                    f(&content.body, cspan, &inner);
                }
            }
            None => {
                ev.note(
                    format!("the collection of dynamic \"{name}\" is not known; its content is analysed once with unknown values"),
                    bspan,
                );
                let u = |w: &str| ev.unknown_at(coll.span, format!("{w} of an unknown dynamic block collection"));
                let it = map_value(vec![("key", u("key")), ("value", u("value"))], cspan);
                let inner = scope.with(iterator.clone(), it);
                f(&content.body, cspan, &inner);
            }
        }
    }
}

/// An argument of a block: its span and value, `None` when absent or `null` (not set).
fn argument(ev: &Eval, body: &Body, key: &str, file: FileId, scope: &Scope) -> Option<(Span, Value)> {
    let a = body.get_attribute(key)?;
    let v = ev.expr(&a.value, file, scope);
    (!matches!(v.kind, ValueKind::Null)).then(|| (ev.span(file, super::json_syntax::attr_span(a)), amp(v)))
}

fn statement(ev: &Eval, body: &Body, file: FileId, scope: &Scope, span: Span) -> Value {
    let mut entries = Vec::new();
    let attr = |key: &str| argument(ev, body, key, file, scope);
    if let Some((s, v)) = attr("sid") {
        entries.push(Entry {
            key: "Sid".into(),
            key_span: s,
            value: v,
        });
    }
    match attr("effect") {
        Some((s, v)) => entries.push(Entry {
            key: "Effect".into(),
            key_span: s,
            value: v,
        }),
        None => entries.push(Entry {
            key: "Effect".into(),
            key_span: span,
            value: Value::str("Allow", span),
        }),
    }
    for (hcl, iam) in [
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        if let Some((s, v)) = attr(hcl) {
            entries.push(Entry {
                key: iam.into(),
                key_span: s,
                value: v,
            });
        }
    }
    for (hcl, iam) in [("principals", "Principal"), ("not_principals", "NotPrincipal")] {
        if let Some(p) = principals(ev, body, hcl, file, scope) {
            entries.push(Entry {
                key: iam.into(),
                key_span: p.span,
                value: p,
            });
        }
    }
    if let Some(c) = conditions(ev, body, file, scope) {
        entries.push(Entry {
            key: "Condition".into(),
            key_span: c.span,
            value: c,
        });
    }
    Value::new(ValueKind::Map(entries), span)
}

fn principals(ev: &Eval, body: &Body, name: &str, file: FileId, scope: &Scope) -> Option<Value> {
    let mut by_type: Vec<Entry> = Vec::new();
    let mut whole: Option<Span> = None;
    let mut star = false;
    for_each_block(ev, body, name, file, scope, &mut |b, bspan, s| {
        whole = Some(whole.map_or(bspan, |w| w.join(bspan)));
        let ty = argument(ev, b, "type", file, s).map(|(_, v)| v);
        let ids = argument(ev, b, "identifiers", file, s).map(|(_, v)| v);
        let (Some(ty), Some(ids)) = (ty, ids) else {
            ev.note(format!("`{name}` block without type or identifiers"), bspan);
            return;
        };
        let key = ty
            .to_template()
            .map(|t| t.to_string())
            .unwrap_or_else(|| ev.text(ty.span));
        if key == "*" {
            star = true;
        }
        let items: Vec<Value> = match &ids.kind {
            ValueKind::List(items) => items.clone(),
            _ => vec![ids.clone()],
        };
        match by_type.iter_mut().find(|e| e.key == key) {
            Some(e) => {
                if let ValueKind::List(existing) = &mut e.value.kind {
                    existing.extend(items);
                }
            }
            None => by_type.push(Entry {
                key,
                key_span: ty.span,
                value: Value::new(ValueKind::List(items), ids.span),
            }),
        }
    });
    let span = whole?;
    if star && by_type.len() == 1 {
        return Some(Value::str("*", span));
    }
    Some(Value::new(ValueKind::Map(by_type), span))
}

fn conditions(ev: &Eval, body: &Body, file: FileId, scope: &Scope) -> Option<Value> {
    let mut by_test: Vec<Entry> = Vec::new();
    let mut whole: Option<Span> = None;
    for_each_block(ev, body, "condition", file, scope, &mut |b, bspan, s| {
        whole = Some(whole.map_or(bspan, |w| w.join(bspan)));
        let get = |k: &str| argument(ev, b, k, file, s);
        let (Some((tspan, test)), Some((vspan, var)), Some((_, values))) =
            (get("test"), get("variable"), get("values"))
        else {
            ev.note("`condition` block without test, variable or values", bspan);
            return;
        };
        let tkey = test
            .to_template()
            .map(|t| t.to_string())
            .unwrap_or_else(|| ev.text(test.span));
        let vkey = var
            .to_template()
            .map(|t| t.to_string())
            .unwrap_or_else(|| ev.text(var.span));
        let entry = Entry {
            key: vkey,
            key_span: vspan,
            value: values,
        };
        match by_test.iter_mut().find(|e| e.key == tkey) {
            Some(e) => {
                if let ValueKind::Map(existing) = &mut e.value.kind {
                    existing.push(entry);
                }
            }
            None => by_test.push(Entry {
                key: tkey,
                key_span: tspan,
                value: Value::new(ValueKind::Map(vec![entry]), bspan),
            }),
        }
    });
    whole.map(|span| Value::new(ValueKind::Map(by_test), span))
}

/// Terraform writes IAM policy variables as `&{aws:username}`: restore `${...}`.
fn amp(v: Value) -> Value {
    match v.kind {
        ValueKind::Str(t) => {
            let mut out = Template::default();
            for part in t.parts() {
                match part {
                    Part::Lit(s) => out.push_str(&s.replace("&{", "${")),
                    Part::Sym(sym) => out.push_sym(sym.clone()),
                }
            }
            Value::new(ValueKind::Str(out), v.span)
        }
        ValueKind::List(items) => Value::new(ValueKind::List(items.into_iter().map(amp).collect()), v.span),
        _ => v,
    }
}

/// The documents of a `source_policy_documents`-style list (JSON strings or maps).
fn documents(ev: &Eval, v: &Value) -> Vec<Value> {
    let items: Vec<Value> = match &v.kind {
        ValueKind::List(items) => items.clone(),
        _ => vec![v.clone()],
    };
    let mut out = Vec::new();
    for item in items {
        match &item.kind {
            // `null` (in the list, or as the whole argument) merges nothing.
            ValueKind::Null => {}
            ValueKind::Map(_) => out.push(item),
            ValueKind::Str(t) => match ev.read_json(&item, t, true) {
                ReadJson::Value(doc) => out.push(doc),
                ReadJson::Unknown(doc) => out.push(unknown_document(
                    ev,
                    &item,
                    format!(
                        "a merged policy document is not known: {}",
                        unknown_reason(&doc).unwrap_or_default()
                    ),
                )),
                ReadJson::Invalid(e) => {
                    let why = format!("a merged policy document is not valid JSON: {}", e.value);
                    if !ev.policy_file_error(&e) {
                        ev.note(why.clone(), e.span);
                    }
                    out.push(unknown_document(ev, &item, why));
                }
            },
            _ => {
                ev.note(
                    "a merged policy document is not known; it may add any statement",
                    item.span,
                );
                out.push(unknown_document(
                    ev,
                    &item,
                    "a merged policy document is not known".to_string(),
                ));
            }
        }
    }
    out
}

/// A merged document that cannot be read: one unknown statement, which may grant anything
/// (never dropped, so no grant is lost).
fn unknown_document(ev: &Eval, item: &Value, why: String) -> Value {
    let statement = Value::unknown(ev.text(item.span), why, item.span);
    map_value(
        vec![("Statement", Value::new(ValueKind::List(vec![statement]), item.span))],
        item.span,
    )
}

fn doc_statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value {
            kind: ValueKind::List(items),
            ..
        }) => items.clone(),
        Some(
            v @ Value {
                kind: ValueKind::Map(_),
                ..
            },
        ) => vec![v.clone()],
        _ => Vec::new(),
    }
}

fn replace_or_push(statements: &mut Vec<Value>, st: Value) {
    let sid = st
        .get("Sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(sid) = sid
        && let Some(slot) = statements
            .iter_mut()
            .find(|s| s.get("Sid").and_then(Value::as_str) == Some(sid.as_str()))
    {
        *slot = st;
        return;
    }
    statements.push(st);
}
