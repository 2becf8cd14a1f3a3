//! Terraform module folders and plan JSON into the model.
//!
//! A module folder's `.tf` files are parsed with hcl-edit in parallel (one file failing does
//! not stop the others), indexed by block kind in name order, and evaluated lazily by
//! [`eval::Eval`]: a resource's
//! attributes are computed when the model or a reference needs them. Local child modules
//! are loaded through their `module` calls, confined to the repository root; registry and
//! git modules are loaded from the folders `terraform init` recorded in the root module's
//! `.terraform/modules/modules.json`, confined to that `.terraform/modules/`.

mod eval;
mod funcs;
mod json_syntax;
mod manifest;
mod newlines;
mod plan;
mod policy_document;
mod resources;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use hcl_edit::Span as _;
use hcl_edit::structure::Structure;
use rayon::prelude::*;

use self::eval::{ChildMaker, Ctx, Eval, Expansion, InstKey, Module, ModuleCall, Res, Scope};
use crate::limits::Limit;
use crate::load::confine::Refusal;
use crate::load::{LoadOptions, error_at, read_source};
use crate::model::{Diagnostic, Input, InputKind, LoadError};
use crate::paths::display_path;
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Value, ValueKind};

/// Loads the root module in `dir` (and the local modules it calls).
pub fn load_module(dir: &Path, display: &str, cwd: &Path, options: &LoadOptions, sources: &SourceMap) -> Input {
    load_module_split(dir, display, cwd, options, sources, SPLIT_FROM_RESOURCES)
}

/// [`load_module`], reading a root of at least `split_from` resources in two halves.
fn load_module_split(
    dir: &Path,
    display: &str,
    cwd: &Path,
    options: &LoadOptions,
    sources: &SourceMap,
    split_from: usize,
) -> Input {
    let mut input = Input::new(display, InputKind::Terraform);
    let root = match &options.root {
        Some(root) => crate::load::confine::canonical_root(root),
        None => fallback_root(dir, cwd),
    };
    let mut ctx = Ctx::new(sources, cwd.to_path_buf(), root);
    ctx.parse_cache = options.parse_cache.clone();
    ctx.manifest = manifest::Manifest::read(dir, cwd, sources, &mut input);
    let plans = beside_plans(dir, cwd, sources, &mut input);
    let mut planned = BTreeMap::new();
    for p in &plans {
        planned.extend(plan::values_by_address(p));
    }
    ctx.plan = Arc::new(planned);
    let ctx = Rc::new(ctx);
    let parsed = parse_module(dir, display, String::new(), &ctx);
    input.errors.extend(parsed.errors);
    input.diagnostics.extend(parsed.diagnostics);
    let mut module = parsed.module;
    module.inputs = root_inputs(dir, cwd, options, &ctx, &mut input);
    let mut ev = Eval::new(module, ctx);
    let ancestors = vec![dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())];
    ev.make_child = Some(child_maker(ancestors.clone()));

    let mut unmodelled = resources::Unmodelled::default();
    let mut seen = BTreeSet::new();
    extract_root(&ev, &ancestors, split_from, &mut input, &mut unmodelled, &mut seen);
    // Resources only the plan knows (in modules that are not loaded, for example).
    for p in &plans {
        plan::extract(&ev, p, &seen, &mut input, &mut unmodelled);
    }
    collect_messages(&ev, &mut input);
    input.diagnostics.extend(unmodelled.into_notes());
    dedup_diagnostics(&mut input.diagnostics);
    // A policy file every instance of a resource reads fails once.
    let mut seen_errors = BTreeSet::new();
    input
        .errors
        .retain(|e| seen_errors.insert((e.path.clone(), e.span, e.message.clone())));
    input.module_dirs.sort();
    input.module_dirs.dedup();
    // A large module's parse trees and values are freed beside the next phases, not
    // before them.
    let text_bytes: usize = ev.m.texts.values().map(|t| t.len()).sum();
    if text_bytes >= RECLAIM_LATER_BYTES {
        crate::reclaim::drop_later(ev.take_bulk());
    }
    input
}

/// From how many bytes of source a module's parse trees are freed on a helper thread.
const RECLAIM_LATER_BYTES: usize = 1 << 20;

/// Loads a `terraform show -json` plan file.
pub fn load_plan(file: &Path, display: &str, sources: &SourceMap) -> Input {
    plan::load(file, display, sources)
}

/// `*.json` files of a folder (not `.tf.json`), sorted.
fn json_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".json") && !n.ends_with(".tf.json"))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// A file's text for sniffing, when it is small enough to be loaded at all.
fn sniff(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > crate::load::MAX_FILE_BYTES {
        return None;
    }
    std::fs::read(path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Reads the plans beside a module's `.tf` files, and notes state files there.
fn beside_plans(dir: &Path, cwd: &Path, sources: &SourceMap, input: &mut Input) -> Vec<plan::Plan> {
    let mut plans = Vec::new();
    for f in json_files_in(dir) {
        let Some(text) = sniff(&f) else { continue };
        let shown = display_path(&f, cwd);
        if plan::looks_like_plan(&text) {
            match plan::read(&f, &shown, sources) {
                Ok(p) => {
                    input.diagnostics.push(Diagnostic::note(
                        "this plan is merged with the configuration in its folder: planned values win, `lifecycle` comes from the .tf files",
                        Span::new(p.file, 0, 0),
                    ));
                    input.diagnostics.extend(p.diagnostics.iter().cloned());
                    plans.push(p);
                }
                Err(e) => input.errors.push(e),
            }
        } else if plan::looks_like_state(&text) {
            note_state(&f, &shown, sources, input);
        }
    }
    let mut states: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.ends_with(".tfstate") || n.ends_with(".tfstate.backup"))
                })
                .collect()
        })
        .unwrap_or_default();
    states.sort();
    for f in states {
        let shown = display_path(&f, cwd);
        note_state(&f, &shown, sources, input);
    }
    plans
}

fn note_state(f: &Path, shown: &str, sources: &SourceMap, input: &mut Input) {
    let message = "Terraform state file recognised; state is not analysed (kdsguard reads configuration and plans)";
    match read_source(f, shown, sources) {
        Ok((id, _)) => input.diagnostics.push(Diagnostic::note(message, Span::new(id, 0, 0))),
        Err(e) => input.errors.push(e),
    }
}

/// The result of reading one module folder.
struct Parsed {
    module: Module,
    diagnostics: Vec<Diagnostic>,
    errors: Vec<LoadError>,
}

/// Reads and indexes every `.tf` file of `dir`, sorted by name.
fn parse_module(dir: &Path, display: &str, prefix: String, ctx: &Ctx) -> Parsed {
    let mut module = Module {
        prefix,
        dir: dir.to_path_buf(),
        display: display.to_string(),
        ..Module::default()
    };
    let mut diagnostics = Vec::new();
    let mut errors = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| n.ends_with(".tf") || n.ends_with(".tf.json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    // Files are read and parsed in parallel, then indexed in name order.
    let (sources, cwd, cache) = (ctx.sources, &ctx.cwd, ctx.parse_cache.as_deref());
    let read: Vec<_> = names
        .par_iter()
        .map(|name| {
            let path = dir.join(name);
            let shown = display_path(&path, cwd);
            let read = read_source(&path, &shown, sources);
            let parsed = match &read {
                Ok((_, text)) if !name.ends_with(".tf.json") => Some(match cache {
                    Some(cache) => cache.parse(&shown, text),
                    None => parse_hcl(text),
                }),
                _ => None,
            };
            (shown, read, parsed)
        })
        .collect();
    // Room for every top-level block: the resources are moved in once, not regrown.
    let blocks: usize = read
        .iter()
        .filter_map(|(_, _, parsed)| parsed.as_ref()?.as_ref().ok())
        .map(|body| body.len())
        .sum();
    module.resources.reserve(blocks);
    for (shown, read, parsed) in read {
        let (id, text) = match read {
            Ok(x) => x,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        module.texts.insert(id, text.clone());
        let Some(parsed) = parsed else {
            json_syntax::index(&mut module, &text, id, &shown, &mut diagnostics, &mut errors);
            continue;
        };
        match parsed {
            Ok(body) => index_body(&mut module, body, id, &mut diagnostics),
            Err(e) => {
                let offset = e.location().offset().min(text.len());
                errors.push(error_at(
                    &shown,
                    id,
                    offset,
                    format!("HCL syntax error: {}", e.message()),
                ));
            }
        }
    }
    Parsed {
        module,
        diagnostics,
        errors,
    }
}

/// Parsed `.tf` files kept between runs of one process (`kdsguard lsp`): a file whose text
/// is the same as last time is not parsed again. Keyed by the file's display path; an entry
/// is replaced when the text differs. Only successful parses are kept.
#[derive(Default)]
pub struct ParseCache {
    parsed: std::sync::Mutex<std::collections::HashMap<String, (Arc<str>, hcl_edit::structure::Body)>>,
    /// Files parsed, and files taken from the cache (tests count them).
    misses: std::sync::atomic::AtomicU64,
    hits: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (parsed, reused) = self.counts();
        write!(f, "ParseCache {{ parsed: {parsed}, reused: {reused} }}")
    }
}

impl ParseCache {
    /// How many files were parsed, and how many were taken from the cache.
    pub fn counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.misses.load(Relaxed), self.hits.load(Relaxed))
    }

    fn parse(&self, shown: &str, text: &Arc<str>) -> Result<hcl_edit::structure::Body, hcl_edit::parser::Error> {
        use std::sync::atomic::Ordering::Relaxed;
        let entries = || self.parsed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let hit = entries()
            .get(shown)
            .filter(|(t, _)| t == text)
            .map(|(_, body)| body.clone());
        if let Some(body) = hit {
            self.hits.fetch_add(1, Relaxed);
            return Ok(body);
        }
        self.misses.fetch_add(1, Relaxed);
        let body = parse_hcl(text)?;
        entries().insert(shown.to_string(), (Arc::clone(text), body.clone()));
        Ok(body)
    }
}

/// Parses a `.tf` file; one that hcl-edit rejects is retried with the line breaks that
/// Terraform ignores inside brackets made spaces (same offsets, so every span still points
/// into the file as written). The error is the one of the text as written.
fn parse_hcl(text: &str) -> Result<hcl_edit::structure::Body, hcl_edit::parser::Error> {
    hcl_edit::parser::parse_body(text).or_else(|e| {
        newlines::join_bracketed_lines(text)
            .and_then(|joined| hcl_edit::parser::parse_body(&joined).ok())
            .ok_or(e)
    })
}

fn index_body(module: &mut Module, body: hcl_edit::structure::Body, file: FileId, diagnostics: &mut Vec<Diagnostic>) {
    let span_of = |r: Option<std::ops::Range<usize>>| {
        r.map(|r| Span::new(file, r.start, r.end))
            .unwrap_or(Span::new(file, 0, 0))
    };
    for structure in body {
        let block = match structure {
            Structure::Block(b) => b,
            Structure::Attribute(a) => {
                diagnostics.push(Diagnostic::note(
                    format!(
                        "top-level argument `{}` is not valid Terraform and is ignored",
                        a.key.as_str()
                    ),
                    span_of(a.span()),
                ));
                continue;
            }
        };
        let span = span_of(block.span());
        let labels: Vec<String> = block.labels.iter().map(|l| l.as_str().to_string()).collect();
        match (block.ident.as_str(), labels.as_slice()) {
            (kind @ ("resource" | "data"), [rtype, name]) => {
                let (rtype, name) = (rtype.clone(), name.clone());
                add_resource(module, kind == "data", &rtype, &name, block, file, span, diagnostics);
            }
            ("variable", [name]) => {
                let default = block.body.get_attribute("default").map(|a| a.value.clone());
                module.variables.insert(name.clone(), (default, file, span));
            }
            ("locals", []) => {
                for attr in block.body.attributes() {
                    let aspan = span_of(attr.span());
                    module
                        .locals
                        .insert(attr.key.as_str().to_string(), (attr.value.clone(), file, aspan));
                }
            }
            ("output", [name]) => {
                if let Some(a) = block.body.get_attribute("value") {
                    module.outputs.insert(name.clone(), (a.value.clone(), file, span));
                }
            }
            ("module", [name]) => module.calls.push(ModuleCall {
                name: name.clone(),
                block,
                file,
                span,
            }),
            ("provider" | "terraform" | "moved" | "import" | "removed" | "check", _) => {}
            (other, _) => diagnostics.push(Diagnostic::note(
                format!(
                    "`{other}` block with {} label(s) is not understood and is ignored",
                    labels.len()
                ),
                span,
            )),
        }
    }
}

/// Declares a `resource` or `data` block (the first of duplicates wins).
#[allow(clippy::too_many_arguments)]
fn add_resource(
    module: &mut Module,
    data: bool,
    rtype: &str,
    name: &str,
    block: hcl_edit::structure::Block,
    file: FileId,
    span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let key = (data, rtype.to_string(), name.to_string());
    if module.index.contains_key(&key) {
        let kind = if data { "data" } else { "resource" };
        diagnostics.push(Diagnostic::note(
            format!("duplicate {kind} block {rtype}.{name}; the first one is used"),
            span,
        ));
        return;
    }
    module.index.insert(key, module.resources.len());
    module.resources.push(Res {
        data,
        rtype: rtype.to_string(),
        name: name.to_string(),
        block,
        file,
        span,
        from_plan: false,
    });
}

/// The root when the caller gives none (a direct library call; `load_paths` always
/// does): the git top level of `dir`, else `cwd` when `dir` is below it, else `dir`.
fn fallback_root(dir: &Path, cwd: &Path) -> PathBuf {
    let full = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        cwd.join(dir)
    };
    if let Some(top) = crate::root::git_top_level(&full) {
        return top;
    }
    let cwd = crate::load::confine::canonical_root(cwd);
    let full = crate::load::confine::canonical_root(&full);
    if full.starts_with(&cwd) { cwd } else { full }
}

/// Variable values for the root module: `terraform.tfvars`, `*.auto.tfvars`,
/// `-var-file`s, then `-var`s (later wins).
fn root_inputs(
    dir: &Path,
    cwd: &Path,
    options: &LoadOptions,
    ctx: &Rc<Ctx>,
    input: &mut Input,
) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    // Lowest precedence first: the environment, terraform.tfvars(.json), *.auto.tfvars(.json)
    // in name order, then -var-file and -var.
    for (name, raw) in &options.tf_env_vars {
        values.insert(name.clone(), cli_value(raw, ctx));
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for default in ["terraform.tfvars", "terraform.tfvars.json"] {
        let default = dir.join(default);
        if default.is_file() {
            files.push(default);
        }
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.to_str()
                            .is_some_and(|s| s.ends_with(".auto.tfvars") || s.ends_with(".auto.tfvars.json"))
                })
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    files.extend(auto);
    files.extend(
        options
            .tf_var_files
            .iter()
            .map(|f| if f.is_absolute() { f.clone() } else { cwd.join(f) }),
    );
    for f in files {
        let shown = display_path(&f, cwd);
        let (id, text) = match read_source(&f, &shown, ctx.sources) {
            Ok(x) => x,
            Err(e) => {
                input.errors.push(e);
                continue;
            }
        };
        if shown.ends_with(".json") {
            match crate::json::parse(&text, id, 0) {
                Ok(v) if matches!(v.kind, ValueKind::Map(_)) => {
                    for e in v.entries() {
                        values.insert(e.key.clone(), e.value.clone());
                    }
                }
                Ok(v) => input.errors.push(LoadError {
                    path: shown.clone(),
                    span: Some(v.span),
                    message: "a .tfvars.json file must hold one object of variable values".to_string(),
                }),
                Err(e) => input.errors.push(error_at(
                    &shown,
                    id,
                    e.offset,
                    format!("JSON syntax error: {}", e.message),
                )),
            }
            continue;
        }
        let body = match parse_hcl(&text) {
            Ok(b) => b,
            Err(e) => {
                let offset = e.location().offset().min(text.len());
                input.errors.push(error_at(
                    &shown,
                    id,
                    offset,
                    format!("HCL syntax error: {}", e.message()),
                ));
                continue;
            }
        };
        let ev = literal_evaluator(id, text, ctx);
        for attr in body.attributes() {
            let v = ev.expr(&attr.value, id, &Scope::root());
            values.insert(attr.key.as_str().to_string(), v);
        }
    }
    for (name, raw) in &options.tf_vars {
        values.insert(name.clone(), cli_value(raw, ctx));
    }
    values
}

/// An evaluator with no declarations, for variable files and command-line values.
fn literal_evaluator<'s>(file: FileId, text: Arc<str>, ctx: &Rc<Ctx<'s>>) -> Eval<'s> {
    let mut m = Module::default();
    m.texts.insert(file, text);
    Eval::new(m, ctx.clone())
}

/// A `-var` value: HCL when it looks like a list, map, number or boolean, else a string.
fn cli_value(raw: &str, ctx: &Rc<Ctx>) -> Value {
    let t = raw.trim();
    let looks_typed =
        t.starts_with('[') || t.starts_with('{') || t == "true" || t == "false" || t.parse::<f64>().is_ok();
    if looks_typed && let Ok(expr) = hcl_edit::parser::parse_expr(t) {
        let ev = literal_evaluator(FileId::BUILTIN, Arc::from(t), ctx);
        let mut v = ev.expr(&expr, FileId::BUILTIN, &Scope::root());
        v.span = Span::builtin();
        return v;
    }
    Value::new(ValueKind::Str(crate::value::Template::lit(raw)), Span::builtin())
}

/// The function that loads a module call's local source folder.
fn child_maker<'s>(ancestors: Vec<PathBuf>) -> ChildMaker<'s> {
    Rc::new(
        move |parent: &Eval<'s>, index: usize, key: &InstKey| -> Option<Eval<'s>> {
            let call = parent.m.calls.get(index)?;
            let root = Scope::root();
            let source = call
                .block
                .body
                .get_attribute("source")
                .map(|a| parent.expr(&a.value, call.file, &root));
            let source = source.as_ref().and_then(Value::as_str).map(str::to_string);
            let Some(source) = source else {
                parent.note(
                    format!(
                        "module {}: its source is not a known string; it is not loaded",
                        call.name
                    ),
                    call.span,
                );
                return None;
            };
            let key_path = if parent.m.key.is_empty() {
                call.name.clone()
            } else {
                format!("{}.{}", parent.m.key, call.name)
            };
            let local = source.starts_with("./") || source.starts_with("../");
            let dir = if local {
                parent.m.dir.join(&source)
            } else {
                installed_dir(parent, call, &source, &key_path)?
            };
            let canonical = locate_child(parent, call, &source, &dir, local, &ancestors)?;
            let expansion = parent.module_expansion(index);
            if let Expansion::Unknown(why) = &expansion {
                let reason = eval::unknown_reason(why).unwrap_or("not known");
                parent.note(
                format!(
                    "the instances of module {} are not known ({reason}); it is analysed once with unknown count/each values",
                    call.name
                ),
                why.span,
            );
            }
            let owner = format!("module.{}", call.name);
            let scope = parent.instance_scope(&root, &expansion, key, &owner, call.span);
            let display = display_path(&canonical_relative(&dir), &parent.ctx.cwd);
            let prefix = format!("{}module.{}{}.", parent.m.prefix, call.name, key.suffix());
            let parsed = parse_module(&dir, &display, prefix, &parent.ctx);
            let mut module = parsed.module;
            module.key = key_path;
            for attr in call.block.body.attributes() {
                let name = attr.key.as_str();
                if matches!(
                    name,
                    "source" | "version" | "count" | "for_each" | "providers" | "depends_on" | json_syntax::SPAN_ATTR
                ) {
                    continue;
                }
                module
                    .inputs
                    .insert(name.to_string(), parent.expr(&attr.value, call.file, &scope));
            }
            let mut child = Eval::new(module, parent.ctx.clone());
            child.diagnostics.borrow_mut().extend(parsed.diagnostics);
            child.errors.borrow_mut().extend(parsed.errors);
            let mut chain = ancestors.clone();
            chain.push(canonical);
            child.make_child = Some(child_maker(chain));
            Some(child)
        },
    )
}

/// The canonical folder of a module call, after its checks: the module depth limit, the
/// analysis root (for a local source), and cycles. Each failed check is a load error at
/// the call (the missing folder only a note: its outputs are unknown).
fn locate_child(
    parent: &Eval,
    call: &ModuleCall,
    source: &str,
    dir: &Path,
    local: bool,
    ancestors: &[PathBuf],
) -> Option<PathBuf> {
    let error = |message: String| {
        parent.errors.borrow_mut().push(LoadError {
            path: parent.ctx.sources.path(call.span),
            span: Some(call.span),
            message,
        });
    };
    let address = format!("{}module.{}", parent.m.prefix, call.name);
    let limit = parent.ctx.sources.limits().module_depth;
    if ancestors.len() > limit {
        error(Limit::ModuleDepth.exceeded(
            &format!(
                "{address} is nested {} module calls deep; it is not loaded",
                ancestors.len()
            ),
            limit,
        ));
        return None;
    }
    // An installed module is already confined to the root module's `.terraform/modules/`.
    let resolved = if local {
        crate::load::confine::resolve_inside(dir, &parent.ctx.root)
    } else {
        dir.canonicalize().map_err(|_| Refusal::Missing)
    };
    let canonical = match resolved {
        Ok(c) if c.is_dir() => c,
        Ok(_) | Err(Refusal::Missing) => {
            parent.note(
                format!("module {}: folder {source} was not found; it is not loaded", call.name),
                call.span,
            );
            return None;
        }
        Err(refusal) => {
            let why = refusal.message(source, &parent.ctx.root, &parent.ctx.cwd);
            error(format!("module {}: source {why}", call.name));
            return None;
        }
    };
    if let Some(first) = ancestors.iter().position(|a| a == &canonical) {
        let folders: Vec<String> = ancestors[first..]
            .iter()
            .chain(std::iter::once(&canonical))
            .map(|a| display_path(a, &parent.ctx.cwd))
            .collect();
        error(format!(
            "module cycle: {address} (source {source}) calls a module that is already loading: {}; it is not loaded again",
            folders.join(" → ")
        ));
        return None;
    }
    Some(canonical)
}

/// The folder `terraform init` installed a registry or git module call into, from the
/// root module's manifest; `None` (with a note saying why) when it is not known.
fn installed_dir(parent: &Eval, call: &ModuleCall, source: &str, key: &str) -> Option<PathBuf> {
    let not_loaded = |why: String| {
        parent.note(
            format!(
                "module {} (source {source}) is not loaded: {why}; its outputs are unknown",
                call.name
            ),
            call.span,
        );
    };
    let Some(found) = parent.ctx.manifest.as_ref() else {
        not_loaded(format!(
            "only local modules are, and registry or git modules that `terraform init` recorded in {}",
            manifest::MANIFEST_PATH
        ));
        return None;
    };
    let Some((located, installed)) = found.locate(key) else {
        not_loaded(format!(
            "{} has no entry for key `{key}` (terraform init has not installed it)",
            manifest::MANIFEST_PATH
        ));
        return None;
    };
    match located {
        manifest::Located::Dir(dir) => {
            if !manifest::same_source(source, &installed.source) {
                parent.note(
                    format!(
                        "module {}: the configuration names source {source} but {} records {} (terraform init is out of date); the installed folder is loaded",
                        call.name,
                        manifest::MANIFEST_PATH,
                        installed.source
                    ),
                    call.span,
                );
            }
            Some(dir)
        }
        manifest::Located::Refused(why) => {
            not_loaded(format!("its installed folder cannot be used: {why}"));
            None
        }
    }
}

/// Folds `.`/`..` in a module path without resolving links.
fn canonical_relative(p: &Path) -> PathBuf {
    crate::paths::normalize(p)
}

/// From how many resources a root module's second half is extracted by an evaluator of its
/// own, beside the first (on another thread when the run has more than one).
const SPLIT_FROM_RESOURCES: usize = 2048;

/// Extracts the root module and its children. A large root is read in two halves, each
/// by its own evaluator over the same parsed module: every value is the same whichever
/// evaluator computes it (the second computes again what its half reads of the first),
/// the records are joined in resource order, and the notes and errors of both are kept
/// (the loader removes the repeated ones). The split depends on the module alone, never
/// on the thread count.
fn extract_root(
    ev: &Eval,
    ancestors: &[PathBuf],
    split_from: usize,
    input: &mut Input,
    unmodelled: &mut resources::Unmodelled,
    seen: &mut BTreeSet<String>,
) {
    let n = ev.m.resources.len();
    if n < split_from.max(2) {
        extract_tree(ev, input, unmodelled, seen);
        return;
    }
    let mid = n / 2;
    let second = SecondHalf {
        module: Arc::clone(&ev.m),
        ctx: ev.ctx.sibling(),
        ancestors: ancestors.to_vec(),
        display: input.path.clone(),
        range: mid..n,
    };
    let (later, later_unmodelled, later_seen) = if rayon::current_num_threads() > 1 {
        std::thread::scope(|s| {
            let handle = s.spawn(move || second.extract());
            resources::extract_range(ev, 0..mid, input, unmodelled, seen);
            handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    } else {
        resources::extract_range(ev, 0..mid, input, unmodelled, seen);
        second.extract()
    };
    input.append(later);
    unmodelled.merge(later_unmodelled);
    seen.extend(later_seen);
    extract_children(ev, input, unmodelled, seen);
}

/// The second half of a large root module's resources, to extract with an evaluator of its
/// own (its values, notes and errors are its own; the parsed module is shared).
struct SecondHalf<'s> {
    module: Arc<Module>,
    ctx: Ctx<'s>,
    ancestors: Vec<PathBuf>,
    display: String,
    range: std::ops::Range<usize>,
}

impl SecondHalf<'_> {
    fn extract(self) -> (Input, resources::Unmodelled, BTreeSet<String>) {
        let mut ev = Eval::sharing(self.module, Rc::new(self.ctx));
        ev.make_child = Some(child_maker(self.ancestors));
        let mut input = Input::new(self.display, InputKind::Terraform);
        let mut unmodelled = resources::Unmodelled::default();
        let mut seen = BTreeSet::new();
        resources::extract_range(&ev, self.range, &mut input, &mut unmodelled, &mut seen);
        collect_messages(&ev, &mut input);
        (input, unmodelled, seen)
    }
}

/// Extracts a module and, through its calls, every instance of its children.
fn extract_tree(ev: &Eval, input: &mut Input, unmodelled: &mut resources::Unmodelled, seen: &mut BTreeSet<String>) {
    resources::extract(ev, input, unmodelled, seen);
    extract_children(ev, input, unmodelled, seen);
}

/// Extracts every instance of a module's children, through its calls.
fn extract_children(ev: &Eval, input: &mut Input, unmodelled: &mut resources::Unmodelled, seen: &mut BTreeSet<String>) {
    for (index, call) in ev.m.calls.iter().enumerate() {
        for key in Eval::instance_keys(&ev.module_expansion(index)) {
            if let Some(child) = ev.child_instance(&call.name, &key) {
                input.module_dirs.push(child.m.display.clone());
                extract_tree(&child, input, unmodelled, seen);
            }
        }
    }
}

/// Moves the notes and errors of a module tree into the input.
fn collect_messages(ev: &Eval, input: &mut Input) {
    input.errors.append(&mut ev.errors.borrow_mut());
    input.diagnostics.append(&mut ev.diagnostics.borrow_mut());
    let children: Vec<_> = ev.children.borrow().values().flatten().cloned().collect();
    for child in children {
        collect_messages(&child, input);
    }
}

fn dedup_diagnostics(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::BTreeSet::new();
    diagnostics.retain(|d| seen.insert((d.message.clone(), d.span)));
}

#[cfg(test)]
mod tests;
