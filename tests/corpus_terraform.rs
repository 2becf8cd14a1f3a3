//! Loads every Terraform folder of the shared corpus: no panic anywhere, and every file
//! that is known to be invalid HCL comes back as a load error with a line.
#![allow(clippy::panic)] // a test fails by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use kdsguard::load::{LoadOptions, terraform};
use kdsguard::source::SourceMap;

fn corpus_dir() -> PathBuf {
    match std::env::var_os("KDSGUARD_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

/// Backticked paths of NOTES.md section 2a's HCL list, with `{a,b}` groups expanded.
fn invalid_hcl_patterns(notes: &str) -> Vec<String> {
    let start = notes.find("**HCL**").unwrap_or(notes.len());
    let end = notes[start..].find("### 2b").map_or(notes.len(), |e| start + e);
    let section = &notes[start..end];
    let mut out = Vec::new();
    for (i, token) in section.split('`').enumerate() {
        if i % 2 == 1 && (token.ends_with(".tf") || token.contains(".tf")) {
            out.extend(expand_braces(token));
        }
    }
    out
}

fn expand_braces(s: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (s.find('{'), s.find('}')) else {
        return vec![s.to_string()];
    };
    if close < open {
        return vec![s.to_string()];
    }
    let (head, rest) = (&s[..open], &s[close + 1..]);
    s[open + 1..close]
        .split(',')
        .flat_map(|alt| expand_braces(&format!("{head}{alt}{rest}")))
        .collect()
}

fn listed(path: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_prefix("...") {
        Some(tail) => path.ends_with(tail),
        None => p == path,
    })
}

/// How many corpus folders load (fully or with notes). Issue 13 added the four folders
/// that use cloudposse's label module (a conditional continued on the next line inside a
/// `for` expression, which Terraform accepts and hcl-edit 0.10 rejects).
const EXPECTED_LOADED: usize = 1696;

#[test]
fn every_terraform_folder_loads_without_panicking() {
    let corpus = corpus_dir();
    let Ok(index) = std::fs::read_to_string(corpus.join("INDEX.tsv")) else {
        let _ = writeln!(std::io::stderr(), "skipped: no corpus at {}", corpus.display());
        return;
    };
    let notes = std::fs::read_to_string(corpus.join("NOTES.md")).unwrap_or_default();
    let patterns = invalid_hcl_patterns(&notes);
    let mut folders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut must_fail: BTreeSet<String> = BTreeSet::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(kind), Some(check)) = (cols.first(), cols.get(2), cols.get(4)) else {
            continue;
        };
        if *kind != "tf" {
            continue;
        }
        let folder = Path::new(path)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        folders.entry(folder).or_default().push(path.to_string());
        if *check == "hcl-rs-0.20:err" && listed(path, &patterns) {
            must_fail.insert(path.to_string());
        }
    }
    assert!(
        must_fail.len() >= 15,
        "NOTES.md section 2a should list the invalid HCL files: {must_fail:?}"
    );

    let started = std::time::Instant::now();
    let (mut full, mut with_notes, mut failed) = (0, 0, 0);
    let mut missing = Vec::new();
    let mut unexplained = Vec::new();
    for folder in folders.keys() {
        let dir = corpus.join(folder);
        let result = std::panic::catch_unwind(|| {
            let sources = SourceMap::new();
            let input = terraform::load_module(&dir, folder, &corpus, &LoadOptions::default(), &sources);
            // A module that calls itself is an error of the input (issue 12), not of the
            // loader: such folders are explained by their cycle.
            let errors: Vec<(String, Option<usize>)> = input
                .errors
                .iter()
                .filter(|e| !e.message.starts_with("module cycle: "))
                .map(|e| (e.path.clone(), e.span.and_then(|s| sources.start(s)).map(|lc| lc.line)))
                .collect();
            if std::env::var_os("KDSGUARD_VERBOSE").is_some() {
                let mut err = std::io::stderr();
                for e in &input.errors {
                    let _ = writeln!(
                        err,
                        "ERROR {}: {}",
                        sources.describe(e.span.unwrap_or_default()),
                        e.message
                    );
                }
                for d in &input.diagnostics {
                    let _ = writeln!(err, "NOTE {}: {}", sources.describe(d.span), d.message);
                }
            }
            (errors, input.diagnostics.len())
        });
        let Ok((errors, notes)) = result else {
            unreachable!("load_module panicked on {folder}");
        };
        if !errors.is_empty() {
            failed += 1;
            // A folder fails only because it holds a file the corpus knows to be invalid.
            if !errors.iter().any(|(p, _)| must_fail.contains(p)) {
                unexplained.push(format!("{folder}: {errors:?}"));
            }
        } else if notes > 0 {
            with_notes += 1;
        } else {
            full += 1;
        }
        for file in folders
            .get(folder)
            .into_iter()
            .flatten()
            .filter(|f| must_fail.contains(*f))
        {
            if !errors.iter().any(|(p, line)| p == file && line.is_some()) {
                missing.push(file.clone());
            }
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "terraform corpus: {} folders: {full} loaded fully, {with_notes} with notes, {failed} failed ({} known-invalid files) in {:?}",
        folders.len(),
        must_fail.len(),
        started.elapsed()
    );
    assert!(
        missing.is_empty(),
        "known-invalid files without a load error: {missing:?}"
    );
    assert!(
        unexplained.is_empty(),
        "folders that fail without a known-invalid file:\n{}",
        unexplained.join("\n")
    );
    assert!(
        full + with_notes >= EXPECTED_LOADED,
        "only {} folders loaded, {EXPECTED_LOADED} before",
        full + with_notes
    );
}

/// Issue 13: cloudposse's label module, vendored by checkov's nested-modules fixture,
/// continues a conditional on the next line inside `{ for ... }`; Terraform accepts it.
#[test]
fn a_conditional_split_over_lines_inside_a_for_expression_loads() {
    let corpus = corpus_dir();
    let folder = "bridgecrewio__checkov/tests/terraform/graph/resources/nested_modules_double_call";
    if !corpus.join(folder).is_dir() {
        let _ = writeln!(std::io::stderr(), "skipped: no corpus at {}", corpus.display());
        return;
    }
    let sources = SourceMap::new();
    let input = terraform::load_module(&corpus.join(folder), folder, &corpus, &LoadOptions::default(), &sources);
    assert!(input.errors.is_empty(), "{:?}", input.errors);
    assert!(
        input.module_dirs.iter().any(|d| d.ends_with("/four")),
        "{:?}",
        input.module_dirs
    );
}

#[test]
fn every_plan_file_loads_without_panicking() {
    let corpus = corpus_dir();
    let Ok(index) = std::fs::read_to_string(corpus.join("INDEX.tsv")) else {
        let _ = writeln!(std::io::stderr(), "skipped: no corpus at {}", corpus.display());
        return;
    };
    let (mut loaded, mut failed, mut records) = (0, 0, 0);
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(kind)) = (cols.first(), cols.get(2)) else {
            continue;
        };
        if *kind != "tfplan-json" {
            continue;
        }
        let file = corpus.join(path);
        let result = std::panic::catch_unwind(|| {
            let sources = SourceMap::new();
            let input = terraform::load_plan(&file, path, &sources);
            (
                input.errors.len(),
                input.principals.len() + input.policies.len() + input.tables.len() + input.streams.len(),
            )
        });
        let Ok((errors, n)) = result else {
            unreachable!("load_plan panicked on {path}");
        };
        records += n;
        if errors == 0 { loaded += 1 } else { failed += 1 }
    }
    let _ = writeln!(
        std::io::stderr(),
        "terraform plans: {loaded} loaded, {failed} failed, {records} records"
    );
    assert!(loaded > 0);
}
