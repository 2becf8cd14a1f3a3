//! Expression evaluation over the hcl-edit tree into spanned [`Value`]s.
//!
//! Unknown is a value: anything that cannot be decided from the configuration (a variable
//! with no value, an attribute computed at apply time, an unsupported function) becomes
//! [`ValueKind::Unknown`] carrying the expression text and a reason, or an opaque symbol
//! inside a string. Evaluation never fails and never panics; recursion depth and the size
//! of produced collections are bounded.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::{Directive, Element, Template as HclTemplate};

use super::text::{TextBuilder, TextMap, heredoc_offsets, quoted_offsets};
use crate::model::{Diagnostic, LoadError};
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Entry, Part, Symbol, Template, Value, ValueKind};

/// How deep expressions and references may nest before evaluation gives up.
pub const MAX_DEPTH: usize = 96;
/// The most elements a produced collection (or `count`) may have.
pub const MAX_ITEMS: usize = 4096;
/// The longest string evaluation builds.
pub const MAX_TEXT: usize = 1 << 20;
/// How many renderings of one string literal keep their source map.
const MAX_RENDERINGS: usize = 64;
/// How long an expression's text may be in an unknown value's `expr`.
const MAX_EXPR_TEXT: usize = 160;

/// A declared `resource` or `data` block.
pub struct Res {
    pub data: bool,
    pub rtype: String,
    pub name: String,
    pub block: Block,
    pub file: FileId,
    pub span: Span,
    /// Read from a plan (no `lifecycle` is visible).
    pub from_plan: bool,
}

/// A `module` call.
pub struct ModuleCall {
    pub name: String,
    pub block: Block,
    pub file: FileId,
    pub span: Span,
}

/// One Terraform module: its declarations, by kind, in source order.
#[derive(Default)]
pub struct Module {
    /// Address prefix (`""` for the root, `module.a.` for a child).
    pub prefix: String,
    pub dir: PathBuf,
    /// Display path of the folder (what `path.module` evaluates to).
    pub display: String,
    pub texts: BTreeMap<FileId, Arc<str>>,
    pub variables: BTreeMap<String, (Option<Expression>, FileId, Span)>,
    pub locals: BTreeMap<String, (Expression, FileId, Span)>,
    pub outputs: BTreeMap<String, (Expression, FileId, Span)>,
    pub resources: Vec<Res>,
    pub index: BTreeMap<(bool, String, String), usize>,
    pub calls: Vec<ModuleCall>,
    /// Values given for variables (command line / tfvars for the root, call arguments for
    /// a child).
    pub inputs: BTreeMap<String, Value>,
}

/// A scope frame: one name bound to a value (`each`, `count`, a `for` variable, a
/// `dynamic` block iterator).
pub struct Scope<'p> {
    parent: Option<&'p Scope<'p>>,
    vars: Vec<(String, Value)>,
}

impl<'p> Scope<'p> {
    pub fn root() -> Scope<'static> {
        Scope {
            parent: None,
            vars: Vec::new(),
        }
    }

    pub fn with(&'p self, name: impl Into<String>, value: Value) -> Scope<'p> {
        self.with_all(vec![(name.into(), value)])
    }

    pub fn with_all(&'p self, vars: Vec<(String, Value)>) -> Scope<'p> {
        Scope {
            parent: Some(self),
            vars,
        }
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        let mut s = Some(self);
        while let Some(scope) = s {
            if let Some((_, v)) = scope.vars.iter().find(|(n, _)| n == name) {
                return Some(v);
            }
            s = scope.parent;
        }
        None
    }
}

/// Which instance of a resource: no `count`/`for_each`, a count index, a for_each key, or
/// the single stand-in instance of an unknown collection.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum InstKey {
    None,
    Int(usize),
    Str(String),
    Unknown,
}

impl InstKey {
    pub fn suffix(&self) -> String {
        match self {
            InstKey::None | InstKey::Unknown => String::new(),
            InstKey::Int(i) => format!("[{i}]"),
            InstKey::Str(k) => format!("[\"{}\"]", k.replace('\\', "\\\\").replace('"', "\\\"")),
        }
    }
}

/// The instances of a resource.
#[derive(Clone, Debug)]
pub enum Expansion {
    Single,
    Count(usize),
    Each(Vec<(String, Value)>),
    /// The collection is unknown: one stand-in instance; the value says why.
    Unknown(Value),
}

enum Slot {
    Busy,
    Done(Value),
}

/// The renderings of one string literal, each with its source map.
type Renderings = Vec<(Template, Rc<TextMap>)>;

/// Run-wide context shared by a root module and its children.
pub struct Ctx<'s> {
    pub sources: &'s SourceMap,
    pub cwd: PathBuf,
    /// Files may only be read below this folder (the repository root).
    pub root: PathBuf,
    /// Evaluation depth, shared by a module and its children so that references
    /// through module outputs are bounded too.
    pub depth: Cell<usize>,
    /// Planned values by resource address, when a plan is merged with the `.tf` files.
    pub plan: BTreeMap<String, Value>,
}

impl<'s> Ctx<'s> {
    pub fn new(sources: &'s SourceMap, cwd: PathBuf, root: PathBuf) -> Ctx<'s> {
        Ctx {
            sources,
            cwd,
            root,
            depth: Cell::new(0),
            plan: BTreeMap::new(),
        }
    }
}

/// Evaluates expressions of one module.
pub struct Eval<'s> {
    pub m: Module,
    pub ctx: Rc<Ctx<'s>>,
    locals: RefCell<BTreeMap<String, Slot>>,
    outputs: RefCell<BTreeMap<String, Slot>>,
    objects: RefCell<BTreeMap<(usize, InstKey), Slot>>,
    expansions: RefCell<BTreeMap<usize, Expansion>>,
    module_expansions: RefCell<BTreeMap<usize, Expansion>>,
    text_maps: RefCell<BTreeMap<Span, Renderings>>,
    /// Texts of files read by `file()` / `templatefile()`.
    extra_texts: RefCell<BTreeMap<FileId, Arc<str>>>,
    pub diagnostics: RefCell<Vec<Diagnostic>>,
    pub errors: RefCell<Vec<LoadError>>,
    /// Child module instances by call name and instance key (`m`, `m[0]`, `m["k"]`),
    /// created on first use.
    pub children: RefCell<BTreeMap<String, Option<Rc<Eval<'s>>>>>,
    /// Creates a child module's evaluator (set by the loader; `None` disables modules).
    pub make_child: Option<ChildMaker<'s>>,
}

/// The loader's function that loads a called module instance:
/// `(parent, call index, instance key) -> child`.
pub type ChildMaker<'s> = Rc<dyn Fn(&Eval<'s>, usize, &InstKey) -> Option<Eval<'s>> + 's>;

impl<'s> Eval<'s> {
    pub fn new(m: Module, ctx: Rc<Ctx<'s>>) -> Eval<'s> {
        Eval {
            m,
            ctx,
            locals: RefCell::default(),
            outputs: RefCell::default(),
            objects: RefCell::default(),
            expansions: RefCell::default(),
            module_expansions: RefCell::default(),
            text_maps: RefCell::default(),
            extra_texts: RefCell::default(),
            diagnostics: RefCell::default(),
            errors: RefCell::default(),
            children: RefCell::default(),
            make_child: None,
        }
    }

    pub fn note(&self, message: impl Into<String>, span: Span) {
        self.diagnostics.borrow_mut().push(Diagnostic::note(message, span));
    }

    pub fn span(&self, file: FileId, range: Option<std::ops::Range<usize>>) -> Span {
        match range {
            Some(r) => Span::new(file, r.start, r.end),
            None => Span::new(file, 0, 0),
        }
    }

    /// The text of a file of this module or read by `file()`.
    pub fn source_text(&self, file: FileId) -> Option<Arc<str>> {
        self.m
            .texts
            .get(&file)
            .cloned()
            .or_else(|| self.extra_texts.borrow().get(&file).cloned())
    }

    pub fn add_text(&self, file: FileId, text: Arc<str>) {
        self.extra_texts.borrow_mut().insert(file, text);
    }

    /// The source text of a span (shortened), for unknown values' `expr`.
    pub fn text(&self, span: Span) -> String {
        let s = self.text_raw(span);
        let s = s.trim();
        if s.len() <= MAX_EXPR_TEXT {
            return s.to_string();
        }
        let mut cut = MAX_EXPR_TEXT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &s[..cut])
    }

    fn text_raw(&self, span: Span) -> String {
        self.source_text(span.file)
            .and_then(|t| t.get(span.start as usize..span.end as usize).map(str::to_string))
            .unwrap_or_default()
    }

    /// Parses a string value as JSON, mapping spans into its source where known.
    pub fn parse_json_string(&self, v: &Value, t: &Template) -> Result<Value, crate::source::Spanned<String>> {
        let map = self.text_map(v);
        let origin = |offset: usize| map.as_ref().and_then(|m| m.origin(offset));
        crate::load::json::parse_template(t, &origin, v.span)
    }

    /// The text map of a string value built from a literal, if it still denotes that text.
    pub fn text_map(&self, v: &Value) -> Option<Rc<TextMap>> {
        let t = v.as_template()?;
        let maps = self.text_maps.borrow();
        maps.get(&v.span)?
            .iter()
            .find(|(tt, _)| tt == t)
            .map(|(_, m)| m.clone())
    }

    /// An unknown value for expression `span`.
    pub fn unknown_at(&self, span: Span, reason: impl Into<String>) -> Value {
        Value::unknown(self.text(span), reason, span)
    }

    /// The id of an opaque symbol for an unknown expression of this module: the module
    /// prefix keeps `var.x` of two modules apart.
    pub fn opaque_id(&self, expr: &str) -> String {
        format!("{}{}", self.m.prefix, expr)
    }

    /// Evaluates an expression of file `file` in `scope`.
    pub fn expr(&self, e: &Expression, file: FileId, scope: &Scope) -> Value {
        let span = self.span(file, e.span());
        let depth = &self.ctx.depth;
        if depth.get() >= MAX_DEPTH {
            return self.unknown_at(span, "expression or references nested too deeply");
        }
        depth.set(depth.get() + 1);
        let v = self.expr_inner(e, file, scope, span);
        depth.set(depth.get().saturating_sub(1));
        v
    }

    fn expr_inner(&self, e: &Expression, file: FileId, scope: &Scope, span: Span) -> Value {
        match e {
            Expression::Null(_) => Value::new(ValueKind::Null, span),
            Expression::Bool(b) => Value::new(ValueKind::Bool(*b.value()), span),
            Expression::Number(n) => {
                let text = self.text(span);
                let text = if text.is_empty() { n.to_string() } else { text };
                Value::new(ValueKind::Number(text), span)
            }
            Expression::String(s) => {
                let mut b = TextBuilder::new();
                let cooked: &str = s.value();
                let raw = self.text(span);
                let inner = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"'));
                match inner.and_then(|r| quoted_offsets(r, cooked, span.start as usize + 1)) {
                    Some(offsets) => b.push_exact(cooked, file, offsets),
                    None => b.push_whole(cooked, span),
                }
                self.finish_text(b, span)
            }
            Expression::Array(a) => {
                let items = a.iter().take(MAX_ITEMS).map(|x| self.expr(x, file, scope)).collect();
                Value::new(ValueKind::List(items), span)
            }
            Expression::Object(o) => {
                let mut entries = Vec::new();
                for (k, v) in o.iter() {
                    let key_span = self.span(file, k.span());
                    let key = match k {
                        ObjectKey::Ident(id) => Some(id.as_str().to_string()),
                        ObjectKey::Expression(ke) => {
                            // A parenthesised or bare identifier key is taken literally
                            // unless it is a traversal or call.
                            let kv = self.expr(ke, file, scope);
                            kv.to_template().and_then(|t| t.as_literal().map(str::to_string))
                        }
                    };
                    let value = self.expr(v.expr(), file, scope);
                    match key {
                        Some(key) => entries.push(Entry { key, key_span, value }),
                        None => return self.unknown_at(span, "an object key is not known"),
                    }
                }
                Value::new(ValueKind::Map(entries), span)
            }
            Expression::StringTemplate(t) => self.template(t, file, scope, span, false),
            Expression::HeredocTemplate(h) => self.template(&h.template, file, scope, span, true),
            Expression::Parenthesis(p) => {
                let mut v = self.expr(p.inner(), file, scope);
                v.span = span;
                v
            }
            Expression::Variable(v) => self.variable(v.as_str(), &[], file, scope, span),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => self.variable(v.as_str(), &t.operators, file, scope, span),
                base => {
                    let b = self.expr(base, file, scope);
                    self.apply_ops(b, &t.operators, file, scope, span)
                }
            },
            Expression::Conditional(c) => {
                let cond = self.expr(&c.cond_expr, file, scope);
                match truthy(&cond) {
                    Some(true) => self.expr(&c.true_expr, file, scope),
                    Some(false) => self.expr(&c.false_expr, file, scope),
                    None => {
                        let reason = unknown_reason(&cond).unwrap_or("the condition is not a known boolean");
                        self.unknown_at(span, format!("condition is not known: {reason}"))
                    }
                }
            }
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let full = if call.name.is_namespaced() {
                    let ns: Vec<&str> = call.name.namespace.iter().map(|n| n.as_str()).collect();
                    format!("{}::{name}", ns.join("::"))
                } else {
                    name.to_string()
                };
                let args: Vec<&Expression> = call.args.iter().collect();
                super::funcs::call(self, &full, &args, call.args.expand_final(), file, scope, span)
            }
            Expression::UnaryOp(u) => {
                let v = self.expr(&u.expr, file, scope);
                match u.operator.value() {
                    UnaryOperator::Not => match truthy(&v) {
                        Some(b) => Value::new(ValueKind::Bool(!b), span),
                        None => self.unknown_at(span, "operand is not a known boolean"),
                    },
                    UnaryOperator::Neg => match number(&v) {
                        Some(n) => num_value(-n, span),
                        None => self.unknown_at(span, "operand is not a known number"),
                    },
                }
            }
            Expression::BinaryOp(op) => self.binary(op, file, scope, span),
            Expression::ForExpr(f) => self.for_expr(f, file, scope, span),
        }
    }

    fn binary(&self, op: &hcl_edit::expr::BinaryOp, file: FileId, scope: &Scope, span: Span) -> Value {
        let l = self.expr(&op.lhs_expr, file, scope);
        let operator = *op.operator.value();
        // Short-circuit on a decided left operand, as Terraform does for unknowns.
        match (operator, truthy(&l)) {
            (BinaryOperator::And, Some(false)) => return Value::new(ValueKind::Bool(false), span),
            (BinaryOperator::Or, Some(true)) => return Value::new(ValueKind::Bool(true), span),
            _ => {}
        }
        let r = self.expr(&op.rhs_expr, file, scope);
        let bool_v = |b: bool| Value::new(ValueKind::Bool(b), span);
        match operator {
            BinaryOperator::And | BinaryOperator::Or => match (truthy(&l), truthy(&r)) {
                (Some(a), Some(b)) => bool_v(if operator == BinaryOperator::And {
                    a && b
                } else {
                    a || b
                }),
                _ => self.unknown_at(span, "operand is not a known boolean"),
            },
            BinaryOperator::Eq | BinaryOperator::NotEq => match equal(&l, &r) {
                Some(eq) => bool_v(eq == (operator == BinaryOperator::Eq)),
                None => self.unknown_at(span, "operands are not known"),
            },
            _ => {
                let (Some(a), Some(b)) = (number(&l), number(&r)) else {
                    return self.unknown_at(span, "operand is not a known number");
                };
                match operator {
                    BinaryOperator::Less => bool_v(a < b),
                    BinaryOperator::LessEq => bool_v(a <= b),
                    BinaryOperator::Greater => bool_v(a > b),
                    BinaryOperator::GreaterEq => bool_v(a >= b),
                    BinaryOperator::Plus => num_value(a + b, span),
                    BinaryOperator::Minus => num_value(a - b, span),
                    BinaryOperator::Mul => num_value(a * b, span),
                    BinaryOperator::Div if b != 0.0 => num_value(a / b, span),
                    BinaryOperator::Mod if b != 0.0 => num_value(a % b, span),
                    _ => self.unknown_at(span, "division by zero"),
                }
            }
        }
    }

    fn for_expr(&self, f: &hcl_edit::expr::ForExpr, file: FileId, scope: &Scope, span: Span) -> Value {
        let coll = self.expr(&f.intro.collection_expr, file, scope);
        let Some(items) = iterate(&coll) else {
            return self.unknown_at(span, "the collection of the `for` expression is not known");
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut list = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for (k, v) in items.into_iter().take(MAX_ITEMS) {
            let s1;
            let inner = match &key_var {
                Some(kv) => {
                    s1 = scope.with(kv.clone(), k);
                    s1.with(value_var.clone(), v)
                }
                None => scope.with(value_var.clone(), v),
            };
            if let Some(cond) = &f.cond {
                let c = self.expr(&cond.expr, file, &inner);
                match truthy(&c) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return self.unknown_at(span, "the `if` clause of the `for` expression is not known"),
                }
            }
            let value = self.expr(&f.value_expr, file, &inner);
            match &f.key_expr {
                Some(ke) => {
                    let key = self.expr(ke, file, &inner);
                    let Some(key_text) = key.to_template().and_then(|t| t.as_literal().map(str::to_string)) else {
                        return self.unknown_at(span, "a key of the `for` expression is not known");
                    };
                    if f.grouping {
                        if let Some(e) = entries.iter_mut().find(|e| e.key == key_text) {
                            if let ValueKind::List(items) = &mut e.value.kind {
                                items.push(value);
                            }
                        } else {
                            entries.push(Entry {
                                key: key_text,
                                key_span: key.span,
                                value: Value::new(ValueKind::List(vec![value]), key.span),
                            });
                        }
                    } else {
                        entries.retain(|e| e.key != key_text);
                        entries.push(Entry {
                            key: key_text,
                            key_span: key.span,
                            value,
                        });
                    }
                }
                None => list.push(value),
            }
        }
        if f.key_expr.is_some() {
            Value::new(ValueKind::Map(entries), span)
        } else {
            Value::new(ValueKind::List(list), span)
        }
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
        self.template_into(t, file, scope, heredoc, &mut b);
        self.finish_text(b, span)
    }

    pub fn finish_text_public(&self, b: TextBuilder, span: Span) -> Value {
        self.finish_text(b, span)
    }

    fn finish_text(&self, b: TextBuilder, span: Span) -> Value {
        let len: usize = b
            .template
            .parts()
            .iter()
            .map(|p| if let Part::Lit(s) = p { s.len() } else { 0 })
            .sum();
        if len > MAX_TEXT {
            return self.unknown_at(span, "string is too long");
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

    fn template_into(&self, t: &HclTemplate, file: FileId, scope: &Scope, heredoc: bool, b: &mut TextBuilder) {
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
                        match truthy(&c) {
                            Some(true) => self.template_into(&ifd.if_expr.template, file, scope, heredoc, b),
                            Some(false) => {
                                if let Some(e) = &ifd.else_expr {
                                    self.template_into(&e.template, file, scope, heredoc, b);
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
                        match iterate(&coll) {
                            Some(items) => {
                                for (k, v) in items.into_iter().take(MAX_ITEMS) {
                                    let s1;
                                    let inner = match &fe.key_var {
                                        Some(kv) => {
                                            s1 = scope.with(kv.as_str(), k);
                                            s1.with(fe.value_var.as_str(), v)
                                        }
                                        None => scope.with(fe.value_var.as_str(), v),
                                    };
                                    self.template_into(&fe.template, file, &inner, heredoc, b);
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
    pub fn push_value(&self, b: &mut TextBuilder, v: &Value, span: Span) {
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
            ValueKind::Unknown { expr, reason } => b.push_sym(opaque(self.opaque_id(expr), reason.clone(), v.span)),
            // Only `jsonencode` puts a collection into a string: render it as JSON.
            ValueKind::List(_) | ValueKind::Map(_) => b.push_template(&to_json(v), span),
        }
    }

    /// Resolves `name` followed by traversal operators.
    fn variable(
        &self,
        name: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        if let Some(v) = scope.lookup(name) {
            return self.apply_ops(v.clone(), ops, file, scope, span);
        }
        let attr = |i: usize| -> Option<&str> {
            match ops.get(i).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
                _ => None,
            }
        };
        let rest_from = |i: usize| ops.get(i..).unwrap_or_default();
        match name {
            "var" => match attr(0) {
                Some(v) => {
                    let value = self.var(v, span);
                    self.apply_ops(value, rest_from(1), file, scope, span)
                }
                None => self.unknown_at(span, "`var` needs an attribute"),
            },
            "local" => match attr(0) {
                Some(l) => {
                    let value = self.local(l, span);
                    self.apply_ops(value, rest_from(1), file, scope, span)
                }
                None => self.unknown_at(span, "`local` needs an attribute"),
            },
            "path" => match attr(0) {
                Some("module") | Some("root") | Some("cwd") => {
                    let mut b = TextBuilder::new();
                    b.push_whole(&self.m.display, span);
                    let v = Value::new(ValueKind::Str(b.template), span);
                    self.apply_ops(v, rest_from(1), file, scope, span)
                }
                _ => self.unknown_at(span, "unknown `path` attribute"),
            },
            "terraform" => self.unknown_at(span, "the Terraform workspace is not known statically"),
            "self" => self.unknown_at(span, "`self` is not modelled"),
            "count" | "each" => self.unknown_at(span, format!("`{name}` is not set here")),
            "data" => match (attr(0), attr(1)) {
                (Some(t), Some(n)) => self.resource_ref(true, t, n, rest_from(2), file, scope, span),
                _ => self.unknown_at(span, "incomplete data source reference"),
            },
            "module" => match attr(0) {
                Some(m) => self.module_ref(m, rest_from(1), file, scope, span),
                None => self.unknown_at(span, "incomplete module reference"),
            },
            rtype => match attr(0) {
                Some(n) => self.resource_ref(false, rtype, n, rest_from(1), file, scope, span),
                None => self.unknown_at(span, format!("`{rtype}` is not defined")),
            },
        }
    }

    /// A variable's value: given input, else default, else unknown.
    pub fn var(&self, name: &str, span: Span) -> Value {
        if let Some(v) = self.m.inputs.get(name) {
            return v.clone();
        }
        match self.m.variables.get(name) {
            Some((Some(default), file, _)) => self.expr(default, *file, &Scope::root()),
            Some((None, _, _)) => self.unknown_at(span, format!("variable {name} has no value")),
            None => self.unknown_at(span, format!("variable {name} is not declared")),
        }
    }

    fn local(&self, name: &str, span: Span) -> Value {
        match self.locals.borrow().get(name) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(Slot::Busy) => return self.unknown_at(span, format!("local.{name} refers to itself (cycle)")),
            None => {}
        }
        let Some((e, file, _)) = self.m.locals.get(name) else {
            return self.unknown_at(span, format!("local.{name} is not declared"));
        };
        self.locals.borrow_mut().insert(name.to_string(), Slot::Busy);
        let v = self.expr(e, *file, &Scope::root());
        self.locals.borrow_mut().insert(name.to_string(), Slot::Done(v.clone()));
        v
    }

    /// `module.<name>` followed by traversal operators: an output of a single module,
    /// of one instance (`module.m[0].out`), or the objects of all instances.
    fn module_ref(
        &self,
        name: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        let Some(index) = self.m.calls.iter().position(|c| c.name == name) else {
            return self.unknown_at(span, format!("module {name} is not declared in this module"));
        };
        let expansion = self.module_expansion(index);
        let output_of = |child: Option<Rc<Eval<'s>>>, rest: &[hcl_edit::Decorated<TraversalOperator>]| match child {
            None => self.unknown_at(span, format!("module {name} is not loaded")),
            Some(child) => match rest.first().map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(out)) => {
                    let v = child.output(out.as_str(), span);
                    self.apply_ops(v, rest.get(1..).unwrap_or_default(), file, scope, span)
                }
                _ => {
                    let v = child.outputs_object(span);
                    self.apply_ops(v, rest, file, scope, span)
                }
            },
        };
        match (&expansion, ops.first().map(|o| o.value())) {
            (Expansion::Single, _) => output_of(self.child_instance(name, &InstKey::None), ops),
            (Expansion::Unknown(why), _) => {
                let reason = unknown_reason(why).unwrap_or("not known").to_string();
                self.unknown_at(span, format!("the instances of module {name} are not known: {reason}"))
            }
            (_, Some(TraversalOperator::Index(ie))) => {
                let iv = self.expr(ie, file, scope);
                let key = match &expansion {
                    Expansion::Count(_) => number(&iv).map(|n| InstKey::Int(n.max(0.0) as usize)),
                    _ => iv
                        .to_template()
                        .and_then(|t| t.as_literal().map(|s| InstKey::Str(s.to_string()))),
                };
                match key {
                    Some(k) if Self::instance_keys(&expansion).contains(&k) => {
                        output_of(self.child_instance(name, &k), ops.get(1..).unwrap_or_default())
                    }
                    Some(_) => self.unknown_at(span, format!("module {name} has no such instance")),
                    None => self.unknown_at(span, "the module instance index is not known"),
                }
            }
            (_, Some(TraversalOperator::LegacyIndex(i))) => {
                let k = InstKey::Int(usize::try_from(*i.value()).unwrap_or(usize::MAX));
                output_of(self.child_instance(name, &k), ops.get(1..).unwrap_or_default())
            }
            (Expansion::Count(_), _) => {
                let items = Self::instance_keys(&expansion)
                    .iter()
                    .map(|k| match self.child_instance(name, k) {
                        Some(c) => c.outputs_object(span),
                        None => self.unknown_at(span, format!("module {name} is not loaded")),
                    })
                    .collect();
                self.apply_ops(Value::new(ValueKind::List(items), span), ops, file, scope, span)
            }
            (Expansion::Each(_), _) => {
                let entries = Self::instance_keys(&expansion)
                    .iter()
                    .filter_map(|k| match k {
                        InstKey::Str(s) => Some(Entry {
                            key: s.clone(),
                            key_span: span,
                            value: match self.child_instance(name, k) {
                                Some(c) => c.outputs_object(span),
                                None => self.unknown_at(span, format!("module {name} is not loaded")),
                            },
                        }),
                        _ => None,
                    })
                    .collect();
                self.apply_ops(Value::new(ValueKind::Map(entries), span), ops, file, scope, span)
            }
        }
    }

    /// All outputs of this module as one object (`module.m` used as a value).
    pub fn outputs_object(&self, span: Span) -> Value {
        let names: Vec<String> = self.m.outputs.keys().cloned().collect();
        let entries = names
            .into_iter()
            .map(|n| {
                let value = self.output(&n, span);
                Entry {
                    key: n,
                    key_span: span,
                    value,
                }
            })
            .collect();
        Value::new(ValueKind::Map(entries), span)
    }

    /// The instances of module call `index` (its `count` / `for_each`).
    pub fn module_expansion(&self, index: usize) -> Expansion {
        if let Some(e) = self.module_expansions.borrow().get(&index) {
            return e.clone();
        }
        let mut e = match self.m.calls.get(index) {
            Some(call) => meta_expansion(self, &call.block.body, call.file),
            None => Expansion::Single,
        };
        if let (Expansion::Unknown(why), Some(call)) = (&e, self.m.calls.get(index))
            && let Some(from_plan) = self.plan_expansion(&format!("{}module.{}", self.m.prefix, call.name), true, why)
        {
            e = from_plan;
        }
        self.module_expansions.borrow_mut().insert(index, e.clone());
        e
    }

    pub fn output(&self, name: &str, span: Span) -> Value {
        match self.outputs.borrow().get(name) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(Slot::Busy) => return Value::unknown(name, "module output refers to itself (cycle)", span),
            None => {}
        }
        let Some((e, file, _)) = self.m.outputs.get(name) else {
            return Value::unknown(name, format!("the module has no output {name}"), span);
        };
        self.outputs.borrow_mut().insert(name.to_string(), Slot::Busy);
        let v = self.expr(e, *file, &Scope::root());
        self.outputs
            .borrow_mut()
            .insert(name.to_string(), Slot::Done(v.clone()));
        v
    }

    /// The evaluator of one instance of the child module called `name`, loading it on
    /// first use.
    pub fn child_instance(&self, name: &str, key: &InstKey) -> Option<Rc<Eval<'s>>> {
        let slot_key = format!("{name}{}", key.suffix());
        if let Some(slot) = self.children.borrow().get(&slot_key) {
            return slot.clone();
        }
        // Mark as in progress so a cycle through the call's own arguments ends.
        self.children.borrow_mut().insert(slot_key.clone(), None);
        let index = self.m.calls.iter().position(|c| c.name == name)?;
        let maker = self.make_child.clone()?;
        let child = maker(self, index, key).map(Rc::new);
        self.children.borrow_mut().insert(slot_key, child.clone());
        child
    }

    /// The instances of resource `idx`.
    pub fn expansion(&self, idx: usize) -> Expansion {
        if let Some(e) = self.expansions.borrow().get(&idx) {
            return e.clone();
        }
        let e = self.compute_expansion(idx);
        self.expansions.borrow_mut().insert(idx, e.clone());
        e
    }

    fn compute_expansion(&self, idx: usize) -> Expansion {
        let Some(res) = self.m.resources.get(idx) else {
            return Expansion::Single;
        };
        let e = meta_expansion(self, &res.block.body, res.file);
        if let Expansion::Unknown(why) = &e
            && let Some(from_plan) = self.plan_expansion(&self.address(res, &InstKey::None), false, why)
        {
            return from_plan;
        }
        e
    }

    /// The instances a merged plan lists for a resource whose `count`/`for_each` the
    /// configuration alone does not decide.
    /// `base` is the resource (or, with `module`, the module call) address without key.
    fn plan_expansion(&self, base: &str, module: bool, why: &Value) -> Option<Expansion> {
        if self.ctx.plan.is_empty() {
            return None;
        }
        let mut ints = Vec::new();
        let mut strs = Vec::new();
        for address in self.ctx.plan.keys() {
            let Some(rest) = address.strip_prefix(base) else {
                continue;
            };
            let index = match (module, rest.find("].")) {
                (false, _) => rest,
                (true, Some(end)) => rest.get(..=end).unwrap_or_default(),
                (true, None) => continue,
            };
            match parse_index(index) {
                Some(InstKey::Int(i)) => ints.push(i),
                Some(InstKey::Str(k)) => strs.push(k),
                _ => {}
            }
        }
        if !ints.is_empty() && strs.is_empty() {
            ints.sort_unstable();
            ints.dedup();
            let n = ints.len();
            return (ints.iter().copied().eq(0..n)).then_some(Expansion::Count(n));
        }
        if !strs.is_empty() && ints.is_empty() {
            strs.sort();
            strs.dedup();
            let reason = unknown_reason(why).unwrap_or("not known");
            let items = strs
                .into_iter()
                .map(|k| {
                    let v = Value::unknown(
                        format!("{base}[\"{k}\"].each.value"),
                        format!("the plan lists this instance, but its each.value is not known: {reason}"),
                        why.span,
                    );
                    (k, v)
                })
                .collect();
            return Some(Expansion::Each(items));
        }
        None
    }

    /// The scope of one instance (`count.index`, `each.key`, `each.value`).
    pub fn instance_scope<'p>(
        &self,
        parent: &'p Scope<'p>,
        expansion: &Expansion,
        key: &InstKey,
        owner: &str,
        span: Span,
    ) -> Scope<'p> {
        match (expansion, key) {
            (Expansion::Count(_), InstKey::Int(i)) => parent.with(
                "count",
                map_value(
                    vec![("index", Value::new(ValueKind::Number(i.to_string()), span))],
                    span,
                ),
            ),
            (Expansion::Each(items), InstKey::Str(k)) => {
                let value = items
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| Value::new(ValueKind::Null, span));
                parent.with(
                    "each",
                    map_value(vec![("key", Value::str(k.clone(), span)), ("value", value)], span),
                )
            }
            (Expansion::Unknown(why), _) => {
                let reason = unknown_reason(why).unwrap_or("the collection is not known").to_string();
                let u = |what: &str| Value::unknown(format!("{owner}.{what}"), reason.clone(), why.span);
                let frame = map_value(
                    vec![
                        ("index", u("count.index")),
                        ("key", u("each.key")),
                        ("value", u("each.value")),
                    ],
                    span,
                );
                // Both names, since we do not know which meta-argument was used.
                parent.with_all(vec![("count".to_string(), frame.clone()), ("each".to_string(), frame)])
            }
            _ => parent.with_all(Vec::new()),
        }
    }

    /// All instance keys of a resource.
    pub fn instance_keys(expansion: &Expansion) -> Vec<InstKey> {
        match expansion {
            Expansion::Single => vec![InstKey::None],
            Expansion::Count(n) => (0..*n).map(InstKey::Int).collect(),
            Expansion::Each(items) => items.iter().map(|(k, _)| InstKey::Str(k.clone())).collect(),
            Expansion::Unknown(_) => vec![InstKey::Unknown],
        }
    }

    /// The address of an instance (with module prefix and index).
    pub fn address(&self, res: &Res, key: &InstKey) -> String {
        let data = if res.data { "data." } else { "" };
        format!("{}{}{}.{}{}", self.m.prefix, data, res.rtype, res.name, key.suffix())
    }

    #[allow(clippy::too_many_arguments)]
    fn resource_ref(
        &self,
        data: bool,
        rtype: &str,
        name: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        let Some(&idx) = self.m.index.get(&(data, rtype.to_string(), name.to_string())) else {
            let what = if data {
                format!("data.{rtype}.{name}")
            } else {
                format!("{rtype}.{name}")
            };
            return self.unknown_at(span, format!("{what} is not declared in this module"));
        };
        let expansion = self.expansion(idx);
        match (&expansion, ops.first().map(|o| o.value())) {
            (Expansion::Single, _) => {
                let obj = self.instance_object(idx, &InstKey::None);
                self.apply_ops(obj, ops, file, scope, span)
            }
            (_, Some(TraversalOperator::Index(ie))) => {
                let key = match &expansion {
                    Expansion::Unknown(_) => Some(InstKey::Unknown),
                    Expansion::Count(_) => {
                        let iv = self.expr(ie, file, scope);
                        number(&iv).map(|n| InstKey::Int(n.max(0.0) as usize))
                    }
                    _ => {
                        let iv = self.expr(ie, file, scope);
                        iv.to_template()
                            .and_then(|t| t.as_literal().map(|s| InstKey::Str(s.to_string())))
                    }
                };
                match key {
                    Some(k) if Self::instance_keys(&expansion).contains(&k) => {
                        let obj = self.instance_object(idx, &k);
                        self.apply_ops(obj, ops.get(1..).unwrap_or_default(), file, scope, span)
                    }
                    Some(_) => self.unknown_at(span, "no such instance"),
                    None => self.unknown_at(span, "the instance index is not known"),
                }
            }
            (_, Some(TraversalOperator::LegacyIndex(i))) => {
                let k = match &expansion {
                    Expansion::Unknown(_) => InstKey::Unknown,
                    _ => InstKey::Int(usize::try_from(*i.value()).unwrap_or(usize::MAX)),
                };
                let obj = self.instance_object(idx, &k);
                self.apply_ops(obj, ops.get(1..).unwrap_or_default(), file, scope, span)
            }
            (Expansion::Unknown(why), _) => {
                let reason = unknown_reason(why).unwrap_or("not known").to_string();
                self.unknown_at(span, format!("the instances of {rtype}.{name} are not known: {reason}"))
            }
            (Expansion::Count(_), _) => {
                let items = Self::instance_keys(&expansion)
                    .iter()
                    .map(|k| self.instance_object(idx, k))
                    .collect();
                self.apply_ops(Value::new(ValueKind::List(items), span), ops, file, scope, span)
            }
            (Expansion::Each(_), _) => {
                let entries = Self::instance_keys(&expansion)
                    .iter()
                    .filter_map(|k| match k {
                        InstKey::Str(s) => Some(Entry {
                            key: s.clone(),
                            key_span: span,
                            value: self.instance_object(idx, k),
                        }),
                        _ => None,
                    })
                    .collect();
                self.apply_ops(Value::new(ValueKind::Map(entries), span), ops, file, scope, span)
            }
        }
    }

    /// The object one resource instance evaluates to: its configured arguments plus the
    /// attributes the provider computes from them.
    pub fn instance_object(&self, idx: usize, key: &InstKey) -> Value {
        let cache_key = (idx, key.clone());
        let Some(res) = self.m.resources.get(idx) else {
            return Value::new(ValueKind::Null, Span::builtin());
        };
        match self.objects.borrow().get(&cache_key) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(Slot::Busy) => {
                return Value::unknown(
                    self.address(res, key),
                    "the resource refers to itself (cycle)",
                    res.span,
                );
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
        if res.data && res.rtype == "aws_iam_policy_document" {
            let doc = super::policy_document::build(self, &res.block.body, res.file, &scope, res.span);
            for k in ["json", "minified_json"] {
                entries.push(Entry {
                    key: k.to_string(),
                    key_span: res.span,
                    value: doc.clone(),
                });
            }
        }
        super::resources::computed_attributes(self, res, &address, &mut entries);
        let v = Value::new(ValueKind::Map(entries), res.span);
        self.objects.borrow_mut().insert(cache_key, Slot::Done(v.clone()));
        v
    }

    /// A block body's arguments (and nested blocks as lists of objects).
    pub fn body_entries(&self, body: &Body, file: FileId, scope: &Scope, depth: usize) -> Vec<Entry> {
        let mut entries = Vec::new();
        for attr in body.attributes() {
            let key = attr.key.as_str();
            if matches!(
                key,
                "count" | "for_each" | "provider" | "depends_on" | super::json_syntax::SPAN_ATTR
            ) {
                continue;
            }
            entries.push(Entry {
                key: key.to_string(),
                key_span: self.span(file, attr.key.span().or_else(|| attr.value.span())),
                value: self.expr(&attr.value, file, scope),
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
                super::policy_document::for_each_block(self, body, &name, file, scope, &mut |b, bspan, s| {
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

    /// Applies traversal operators to a value.
    pub fn apply_ops(
        &self,
        mut v: Value,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        for (i, op) in ops.iter().enumerate() {
            if let ValueKind::Unknown { reason, .. } = &v.kind {
                return Value::unknown(self.text(span), reason.clone(), span);
            }
            v = match op.value() {
                TraversalOperator::GetAttr(a) => self.get_attr(&v, a.as_str(), span),
                TraversalOperator::Index(ie) => {
                    let iv = self.expr(ie, file, scope);
                    self.index(&v, &iv, span)
                }
                TraversalOperator::LegacyIndex(n) => {
                    let iv = Value::new(ValueKind::Number(n.value().to_string()), span);
                    self.index(&v, &iv, span)
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let rest = ops.get(i + 1..).unwrap_or_default();
                    let items: Vec<Value> = match &v.kind {
                        ValueKind::List(items) => items.clone(),
                        ValueKind::Null => Vec::new(),
                        _ => vec![v.clone()],
                    };
                    let out = items
                        .into_iter()
                        .map(|x| self.apply_ops(x, rest, file, scope, span))
                        .collect();
                    return Value::new(ValueKind::List(out), span);
                }
            };
        }
        v
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
            ValueKind::Unknown { reason, .. } => Value::unknown(self.text(span), reason.clone(), span),
            _ => self.unknown_at(span, format!("a {} has no attribute `{name}`", v.type_name())),
        }
    }

    fn index(&self, v: &Value, i: &Value, span: Span) -> Value {
        match (&v.kind, &i.kind) {
            (_, ValueKind::Unknown { reason, .. }) => {
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

/// `count` / `for_each` of a block body, evaluated in module scope.
pub fn meta_expansion(ev: &Eval, body: &Body, file: FileId) -> Expansion {
    let root = Scope::root();
    if let Some(attr) = body.get_attribute("count") {
        let v = ev.expr(&attr.value, file, &root);
        return match number(&v) {
            Some(n) if n >= 0.0 && (n as usize) <= MAX_ITEMS => Expansion::Count(n as usize),
            Some(_) => Expansion::Unknown(Value::unknown(ev.text(v.span), "count is out of range", v.span)),
            None if v.is_unknown() => Expansion::Unknown(v),
            None => Expansion::Unknown(Value::unknown(ev.text(v.span), "count is not a number", v.span)),
        };
    }
    if let Some(attr) = body.get_attribute("for_each") {
        let v = ev.expr(&attr.value, file, &root);
        return match &v.kind {
            ValueKind::Map(entries) => {
                let mut items: Vec<(String, Value)> = Vec::new();
                for e in entries.iter().take(MAX_ITEMS) {
                    items.retain(|(k, _)| *k != e.key);
                    items.push((e.key.clone(), e.value.clone()));
                }
                items.sort_by(|a, b| a.0.cmp(&b.0));
                Expansion::Each(items)
            }
            ValueKind::List(items) => {
                let mut keys = Vec::new();
                for item in items.iter().take(MAX_ITEMS) {
                    match item.to_template().as_ref().and_then(Template::as_literal) {
                        Some(k) => keys.push((k.to_string(), item.clone())),
                        None => {
                            return Expansion::Unknown(Value::unknown(
                                ev.text(v.span),
                                "a for_each element is not a known string",
                                v.span,
                            ));
                        }
                    }
                }
                keys.sort_by(|a, b| a.0.cmp(&b.0));
                keys.dedup_by(|a, b| a.0 == b.0);
                Expansion::Each(keys)
            }
            ValueKind::Unknown { .. } => Expansion::Unknown(v),
            _ => Expansion::Unknown(Value::unknown(ev.text(v.span), "for_each is not a map or set", v.span)),
        };
    }
    Expansion::Single
}

/// `[0]` or `["key"]` (the whole string) as an instance key.
pub fn parse_index(s: &str) -> Option<InstKey> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    if let Some(q) = inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
        return Some(InstKey::Str(q.replace("\\\"", "\"").replace("\\\\", "\\")));
    }
    inner.parse().ok().map(InstKey::Int)
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
        Some(s) if s.trim_start().starts_with(['{', '[']) => crate::load::json::parse(s, FileId::BUILTIN, 0).ok(),
        _ => None,
    };
    match (decode(configured), decode(planned)) {
        (Some(a), Some(b)) => equal(&a, &b) == Some(true),
        (None, Some(b)) => equal(configured, &b) == Some(true),
        _ => false,
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
    Symbol::Opaque(crate::value::Opaque {
        id: expr,
        reason: reason.into(),
        span,
    })
}

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

/// A boolean, when known (Terraform converts "true"/"false" strings).
pub fn truthy(v: &Value) -> Option<bool> {
    v.as_bool()
}

/// The reason an unknown value is unknown.
pub fn unknown_reason(v: &Value) -> Option<&str> {
    match &v.kind {
        ValueKind::Unknown { reason, .. } => Some(reason),
        _ => None,
    }
}

pub fn number(v: &Value) -> Option<f64> {
    match &v.kind {
        ValueKind::Number(n) => n.parse().ok(),
        ValueKind::Str(t) => t.as_literal()?.trim().parse().ok(),
        _ => None,
    }
}

pub fn num_value(n: f64, span: Span) -> Value {
    let text = if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    };
    Value::new(ValueKind::Number(text), span)
}

/// Whether two values are equal, when that is decidable.
pub fn equal(a: &Value, b: &Value) -> Option<bool> {
    match (&a.kind, &b.kind) {
        (ValueKind::Unknown { .. }, _) | (_, ValueKind::Unknown { .. }) => None,
        (ValueKind::Null, ValueKind::Null) => Some(true),
        (ValueKind::Null, _) | (_, ValueKind::Null) => Some(false),
        (ValueKind::Number(_), ValueKind::Number(_)) => Some(number(a)? == number(b)?),
        (ValueKind::Bool(x), ValueKind::Bool(y)) => Some(x == y),
        (ValueKind::Str(x), ValueKind::Str(y)) => {
            if x == y {
                Some(true)
            } else if x.is_literal() && y.is_literal() {
                Some(false)
            } else {
                None
            }
        }
        (ValueKind::List(x), ValueKind::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = true;
            for (p, q) in x.iter().zip(y) {
                all &= equal(p, q)?;
            }
            Some(all)
        }
        (ValueKind::Map(x), ValueKind::Map(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = true;
            for e in x {
                match b.get(&e.key) {
                    Some(other) => all &= equal(&e.value, other)?,
                    None => return Some(false),
                }
            }
            Some(all)
        }
        _ => Some(false),
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
