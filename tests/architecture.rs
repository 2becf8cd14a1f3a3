//! Invariants of docs/ARCHITECTURE.md that a program can check, read from `src/` as Rust
//! syntax: the library takes no command-line types (only `main.rs` and `cli.rs` name clap
//! or the `cli` module); the top-level modules import only their own layer and those
//! below, in the order the document's "Layers" section lists (the module graph is a DAG);
//! every path and item the document cites exists; no non-test function is over 120 lines;
//! outside `src/iam/` only what `iam/mod.rs` exports is named; and items are `pub(crate)`
//! unless code outside the library names them (or a `pub` signature needs them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

fn sources() -> Vec<(PathBuf, syn::File)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| unreachable!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| unreachable!("{}: {e}", p.display()));
            let file = syn::parse_file(&text).unwrap_or_else(|e| unreachable!("{}: {e}", p.display()));
            let rel = p.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(p);
            (rel, file)
        })
        .collect()
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || (a.path().is_ident("cfg") && a.meta.require_list().is_ok_and(|l| l.tokens.to_string() == "test"))
    })
}

/// Every path named in `use` items and expressions, as `a::b::c` strings.
#[derive(Default)]
struct Paths(Vec<String>);

impl<'a> Visit<'a> for Paths {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        if !is_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_use_tree(&mut self, t: &'a syn::UseTree) {
        fn flatten(t: &syn::UseTree, prefix: String, out: &mut Vec<String>) {
            match t {
                syn::UseTree::Path(p) => flatten(&p.tree, format!("{prefix}{}::", p.ident), out),
                syn::UseTree::Name(n) => out.push(format!("{prefix}{}", n.ident)),
                syn::UseTree::Rename(r) => out.push(format!("{prefix}{}", r.ident)),
                syn::UseTree::Glob(_) => out.push(format!("{prefix}*")),
                syn::UseTree::Group(g) => g.items.iter().for_each(|i| flatten(i, prefix.clone(), out)),
            }
        }
        flatten(t, String::new(), &mut self.0);
    }
    fn visit_path(&mut self, p: &'a syn::Path) {
        let text: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.0.push(text.join("::"));
        syn::visit::visit_path(self, p);
    }
}

fn paths_of(file: &syn::File) -> Vec<String> {
    let mut p = Paths::default();
    p.visit_file(file);
    p.0
}

#[test]
fn only_the_command_line_names_clap() {
    let mut offenders = Vec::new();
    for (path, file) in sources() {
        if path == Path::new("main.rs") || path == Path::new("cli.rs") {
            continue;
        }
        if paths_of(&file)
            .iter()
            .any(|p| p == "clap" || p.starts_with("clap::") || p.contains("cli::"))
        {
            offenders.push(path.display().to_string());
        }
    }
    assert!(
        offenders.is_empty(),
        "clap or the CLI types outside main.rs/cli.rs: {offenders:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Layers: the top-level modules form a DAG in the order docs/ARCHITECTURE.md gives.

/// One import of a top-level module by another, where it is written.
#[derive(Clone, Debug)]
struct Edge {
    from: String,
    to: String,
    file: String,
    path: String,
}

/// The module path of a source file (`src/a/b.rs` is `a::b`, `src/a/mod.rs` is `a`); the
/// crate roots (`lib.rs`, `main.rs`) are the empty path.
fn module_path_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        parts.clear();
    }
    parts
}

/// The top-level module a source file belongs to (`src/x.rs` and `src/x/…` are `x`; the
/// crate roots are `lib` and `main`).
fn top_module_of(rel: &Path) -> String {
    module_path_of(rel)
        .first()
        .cloned()
        .unwrap_or_else(|| rel.with_extension("").to_string_lossy().into_owned())
}

/// The files that only tests compile: `#[cfg(test)] mod name;` declared out of line.
fn test_files(files: &[(PathBuf, syn::File)]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (rel, file) in files {
        let dir = match rel.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs" | "main.rs") => rel.parent().map(Path::to_path_buf).unwrap_or_default(),
            _ => rel.with_extension(""),
        };
        for item in &file.items {
            if let syn::Item::Mod(m) = item
                && m.content.is_none()
                && is_test(&m.attrs)
            {
                out.push(dir.join(format!("{}.rs", m.ident)));
                out.push(dir.join(m.ident.to_string()));
            }
        }
    }
    out
}

/// The paths of a file's non-test code that may name another module: `use` trees,
/// paths in types and expressions, and `crate::…` inside macro arguments; each with the
/// module path it is written in (inline modules included).
struct ModulePaths {
    /// The module path of the item being visited.
    at: Vec<String>,
    out: Vec<(Vec<String>, Vec<String>)>,
}

impl ModulePaths {
    fn push(&mut self, segments: Vec<String>) {
        self.out.push((self.at.clone(), segments));
    }
}

impl<'a> Visit<'a> for ModulePaths {
    fn visit_item(&mut self, i: &'a syn::Item) {
        let attrs: &[syn::Attribute] = match i {
            syn::Item::Const(x) => &x.attrs,
            syn::Item::Enum(x) => &x.attrs,
            syn::Item::Fn(x) => &x.attrs,
            syn::Item::Impl(x) => &x.attrs,
            syn::Item::Macro(x) => &x.attrs,
            syn::Item::Mod(x) => &x.attrs,
            syn::Item::Static(x) => &x.attrs,
            syn::Item::Struct(x) => &x.attrs,
            syn::Item::Trait(x) => &x.attrs,
            syn::Item::Type(x) => &x.attrs,
            syn::Item::Union(x) => &x.attrs,
            syn::Item::Use(x) => &x.attrs,
            _ => &[],
        };
        if !is_test(attrs) {
            syn::visit::visit_item(self, i);
        }
    }
    fn visit_impl_item(&mut self, i: &'a syn::ImplItem) {
        let attrs: &[syn::Attribute] = match i {
            syn::ImplItem::Const(x) => &x.attrs,
            syn::ImplItem::Fn(x) => &x.attrs,
            syn::ImplItem::Type(x) => &x.attrs,
            _ => &[],
        };
        if !is_test(attrs) {
            syn::visit::visit_impl_item(self, i);
        }
    }
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        self.at.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.at.pop();
    }
    fn visit_use_tree(&mut self, t: &'a syn::UseTree) {
        fn flatten(t: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
            let with = |s: String| {
                let mut p = prefix.clone();
                p.push(s);
                p
            };
            match t {
                syn::UseTree::Path(p) => flatten(&p.tree, with(p.ident.to_string()), out),
                syn::UseTree::Name(n) => out.push(with(n.ident.to_string())),
                syn::UseTree::Rename(r) => out.push(with(r.ident.to_string())),
                syn::UseTree::Glob(_) => out.push(with("*".to_string())),
                syn::UseTree::Group(g) => g.items.iter().for_each(|i| flatten(i, prefix.clone(), out)),
            }
        }
        let mut paths = Vec::new();
        flatten(t, Vec::new(), &mut paths);
        paths.into_iter().for_each(|p| self.push(p));
    }
    fn visit_path(&mut self, p: &'a syn::Path) {
        self.push(p.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, m: &'a syn::Macro) {
        // Macro arguments are tokens, not syntax: read `crate :: a :: b` off their text.
        fn scan(text: &str, out: &mut Vec<Vec<String>>) {
            let text: String = text
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '_' || c == ':' {
                        c
                    } else {
                        ' '
                    }
                })
                .collect();
            let words: Vec<&str> = text.split_whitespace().collect();
            for (k, w) in words.iter().enumerate() {
                if *w != "crate" {
                    continue;
                }
                let mut path = vec!["crate".to_string()];
                let mut j = k + 1;
                while words.get(j) == Some(&"::") {
                    match words.get(j + 1) {
                        Some(next) if next.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                            path.push(next.to_string());
                            j += 2;
                        }
                        _ => break,
                    }
                }
                if path.len() > 1 {
                    out.push(path);
                }
            }
        }
        let mut paths = Vec::new();
        scan(&m.tokens.to_string(), &mut paths);
        paths.into_iter().for_each(|p| self.push(p));
        syn::visit::visit_macro(self, m);
    }
}

/// The top-level module a path names, if any: `crate::x::…`, `super::…` and `self::…`
/// resolved from the module path `at`; a root item (`crate::Config`) is `lib`. In the
/// binary (`main.rs`), `kdsguard::…` plays the part of `crate::…`.
fn resolve(at: &[String], path: &[String], modules: &BTreeSet<String>, in_binary: bool) -> Option<String> {
    let root_name = if in_binary { "kdsguard" } else { "crate" };
    let mut at = at.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some(first) if first == root_name => {
            at.clear();
            rest = &rest[1..];
        }
        Some("super" | "self") if !in_binary => {
            while let Some(s) = rest.first().map(String::as_str) {
                match s {
                    "super" => {
                        at.pop()?;
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        // At the library's root, a bare path may start with a module it declares.
        Some(first) if !in_binary && at.is_empty() && modules.contains(first) => {}
        _ => return None,
    }
    match at.first() {
        Some(top) => Some(top.clone()),
        None => {
            let first = rest.first()?;
            Some(if modules.contains(first) {
                first.clone()
            } else {
                "lib".to_string()
            })
        }
    }
}

/// The source's top-level modules (`lib` and `main` included) and every import between two
/// of them in non-test code.
fn module_graph() -> (BTreeSet<String>, Vec<Edge>) {
    let files = sources();
    let tests = test_files(&files);
    let modules: BTreeSet<String> = files.iter().map(|(rel, _)| top_module_of(rel)).collect();
    let mut edges = Vec::new();
    for (rel, file) in &files {
        if tests.iter().any(|t| rel.starts_with(t)) {
            continue;
        }
        let from = top_module_of(rel);
        let in_binary = rel == Path::new("main.rs");
        let mut visitor = ModulePaths {
            at: module_path_of(rel),
            out: Vec::new(),
        };
        visitor.visit_file(file);
        for (at, path) in visitor.out {
            let Some(to) = resolve(&at, &path, &modules, in_binary) else {
                continue;
            };
            if to != from {
                edges.push(Edge {
                    from: from.clone(),
                    to,
                    file: rel.display().to_string(),
                    path: path.join("::"),
                });
            }
        }
    }
    (modules, edges)
}

/// The layers of docs/ARCHITECTURE.md, bottom first: the numbered list under the
/// `## Layers` heading, each item's modules in backticks before its first colon.
fn documented_layers(doc: &str) -> Vec<Vec<String>> {
    let mut layers = Vec::new();
    let mut inside = false;
    for line in doc.lines() {
        if line.starts_with("## ") {
            inside = line.trim() == "## Layers";
            continue;
        }
        if !inside {
            continue;
        }
        let Some((number, item)) = line.split_once(". ") else {
            continue;
        };
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        assert_eq!(
            number.parse::<usize>().ok(),
            Some(layers.len() + 1),
            "docs/ARCHITECTURE.md: layers are numbered 1, 2, … from the bottom: {line}"
        );
        let head = item.split_once(':').map_or(item, |(h, _)| h);
        let modules: Vec<String> = head.split('`').skip(1).step_by(2).map(str::to_string).collect();
        layers.push(modules);
    }
    layers
}

/// What is wrong with `edges` under `layers` (bottom first): modules missing from the
/// order or named twice or not existing, cycles (each printed), and imports of a module
/// in a higher layer (with file and path).
fn layer_problems(layers: &[Vec<String>], modules: &BTreeSet<String>, edges: &[Edge]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut layer_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, layer) in layers.iter().enumerate() {
        for m in layer {
            if layer_of.insert(m, k).is_some() {
                problems.push(format!("`{m}` is in more than one layer"));
            }
            if !modules.contains(m) {
                problems.push(format!("layer {} names `{m}`, which is not a module of src/", k + 1));
            }
        }
    }
    for m in modules {
        if !layer_of.contains_key(m.as_str()) {
            problems.push(format!("`{m}` is in no layer of docs/ARCHITECTURE.md"));
        }
    }
    for cycle in cycles(modules, edges) {
        problems.push(format!("import cycle: {}", cycle.join(" -> ")));
    }
    for e in edges {
        if let (Some(&from), Some(&to)) = (layer_of.get(e.from.as_str()), layer_of.get(e.to.as_str()))
            && to > from
        {
            problems.push(format!(
                "{}: `{}` (layer {}) imports `{}` (layer {}) above it: {}",
                e.file,
                e.from,
                from + 1,
                e.to,
                to + 1,
                e.path
            ));
        }
    }
    problems
}

/// One cycle through each strongly connected set of more than one module (Tarjan's
/// algorithm for the sets, then the shortest way back to the set's first module).
fn cycles(modules: &BTreeSet<String>, edges: &[Edge]) -> Vec<Vec<String>> {
    let names: Vec<&str> = modules.iter().map(String::as_str).collect();
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(k, n)| (*n, k)).collect();
    let mut next: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); names.len()];
    for e in edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            next[a].insert(b);
        }
    }
    struct Tarjan<'g> {
        next: &'g [BTreeSet<usize>],
        order: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        count: usize,
        sets: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.order[v] = Some(self.count);
            self.low[v] = self.count;
            self.count += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.next[v] {
                match self.order[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(o) if self.on_stack[w] => self.low[v] = self.low[v].min(o),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.order[v] {
                let mut set = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    set.push(w);
                    if w == v {
                        break;
                    }
                }
                set.sort_unstable();
                self.sets.push(set);
            }
        }
    }
    let n = names.len();
    let mut t = Tarjan {
        next: &next,
        order: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on_stack: vec![false; n],
        count: 0,
        sets: Vec::new(),
    };
    for v in 0..n {
        if t.order[v].is_none() {
            t.visit(v);
        }
    }
    let mut out = Vec::new();
    for set in t.sets.iter().filter(|s| s.len() > 1) {
        let start = set[0];
        // Breadth-first inside the set from `start` until an edge leads back to it.
        let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut last = None;
        while let Some(v) = queue.pop_front() {
            if next[v].contains(&start) {
                last = Some(v);
                break;
            }
            for &w in &next[v] {
                if set.contains(&w) && w != start && !came_from.contains_key(&w) {
                    came_from.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        let mut cycle = vec![start];
        let mut v = last.unwrap_or(start);
        while v != start {
            cycle.push(v);
            v = came_from[&v];
        }
        cycle.push(start);
        let last = cycle.len() - 1;
        cycle[1..last].reverse();
        out.push(cycle.into_iter().map(|k| names[k].to_string()).collect());
    }
    out
}

#[test]
fn modules_import_only_their_layer_and_below() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap_or_else(|e| unreachable!("{}: {e}", doc_path.display()));
    let layers = documented_layers(&doc);
    assert!(
        !layers.is_empty(),
        "docs/ARCHITECTURE.md has no numbered list under `## Layers`"
    );
    let (modules, edges) = module_graph();
    // The reader must see the imports it is meant to see, or an empty graph would pass.
    for (from, to) in [("rules", "finding"), ("lib", "pipeline"), ("main", "lib")] {
        assert!(
            edges.iter().any(|e| e.from == from && e.to == to),
            "the import {from} -> {to} was not found: the path reader is broken"
        );
    }
    let problems = layer_problems(&layers, &modules, &edges);
    assert!(problems.is_empty(), "module layers broken:\n{}", problems.join("\n"));
}

#[test]
fn the_layer_check_fails_on_a_cycle_an_upward_import_and_a_missing_module() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    let edge = |from: &str, to: &str| Edge {
        from: from.to_string(),
        to: to.to_string(),
        file: format!("{from}.rs"),
        path: format!("crate::{to}::X"),
    };
    let layers =
        |ls: &[&[&str]]| -> Vec<Vec<String>> { ls.iter().map(|l| l.iter().map(|m| m.to_string()).collect()).collect() };
    let order = layers(&[&["a"], &["b", "c"], &["d"]]);
    // Downward and sideways without a cycle: clean.
    let clean = [edge("d", "a"), edge("b", "a"), edge("b", "c")];
    assert_eq!(layer_problems(&order, &modules, &clean), Vec::<String>::new());
    // A cycle inside one layer.
    let cyclic = [edge("b", "c"), edge("c", "b"), edge("d", "b")];
    assert_eq!(layer_problems(&order, &modules, &cyclic), ["import cycle: b -> c -> b"]);
    // An import of a higher layer, which also closes a cycle across layers.
    let upward = [edge("d", "b"), edge("b", "a"), edge("a", "d")];
    assert_eq!(
        layer_problems(&order, &modules, &upward),
        [
            "import cycle: a -> d -> b -> a",
            "a.rs: `a` (layer 1) imports `d` (layer 3) above it: crate::d::X",
        ]
    );
    // A module the order does not name, and a name that is no module.
    let partial = layers(&[&["a"], &["b", "x"], &["d"]]);
    assert_eq!(
        layer_problems(&partial, &modules, &clean),
        [
            "layer 2 names `x`, which is not a module of src/",
            "`c` is in no layer of docs/ARCHITECTURE.md",
        ]
    );
}

#[test]
fn paths_resolve_to_their_top_level_module() {
    let modules: BTreeSet<String> = ["iam", "load", "report"].map(String::from).into();
    let s = |p: &str| -> Vec<String> { p.split("::").map(String::from).collect() };
    let at = |p: &str| -> Vec<String> { if p.is_empty() { Vec::new() } else { s(p) } };
    // (the module the path is written in, the path, whether it is in main.rs, its module)
    let cases = [
        ("report::json", "crate::iam::eval::Policy", false, Some("iam")),
        ("report::json", "crate::Config", false, Some("lib")),
        ("report::json", "super::human", false, Some("report")),
        ("load", "super::iam::x", false, Some("iam")),
        ("load::inner", "super::super::Analysis", false, Some("lib")),
        ("iam", "self::eval", false, Some("iam")),
        ("", "load::LoadOptions", false, Some("load")),
        ("", "kdsguard::load::x", true, Some("load")),
        ("", "crate::small_pages", true, None),
        ("report", "serde_json::Value", false, None),
    ];
    for (module, path, in_main, expected) in cases {
        assert_eq!(
            resolve(&at(module), &s(path), &modules, in_main).as_deref(),
            expected,
            "{path} in {module:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The map names what exists: every path and Rust item docs/ARCHITECTURE.md cites in a code
// span.

/// Code spans that are neither a path of this repository nor a Rust item of `src/`: words
/// of the inputs, the outputs, the command line and the tools, which the text quotes as
/// written. The test fails on an entry the document no longer uses or that would pass
/// without being listed, so the list stays this short.
const NOT_CODE: &[&str] = &[
    // Files and folders of the analysed estate, not of this repository.
    "kdsguard.toml",
    "cdk.out",
    ".tf.json",
    ".terraform/modules/modules.json",
    "main.tf",
    // Formats and values written in reports and JSON.
    "kdsguard.report/v2",
    "conditional",
    "unprotected",
    "not_deletable_in_scope",
    "minified_json",
    // Policy and template vocabulary.
    "NotAction",
    "Fn::If",
    "Fn::ForEach",
    "Metadata",
    "if",
    "for_each",
    "aws_iam_policy_document",
    "aws_iam_policy.p.arn",
    "always",
    // Environment variables the binary reads.
    "KDSGUARD_TODAY",
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "TERM",
    // Subcommands, config keys, lint names, tools and `cargo fuzz` targets.
    "anyhow",
    "panic",
    "unwrap_used",
    "expect_used",
    "print_stdout",
    "print_stderr",
    "dbg_macro",
    "git",
    "clippy",
    "syn",
    "prctl",
    "cfn_yaml",
    "cfn_json",
    "hcl",
    "simulate_batch",
    // The crate root in the list of layers (`main` is a function, `lib` is no item).
    "lib",
];

/// The text of every inline code span of a Markdown document (fenced blocks skipped).
fn code_spans(doc: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    let mut text = String::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            text.push_str(line);
            text.push('\n');
        }
    }
    // A span may wrap onto the next line; Markdown reads the line break as a space.
    let parts: Vec<&str> = text.split('`').collect();
    // An odd number of backticks leaves the last one unclosed: what follows it is text.
    let closed = if parts.len().is_multiple_of(2) {
        parts.len() - 1
    } else {
        parts.len()
    };
    for span in parts[..closed].iter().skip(1).step_by(2) {
        spans.push(span.replace('\n', " ").trim().to_string());
    }
    spans
}

/// What a code span cites: a path of the repository, a Rust item path, or nothing checkable.
#[derive(Debug, PartialEq)]
enum Cited {
    Path(String),
    Item(Vec<String>),
    Other,
}

const PATH_EXTENSIONS: &[&str] = &[".rs", ".toml", ".md", ".yaml", ".yml", ".sh", ".json", ".lock"];

fn cited(span: &str) -> Cited {
    let ident = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    if span.is_empty() || span.contains(char::is_whitespace) || span.starts_with('-') {
        return Cited::Other;
    }
    if span.contains('/') || PATH_EXTENSIONS.iter().any(|x| span.ends_with(x)) {
        // Placeholders and globs (`<ID>`, `{good,bad}`, `*`) name a family of paths.
        if span.contains(['<', '{', '*']) {
            return Cited::Other;
        }
        return Cited::Path(span.to_string());
    }
    // `Spanned<T>`, `decide()`, `LoadOptions.root`: the names without generics and calls.
    let bare = span.split('<').next().unwrap_or(span).trim_end_matches("()");
    let segments: Vec<String> = bare
        .split("::")
        .flat_map(|s| s.split('.'))
        .map(str::to_string)
        .collect();
    if segments.iter().all(|s| ident(s)) {
        Cited::Item(segments)
    } else {
        Cited::Other
    }
}

/// Every item name `src/` declares or imports: modules, types, traits, functions, methods,
/// constants, statics, type aliases, macros, fields, variants and the names of `use` items.
#[derive(Default)]
struct ItemNames(BTreeSet<String>);

impl ItemNames {
    fn add(&mut self, ident: &syn::Ident) {
        self.0.insert(ident.to_string());
    }
    fn add_fields(&mut self, fields: &syn::Fields) {
        fields.iter().filter_map(|f| f.ident.as_ref()).for_each(|i| self.add(i));
    }
}

impl<'a> Visit<'a> for ItemNames {
    fn visit_item(&mut self, i: &'a syn::Item) {
        match i {
            syn::Item::Const(x) => self.add(&x.ident),
            syn::Item::Enum(x) => {
                self.add(&x.ident);
                for v in &x.variants {
                    self.add(&v.ident);
                    self.add_fields(&v.fields);
                }
            }
            syn::Item::Fn(x) => self.add(&x.sig.ident),
            syn::Item::Macro(x) => {
                if let Some(ident) = &x.ident {
                    self.add(ident);
                }
            }
            syn::Item::Mod(x) => self.add(&x.ident),
            syn::Item::Static(x) => self.add(&x.ident),
            syn::Item::Struct(x) => {
                self.add(&x.ident);
                self.add_fields(&x.fields);
            }
            syn::Item::Trait(x) => self.add(&x.ident),
            syn::Item::Type(x) => self.add(&x.ident),
            syn::Item::Union(x) => self.add(&x.ident),
            _ => {}
        }
        syn::visit::visit_item(self, i);
    }
    // A name `src/` imports is one it may cite (`Arc`, petgraph's `DiGraph`).
    fn visit_use_name(&mut self, n: &'a syn::UseName) {
        self.add(&n.ident);
    }
    fn visit_use_rename(&mut self, r: &'a syn::UseRename) {
        self.add(&r.rename);
    }
    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        self.add(&f.sig.ident);
        syn::visit::visit_impl_item_fn(self, f);
    }
    fn visit_impl_item_const(&mut self, c: &'a syn::ImplItemConst) {
        self.add(&c.ident);
    }
    fn visit_impl_item_type(&mut self, t: &'a syn::ImplItemType) {
        self.add(&t.ident);
    }
    fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
        self.add(&f.sig.ident);
        syn::visit::visit_trait_item_fn(self, f);
    }
    fn visit_trait_item_const(&mut self, c: &'a syn::TraitItemConst) {
        self.add(&c.ident);
    }
    fn visit_trait_item_type(&mut self, t: &'a syn::TraitItemType) {
        self.add(&t.ident);
    }
}

/// The cited names of `doc` that do not exist: paths for which `path_exists` is false, and
/// item paths with a segment that is no item name (`crate` and `self` aside); spans in
/// `not_code` are not checked.
fn missing_names(
    doc: &str,
    items: &BTreeSet<String>,
    path_exists: &dyn Fn(&str) -> bool,
    not_code: &[&str],
) -> Vec<String> {
    let mut missing = BTreeSet::new();
    for span in code_spans(doc) {
        if not_code.contains(&span.as_str()) {
            continue;
        }
        match cited(&span) {
            Cited::Path(p) if !path_exists(&p) => {
                missing.insert(format!("path `{p}`"));
            }
            Cited::Item(segments)
                if segments
                    .iter()
                    .any(|s| s != "crate" && s != "self" && !items.contains(s)) =>
            {
                missing.insert(format!("item `{span}`"));
            }
            _ => {}
        }
    }
    missing.into_iter().collect()
}

/// Whether `cited` names a file or folder of the repository: from the repository's root,
/// from `src/`, or as the last components of a path under `src/`, `rules/`, `docs/` or
/// `tests/` (a section on `src/load/` says `confine.rs`).
fn repo_path_exists(cited: &str) -> bool {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = cited.trim_end_matches('/');
    if repo.join(rel).exists() || repo.join("src").join(rel).exists() {
        return true;
    }
    fn walk(dir: &Path, tail: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            let p = e.path();
            p.ends_with(tail) || (p.is_dir() && walk(&p, tail))
        })
    }
    ["src", "rules", "docs", "tests"]
        .iter()
        .any(|top| walk(&repo.join(top), Path::new(rel)))
}

#[test]
fn every_name_the_map_cites_exists() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap_or_else(|e| unreachable!("{}: {e}", doc_path.display()));
    let mut names = ItemNames::default();
    for (_, file) in sources() {
        names.visit_file(&file);
    }
    // The reader must see the items it is meant to see, or an empty set would fail loudly
    // and a broken visitor silently.
    for known in [
        "analyze",
        "Decision",
        "Finding",
        "pattern",
        "declared_policies",
        "Unknown",
    ] {
        assert!(
            names.0.contains(known),
            "`{known}` was not collected: the item reader is broken"
        );
    }
    let mut missing = missing_names(&doc, &names.0, &repo_path_exists, NOT_CODE);
    let spans = code_spans(&doc);
    for allowed in NOT_CODE {
        if !spans.iter().any(|s| s == allowed) {
            missing.push(format!("`{allowed}` is in NOT_CODE but not in the document: remove it"));
        } else if missing_names(&format!("`{allowed}`"), &names.0, &repo_path_exists, &[]).is_empty() {
            missing.push(format!("`{allowed}` is in NOT_CODE but passes without it: remove it"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md cites names that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_name_check_fails_on_a_missing_path_or_item() {
    let items: BTreeSet<String> = ["analyze", "Config", "cancel", "graph", "Graph"]
        .map(String::from)
        .into();
    let exists = |p: &str| p == "src/graph.rs" || p == "graph.rs" || p == "load/";
    let doc = "# Map\n\n`src/graph.rs` builds the `Graph`; `analyze()` reads `Config::cancel` and\n\
               `Spanned<T>`; `--format` and `Allow *` are no names.\n\n\
               ```\n`not_checked` inside a fence\n```\n\
               `src/gone.rs` holds `Missing` and `Config::vanished`, and `load/` is a\n\
               folder while `gone/` is not; a span may `wrap\nlines`; `kdsguard.toml` is allowed.\n";
    assert_eq!(
        missing_names(doc, &items, &exists, &["kdsguard.toml"]),
        [
            "item `Config::vanished`",
            "item `Missing`",
            "item `Spanned<T>`",
            "path `gone/`",
            "path `src/gone.rs`",
        ]
    );
    assert_eq!(
        cited("iam::eval::decide"),
        Cited::Item(vec!["iam".into(), "eval".into(), "decide".into()])
    );
    assert_eq!(
        cited("LoadOptions.root"),
        Cited::Item(vec!["LoadOptions".into(), "root".into()])
    );
    assert_eq!(
        cited("rules/capabilities.toml"),
        Cited::Path("rules/capabilities.toml".into())
    );
    assert_eq!(cited("testdata/rules/<ID>/"), Cited::Other);
    assert_eq!(cited("sts:AssumeRole"), Cited::Other);
}

// ---------------------------------------------------------------------------------------
// Small functions: no non-test function is over MAX_FN_LINES lines.

const MAX_FN_LINES: usize = 120;

/// The length in lines of every function with a body outside test code (free functions,
/// methods, trait default methods, nested functions), from the line of `fn` to the closing
/// brace's, as `(name, lines)`.
#[derive(Default)]
struct FnLengths(Vec<(String, usize)>);

impl FnLengths {
    fn push(&mut self, sig: &syn::Signature, block: &syn::Block) {
        use syn::spanned::Spanned;
        let first = sig.span().start().line;
        let last = block.brace_token.span.close().end().line;
        self.0.push((sig.ident.to_string(), last + 1 - first));
    }
}

impl<'a> Visit<'a> for FnLengths {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        if !is_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
        if !is_test(&i.attrs) {
            syn::visit::visit_item_impl(self, i);
        }
    }
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        if !is_test(&f.attrs) {
            self.push(&f.sig, &f.block);
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        if !is_test(&f.attrs) {
            self.push(&f.sig, &f.block);
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
    fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
        if let (false, Some(block)) = (is_test(&f.attrs), &f.default) {
            self.push(&f.sig, block);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

fn fn_lengths(file: &syn::File) -> Vec<(String, usize)> {
    let mut v = FnLengths::default();
    v.visit_file(file);
    v.0
}

/// The functions of `files` (`(relative path, syntax)`) longer than `max` lines.
fn long_fn_problems(files: &[(PathBuf, syn::File)], max: usize) -> Vec<String> {
    let tests = test_files(files);
    let mut problems = Vec::new();
    for (rel, file) in files {
        if tests.iter().any(|t| rel.starts_with(t)) {
            continue;
        }
        let path = rel.to_string_lossy().replace('\\', "/");
        for (name, lines) in fn_lengths(file) {
            if lines > max {
                problems.push(format!("{path}: fn `{name}` is {lines} lines (at most {max})"));
            }
        }
    }
    problems
}

#[test]
fn no_function_is_over_120_lines() {
    let problems = long_fn_problems(&sources(), MAX_FN_LINES);
    assert!(problems.is_empty(), "functions too long:\n{}", problems.join("\n"));
}

#[test]
fn the_length_check_counts_from_fn_to_the_closing_brace() {
    fn body(name: &str, lines: usize) -> String {
        // `fn` line, lines - 2 statements, closing brace.
        let mut s = format!("pub fn {name}() {{\n");
        (0..lines - 2).for_each(|k| s.push_str(&format!("    let _x{k} = {k};\n")));
        s.push_str("}\n");
        s
    }
    let source = format!(
        "//! Synthetic.\n\n/// Doc lines do not count.\n#[inline]\n{}\n{}\nstruct S;\nimpl S {{\n    {}}}\n\
         trait T {{\n    {}}}\n#[cfg(test)]\nmod tests {{\n{}}}\n#[test]\n{}",
        body("fits", 4),
        body("long_free", 6),
        body("long_method", 6).replace('\n', "\n    "),
        body("long_default", 7).replace("pub fn", "fn").replace('\n', "\n    "),
        body("in_tests", 9),
        body("a_test", 9),
    );
    let file = syn::parse_file(&source).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        fn_lengths(&file),
        [
            ("fits".to_string(), 4),
            ("long_free".to_string(), 6),
            ("long_method".to_string(), 6),
            ("long_default".to_string(), 7)
        ]
    );
    let files = vec![(PathBuf::from("a/b.rs"), file)];
    assert_eq!(
        long_fn_problems(&files, 5),
        [
            "a/b.rs: fn `long_free` is 6 lines (at most 5)",
            "a/b.rs: fn `long_method` is 6 lines (at most 5)",
            "a/b.rs: fn `long_default` is 7 lines (at most 5)",
        ]
    );
    assert_eq!(long_fn_problems(&files, 7), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// `iam` is an API: outside `src/iam/`, a path into it names only what `iam/mod.rs` makes
// public (a `pub mod` or a `pub use`), and inside a public submodule only its `pub` items.

/// What `iam/mod.rs` exports: its public submodules, each with the names it declares
/// `pub` (items and re-exports), and the names it re-exports itself.
#[derive(Debug, Default)]
struct IamApi {
    modules: BTreeMap<String, BTreeSet<String>>,
    reexports: BTreeSet<String>,
}

/// The names a file declares with plain `pub` (not `pub(crate)`): items and `pub use`s.
fn public_names(file: &syn::File) -> BTreeSet<String> {
    fn use_names(t: &syn::UseTree, out: &mut BTreeSet<String>) {
        match t {
            syn::UseTree::Path(p) => use_names(&p.tree, out),
            syn::UseTree::Name(n) => {
                out.insert(n.ident.to_string());
            }
            syn::UseTree::Rename(r) => {
                out.insert(r.rename.to_string());
            }
            syn::UseTree::Glob(_) => {
                out.insert("*".to_string());
            }
            syn::UseTree::Group(g) => g.items.iter().for_each(|i| use_names(i, out)),
        }
    }
    let public = exported;
    let mut names = BTreeSet::new();
    for item in &file.items {
        let (vis, ident) = match item {
            syn::Item::Const(x) => (&x.vis, &x.ident),
            syn::Item::Enum(x) => (&x.vis, &x.ident),
            syn::Item::Fn(x) => (&x.vis, &x.sig.ident),
            syn::Item::Mod(x) => (&x.vis, &x.ident),
            syn::Item::Static(x) => (&x.vis, &x.ident),
            syn::Item::Struct(x) => (&x.vis, &x.ident),
            syn::Item::Trait(x) => (&x.vis, &x.ident),
            syn::Item::Type(x) => (&x.vis, &x.ident),
            syn::Item::Union(x) => (&x.vis, &x.ident),
            syn::Item::Use(x) => {
                if public(&x.vis) {
                    use_names(&x.tree, &mut names);
                }
                continue;
            }
            _ => continue,
        };
        if public(vis) {
            names.insert(ident.to_string());
        }
    }
    names
}

/// Whether an item is visible to the rest of the crate: `pub`, or `pub(crate)` (the crate's
/// default for what other modules use; `pub` is kept for what the binary, tests and benches
/// name). `pub(super)`, `pub(in …)` and private items are not `iam`'s API.
fn exported(v: &syn::Visibility) -> bool {
    match v {
        syn::Visibility::Public(_) => true,
        syn::Visibility::Restricted(r) => r.in_token.is_none() && r.path.is_ident("crate"),
        syn::Visibility::Inherited => false,
    }
}

/// `iam`'s API from `mod.rs` and its submodules' files (by module name).
fn iam_api(mod_rs: &syn::File, submodules: &BTreeMap<String, syn::File>) -> IamApi {
    let mut api = IamApi::default();
    for item in &mod_rs.items {
        match item {
            syn::Item::Mod(m) if exported(&m.vis) && !is_test(&m.attrs) => {
                let name = m.ident.to_string();
                let names = submodules.get(&name).map(public_names).unwrap_or_default();
                api.modules.insert(name, names);
            }
            _ => {}
        }
    }
    api.reexports = public_names(mod_rs)
        .into_iter()
        .filter(|n| !api.modules.contains_key(n))
        .collect();
    api
}

/// The paths (`crate::iam::…` after resolution, as written in `file`) that go through a
/// part of `iam` its API does not export.
fn iam_violations(api: &IamApi, uses: &[(String, Vec<String>, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (file, abs, written) in uses {
        if abs.first().map(String::as_str) != Some("iam") {
            continue;
        }
        let why = match (abs.get(1).map(String::as_str), abs.get(2).map(String::as_str)) {
            (None | Some("self" | "*"), _) => None,
            (Some(name), _) if api.reexports.contains(name) => None,
            (Some(module), item) => match api.modules.get(module) {
                None => Some(format!("`iam::{module}` is not public in iam/mod.rs")),
                Some(names) => match item {
                    None | Some("self" | "*") => None,
                    Some(item) if names.contains(item) || names.contains("*") => None,
                    Some(item) => Some(format!(
                        "`iam::{module}::{item}` is not exported (`pub` or `pub(crate)`)"
                    )),
                },
            },
        };
        if let Some(why) = why {
            out.push(format!("{file}: {written}: {why}"));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A path of `at` made absolute from the crate root (`crate::`, `super::`, `self::`, and in
/// the binary `kdsguard::`), without the root; other paths are `None`.
fn absolute(at: &[String], path: &[String], in_binary: bool) -> Option<Vec<String>> {
    let root_name = if in_binary { "kdsguard" } else { "crate" };
    let mut base = at.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some(first) if first == root_name => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super" | "self") if !in_binary => {
            while let Some(s) = rest.first().map(String::as_str) {
                match s {
                    "super" => {
                        base.pop()?;
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Every path of non-test code outside `src/iam/`, as `(file, absolute path, as written)`.
fn paths_outside_iam() -> Vec<(String, Vec<String>, String)> {
    let files = sources();
    let tests = test_files(&files);
    let mut out = Vec::new();
    for (rel, file) in &files {
        if rel.starts_with("iam") || tests.iter().any(|t| rel.starts_with(t)) {
            continue;
        }
        let mut visitor = ModulePaths {
            at: module_path_of(rel),
            out: Vec::new(),
        };
        visitor.visit_file(file);
        for (at, path) in visitor.out {
            if let Some(abs) = absolute(&at, &path, rel == Path::new("main.rs")) {
                out.push((rel.display().to_string(), abs, path.join("::")));
            }
        }
    }
    out
}

#[test]
fn outside_iam_only_its_api_is_named() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: BTreeMap<PathBuf, syn::File> = sources().into_iter().collect();
    let mod_rs = &files[Path::new("iam/mod.rs")];
    let submodules: BTreeMap<String, syn::File> = files
        .iter()
        .filter(|(rel, _)| rel.parent() == Some(Path::new("iam")))
        .filter_map(|(rel, f)| Some((rel.file_stem()?.to_str()?.to_string(), f.clone())))
        .collect();
    let api = iam_api(mod_rs, &submodules);
    assert!(
        api.modules.get("eval").is_some_and(|n| n.contains("decide")),
        "iam::eval::decide was not read as iam's API from {}: the reader is broken",
        src.display()
    );
    let uses = paths_outside_iam();
    assert!(
        uses.iter()
            .any(|(_, abs, _)| abs.starts_with(&["iam".to_string(), "eval".to_string()])),
        "no path into iam::eval was found outside iam: the path reader is broken"
    );
    let violations = iam_violations(&api, &uses);
    assert!(
        violations.is_empty(),
        "{} paths name what iam/mod.rs does not export:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

#[test]
fn the_iam_check_fails_on_a_private_module_or_item() {
    let parse = |s: &str| syn::parse_file(s).unwrap_or_else(|e| unreachable!("{e}"));
    let mod_rs = parse("pub mod eval;\nmod pattern;\npub(super) mod class;\npub use pattern::Tri;\n");
    let submodules: BTreeMap<String, syn::File> = [
        (
            "eval",
            "pub fn decide() {}\npub(crate) fn inner() {}\npub(super) fn sibling() {}\nfn hidden() {}\npub use crate::x::Y;\n",
        ),
        ("pattern", "pub enum Tri { Yes }\n"),
        ("class", "pub struct ClassKey;\n"),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), parse(s)))
    .collect();
    let api = iam_api(&mod_rs, &submodules);
    let at = |p: &str| -> Vec<String> { p.split("::").filter(|s| !s.is_empty()).map(String::from).collect() };
    let uses: Vec<(String, Vec<String>, String)> = [
        ("rules", "crate::iam::eval::decide"),
        ("rules", "crate::iam::eval::Y"),
        ("rules", "crate::iam::Tri"),
        ("rules", "crate::iam::eval::*"),
        ("rules", "crate::iam::eval::inner"),
        ("rules", "crate::iam::eval::sibling"),
        ("rules", "crate::iam::eval::hidden"),
        ("rules", "crate::iam::pattern::Tri"),
        ("rules::kds001", "super::super::iam::class::ClassKey"),
        ("rules", "crate::finding::Finding"),
    ]
    .into_iter()
    .filter_map(|(m, p)| {
        let abs = absolute(&at(m), &at(p), false)?;
        Some((format!("{}.rs", m.replace("::", "/")), abs, p.to_string()))
    })
    .collect();
    assert_eq!(
        iam_violations(&api, &uses),
        [
            "rules.rs: crate::iam::eval::hidden: `iam::eval::hidden` is not exported (`pub` or `pub(crate)`)",
            "rules.rs: crate::iam::eval::sibling: `iam::eval::sibling` is not exported (`pub` or `pub(crate)`)",
            "rules.rs: crate::iam::pattern::Tri: `iam::pattern` is not public in iam/mod.rs",
            "rules/kds001.rs: super::super::iam::class::ClassKey: `iam::class` is not public in iam/mod.rs",
        ]
    );
}

/// The names that code outside the library uses: every identifier in `main.rs`, the
/// integration tests, benches, examples and fuzz targets.
fn names_used_outside_the_library() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("src/main.rs")];
    for dir in ["tests", "benches", "examples", "fuzz/fuzz_targets"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| unreachable!("{}: {e}", f.display()));
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                names.insert(word.to_string());
            }
        }
    }
    names
}

/// The `pub` items (not `pub(crate)`) of a file outside its test code, with their lines:
/// functions, structs, enums, constants, statics, types, traits and modules, and the
/// functions, constants and types of `impl` blocks.
#[derive(Default)]
struct PubItems(Vec<(usize, String)>);

impl PubItems {
    fn push(&mut self, vis: &syn::Visibility, ident: &syn::Ident) {
        if matches!(vis, syn::Visibility::Public(_)) {
            self.0.push((ident.span().start().line, ident.to_string()));
        }
    }
}

impl<'a> Visit<'a> for PubItems {
    fn visit_item(&mut self, i: &'a syn::Item) {
        let (vis, ident) = match i {
            syn::Item::Const(x) => (&x.vis, &x.ident),
            syn::Item::Enum(x) => (&x.vis, &x.ident),
            syn::Item::Fn(x) => (&x.vis, &x.sig.ident),
            syn::Item::Mod(x) if is_test(&x.attrs) => return,
            syn::Item::Mod(x) => (&x.vis, &x.ident),
            syn::Item::Static(x) => (&x.vis, &x.ident),
            syn::Item::Struct(x) => (&x.vis, &x.ident),
            syn::Item::Trait(x) => (&x.vis, &x.ident),
            syn::Item::Type(x) => (&x.vis, &x.ident),
            syn::Item::Impl(x) if is_test(&x.attrs) => return,
            _ => return syn::visit::visit_item(self, i),
        };
        self.push(vis, ident);
        syn::visit::visit_item(self, i);
    }
    fn visit_impl_item(&mut self, i: &'a syn::ImplItem) {
        match i {
            syn::ImplItem::Fn(x) => self.push(&x.vis, &x.sig.ident),
            syn::ImplItem::Const(x) => self.push(&x.vis, &x.ident),
            syn::ImplItem::Type(x) => self.push(&x.vis, &x.ident),
            _ => {}
        }
    }
}

fn pub_items(file: &syn::File) -> Vec<(usize, String)> {
    let mut v = PubItems::default();
    v.visit_file(file);
    v.0
}

/// How many `pub` items the library may have that nothing outside it names: the types and
/// functions a `pub` signature needs (a `pub` function's argument or result type, a field's
/// type), which `pub(crate)` would make a `private_interfaces` warning. Lower it when the
/// count falls; never raise it to make room for a new item: make the item `pub(crate)`.
const PUB_NOT_NAMED_OUTSIDE: usize = 144;

#[test]
fn the_library_is_pub_crate_by_default() {
    let used = names_used_outside_the_library();
    assert!(
        used.contains("analyze") && used.contains("Config"),
        "the names used outside the library were not found: the reader is broken"
    );
    let mut unnamed = Vec::new();
    for (rel, file) in sources() {
        if rel == Path::new("lib.rs") || rel == Path::new("main.rs") {
            continue;
        }
        for (line, name) in pub_items(&file) {
            if !used.contains(&name) {
                unnamed.push(format!("src/{}:{line}: {name}", rel.display()));
            }
        }
    }
    assert!(
        unnamed.len() <= PUB_NOT_NAMED_OUTSIDE,
        "{} pub items are named nowhere outside the library (at most {PUB_NOT_NAMED_OUTSIDE}): make new ones pub(crate)\n{}",
        unnamed.len(),
        unnamed.join("\n")
    );
}

#[test]
fn pub_items_are_read_with_their_kind_and_name() {
    let text = "pub fn a() {}\npub(crate) fn b() {}\npub const fn c() {}\npub struct D<T>(T);\npub use x::Y;\npub mod e {}\npub const F: u8 = 1;\nstruct G { pub g: u8 }\nimpl G { pub fn h(&self) {} fn i(&self) {} }\n#[cfg(test)]\nmod tests { pub fn j() {} }\n";
    let file = syn::parse_file(text).unwrap_or_else(|e| unreachable!("{e}"));
    let names: Vec<String> = pub_items(&file).into_iter().map(|(l, n)| format!("{l}:{n}")).collect();
    assert_eq!(names, ["1:a", "3:c", "4:D", "6:e", "7:F", "9:h"]);
}
