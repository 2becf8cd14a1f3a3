//! Helpers over evaluated values: building objects, iterating collections, reasons of
//! unknowns, and rendering values as JSON text.

use super::{MAX_DEPTH, opaque};
use crate::source::Span;
use crate::value::{Entry, Template, UnknownInJson, Value, ValueKind};

pub(crate) fn map_value(entries: Vec<(&str, Value)>, span: Span) -> Value {
    Value::new(
        ValueKind::Map(
            entries
                .into_iter()
                .map(|(k, v)| Entry {
                    key: k.to_string(),
                    key_span: span,
                    value: v,
                })
                .collect(),
        ),
        span,
    )
}

/// The reason an unknown value is unknown.
pub(crate) fn unknown_reason(v: &Value) -> Option<&str> {
    match &v.kind {
        ValueKind::Unknown(u) => Some(&u.reason),
        _ => None,
    }
}

/// The `(key, value)` pairs a `for` iterates: list indices or map keys (maps in key order).
pub(crate) fn iterate(v: &Value) -> Option<Vec<(Value, Value)>> {
    match &v.kind {
        ValueKind::List(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::new(ValueKind::Number(i.to_string()), x.span), x.clone()))
                .collect(),
        ),
        ValueKind::Map(entries) => {
            let mut pairs: Vec<&Entry> = entries.iter().collect();
            pairs.sort_by(|a, b| a.key.cmp(&b.key));
            Some(
                pairs
                    .into_iter()
                    .map(|e| (Value::str(e.key.clone(), e.key_span), e.value.clone()))
                    .collect(),
            )
        }
        ValueKind::Null => Some(Vec::new()),
        _ => None,
    }
}

/// Renders a value as JSON text (strings keep their symbols; unknowns become opaque pieces).
pub fn to_json(v: &Value) -> Template {
    v.to_json(MAX_DEPTH, UnknownInJson::Opaque).unwrap_or_else(|| {
        Template::sym(opaque(
            "jsonencode(…)".to_string(),
            "the value is nested too deeply",
            v.span,
        ))
    })
}
