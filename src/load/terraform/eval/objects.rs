//! The object a resource instance evaluates to: its arguments, nested blocks, planned
//! values and the attributes the provider computes.

use std::rc::Rc;

use hcl_edit::Span as _;
use hcl_edit::structure::Body;

use super::{Eval, InstKey, Scope, Slot, equal};
use crate::source::{FileId, Span};
use crate::value::{Entry, Value, ValueKind};

impl<'s> Eval<'s> {
    /// The object one resource instance evaluates to: its configured arguments plus the
    /// attributes the provider computes from them.
    pub(crate) fn instance_object(&self, idx: usize, key: &InstKey) -> Rc<Value> {
        let cache_key = (idx, key.clone());
        let Some(res) = self.m.resources.get(idx) else {
            return Rc::new(Value::new(ValueKind::Null, Span::builtin()));
        };
        match self.objects.borrow().get(&cache_key) {
            Some(Slot::Done(v)) => return Rc::clone(v),
            Some(Slot::Busy) => {
                return Rc::new(Value::unknown(
                    self.address(res, key),
                    "the resource refers to itself (cycle)",
                    res.span,
                ));
            }
            None => {}
        }
        self.objects.borrow_mut().insert(cache_key.clone(), Slot::Busy);
        let expansion = self.expansion(idx);
        let root = Scope::root();
        let owner = format!("{}{}.{}", if res.data { "data." } else { "" }, res.rtype, res.name);
        let scope = self.instance_scope(&root, &expansion, key, &owner, res.span);
        let mut entries = self.body_entries(&res.block.body, res.file, &scope, 0);
        let address = self.address(res, key);
        if let Some(planned) = self.ctx.plan.get(&address) {
            merge_planned(&mut entries, planned);
        }
        if super::references::is_policy_document(res) {
            let doc = super::super::policy_document::build(self, &res.block.body, res.file, &scope, res.span);
            // `minified_json` is the same document: it is added where a reference reads it
            // (`Eval::identified_object`, `Eval::read_instance`), not held twice per document.
            entries.push(Entry {
                key: "json".to_string(),
                key_span: res.span,
                value: doc,
            });
        }
        super::super::resources::computed_attributes(self, res, &address, &mut entries);
        let v = Rc::new(Value::new(ValueKind::Map(entries), res.span));
        self.objects.borrow_mut().insert(cache_key, Slot::Done(Rc::clone(&v)));
        v
    }

    /// A block body's arguments (and nested blocks as lists of objects).
    pub(crate) fn body_entries(&self, body: &Body, file: FileId, scope: &Scope, depth: usize) -> Vec<Entry> {
        let mut entries = Vec::new();
        for attr in body.attributes() {
            let key = attr.key.as_str();
            if matches!(
                key,
                "count" | "for_each" | "provider" | "depends_on" | super::super::json_syntax::SPAN_ATTR
            ) {
                continue;
            }
            let value = self.expr(&attr.value, file, scope);
            // An argument set to `null` is, for Terraform, an argument not set at all (as in
            // a plan's values, where nulls are dropped too).
            if matches!(value.kind, ValueKind::Null) {
                continue;
            }
            entries.push(Entry {
                key: key.to_string(),
                key_span: self.span(file, attr.key.span().or_else(|| attr.value.span())),
                value,
            });
        }
        if depth < 3 {
            // Block names in order of first appearance, static or `dynamic`.
            let mut names: Vec<String> = Vec::new();
            for block in body.blocks() {
                let name = match block.ident.as_str() {
                    "dynamic" => block.labels.first().map(|l| l.as_str().to_string()),
                    "lifecycle" | "provisioner" | "connection" => None,
                    other => Some(other.to_string()),
                };
                if let Some(name) = name
                    && !names.contains(&name)
                {
                    names.push(name);
                }
            }
            for name in names {
                let mut items = Vec::new();
                let mut first: Option<Span> = None;
                super::super::policy_document::for_each_block(self, body, &name, file, scope, &mut |b, bspan, s| {
                    first.get_or_insert(bspan);
                    items.push(Value::new(
                        ValueKind::Map(self.body_entries(b, file, s, depth + 1)),
                        bspan,
                    ));
                });
                let span = first.unwrap_or_else(|| Span::new(file, 0, 0));
                entries.push(Entry {
                    key: name,
                    key_span: span,
                    value: Value::new(ValueKind::List(items), span),
                });
            }
        }
        entries
    }
}

/// Merges a resource's planned values into its evaluated arguments: a known planned
/// value wins over a different configured one (the plan saw the real variable values);
/// an equal one keeps the configuration's spans; an unknown one never replaces a value.
fn merge_planned(entries: &mut Vec<Entry>, planned: &Value) {
    for p in planned.entries() {
        if p.value.is_unknown() {
            continue;
        }
        match entries.iter_mut().rev().find(|e| e.key == p.key) {
            Some(e) if same_value(&e.value, &p.value) => {}
            Some(e) => e.value = p.value.clone(),
            None => entries.push(p.clone()),
        }
    }
}

/// Whether a configured and a planned value denote the same thing (a JSON string and
/// the object it encodes count as the same).
fn same_value(configured: &Value, planned: &Value) -> bool {
    if equal(configured, planned) == Some(true) {
        return true;
    }
    let decode = |v: &Value| match v.as_str() {
        Some(s) if s.trim_start().starts_with(['{', '[']) => crate::json::parse(s, FileId::BUILTIN, 0).ok(),
        _ => None,
    };
    match (decode(configured), decode(planned)) {
        (Some(a), Some(b)) => equal(&a, &b) == Some(true),
        (None, Some(b)) => equal(configured, &b) == Some(true),
        _ => false,
    }
}
