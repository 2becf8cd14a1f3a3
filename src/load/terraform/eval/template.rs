//! String templates (quoted and heredoc) built with a source map, interpolation of
//! values into strings, and JSON parsing of strings through that map.

use std::rc::Rc;

use hcl_edit::Span as _;
use hcl_edit::template::{Directive, Element, Template as HclTemplate};

use super::branches::{Choices, Fork};
use super::{Eval, MAX_RENDERINGS, Scope, iterate, to_json, truthy, unknown_reason};
use crate::load::terraform::text::{TextBuilder, TextMap, has_template_markers, heredoc_offsets, quoted_offsets};
use crate::source::{FileId, Span};
use crate::value::{Part, Symbol, Template, Value, ValueKind};

impl<'s> Eval<'s> {
    /// Records invalid policy JSON that lies in a file read by `file()` / `templatefile()`
    /// as a load error of that file (it is a file that does not parse as what it is used
    /// for); returns whether it did. JSON written in the `.tf` files themselves stays a
    /// warning: those files parse.
    pub(crate) fn policy_file_error(&self, e: &crate::source::Spanned<String>) -> bool {
        if e.span.is_builtin() {
            return false;
        }
        let path = self.ctx.sources.path(e.span);
        if path.ends_with(".tf") || path.ends_with(".tf.json") {
            return false;
        }
        self.errors.borrow_mut().push(crate::model::LoadError {
            path,
            span: Some(e.span),
            message: format!("not valid JSON, and used as a policy document: {}", e.value),
        });
        true
    }

    /// A string past the template length limit: unknown, and a load error at `span`.
    pub(crate) fn text_too_long(&self, span: Span, len: usize, limit: usize) -> Value {
        let message =
            crate::limits::Limit::TemplateLength.exceeded(&format!("this string would be {len} bytes"), limit);
        self.errors.borrow_mut().push(crate::model::LoadError {
            path: self.ctx.sources.path(span),
            span: Some(span),
            message: message.clone(),
        });
        self.unknown_at(span, message)
    }

    /// The text map of a string value built from a literal, if it still denotes that text.
    pub(crate) fn text_map(&self, v: &Value) -> Option<Rc<TextMap>> {
        let t = v.as_template()?;
        let cached = self
            .text_maps
            .borrow()
            .get(&v.span)
            .and_then(|slot| slot.iter().find(|(tt, _)| tt == t).map(|(_, m)| m.clone()));
        cached.or_else(|| self.literal_map(v.span, t))
    }

    /// A plain quoted literal (no interpolation): its value, with no text map stored;
    /// [`Eval::literal_map`] derives the map from the source when a reader asks for it.
    pub(super) fn finish_literal(&self, cooked: &str, span: Span) -> Value {
        let limit = self.ctx.sources.limits().template_length;
        if cooked.len() > limit {
            return self.text_too_long(span, cooked.len(), limit);
        }
        Value::new(ValueKind::Str(Template::lit(cooked)), span)
    }

    /// The text map of the quoted literal written at `span`, read off its source: exact
    /// per byte where the raw text aligns with `t`, the whole literal otherwise. `None`
    /// when `span` holds a template (those keep their maps when built).
    fn literal_map(&self, span: Span, t: &Template) -> Option<Rc<TextMap>> {
        let cooked = match t.parts() {
            [] => "",
            [Part::Lit(s)] => s.as_str(),
            _ => return None,
        };
        let raw = self.text_raw(span);
        let raw = raw.trim();
        let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
        if has_template_markers(inner) {
            return None;
        }
        let mut b = TextBuilder::new();
        match quoted_offsets(inner, cooked, span.start as usize + 1) {
            Some(offsets) => b.push_exact(cooked, span.file, offsets),
            None => b.push_whole(cooked, span),
        }
        Some(Rc::new(b.map))
    }

    /// A string template (quoted or heredoc).
    pub fn template(&self, t: &HclTemplate, file: FileId, scope: &Scope, span: Span, heredoc: bool) -> Value {
        // `"${x}"` is `x` itself, whatever its type.
        if let Some(Element::Interpolation(i)) = t.as_single_element() {
            let mut v = self.expr(&i.expr, file, scope);
            if !matches!(v.kind, ValueKind::Str(_)) {
                v.span = span;
            }
            return v;
        }
        let mut b = TextBuilder::new();
        let mut choices = Choices::plain();
        self.template_into(t, file, scope, heredoc, &mut b, &mut choices);
        let v = self.finish_text(b, span);
        if choices.reached_unknown_if() {
            self.render_branches(t, (file, span), scope, heredoc, &v);
        }
        v
    }

    pub(crate) fn finish_text_public(&self, b: TextBuilder, span: Span) -> Value {
        self.finish_text(b, span)
    }

    pub(super) fn finish_text(&self, b: TextBuilder, span: Span) -> Value {
        let len: usize = b
            .template
            .parts()
            .iter()
            .map(|p| if let Part::Lit(s) = p { s.len() } else { 0 })
            .sum();
        let limit = self.ctx.sources.limits().template_length;
        if len > limit {
            return self.text_too_long(span, len, limit);
        }
        let mut maps = self.text_maps.borrow_mut();
        let slot = maps.entry(span).or_default();
        // The same literal evaluated per instance may render differently: keep each
        // rendering (bounded) and match on the template when looking up.
        if slot.len() < MAX_RENDERINGS && !slot.iter().any(|(t, _)| *t == b.template) {
            slot.push((b.template.clone(), Rc::new(b.map)));
        }
        drop(maps);
        Value::new(ValueKind::Str(b.template), span)
    }

    pub(super) fn template_into(
        &self,
        t: &HclTemplate,
        file: FileId,
        scope: &Scope,
        heredoc: bool,
        b: &mut TextBuilder,
        choices: &mut Choices,
    ) {
        let elements: Vec<&Element> = t.iter().collect();
        for (i, el) in elements.iter().enumerate() {
            let el_span = self.span(file, el.span());
            match el {
                Element::Literal(lit) => {
                    let cooked: &str = lit.value();
                    let strip_before = i > 0 && elements.get(i - 1).is_some_and(|p| strips(p).1);
                    let strip_after = elements.get(i + 1).is_some_and(|n| strips(n).0);
                    let raw = self.text_raw(el_span);
                    let base = el_span.start as usize;
                    let offsets = if heredoc {
                        heredoc_offsets(&raw, cooked, base)
                    } else {
                        quoted_offsets(&raw, cooked, base)
                    };
                    let (mut from, mut to) = (0, cooked.len());
                    if strip_before {
                        from = cooked.len() - cooked.trim_start().len();
                    }
                    if strip_after {
                        to = cooked.trim_end().len().max(from);
                    }
                    let piece = cooked.get(from..to).unwrap_or_default();
                    match offsets.and_then(|o| o.get(from..to).map(<[u32]>::to_vec)) {
                        Some(o) => b.push_exact(piece, file, o),
                        None => b.push_whole(piece, el_span),
                    }
                }
                Element::Interpolation(interp) => {
                    let v = self.expr(&interp.expr, file, scope);
                    self.push_value(b, &v, el_span);
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(ifd) => {
                        let c = self.expr(&ifd.if_expr.cond_expr, file, scope);
                        let taken = truthy(&c).or_else(|| {
                            let condition = self.span(file, ifd.if_expr.cond_expr.span());
                            choices.choose(Fork {
                                directive: el_span,
                                condition,
                                expr: self.text(condition),
                                reason: unknown_reason(&c)
                                    .map_or_else(|| format!("a {} is not a boolean", c.type_name()), str::to_string),
                            })
                        });
                        match taken {
                            Some(true) => self.template_into(&ifd.if_expr.template, file, scope, heredoc, b, choices),
                            Some(false) => {
                                if let Some(e) = &ifd.else_expr {
                                    self.template_into(&e.template, file, scope, heredoc, b, choices);
                                }
                            }
                            None => b.push_sym(opaque(
                                self.opaque_id(&self.text(el_span)),
                                "the condition of a template `if` is not known",
                                el_span,
                            )),
                        }
                    }
                    Directive::For(ford) => {
                        let fe = &ford.for_expr;
                        let coll = self.expr(&fe.collection_expr, file, scope);
                        match iterate(&coll).filter(|items| self.within_items(items.len(), el_span)) {
                            Some(items) => {
                                for (k, v) in items {
                                    let s1;
                                    let inner = match &fe.key_var {
                                        Some(kv) => {
                                            s1 = scope.with(kv.as_str(), k);
                                            s1.with(fe.value_var.as_str(), v)
                                        }
                                        None => scope.with(fe.value_var.as_str(), v),
                                    };
                                    self.template_into(&fe.template, file, &inner, heredoc, b, choices);
                                }
                            }
                            None => b.push_sym(opaque(
                                self.opaque_id(&self.text(el_span)),
                                "the collection of a template `for` is not known",
                                el_span,
                            )),
                        }
                    }
                },
            }
        }
    }

    /// Appends an interpolated value to a string being built.
    pub(crate) fn push_value(&self, b: &mut TextBuilder, v: &Value, span: Span) {
        match &v.kind {
            ValueKind::Str(t) => match self.text_map(v) {
                Some(map) if !v.span.is_builtin() => {
                    // Keep exact positions of a string defined elsewhere (a local heredoc).
                    let mut offset = 0;
                    for part in t.parts() {
                        match part {
                            Part::Lit(s) => {
                                for (at, ch) in s.char_indices() {
                                    let src = map.origin(offset + at).unwrap_or(v.span);
                                    b.push_whole(ch.encode_utf8(&mut [0; 4]), src);
                                }
                                offset += s.len();
                            }
                            Part::Sym(sym) => b.push_sym(sym.clone()),
                        }
                    }
                }
                _ => b.push_template(t, span),
            },
            ValueKind::Number(n) => b.push_whole(n, span),
            ValueKind::Bool(x) => b.push_whole(&x.to_string(), span),
            ValueKind::Null => {}
            ValueKind::Unknown(u) => b.push_sym(opaque(self.opaque_id(&u.expr), u.reason.clone(), v.span)),
            // Only `jsonencode` puts a collection into a string: render it as JSON.
            ValueKind::List(_) | ValueKind::Map(_) => b.push_template(&to_json(v), span),
        }
    }
}

/// Whether a template element strips whitespace before / after itself (`~`).
fn strips(el: &Element) -> (bool, bool) {
    let strip = match el {
        Element::Literal(_) => return (false, false),
        Element::Interpolation(i) => i.strip,
        Element::Directive(d) => match d.as_ref() {
            Directive::If(i) => {
                // Approximation: the opening and closing markers of the whole directive.
                return (i.if_expr.strip.strip_start(), i.endif_expr.strip.strip_end());
            }
            Directive::For(f) => return (f.for_expr.strip.strip_start(), f.endfor_expr.strip.strip_end()),
        },
    };
    (strip.strip_start(), strip.strip_end())
}

/// An opaque symbol for an unknown piece of a string.
pub fn opaque(expr: String, reason: impl Into<String>, span: Span) -> Symbol {
    Symbol::Opaque(Box::new(crate::value::Opaque {
        id: expr,
        reason: reason.into(),
        span,
    }))
}
