//! JSON-syntax Terraform (`.tf.json`) into the same declarations HCL blocks give.
//!
//! A JSON document is also an HCL expression (HCL objects accept `"key": value`), and in
//! Terraform's JSON syntax every string is a template, exactly as an HCL quoted string.
//! So the file is checked as strict JSON, then parsed once as an HCL expression: every
//! value keeps its byte span in the `.tf.json` file, `${...}` interpolations evaluate as
//! in HCL, and the top-level objects are turned into `resource`/`data`/`variable`/
//! `locals`/`output`/`module` declarations. Whether a nested key is a block or an
//! argument depends on the provider schema; the block names our resources read are
//! listed in [`BLOCK_NAMES`].

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, Object, ObjectKey};
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body};

use super::eval::Module;
use super::{ModuleCall, add_resource};
use crate::model::{Diagnostic, LoadError};
use crate::source::{FileId, Span};

/// The argument that carries a synthetic block's span (its JSON object), since blocks
/// built here have no span of their own. Never evaluated.
pub(crate) const SPAN_ATTR: &str = "__kdsguard_span";
/// Nested keys read as blocks when their value is an object or a list of objects.
const BLOCK_NAMES: &[&str] = &[
    "statement",
    "principals",
    "not_principals",
    "condition",
    "inline_policy",
    "lifecycle",
    "replica",
    "attribute",
    "global_secondary_index",
    "local_secondary_index",
    "ttl",
    "point_in_time_recovery",
    "server_side_encryption",
    "stream_mode_details",
    "content",
    "timeouts",
];
/// How deep nested blocks are converted.
const MAX_BLOCK_DEPTH: usize = 8;

/// Reads one `.tf.json` file into `module`.
pub fn index(
    module: &mut Module,
    text: &str,
    file: FileId,
    display: &str,
    diagnostics: &mut Vec<Diagnostic>,
    errors: &mut Vec<LoadError>,
) {
    if let Err(e) = crate::json::parse(text, file, 0) {
        errors.push(crate::load::error_at(
            display,
            file,
            e.offset,
            format!("JSON syntax error: {}", e.message),
        ));
        return;
    }
    let whole = Span::new(file, 0, text.len());
    let hcl = hcl_text(text);
    let top = match hcl_edit::parser::parse_expr(hcl.trim_end()) {
        Ok(Expression::Object(o)) => o,
        Ok(_) => {
            diagnostics.push(Diagnostic::note(
                "a JSON-syntax Terraform file must hold one object; this file is not analysed",
                whole,
            ));
            return;
        }
        Err(e) => {
            diagnostics.push(Diagnostic::note(
                format!(
                    "this JSON-syntax Terraform file uses JSON that Terraform's template syntax does not read ({}); it is not analysed",
                    e.message()
                ),
                Span::new(file, e.location().offset().min(text.len()), e.location().offset().min(text.len())),
            ));
            return;
        }
    };
    let span_of = |e: &dyn hcl_edit::Span| match e.span() {
        Some(r) => Span::new(file, r.start, r.end),
        None => whole,
    };
    for (kind, value) in entries(&top) {
        let kspan = span_of(value);
        match kind.as_str() {
            "resource" | "data" => {
                for (rtype, by_name) in objects(value) {
                    for (name, body) in objects(by_name) {
                        for body in each_object(body) {
                            let mut block = Block::new(hcl_edit::Ident::new_unchecked(kind.as_str()));
                            block.labels = vec![BlockLabel::from(rtype.as_str()), BlockLabel::from(name.as_str())];
                            block.body = body_of(body, 0);
                            let span = span_of(body);
                            add_resource(module, kind == "data", &rtype, &name, block, file, span, diagnostics);
                        }
                    }
                }
            }
            "variable" => {
                for (name, decl) in objects(value) {
                    let default = each_object(decl)
                        .into_iter()
                        .flat_map(entries)
                        .find(|(k, _)| k == "default")
                        .map(|(_, v)| v.clone());
                    module.variables.insert(name, (default, file, span_of(decl)));
                }
            }
            "locals" => {
                for obj in each_object(value) {
                    for (name, v) in entries(obj) {
                        module.locals.insert(name, (v.clone(), file, span_of(v)));
                    }
                }
            }
            "output" => {
                for (name, decl) in objects(value) {
                    if let Some((_, v)) = each_object(decl)
                        .into_iter()
                        .flat_map(entries)
                        .find(|(k, _)| k == "value")
                    {
                        module.outputs.insert(name, (v.clone(), file, span_of(decl)));
                    }
                }
            }
            "module" => {
                for (name, decl) in objects(value) {
                    for body in each_object(decl) {
                        let mut block = Block::new(hcl_edit::Ident::new_unchecked("module"));
                        block.labels = vec![BlockLabel::from(name.as_str())];
                        block.body = body_of(body, MAX_BLOCK_DEPTH);
                        module.calls.push(ModuleCall {
                            name: name.clone(),
                            block,
                            file,
                            span: span_of(body),
                        });
                    }
                }
            }
            "terraform" | "provider" | "moved" | "import" | "removed" | "check" | "//" => {}
            other => diagnostics.push(Diagnostic::note(
                format!("top-level `{other}` of a JSON-syntax Terraform file is not understood and is ignored"),
                kspan,
            )),
        }
    }
}

/// The JSON text rewritten, byte for byte in place, so that HCL reads each string as
/// Terraform does: JSON decodes a string before its `${...}` is parsed, so inside an
/// interpolation `\"` is a quote and `\n` is white space. Each such escape becomes a
/// quote padded with a space on its outer side (or two spaces), keeping every offset.
fn hcl_text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut in_string = false;
    // Brace depth inside an interpolation or directive, and whether inside a quoted
    // string of the interpolated expression.
    let mut depth = 0usize;
    let mut inner = false;
    while let Some(&b) = bytes.get(i) {
        if !in_string {
            in_string = b == b'"';
            i += 1;
            continue;
        }
        let next = bytes.get(i + 1).copied();
        match (b, next) {
            (b'\\', Some(b'"')) if depth > 0 => {
                let pad: &[u8] = if inner { b"\" " } else { b" \"" };
                if let Some(slot) = out.get_mut(i..i + 2) {
                    slot.copy_from_slice(pad);
                }
                inner = !inner;
                i += 2;
            }
            (b'\\', Some(b'n' | b't' | b'r')) if depth > 0 && !inner => {
                if let Some(slot) = out.get_mut(i..i + 2) {
                    slot.copy_from_slice(b"  ");
                }
                i += 2;
            }
            (b'\\', Some(_)) => i += 2,
            (b'"', _) => {
                in_string = false;
                depth = 0;
                inner = false;
                i += 1;
            }
            (b'$' | b'%', Some(b'$' | b'%')) if depth == 0 && bytes.get(i + 2) == Some(&b'{') => i += 3,
            (b'$' | b'%', Some(b'{')) if depth == 0 => {
                depth = 1;
                i += 2;
            }
            (b'{', _) if depth > 0 && !inner => {
                depth += 1;
                i += 1;
            }
            (b'}', _) if depth > 0 && !inner => {
                depth -= 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// The `(key, value)` pairs of an object expression (keys as written; `//` comments
/// left out).
fn entries(o: &Object) -> Vec<(String, &Expression)> {
    o.iter()
        .filter_map(|(k, v)| {
            let key = match k {
                ObjectKey::Ident(id) => id.as_str().to_string(),
                ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                ObjectKey::Expression(_) => return None,
            };
            (key != "//").then_some((key, v.expr()))
        })
        .collect()
}

/// The objects a value stands for: itself, or each element of a list of objects.
fn each_object(e: &Expression) -> Vec<&Object> {
    match e {
        Expression::Object(o) => vec![o],
        Expression::Array(a) => a
            .iter()
            .filter_map(|x| match x {
                Expression::Object(o) => Some(o),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The `(key, value)` pairs of a value that is an object or a list of objects.
fn objects(e: &Expression) -> Vec<(String, &Expression)> {
    each_object(e).into_iter().flat_map(entries).collect()
}

/// A block body from a JSON object: known block names become blocks, the rest
/// arguments; `dynamic` becomes labelled `dynamic` blocks.
fn body_of(o: &Object, depth: usize) -> Body {
    let mut body = Body::new();
    for (key, value) in entries(o) {
        let objs = each_object(value);
        let as_blocks =
            depth < MAX_BLOCK_DEPTH && !objs.is_empty() && (BLOCK_NAMES.contains(&key.as_str()) || key == "dynamic");
        if !as_blocks {
            body.push(Attribute::new(
                hcl_edit::Ident::new_unchecked(key.as_str()),
                value.clone(),
            ));
            continue;
        }
        for obj in objs {
            if key == "dynamic" {
                for (label, inner) in entries(obj) {
                    for inner in each_object(inner) {
                        let mut block = Block::new(hcl_edit::Ident::new_unchecked("dynamic"));
                        block.labels = vec![BlockLabel::from(label.as_str())];
                        block.body = body_of(inner, depth + 1);
                        push_span(&mut block.body, inner);
                        body.push(block);
                    }
                }
                continue;
            }
            let mut block = Block::new(hcl_edit::Ident::new_unchecked(key.as_str()));
            block.body = body_of(obj, depth + 1);
            push_span(&mut block.body, obj);
            body.push(block);
        }
    }
    body
}

fn push_span(body: &mut Body, o: &Object) {
    body.push(Attribute::new(
        hcl_edit::Ident::new_unchecked(SPAN_ATTR),
        Expression::Object(o.clone()),
    ));
}

/// A block's span: its own, or that of the JSON object it was built from.
pub(crate) fn block_span(block: &Block) -> Option<std::ops::Range<usize>> {
    block
        .span()
        .or_else(|| block.body.get_attribute(SPAN_ATTR).and_then(|a| a.value.span()))
}

/// An argument's span: its own, or that of its value (arguments built from JSON).
pub(crate) fn attr_span(attr: &Attribute) -> Option<std::ops::Range<usize>> {
    attr.span().or_else(|| attr.value.span())
}
