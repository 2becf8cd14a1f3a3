//! Strict JSON (RFC 8259) into spanned [`Value`]s, for CloudFormation JSON templates,
//! plan files, JSON policy documents embedded in strings, the bundled AWS managed policies
//! and `simulate`'s requests. It sits below the loaders, which reach it as `load::json`.
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
    pub(crate) offset: usize,
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
        Some(v) => Ok(convert(&v, &Plain { file, base })),
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

/// How a JSON syntax tree becomes a [`Value`]: where each node's span is, and what a
/// string (or an object key) stands for.
trait Conversion {
    fn span(&self, range: jsonc_parser::common::Range) -> Span;
    fn string(&self, text: &str, span: Span) -> Value;
    fn key(&self, text: &str) -> String;
}

/// JSON read from a file (or a string literal without escapes) at `base` in `file`.
struct Plain {
    file: FileId,
    base: usize,
}

impl Conversion for Plain {
    fn span(&self, range: jsonc_parser::common::Range) -> Span {
        Span::new(self.file, self.base + range.start, self.base + range.end)
    }
    fn string(&self, text: &str, span: Span) -> Value {
        Value::new(ValueKind::Str(Template::lit(text)), span)
    }
    fn key(&self, text: &str) -> String {
        text.to_string()
    }
}

/// The one JSON-to-value converter: keeps object entries in source order, duplicates
/// included.
fn convert(v: &ast::Value<'_>, c: &dyn Conversion) -> Value {
    match v {
        ast::Value::StringLit(s) => c.string(s.value.as_ref(), c.span(s.range)),
        ast::Value::NumberLit(n) => Value::new(ValueKind::Number(n.value.to_string()), c.span(n.range)),
        ast::Value::BooleanLit(b) => Value::new(ValueKind::Bool(b.value), c.span(b.range)),
        ast::Value::NullKeyword(n) => Value::new(ValueKind::Null, c.span(n.range)),
        ast::Value::Array(a) => Value::new(
            ValueKind::List(a.elements.iter().map(|e| convert(e, c)).collect()),
            c.span(a.range),
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
                        key: c.key(p.name.as_str()),
                        key_span: c.span(key_range),
                        value: convert(&p.value, c),
                    }
                })
                .collect();
            Value::new(ValueKind::Map(entries), c.span(o.range))
        }
    }
}

/// Parses JSON text held in a [`Template`] (a policy written as a string, with
/// interpolations or `${AWS::...}` substitutions) into a [`Value`].
///
/// The template is rendered with a unique placeholder for each symbol; placeholders that
/// end up inside JSON strings come back as the same symbols in the string's template, and
/// a placeholder standing where a whole JSON value belongs (`"Resource": ${var.arns}`)
/// becomes an unknown value. `origin(offset)` gives the source span of the template's
/// literal byte at `offset` (literal bytes counted across literal parts only); a node
/// whose ends cannot be mapped gets `fallback`. Errors carry the span where parsing failed,
/// and whether an unresolved piece of the text could be the cause.
pub(crate) fn parse_template(
    t: &Template,
    origin: &dyn Fn(usize) -> Option<Span>,
    fallback: Span,
) -> Result<Value, TemplateJsonError> {
    let rendered = RenderedTemplate::new(t);
    let options = strict_options();
    let src = |offset: usize| rendered.source_at(offset, origin);
    let result = jsonc_parser::parse_to_ast(&rendered.text, &CollectOptions::default(), &options).map_err(|e| {
        let at = src(e.range().start).unwrap_or(fallback);
        TemplateJsonError {
            error: crate::source::Spanned::new(
                e.kind().to_string(),
                Span::new(at.file, at.start as usize, at.start as usize),
            ),
            depends_on: rendered.bare_symbol_reached(e.range().start),
        }
    })?;
    let Some(root) = result.value else {
        return Err(TemplateJsonError {
            error: crate::source::Spanned::new("the string holds no JSON value".to_string(), fallback),
            depends_on: rendered.bare_symbol_reached(rendered.text.len()),
        });
    };
    let span_of = |range: jsonc_parser::common::Range| -> Span {
        match (src(range.start), src(range.end.saturating_sub(1).max(range.start))) {
            (Some(a), Some(b)) if a.file == b.file => a.join(b),
            _ => fallback,
        }
    };
    Ok(convert(
        &root,
        &InTemplate {
            rendered: &rendered,
            span_of: &span_of,
        },
    ))
}

/// Why a template is not JSON: the located syntax error, and the first unresolved piece
/// standing outside any JSON string at or before the error, if there is one. Such a piece
/// may render as any text, so the template may still be JSON once it is known; without
/// one, the error lies in the known text and no value can repair it.
#[derive(Clone, PartialEq, Debug)]
pub(crate) struct TemplateJsonError {
    pub error: crate::source::Spanned<String>,
    pub(crate) depends_on: Option<crate::value::Symbol>,
}

/// A template rendered to JSON text, remembering where each symbol and literal went.
struct RenderedTemplate {
    text: String,
    /// `(rendered start, rendered end, literal offset, symbol index)` per part.
    segments: Vec<(usize, usize, usize, Option<usize>)>,
    /// Each symbol, and whether its placeholder stands outside any JSON string.
    symbols: Vec<(crate::value::Symbol, bool)>,
}

const PLACEHOLDER_OPEN: char = '\u{E000}';
const PLACEHOLDER_CLOSE: char = '\u{E001}';

impl RenderedTemplate {
    fn new(t: &Template) -> RenderedTemplate {
        let mut out = RenderedTemplate {
            text: String::new(),
            segments: Vec::new(),
            symbols: Vec::new(),
        };
        let mut literal = 0;
        let (mut in_string, mut escaped) = (false, false);
        for part in t.parts() {
            let start = out.text.len();
            match part {
                crate::value::Part::Lit(s) => {
                    for c in s.chars() {
                        if in_string {
                            if escaped {
                                escaped = false;
                            } else if c == '\\' {
                                escaped = true;
                            } else if c == '"' {
                                in_string = false;
                            }
                        } else if c == '"' {
                            in_string = true;
                        }
                    }
                    out.text.push_str(s);
                    out.segments.push((start, out.text.len(), literal, None));
                    literal += s.len();
                }
                crate::value::Part::Sym(sym) => {
                    let index = out.symbols.len();
                    let bare = !in_string;
                    if bare {
                        out.text.push('"');
                    }
                    out.text.push(PLACEHOLDER_OPEN);
                    out.text.push_str(&index.to_string());
                    out.text.push(PLACEHOLDER_CLOSE);
                    if bare {
                        out.text.push('"');
                    }
                    out.segments.push((start, out.text.len(), literal, Some(index)));
                    out.symbols.push((sym.clone(), bare));
                }
            }
        }
        out
    }

    /// The first symbol outside any JSON string whose placeholder starts at or before the
    /// parse error at `offset`, or right after it within the same word (`tru${x}` may be
    /// `true`): the text there depends on that symbol's value.
    fn bare_symbol_reached(&self, offset: usize) -> Option<crate::value::Symbol> {
        let &(start, _, _, index) = self
            .segments
            .iter()
            .find(|(_, _, _, index)| index.is_some_and(|i| self.symbols.get(i).is_some_and(|(_, bare)| *bare)))?;
        // The piece is the next token after the error (white space aside), or touches it.
        let between = self.text.get(offset.min(start)..start).unwrap_or_default().trim();
        let adjacent = !between.contains(|c: char| c.is_whitespace() || "{}[],:\"".contains(c));
        if start <= offset || adjacent {
            return index.and_then(|i| self.symbols.get(i)).map(|(sym, _)| sym.clone());
        }
        None
    }

    /// The source span of the rendered byte at `offset`.
    fn source_at(&self, offset: usize, origin: &dyn Fn(usize) -> Option<Span>) -> Option<Span> {
        let i = self.segments.partition_point(|s| s.1 <= offset);
        let &(start, _, literal, symbol) = self.segments.get(i).or_else(|| self.segments.last())?;
        match symbol {
            Some(index) => match self.symbols.get(index) {
                Some((crate::value::Symbol::Opaque(o), _)) if !o.span.is_builtin() => Some(o.span),
                _ => origin(literal).or_else(|| origin(literal.checked_sub(1)?)),
            },
            None => origin(literal + offset.saturating_sub(start)),
        }
    }

    /// Splits a decoded JSON string at placeholders back into a template.
    fn unrender(&self, s: &str) -> Template {
        let mut out = Template::default();
        let mut rest = s;
        while let Some(open) = rest.find(PLACEHOLDER_OPEN) {
            let after = &rest[open + PLACEHOLDER_OPEN.len_utf8()..];
            let Some(close) = after.find(PLACEHOLDER_CLOSE) else {
                break;
            };
            let Some((sym, _)) = after[..close].parse::<usize>().ok().and_then(|i| self.symbols.get(i)) else {
                break;
            };
            out.push_str(&rest[..open]);
            out.push_sym(sym.clone());
            rest = &after[close + PLACEHOLDER_CLOSE.len_utf8()..];
        }
        out.push_str(rest);
        out
    }
}

/// JSON rendered from a template: placeholders in strings and keys come back as the
/// template's symbols, and a bare placeholder (a whole value) as an unknown.
struct InTemplate<'a> {
    rendered: &'a RenderedTemplate,
    span_of: &'a dyn Fn(jsonc_parser::common::Range) -> Span,
}

impl Conversion for InTemplate<'_> {
    fn span(&self, range: jsonc_parser::common::Range) -> Span {
        (self.span_of)(range)
    }
    fn string(&self, text: &str, span: Span) -> Value {
        let template = self.rendered.unrender(text);
        if let [crate::value::Part::Sym(crate::value::Symbol::Opaque(o))] = template.parts()
            && self
                .rendered
                .symbols
                .iter()
                .any(|(sym, bare)| *bare && matches!(sym, crate::value::Symbol::Opaque(x) if x == o))
            && text.starts_with(PLACEHOLDER_OPEN)
        {
            return Value::unknown(o.id.clone(), o.reason.clone(), span);
        }
        Value::new(ValueKind::Str(template), span)
    }
    fn key(&self, text: &str) -> String {
        self.rendered.unrender(text).to_string()
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
