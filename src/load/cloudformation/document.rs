//! Policy documents given as JSON text (a string, `!Sub` of JSON, `Content` of an SCP)
//! into the IAM JSON shape as [`Value`]s.
//!
//! A plain literal whose source text is the JSON itself (no escapes, no re-indentation)
//! keeps spans inside the string; otherwise every node takes the string's own span.
//! Symbols inside the text (from `!Sub`) survive parsing as placeholders and come back as
//! symbols in the parsed strings.

use crate::model::Diagnostic;
use crate::source::{FileId, Span};
use crate::value::{Entry, Part, Template, Value, ValueKind};

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// A policy document as the IAM layer reads it: a map stays as it is; a string is parsed
/// as JSON; an unknown stays unknown; anything else is unknown with a note.
pub(crate) fn policy_document(v: &Value, text: &str, file: FileId, diagnostics: &mut Vec<Diagnostic>) -> Value {
    match &v.kind {
        ValueKind::Map(_) | ValueKind::Unknown(_) => v.clone(),
        ValueKind::Str(t) => {
            let (json, symbols) = with_placeholders(t);
            if symbols.is_empty()
                && let Some(base) = literal_base(v.span, &json, text)
            {
                match crate::json::parse(&json, file, base) {
                    Ok(doc) => return doc,
                    Err(e) => {
                        return invalid(
                            v,
                            &e.message,
                            Span::new(file, base + e.offset, base + e.offset),
                            diagnostics,
                        );
                    }
                }
            }
            match crate::json::parse(&json, file, 0) {
                Ok(doc) => restore(&doc, &symbols, v.span, 0),
                Err(e) => invalid(v, &e.message, v.span, diagnostics),
            }
        }
        _ => {
            diagnostics.push(Diagnostic::note(
                format!(
                    "a policy document must be a mapping or JSON text, found a {}",
                    v.type_name()
                ),
                v.span,
            ));
            Value::unknown(
                "PolicyDocument",
                format!("a {} is not a policy document", v.type_name()),
                v.span,
            )
        }
    }
}

fn invalid(v: &Value, message: &str, at: Span, diagnostics: &mut Vec<Diagnostic>) -> Value {
    diagnostics.push(Diagnostic::warning(
        format!("policy document text is not valid JSON: {message}"),
        at,
    ));
    Value::unknown(
        "PolicyDocument",
        format!("policy document text is not valid JSON: {message}"),
        v.span,
    )
}

/// Where the string's text starts in the file, when the source holds it verbatim.
fn literal_base(span: Span, json: &str, text: &str) -> Option<usize> {
    let source = text.get(span.start as usize..span.end as usize)?;
    if source == json {
        return Some(span.start as usize);
    }
    for quote in ['"', '\''] {
        if let Some(inner) = source.strip_prefix(quote).and_then(|s| s.strip_suffix(quote))
            && inner == json
        {
            return Some(span.start as usize + 1);
        }
    }
    None
}

/// The template as text, each symbol replaced by a private-use placeholder.
fn with_placeholders(t: &Template) -> (String, Vec<Part>) {
    let mut out = String::new();
    let mut symbols = Vec::new();
    for part in t.parts() {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Sym(_) => {
                out.push(OPEN);
                out.push_str(&symbols.len().to_string());
                out.push(CLOSE);
                symbols.push(part.clone());
            }
        }
    }
    (out, symbols)
}

/// Gives every node `span` and turns placeholders back into symbols.
fn restore(v: &Value, symbols: &[Part], span: Span, depth: usize) -> Value {
    let kind = match &v.kind {
        ValueKind::Str(t) if depth < 1024 => ValueKind::Str(match t.as_literal() {
            Some(s) if s.contains(OPEN) => unplace(s, symbols),
            _ => t.clone(),
        }),
        ValueKind::List(items) => ValueKind::List(items.iter().map(|i| restore(i, symbols, span, depth + 1)).collect()),
        ValueKind::Map(entries) => ValueKind::Map(
            entries
                .iter()
                .map(|e| Entry {
                    key: if e.key.contains(OPEN) {
                        unplace(&e.key, symbols).to_string()
                    } else {
                        e.key.clone()
                    },
                    key_span: span,
                    value: restore(&e.value, symbols, span, depth + 1),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Value::new(kind, span)
}

fn unplace(s: &str, symbols: &[Part]) -> Template {
    let mut out = Template::default();
    let mut rest = s;
    while let Some(open) = rest.find(OPEN) {
        out.push_str(&rest[..open]);
        let after = &rest[open + OPEN.len_utf8()..];
        let Some(close) = after.find(CLOSE) else {
            out.push_str(&rest[open..]);
            return out;
        };
        match after[..close].parse::<usize>().ok().and_then(|i| symbols.get(i)) {
            Some(Part::Sym(sym)) => out.push_sym(sym.clone()),
            Some(Part::Lit(l)) => out.push_str(l),
            None => out.push_str(&rest[open..open + OPEN.len_utf8() + close + CLOSE.len_utf8()]),
        }
        rest = &after[close + CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Symbol;

    #[test]
    fn literal_json_keeps_spans_inside_the_string() {
        let text = r#"{"Doc": "{\"Version\": \"2012-10-17\"}", "Plain": "{}"}"#;
        let file = FileId::for_path("t.json");
        let mut diags = Vec::new();
        let root = crate::json::parse(text, file, 0).unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        // Escaped quotes: the string's own span for every node.
        let doc = root.get("Doc").map(|d| policy_document(d, text, file, &mut diags));
        let doc_span = root.get("Doc").map(|d| d.span);
        assert_eq!(doc.as_ref().and_then(|d| d.get("Version")).map(|v| v.span), doc_span);
        // No escapes: spans point inside.
        let yaml_text = "D: '{\"Version\": \"2012-10-17\"}'\n";
        let v = Value::str("{\"Version\": \"2012-10-17\"}", Span::new(file, 3, yaml_text.len() - 1));
        let doc = policy_document(&v, yaml_text, file, &mut diags);
        let version = doc.get("Version").map(|v| v.span).unwrap_or_default();
        assert_eq!(
            &yaml_text[version.start as usize..version.end as usize],
            "\"2012-10-17\""
        );
        assert!(diags.is_empty());
    }

    #[test]
    fn symbols_survive_parsing() {
        let mut t = Template::lit("{\"Resource\": \"arn:");
        t.push_sym(Symbol::Partition);
        t.push_str(":s3:::b\"}");
        let v = Value::new(ValueKind::Str(t), Span::builtin());
        let mut diags = Vec::new();
        let doc = policy_document(&v, "", FileId::for_path("x"), &mut diags);
        let r = doc
            .get("Resource")
            .and_then(Value::as_template)
            .map(ToString::to_string);
        assert_eq!(r.as_deref(), Some("arn:${AWS::Partition}:s3:::b"));
    }

    #[test]
    fn invalid_json_is_unknown_with_a_warning() {
        let v = Value::str("{nope", Span::builtin());
        let mut diags = Vec::new();
        assert!(policy_document(&v, "", FileId::for_path("x"), &mut diags).is_unknown());
        assert_eq!(diags.len(), 1);
    }
}
