//! Traversals over evaluated values: attributes, indexes and splats.

use std::ops::ControlFlow;

use hcl_edit::expr::TraversalOperator;

use super::{Eval, Scope, number};
use crate::source::{FileId, Span};
use crate::value::{Template, Value, ValueKind};

impl<'s> Eval<'s> {
    /// Applies traversal operators to a value.
    pub(crate) fn apply_ops(
        &self,
        v: Value,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        if ops.is_empty() {
            return v;
        }
        self.read_ops(&v, ops, file, scope, span)
    }

    /// Applies traversal operators to a value the caller keeps: each step reads the value
    /// in place, so only what the operators select is copied (an attribute of a resource
    /// object, not the whole object).
    pub(crate) fn read_ops(
        &self,
        v: &Value,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        let mut cur = std::borrow::Cow::Borrowed(v);
        for (i, op) in ops.iter().enumerate() {
            cur = match self.step(&cur, op, &ops[i + 1..], file, scope, span) {
                ControlFlow::Continue(next) => std::borrow::Cow::Owned(next),
                ControlFlow::Break(done) => return done,
            };
        }
        cur.into_owned()
    }

    /// One traversal operator on `v`: the value it selects, or the end of the traversal (an
    /// unknown value, or a splat, which applies `rest` to each item).
    fn step(
        &self,
        v: &Value,
        op: &hcl_edit::Decorated<TraversalOperator>,
        rest: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> ControlFlow<Value, Value> {
        if let ValueKind::Unknown(u) = &v.kind {
            let reason = &u.reason;
            return ControlFlow::Break(Value::unknown(self.text(span), reason.clone(), span));
        }
        ControlFlow::Continue(match op.value() {
            TraversalOperator::GetAttr(a) => self.get_attr(v, a.as_str(), span),
            TraversalOperator::Index(ie) => {
                let iv = self.expr(ie, file, scope);
                self.index(v, &iv, span)
            }
            TraversalOperator::LegacyIndex(n) => {
                let iv = Value::new(ValueKind::Number(n.value().to_string()), span);
                self.index(v, &iv, span)
            }
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                let items: Vec<Value> = match &v.kind {
                    ValueKind::List(items) => items.clone(),
                    ValueKind::Null => Vec::new(),
                    _ => vec![v.clone()],
                };
                let out = items
                    .into_iter()
                    .map(|x| self.apply_ops(x, rest, file, scope, span))
                    .collect();
                return ControlFlow::Break(Value::new(ValueKind::List(out), span));
            }
        })
    }

    fn get_attr(&self, v: &Value, name: &str, span: Span) -> Value {
        match &v.kind {
            ValueKind::Map(_) => match v.get(name) {
                Some(x) => x.clone(),
                None => self.unknown_at(
                    span,
                    format!("attribute `{name}` is not set in configuration (known only after apply)"),
                ),
            },
            ValueKind::Unknown(u) => Value::unknown(self.text(span), u.reason.clone(), span),
            _ => self.unknown_at(span, format!("a {} has no attribute `{name}`", v.type_name())),
        }
    }

    fn index(&self, v: &Value, i: &Value, span: Span) -> Value {
        match (&v.kind, &i.kind) {
            (_, ValueKind::Unknown(u)) => {
                let reason = &u.reason;
                self.unknown_at(span, format!("the index is not known: {reason}"))
            }
            (ValueKind::List(items), _) => match number(i) {
                Some(n) if n >= 0.0 && (n as usize) < items.len() => items
                    .get(n as usize)
                    .cloned()
                    .unwrap_or_else(|| self.unknown_at(span, "index out of range")),
                _ => self.unknown_at(span, "index out of range or not a number"),
            },
            (ValueKind::Map(_), _) => match i.to_template().as_ref().and_then(Template::as_literal) {
                Some(k) => self.get_attr(v, k, span),
                None => self.unknown_at(span, "the key is not known"),
            },
            _ => self.unknown_at(span, format!("cannot index a {}", v.type_name())),
        }
    }
}
