//! Strict JSON (RFC 8259) into spanned [`Value`]s, for CloudFormation JSON templates,
//! plan files and JSON policy documents embedded in strings.
//!
//! Uses `jsonc-parser` with every leniency switched off: exact byte ranges, keys in
//! source order, duplicates kept. Nesting is bounded by the parser (512 levels).

use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, ParseOptions};

use crate::source::{FileId, Span};
use crate::value::{Entry, Template, Value, ValueKind};

/// A JSON syntax error: the byte offset where it was found and what was wrong.
#[derive(Clone, PartialEq, Debug)]
pub struct JsonError {
    pub offset: usize,
    pub message: String,
}

/// Parses `text` (a whole file, or a string's contents) into a [`Value`]. Spans are
/// `base + offset` in `file`; `base` lets a JSON document inside a string literal point
/// into the enclosing file when the literal has no escapes.
pub fn parse(text: &str, file: FileId, base: usize) -> Result<Value, JsonError> {
    let options = strict_options();
    let result = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options).map_err(|e| JsonError {
        offset: e.range().start,
        message: e.kind().to_string(),
    })?;
    match result.value {
        Some(v) => Ok(convert(&v, file, base)),
        None => Err(JsonError {
            offset: 0,
            message: "the file holds no JSON value".to_string(),
        }),
    }
}

fn strict_options() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

fn span(range: jsonc_parser::common::Range, file: FileId, base: usize) -> Span {
    Span::new(file, base + range.start, base + range.end)
}

fn convert(v: &ast::Value<'_>, file: FileId, base: usize) -> Value {
    match v {
        ast::Value::StringLit(s) => Value::new(ValueKind::Str(Template::lit(s.value.as_ref())), span(s.range, file, base)),
        ast::Value::NumberLit(n) => Value::new(ValueKind::Number(n.value.to_string()), span(n.range, file, base)),
        ast::Value::BooleanLit(b) => Value::new(ValueKind::Bool(b.value), span(b.range, file, base)),
        ast::Value::NullKeyword(n) => Value::new(ValueKind::Null, span(n.range, file, base)),
        ast::Value::Array(a) => Value::new(
            ValueKind::List(a.elements.iter().map(|e| convert(e, file, base)).collect()),
            span(a.range, file, base),
        ),
        ast::Value::Object(o) => {
            let entries = o
                .properties
                .iter()
                .map(|p| {
                    let key_range = match &p.name {
                        ast::ObjectPropName::String(s) => s.range,
                        ast::ObjectPropName::Word(w) => w.range,
                    };
                    Entry {
                        key: p.name.as_str().to_string(),
                        key_span: span(key_range, file, base),
                        value: convert(&p.value, file, base),
                    }
                })
                .collect();
            Value::new(ValueKind::Map(entries), span(o.range, file, base))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_order_and_duplicates() {
        let f = FileId::for_path("t.json");
        let text = r#"{"b": 1, "a": ["x", true], "b": null}"#;
        let v = parse(text, f, 0).unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        let keys: Vec<_> = v.entries().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        let x = &v.get("a").and_then(Value::as_list).unwrap_or_default()[0];
        assert_eq!(&text[x.span.start as usize..x.span.end as usize], "\"x\"");
        assert_eq!(v.get("b").map(|b| b.kind.clone()), Some(ValueKind::Null));
    }

    #[test]
    fn base_offsets_spans() {
        let f = FileId::for_path("t.json");
        let v = parse("[1]", f, 100).unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        assert_eq!((v.span.start, v.span.end), (100, 103));
    }

    #[test]
    fn rejects_non_json() {
        let f = FileId::for_path("t.json");
        for bad in ["{a: 1}", "[1,]", "// c\n1", "'x'", "{\"a\":1} {}", ""] {
            assert!(parse(bad, f, 0).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let f = FileId::for_path("t.json");
        let text = "[".repeat(100_000);
        assert!(parse(&text, f, 0).is_err());
    }
}
