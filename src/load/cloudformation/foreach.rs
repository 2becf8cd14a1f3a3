//! `Fn::ForEach` loops (the `AWS::LanguageExtensions` transform), expanded before the
//! template is read, wherever they appear (`Resources`, `Conditions`, `Outputs`, inside
//! properties), when their collection resolves to literal items.
//!
//! A loop is `Fn::ForEach::<Name>: [Identifier, Collection, {OutputKey: Fragment}]`. Each
//! item gives one copy of the output map, with `${Identifier}` / `&{Identifier}` replaced
//! in keys, `!Ref Identifier` replaced by the item, and `${Identifier}` replaced inside
//! `Fn::Sub` text. Nested loops expand after their outer loop's substitution.
//!
//! **Invariant:** expansion is bounded: at most [`MAX_GENERATED`] entries in all and
//! nesting no deeper than [`MAX_EVAL_DEPTH`]; a loop that cannot be expanded is removed
//! with a note, never left for later stages to misread.

use super::intrinsics::{Evaluator, MAX_EVAL_DEPTH};
use crate::model::Diagnostic;
use crate::source::Span;
use crate::value::{Entry, Template, Value, ValueKind};

/// The most map entries all loops of one template may generate.
pub(crate) const MAX_GENERATED: usize = 10_000;

const PREFIX: &str = "Fn::ForEach::";

/// Whether `v` holds a `Fn::ForEach::` key anywhere.
pub fn present(v: &Value) -> bool {
    fn walk(v: &Value, depth: usize) -> bool {
        if depth > MAX_EVAL_DEPTH {
            return false;
        }
        match &v.kind {
            ValueKind::Map(entries) => entries
                .iter()
                .any(|e| e.key.starts_with(PREFIX) || walk(&e.value, depth + 1)),
            ValueKind::List(items) => items.iter().any(|i| walk(i, depth + 1)),
            _ => false,
        }
    }
    walk(v, 0)
}

/// `root` with every loop expanded (or removed with a note). `ev` resolves collections
/// (`!Ref` of a list parameter, `!FindInMap`, literal lists).
pub fn expand(root: &Value, ev: &mut Evaluator<'_>) -> (Value, Vec<Diagnostic>) {
    let mut x = Expander {
        ev,
        generated: 0,
        diagnostics: Vec::new(),
    };
    let out = x.value(root, 0);
    (out, x.diagnostics)
}

struct Expander<'e, 'a> {
    ev: &'e mut Evaluator<'a>,
    generated: usize,
    diagnostics: Vec<Diagnostic>,
}

impl Expander<'_, '_> {
    fn value(&mut self, v: &Value, depth: usize) -> Value {
        if depth > MAX_EVAL_DEPTH {
            return v.clone();
        }
        match &v.kind {
            ValueKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for e in entries {
                    if e.key.starts_with(PREFIX) {
                        out.extend(self.expand_loop(e, depth));
                    } else {
                        out.push(Entry {
                            key: e.key.clone(),
                            key_span: e.key_span,
                            value: self.value(&e.value, depth + 1),
                        });
                    }
                }
                Value::new(ValueKind::Map(out), v.span)
            }
            ValueKind::List(items) => Value::new(
                ValueKind::List(items.iter().map(|i| self.value(i, depth + 1)).collect()),
                v.span,
            ),
            _ => v.clone(),
        }
    }

    fn note(&mut self, message: String, span: Span) {
        self.diagnostics.push(Diagnostic::note(message, span));
    }

    fn expand_loop(&mut self, e: &Entry, depth: usize) -> Vec<Entry> {
        let args = e.value.as_list().unwrap_or_default();
        let [id, collection, output] = args else {
            self.note(
                format!(
                    "`{}` expects `[identifier, collection, {{output key: fragment}}]`; it is not expanded and what it makes is not seen",
                    e.key
                ),
                e.key_span,
            );
            return Vec::new();
        };
        let (Some(id), ValueKind::Map(_)) = (id.as_str(), &output.kind) else {
            self.note(
                format!(
                    "`{}` needs an identifier string and an output mapping; it is not expanded and what it makes is not seen",
                    e.key
                ),
                e.key_span,
            );
            return Vec::new();
        };
        let items: Option<Vec<String>> = self.ev.resolve(collection).and_then(|c| {
            c.as_list()?
                .iter()
                .map(|i| i.to_template().and_then(|t| t.as_literal().map(str::to_string)))
                .collect()
        });
        let Some(items) = items else {
            self.note(
                format!(
                    "`{}` loops over a collection that is not known statically; it is not expanded and what it makes is not seen",
                    e.key
                ),
                e.key_span,
            );
            return Vec::new();
        };
        let per_item = output.entries().len().max(1);
        if self.generated + items.len() * per_item > MAX_GENERATED {
            self.note(
                format!(
                    "`{}` would make more than {MAX_GENERATED} entries; it is not expanded and what it makes is not seen",
                    e.key
                ),
                e.key_span,
            );
            return Vec::new();
        }
        self.generated += items.len() * per_item;
        let mut out = Vec::new();
        for item in &items {
            let copy = substitute(output, id, item, 0);
            // Nested loops in the copy expand now, with this loop's identifier replaced.
            let expanded = self.value(&copy, depth + 1);
            if let ValueKind::Map(entries) = expanded.kind {
                out.extend(entries);
            }
        }
        out
    }
}

/// A copy of `v` with the loop identifier `id` replaced by `item`.
fn substitute(v: &Value, id: &str, item: &str, depth: usize) -> Value {
    if depth > MAX_EVAL_DEPTH {
        return v.clone();
    }
    match &v.kind {
        ValueKind::Map(entries) => {
            if let [e] = entries.as_slice() {
                if e.key == "Ref" && e.value.as_str() == Some(id) {
                    return Value::str(item, v.span);
                }
                if e.key == "Fn::Sub" {
                    return Value::new(
                        ValueKind::Map(vec![Entry {
                            key: e.key.clone(),
                            key_span: e.key_span,
                            value: substitute_sub(&e.value, id, item, depth + 1),
                        }]),
                        v.span,
                    );
                }
            }
            Value::new(
                ValueKind::Map(
                    entries
                        .iter()
                        .map(|e| Entry {
                            key: replace_key(&e.key, id, item),
                            key_span: e.key_span,
                            value: substitute(&e.value, id, item, depth + 1),
                        })
                        .collect(),
                ),
                v.span,
            )
        }
        ValueKind::List(items) => Value::new(
            ValueKind::List(items.iter().map(|i| substitute(i, id, item, depth + 1)).collect()),
            v.span,
        ),
        _ => v.clone(),
    }
}

/// `Fn::Sub` text gets `${id}` replaced unless its own variables bind `id`.
fn substitute_sub(arg: &Value, id: &str, item: &str, depth: usize) -> Value {
    let placeholder = format!("${{{id}}}");
    let replace_text = |t: &Value| match &t.kind {
        ValueKind::Str(tpl) => match tpl.as_literal() {
            Some(s) => Value::new(ValueKind::Str(Template::lit(s.replace(&placeholder, item))), t.span),
            None => t.clone(),
        },
        _ => substitute(t, id, item, depth + 1),
    };
    match &arg.kind {
        ValueKind::List(parts) => match parts.as_slice() {
            [text, vars] => {
                let bound = vars.get(id).is_some();
                let text = if bound { text.clone() } else { replace_text(text) };
                Value::new(
                    ValueKind::List(vec![text, substitute(vars, id, item, depth + 1)]),
                    arg.span,
                )
            }
            _ => substitute(arg, id, item, depth + 1),
        },
        _ => replace_text(arg),
    }
}

/// `${id}` becomes the item; `&{id}` the item without non-alphanumeric characters.
fn replace_key(key: &str, id: &str, item: &str) -> String {
    if !key.contains('{') {
        return key.to_string();
    }
    let alnum: String = item.chars().filter(char::is_ascii_alphanumeric).collect();
    key.replace(&format!("${{{id}}}"), item)
        .replace(&format!("&{{{id}}}"), &alnum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::LoadOptions;
    use crate::load::cloudformation::{resources, yaml};
    use crate::source::FileId;

    fn expand_text(text: &str) -> (Value, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let root = yaml::parse(text, FileId::for_path("f.yaml"), &mut diags)
            .unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        let mut ev = resources::evaluator(&root, &LoadOptions::default(), false);
        let (out, more) = expand(&root, &mut ev);
        diags.extend(more);
        (out, diags)
    }

    fn keys(v: Option<&Value>) -> Vec<String> {
        v.map(|v| v.entries().iter().map(|e| e.key.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn literal_and_parameter_collections_expand() {
        let text = "\
Parameters:
  Names: {Type: CommaDelimitedList, Default: 'a-1,b'}
Resources:
  Fn::ForEach::Tables:
    - Name
    - !Ref Names
    - T&{Name}:
        Type: AWS::DynamoDB::Table
        Properties:
          TableName: !Ref Name
          Other: !Sub 'x-${Name}-${AWS::Region}'
          Kept: !Sub ['${Name}', {Name: bound}]
";
        let (out, diags) = expand_text(text);
        assert!(diags.is_empty(), "{diags:?}");
        let resources = out.get("Resources");
        assert_eq!(keys(resources), ["Ta1", "Tb"]);
        let t = resources.and_then(|r| r.get("Ta1")).and_then(|t| t.get("Properties"));
        assert_eq!(t.and_then(|p| p.get("TableName")).and_then(Value::as_str), Some("a-1"));
        let sub = t
            .and_then(|p| p.get("Other"))
            .and_then(|s| s.get("Fn::Sub"))
            .and_then(Value::as_str);
        assert_eq!(sub, Some("x-a-1-${AWS::Region}"));
        let kept = t
            .and_then(|p| p.get("Kept"))
            .and_then(|s| s.get("Fn::Sub"))
            .and_then(Value::as_list)
            .and_then(|l| l.first())
            .and_then(Value::as_str);
        assert_eq!(kept, Some("${Name}"));
    }

    #[test]
    fn nested_loops_and_loops_in_properties() {
        let text = "\
Resources:
  Fn::ForEach::Outer:
    - A
    - [x, y]
    - Fn::ForEach::Inner:
        - B
        - ['1', '2']
        - R${A}${B}:
            Type: AWS::SQS::Queue
            Properties:
              Fn::ForEach::Props:
                - P
                - [p]
                - Key${P}: !Sub '${A}-${B}-${P}'
";
        let (out, diags) = expand_text(text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(keys(out.get("Resources")), ["Rx1", "Rx2", "Ry1", "Ry2"]);
        let prop = out
            .get("Resources")
            .and_then(|r| r.get("Ry2"))
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("Keyp"))
            .and_then(|s| s.get("Fn::Sub"))
            .and_then(Value::as_str);
        assert_eq!(prop, Some("y-2-p"));
    }

    #[test]
    fn unknown_or_malformed_loops_are_removed_with_a_note() {
        let text = "\
Parameters:
  Unset: {Type: CommaDelimitedList}
Resources:
  Fn::ForEach::A: [N, !Ref Unset, {'R${N}': {Type: AWS::SQS::Queue}}]
  Fn::ForEach::B: [N, [a]]
  Fn::ForEach::C: {N: 1}
  Kept: {Type: AWS::SQS::Queue}
";
        let (out, diags) = expand_text(text);
        assert_eq!(keys(out.get("Resources")), ["Kept"]);
        assert_eq!(diags.len(), 3, "{diags:?}");
        assert!(diags[0].message.contains("not known statically"));
    }

    #[test]
    fn expansion_is_bounded() {
        let items: Vec<String> = (0..200).map(|i| format!("i{i}")).collect();
        let list = items.join(", ");
        let text = format!(
            "Resources:\n  Fn::ForEach::A:\n    - X\n    - [{list}]\n    - Fn::ForEach::B:\n        - Y\n        - [{list}]\n        - 'R${{X}}${{Y}}': {{Type: AWS::SQS::Queue}}\n"
        );
        let (out, diags) = expand_text(&text);
        let made = out.get("Resources").map(|r| r.entries().len()).unwrap_or(0);
        assert!(made <= MAX_GENERATED, "{made}");
        assert!(diags.iter().any(|d| d.message.contains("more than")));
    }
}
