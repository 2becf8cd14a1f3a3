//! Expression evaluation over the hcl-edit tree into spanned [`Value`]s.
//!
//! Unknown is a value: anything that cannot be decided from the configuration (a variable
//! with no value, an attribute computed at apply time, an unsupported function) becomes
//! [`ValueKind::Unknown`] carrying the expression text and a reason, or an opaque symbol
//! inside a string. Evaluation never fails and never panics; recursion depth and the size
//! of produced collections are bounded.
//!
//! The evaluator is split by concern: [`scope`] binds names, [`expr`] dispatches on the
//! expression kind, [`operators`] and [`traverse`] (attributes, indexes, splats) work on
//! evaluated values, [`template`] builds strings with their source maps, [`references`]
//! resolves `var`, `local`, resources and module outputs, [`instances`] expands
//! `count`/`for_each`, [`objects`] builds resource instance objects, and [`values`] holds
//! small helpers over [`Value`]s.

mod branches;
mod expr;
mod instances;
mod objects;
mod operators;
mod references;
mod scope;
mod template;
mod traverse;
mod values;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::Block;

use super::text::TextMap;
use crate::model::{Diagnostic, LoadError};
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Template, Value};

pub(crate) use self::branches::ReadJson;
pub(crate) use self::instances::{Expansion, InstKey};
pub use self::operators::{equal, number};
pub(crate) use self::operators::{num_value, truthy};
pub use self::scope::Scope;
pub use self::template::opaque;
pub use self::values::to_json;
pub(crate) use self::values::{iterate, map_value, unknown_reason};

/// How deep expressions and references may nest before evaluation gives up.
pub(crate) const MAX_DEPTH: usize = 96;
/// The most elements a produced collection may have (`count`/`for_each` instances are
/// bounded by the configurable instance limit instead).
pub(crate) const MAX_ITEMS: usize = 10_000;
/// How many renderings of one string literal keep their source map.
const MAX_RENDERINGS: usize = 64;
/// How long an expression's text may be in an unknown value's `expr`.
const MAX_EXPR_TEXT: usize = 160;

/// A declared `resource` or `data` block.
pub(crate) struct Res {
    pub data: bool,
    pub rtype: String,
    pub name: String,
    pub block: Block,
    pub file: FileId,
    pub span: Span,
    /// Read from a plan (no `lifecycle` is visible).
    pub(crate) from_plan: bool,
}

/// A `module` call.
pub(crate) struct ModuleCall {
    pub name: String,
    pub block: Block,
    pub file: FileId,
    pub span: Span,
}

/// One Terraform module: its declarations, by kind, in source order.
#[derive(Default)]
pub(crate) struct Module {
    /// Address prefix (`""` for the root, `module.a.` for a child).
    pub prefix: String,
    /// The module's key in `.terraform/modules/modules.json` (`""` for the root, `a.b`
    /// for `module.a.module.b`, whatever the instance keys).
    pub key: String,
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

enum Slot<T = Value> {
    Busy,
    Done(T),
}

/// A resource instance's object, kept once and read by reference.
type Shared = Rc<Value>;

/// The renderings of one string literal, each with its source map.
type Renderings = Vec<(Template, Rc<TextMap>)>;

/// The renderings over unknown template `if`s of one string literal, by plain rendering.
type BranchRenderings = Vec<(Template, Rc<branches::Branches>)>;

/// Run-wide context shared by a root module and its children.
pub(crate) struct Ctx<'s> {
    pub sources: &'s SourceMap,
    pub cwd: PathBuf,
    /// Files may only be read below this folder (the repository root).
    pub root: PathBuf,
    /// Evaluation depth, shared by a module and its children so that references
    /// through module outputs are bounded too.
    pub depth: Cell<usize>,
    /// Expressions evaluated so far in this module tree (bounded by the step limit).
    pub steps: Cell<u64>,
    /// Planned values by resource address, when a plan is merged with the `.tf` files
    /// (shared with sibling contexts, not copied).
    pub plan: Arc<BTreeMap<String, Value>>,
    /// The root module's installed registry and git modules, after `terraform init`.
    pub manifest: Option<super::manifest::Manifest>,
    /// Parsed files kept between runs ([`super::ParseCache`]), when the caller keeps them.
    pub parse_cache: Option<Arc<super::ParseCache>>,
}

impl<'s> Ctx<'s> {
    pub fn new(sources: &'s SourceMap, cwd: PathBuf, root: PathBuf) -> Ctx<'s> {
        Ctx {
            sources,
            cwd,
            root,
            depth: Cell::new(0),
            steps: Cell::new(0),
            plan: Arc::default(),
            manifest: None,
            parse_cache: None,
        }
    }

    /// A context with the same files, plan and manifest, and counts of its own: for an
    /// evaluator of part of the same module on another thread (its steps are bounded by the
    /// step limit on their own).
    pub fn sibling(&self) -> Ctx<'s> {
        Ctx {
            plan: Arc::clone(&self.plan),
            manifest: self.manifest.clone(),
            parse_cache: self.parse_cache.clone(),
            ..Ctx::new(self.sources, self.cwd.clone(), self.root.clone())
        }
    }
}

/// Evaluates expressions of one module.
pub(crate) struct Eval<'s> {
    /// The module's declarations, shared (read only) with sibling evaluators that extract
    /// part of the same module on another thread.
    pub m: Arc<Module>,
    pub(crate) ctx: Rc<Ctx<'s>>,
    locals: RefCell<BTreeMap<String, Slot>>,
    outputs: RefCell<BTreeMap<String, Slot>>,
    objects: RefCell<BTreeMap<(usize, InstKey), Slot<Shared>>>,
    /// Instance objects as references read them (attributes carrying their origin).
    identified: RefCell<BTreeMap<(usize, InstKey), Shared>>,
    expansions: RefCell<BTreeMap<usize, Expansion>>,
    module_expansions: RefCell<BTreeMap<usize, Expansion>>,
    text_maps: RefCell<BTreeMap<Span, Renderings>>,
    /// The renderings over unknown template `if`s of string literals, by span and plain
    /// rendering (`branches.rs`).
    branches: RefCell<BTreeMap<Span, BranchRenderings>>,
    /// Texts of files read by `file()` / `templatefile()`.
    extra_texts: RefCell<BTreeMap<FileId, Arc<str>>>,
    pub diagnostics: RefCell<Vec<Diagnostic>>,
    pub errors: RefCell<Vec<LoadError>>,
    /// Child module instances by call name and instance key (`m`, `m[0]`, `m["k"]`),
    /// created on first use.
    pub children: RefCell<BTreeMap<String, Option<Rc<Eval<'s>>>>>,
    /// Creates a child module's evaluator (set by the loader; `None` disables modules).
    pub(crate) make_child: Option<ChildMaker<'s>>,
}

/// The loader's function that loads a called module instance:
/// `(parent, call index, instance key) -> child`.
pub(crate) type ChildMaker<'s> = Rc<dyn Fn(&Eval<'s>, usize, &InstKey) -> Option<Eval<'s>> + 's>;

impl<'s> Eval<'s> {
    pub fn new(m: Module, ctx: Rc<Ctx<'s>>) -> Eval<'s> {
        Eval::sharing(Arc::new(m), ctx)
    }

    /// An evaluator of a module another evaluator may be reading too (each keeps its own
    /// values, notes and errors).
    pub(crate) fn sharing(m: Arc<Module>, ctx: Rc<Ctx<'s>>) -> Eval<'s> {
        Eval {
            m,
            ctx,
            locals: RefCell::default(),
            outputs: RefCell::default(),
            objects: RefCell::default(),
            identified: RefCell::default(),
            expansions: RefCell::default(),
            module_expansions: RefCell::default(),
            text_maps: RefCell::default(),
            branches: RefCell::default(),
            extra_texts: RefCell::default(),
            diagnostics: RefCell::default(),
            errors: RefCell::default(),
            children: RefCell::default(),
            make_child: None,
        }
    }

    /// Takes out the bulk of what this evaluator holds, for freeing elsewhere: the
    /// module's parse trees (unless another evaluator still shares them) and the instance
    /// objects no one else holds.
    pub(crate) fn take_bulk(&mut self) -> (Option<Module>, Vec<Value>) {
        let module = Arc::try_unwrap(std::mem::take(&mut self.m)).ok();
        let mut shared: Vec<Shared> = std::mem::take(self.objects.get_mut())
            .into_values()
            .filter_map(|slot| match slot {
                Slot::Done(object) => Some(object),
                Slot::Busy => None,
            })
            .collect();
        shared.extend(std::mem::take(self.identified.get_mut()).into_values());
        // An object held twice is let go once here; its last holder then unwraps it.
        let values = shared
            .into_iter()
            .filter_map(|object| Rc::try_unwrap(object).ok())
            .collect();
        (module, values)
    }

    pub fn note(&self, message: impl Into<String>, span: Span) {
        self.diagnostics.borrow_mut().push(Diagnostic::note(message, span));
    }

    /// Whether a collection of `n` elements is evaluated element by element. A longer one
    /// is treated as unknown (never cut short, which could drop a grant), and a note says so.
    pub(crate) fn within_items(&self, n: usize, span: Span) -> bool {
        if n <= MAX_ITEMS {
            return true;
        }
        self.note(
            format!("a collection of {n} elements is longer than the {MAX_ITEMS} kdsguard evaluates one by one; it is treated as unknown"),
            span,
        );
        false
    }

    pub fn span(&self, file: FileId, range: Option<std::ops::Range<usize>>) -> Span {
        match range {
            Some(r) => Span::new(file, r.start, r.end),
            None => Span::new(file, 0, 0),
        }
    }

    /// The text of a file of this module or read by `file()`.
    pub(crate) fn source_text(&self, file: FileId) -> Option<Arc<str>> {
        self.m
            .texts
            .get(&file)
            .cloned()
            .or_else(|| self.extra_texts.borrow().get(&file).cloned())
    }

    pub(crate) fn add_text(&self, file: FileId, text: Arc<str>) {
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

    pub(super) fn text_raw(&self, span: Span) -> String {
        self.source_text(span.file)
            .and_then(|t| t.get(span.start as usize..span.end as usize).map(str::to_string))
            .unwrap_or_default()
    }
    /// An unknown value for expression `span`.
    pub(crate) fn unknown_at(&self, span: Span, reason: impl Into<String>) -> Value {
        Value::unknown(self.text(span), reason, span)
    }

    /// The id of an opaque symbol for an unknown expression of this module: the module
    /// prefix keeps `var.x` of two modules apart.
    pub(crate) fn opaque_id(&self, expr: &str) -> String {
        format!("{}{}", self.m.prefix, expr)
    }
}
