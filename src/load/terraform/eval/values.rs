//! Helpers over evaluated values: building objects, iterating collections, reasons of
//! unknowns, and rendering values as JSON text.

use super::{MAX_DEPTH, opaque};
use crate::source::Span;
use crate::value::{Entry, Part, Template, Value, ValueKind};

pub fn map_value(entries: Vec<(&str, Value)>, span: Span) -> Value {
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
pub fn unknown_reason(v: &Value) -> Option<&str> {
    match &v.kind {
        ValueKind::Unknown { reason, .. } => Some(reason),
        _ => None,
    }
}

/// The `(key, value)` pairs a `for` iterates: list indices or map keys (maps in key order).
pub fn iterate(v: &Value) -> Option<Vec<(Value, Value)>> {
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

/// Renders a value as JSON text (strings keep their symbols).
pub fn to_json(v: &Value) -> Template {
    let mut out = Template::default();
    write_json(v, &mut out, 0);
    out
}

fn write_json(v: &Value, out: &mut Template, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("null");
        return;
    }
    match &v.kind {
        ValueKind::Null => out.push_str("null"),
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::Number(n) => out.push_str(n),
        ValueKind::Str(t) => {
            out.push_str("\"");
            for part in t.parts() {
                match part {
                    Part::Lit(s) => out.push_str(&json_escape(s)),
                    Part::Sym(sym) => out.push_sym(sym.clone()),
                }
            }
            out.push_str("\"");
        }
        ValueKind::List(items) => {
            out.push_str("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",");
                }
                write_json(item, out, depth + 1);
            }
            out.push_str("]");
        }
        ValueKind::Map(entries) => {
            out.push_str("{");
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(",");
                }
                out.push_str("\"");
                out.push_str(&json_escape(&e.key));
                out.push_str("\":");
                write_json(&e.value, out, depth + 1);
            }
            out.push_str("}");
        }
        ValueKind::Unknown { expr, reason } => out.push_sym(opaque(expr.clone(), reason.clone(), v.span)),
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
