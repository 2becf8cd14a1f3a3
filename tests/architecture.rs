//! Invariants of docs/ARCHITECTURE.md that a program can check, read from `src/` as Rust
//! syntax: the library takes no command-line types (only `main.rs` and `cli.rs` name clap
//! or the `cli` module).

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
