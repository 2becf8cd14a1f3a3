//! The v2 report's table sets, expanded to one decision per (principal, capability, table),
//! give exactly the decisions the v1 model gave (recorded in `testdata/v1-decisions/` before
//! the model changed), on every fixture. Entries whose change is explained (the same-stream
//! fix, and the fixes of later issues) are listed, with the reason, in
//! `testdata/v1-decisions/CHANGED.txt`.
//!
//! Recording (only needed if the v1 model is brought back): `KDSGUARD_RECORD_V1=<v1 binary>`.
#![allow(clippy::panic, clippy::print_stdout, clippy::print_stderr)] // tests report by panicking

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Every fixture input a test analyses: the files and folders one level below these folders.
const FIXTURE_DIRS: &[&str] = &[
    "testdata/cloudformation",
    "testdata/terraform",
    "testdata/demo",
    "testdata/suppress",
    "testdata/query",
    "testdata/clean",
    "testdata/broken",
];

fn fixtures() -> Vec<String> {
    let root = common::root();
    let mut out = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = FIXTURE_DIRS.iter().map(|d| root.join(d)).collect();
    if let Ok(rules) = std::fs::read_dir(root.join("testdata/rules")) {
        for r in rules.flatten() {
            dirs.push(r.path().join("good"));
            dirs.push(r.path().join("bad"));
        }
    }
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if let Ok(rel) = p.strip_prefix(&root) {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.into_iter().collect()
}

/// 64-bit FNV-1a: a stable digest that needs no dependency.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// JSON with object keys sorted at every level, compact.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, String> = m.iter().map(|(k, v)| (k, canonical(v))).collect();
            let body: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", Value::String((*k).clone())))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// One decision, as v1 lists it: (principal, capability, resource) → everything else.
type Expanded = BTreeMap<(String, String, String), String>;

fn content(entry: &Value) -> String {
    let mut e = entry.clone();
    if let Some(m) = e.as_object_mut() {
        for k in ["principal", "capability", "resource", "tables"] {
            m.remove(k);
        }
    }
    canonical(&e)
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The report's decisions, one per (principal, capability, resource); v2 sets expanded.
fn expand(report: &Value) -> Expanded {
    let tables: Vec<String> = report["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["kind"] == "table")
        .map(|r| str_of(r, "id"))
        .collect();
    let mut out = Expanded::new();
    for e in report["access"].as_array().into_iter().flatten() {
        let key = |res: String| (str_of(e, "principal"), str_of(e, "capability"), res);
        let c = content(e);
        let Some(set) = e.get("tables") else {
            out.insert(key(str_of(e, "resource")), c);
            continue;
        };
        let ids = |v: &Value| -> BTreeSet<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        };
        let declared: Vec<String> = match &set["declared"] {
            Value::String(all) if all == "all" => tables.clone(),
            Value::Array(_) => ids(&set["declared"]).into_iter().collect(),
            Value::Object(m) => {
                let except = m.get("except").map(ids).unwrap_or_default();
                tables.iter().filter(|t| !except.contains(*t)).cloned().collect()
            }
            other => panic!("tables.declared is {other}"),
        };
        for t in declared {
            assert!(out.insert(key(t), c.clone()).is_none(), "overlapping sets in {e}");
        }
        if set["undeclared"] == Value::Bool(true) {
            assert!(
                out.insert(key("*".into()), c.clone()).is_none(),
                "overlapping sets in {e}"
            );
        }
    }
    out
}

/// Per (principal, capability): how many decisions, and a digest of them all.
type Digests = BTreeMap<(String, String), (usize, u64)>;

fn digest(expanded: &Expanded) -> Digests {
    let mut lines: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for ((p, c, r), v) in expanded {
        lines
            .entry((p.clone(), c.clone()))
            .or_default()
            .push(format!("{r}\t{v}"));
    }
    lines
        .into_iter()
        .map(|(k, l)| (k, (l.len(), fnv(&l.join("\n")))))
        .collect()
}

fn render(name: &str, d: &Digests) -> String {
    let mut s = format!("# {name}\n");
    for ((p, c), (n, h)) in d {
        s.push_str(&format!("{p}\t{c}\t{n}\t{h:016x}\n"));
    }
    s
}

fn record_file() -> PathBuf {
    common::root().join("testdata/v1-decisions/fixtures.txt")
}

fn report_of(binary: Option<&Path>, cwd: &Path, path: &str) -> Value {
    let mut cmd = match binary {
        Some(b) => assert_cmd::Command::new(b),
        None => common::kdsguard(),
    };
    // Some fixture folders hold only parameter files: an empty input, accepted here (a
    // recorded older binary has no --allow-empty and accepted it silently).
    let mut args = vec!["check", "--format", "json", "--no-suppressions", path];
    if binary.is_none() {
        args.push("--allow-empty");
    }
    let out = cmd
        .current_dir(cwd)
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{path}: no JSON report ({e})"))
}

/// The explained changes: `name<TAB>principal<TAB>capability<TAB>reason` lines.
fn changed() -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(common::root().join("testdata/v1-decisions/CHANGED.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 4).then(|| (f[0].to_string(), f[1].to_string(), f[2].to_string()))
        })
        .collect()
}

fn recorded(text: &str) -> BTreeMap<String, Digests> {
    let mut out: BTreeMap<String, Digests> = BTreeMap::new();
    let mut current = String::new();
    for l in text.lines() {
        if let Some(name) = l.strip_prefix("# ") {
            current = name.to_string();
            out.entry(current.clone()).or_default();
            continue;
        }
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() == 4 {
            let n = f[2].parse().unwrap_or(0);
            let h = u64::from_str_radix(f[3], 16).unwrap_or(0);
            out.entry(current.clone())
                .or_default()
                .insert((f[0].to_string(), f[1].to_string()), (n, h));
        }
    }
    out
}

/// Compares one input's decisions with the recording; returns the unexplained differences.
fn compare(name: &str, now: &Digests, then: &Digests, explained: &BTreeSet<(String, String, String)>) -> Vec<String> {
    let keys: BTreeSet<&(String, String)> = now.keys().chain(then.keys()).collect();
    keys.into_iter()
        .filter(|k| now.get(*k) != then.get(*k))
        .filter(|(p, c)| !explained.contains(&(name.to_string(), p.clone(), c.clone())))
        .map(|(p, c)| {
            format!(
                "{name}: {p} {c}: now {:?}, v1 {:?}",
                now.get(&(p.clone(), c.clone())),
                then.get(&(p.clone(), c.clone()))
            )
        })
        .collect()
}

#[test]
fn expanded_sets_give_the_v1_decisions_on_every_fixture() {
    let root = common::root();
    if let Some(v1) = std::env::var_os("KDSGUARD_RECORD_V1") {
        let mut s = String::from(
            "# principal\tcapability\tdecisions\tdigest (see tests/v1_parity.rs), recorded with the v1 model\n",
        );
        for f in fixtures() {
            s.push_str(&render(
                &f,
                &digest(&expand(&report_of(Some(Path::new(&v1)), &root, &f))),
            ));
        }
        std::fs::write(record_file(), s).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let text = std::fs::read_to_string(record_file()).unwrap_or_else(|e| panic!("no recording: {e}"));
    let then = recorded(&text);
    let explained = changed();
    let mut problems = Vec::new();
    for f in fixtures() {
        let report = report_of(None, &root, &f);
        assert_eq!(report["schema"], "kdsguard.report/v2", "{f}");
        let now = digest(&expand(&report));
        let empty = BTreeMap::new();
        problems.extend(compare(&f, &now, then.get(&f).unwrap_or(&empty), &explained));
    }
    assert!(problems.is_empty(), "decisions changed:\n{}", problems.join("\n"));
}

/// The generated estate the recording was made on: 100 principals × 40 tables in 10 files,
/// seed 7, in both formats (`../shared/tools/gen_corpus.py`; the Rust port writes the same
/// bytes).
const ESTATE: (usize, usize, usize, u64) = (100, 40, 10, 7);

fn estate_record_file() -> PathBuf {
    common::root().join("testdata/v1-decisions/estate-100x40.txt")
}

#[test]
fn expanded_sets_give_the_v1_decisions_on_a_generated_estate() {
    if let (Some(v1), Some(dir)) = (
        std::env::var_os("KDSGUARD_RECORD_V1"),
        std::env::var_os("KDSGUARD_RECORD_ESTATES"),
    ) {
        let mut s = String::from("# principal\tcapability\tdecisions\tdigest, recorded with the v1 model\n");
        for format in ["tf", "cfn"] {
            let d = Path::new(&dir).join(format!("{format}-{}x{}", ESTATE.0, ESTATE.1));
            s.push_str(&render(
                format,
                &digest(&expand(&report_of(Some(Path::new(&v1)), &d, "."))),
            ));
        }
        std::fs::write(estate_record_file(), s).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let text = std::fs::read_to_string(estate_record_file()).unwrap_or_else(|e| panic!("no recording: {e}"));
    let then = recorded(&text);
    let explained = changed();
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    for (format, f) in [
        ("tf", common::estate::Format::Terraform),
        ("cfn", common::estate::Format::CloudFormation),
    ] {
        let d = tmp.path().join(format);
        let opts = common::estate::Options {
            principals: ESTATE.0,
            tables: ESTATE.1,
            files: ESTATE.2,
            seed: ESTATE.3,
            ..common::estate::Options::default()
        };
        common::estate::write(&d, f, &opts).unwrap_or_else(|e| panic!("{e}"));
        let now = digest(&expand(&report_of(None, &d, ".")));
        let empty = BTreeMap::new();
        problems.extend(compare(format, &now, then.get(format).unwrap_or(&empty), &explained));
    }
    assert!(problems.is_empty(), "decisions changed:\n{}", problems.join("\n"));
}
