//! Cost grows with the input, not with principals × tables: on a generated estate and on one
//! twice its size (principals, tables and files doubled), the IAM requests the decisions
//! make, the table classes they decide, and the report's access entries and findings grow
//! at most 2.2×, also with reach's trust policies and IAM-write grants. Work is counted
//! (`check --timings` prints the counters), never timed.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::estate::{Format, Options, write};
use serde_json::Value;

/// What one run did.
#[derive(Debug)]
struct Work {
    requests: f64,
    classes: f64,
    entries: f64,
    findings: f64,
}

fn work_on(format: Format, principals: usize, tables: usize, files: usize) -> Work {
    work_with(
        format,
        Options {
            principals,
            tables,
            files,
            seed: 7,
            ..Options::default()
        },
    )
}

fn work_with(format: Format, opts: Options) -> Work {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), format, &opts).unwrap_or_else(|e| panic!("cannot generate: {e}"));
    let out = common::kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "--timings", "."])
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for phase in ["discover", "load", "graph", "decisions", "reach", "rules", "report"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("timing: {phase}")) && l.ends_with(" ms")),
            "--timings names the {phase} phase:\n{stderr}"
        );
    }
    let line = stderr
        .lines()
        .find(|l| l.starts_with("work: "))
        .unwrap_or_else(|| panic!("no work line in:\n{stderr}"));
    // "work: R IAM requests, C table classes, M pattern matches, E access entries"
    let numbers: Vec<f64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report: {e}"));
    assert!(
        report["errors"].as_array().is_some_and(Vec::is_empty),
        "{}",
        report["errors"]
    );
    let len = |k: &str| report[k].as_array().map_or(0, Vec::len) as f64;
    Work {
        requests: numbers[0],
        classes: numbers[1],
        entries: len("access") + len("indirect"),
        findings: len("findings"),
    }
}

fn assert_linear(format: Format) {
    // Both sizes declare the service-linked role twice (the generator adds one declaration
    // per 100 tables past 200): one role, so SLR entries grow with the principals alone.
    let n = work_on(format, 300, 120, 12);
    let n2 = work_on(format, 600, 240, 24);
    for (what, a, b) in [
        ("IAM requests", n.requests, n2.requests),
        ("table classes", n.classes, n2.classes),
        ("access entries", n.entries, n2.entries),
        ("findings", n.findings, n2.findings),
    ] {
        assert!(a > 0.0, "{what}: nothing at N ({n:?})");
        let ratio = b / a;
        assert!(ratio <= 2.2, "{what} grew {ratio:.2}x from N to 2N ({n:?} -> {n2:?})");
    }
}

#[test]
fn terraform_work_grows_linearly() {
    assert_linear(Format::Terraform);
}

#[test]
fn cloudformation_work_grows_linearly() {
    assert_linear(Format::CloudFormation);
}

/// Reach on the many-users → few-roles shape (capabilities.md, Access through other
/// principals): a tenth as many assumable roles as principals, every user allowed to assume
/// one, and some roles that may attach policies to themselves. The requests (decisions plus
/// steps plus the changed principals), the entries (`access` and `indirect`) and the
/// findings grow with the estate, not with principals × roles.
#[test]
fn reach_work_grows_linearly() {
    let at = |principals: usize, tables: usize, files: usize| {
        work_with(
            Format::Terraform,
            Options {
                principals,
                tables,
                files,
                seed: 7,
                assumable: principals / 10,
                iam_writers: principals / 50,
            },
        )
    };
    let n = at(300, 120, 12);
    let n2 = at(600, 240, 24);
    for (what, a, b) in [
        ("IAM requests", n.requests, n2.requests),
        ("entries", n.entries, n2.entries),
        ("findings", n.findings, n2.findings),
    ] {
        assert!(a > 0.0, "{what}: nothing at N ({n:?})");
        let ratio = b / a;
        assert!(ratio <= 2.2, "{what} grew {ratio:.2}x from N to 2N ({n:?} -> {n2:?})");
    }
}

/// The report of `check --format json` on a generated estate.
fn report_on(format: Format, opts: Options) -> Value {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), format, &opts).unwrap_or_else(|e| panic!("cannot generate: {e}"));
    let out = common::kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "."])
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report: {e}"))
}

/// One SLR per account (capabilities.md): an estate that declares the replication role
/// several times (the generator: one declaration per 100 tables) has one role with every
/// declaration listed, at most one `create-slr` and one `delete-slr` entry (direct or
/// indirect) and one KDS004 per principal, and KDS005 once per unprotected declaration.
#[test]
fn slr_entries_and_findings_are_at_most_one_per_principal() {
    use std::collections::BTreeMap;
    for format in [Format::Terraform, Format::CloudFormation] {
        let opts = Options {
            principals: 300,
            tables: 420,
            files: 12,
            seed: 7,
            assumable: 30,
            iam_writers: 6,
        };
        let report = report_on(format, opts);
        let slrs = report["service_linked_roles"].as_array().cloned().unwrap_or_default();
        assert_eq!(slrs.len(), 1, "{format:?}: {slrs:?}");
        let declarations = slrs[0]["declarations"].as_array().map_or(0, Vec::len);
        assert_eq!(declarations, 4, "{format:?}: one declaration per 100 tables");
        let mut per: BTreeMap<(String, String), usize> = BTreeMap::new();
        for section in ["access", "indirect"] {
            for e in report[section].as_array().into_iter().flatten() {
                if let Some(resource) = e.get("resource") {
                    assert_eq!(resource, &slrs[0]["id"], "{format:?}: {e}");
                    // One direct entry, and one indirect where a path beats it.
                    let key = (format!("{section} {}", e["principal"]), e["capability"].to_string());
                    *per.entry(key).or_default() += 1;
                }
            }
        }
        assert!(
            per.len() > 10,
            "{format:?}: too few SLR entries to count ({})",
            per.len()
        );
        assert!(per.values().all(|n| *n == 1), "{format:?}: {per:?}");
        let findings: Vec<&Value> = report["findings"].as_array().into_iter().flatten().collect();
        let mut kds004: BTreeMap<String, usize> = BTreeMap::new();
        for f in findings.iter().filter(|f| f["rule"] == "KDS004") {
            *kds004.entry(f["principal"].to_string()).or_default() += 1;
        }
        assert!(!kds004.is_empty(), "{format:?}: the estate has SLR deleters");
        assert!(kds004.values().all(|n| *n == 1), "{format:?}: {kds004:?}");
        assert_eq!(
            kds004.len(),
            slrs[0]["deletable_by"].as_array().map_or(0, Vec::len),
            "{format:?}: one KDS004 per deleter"
        );
        let kds005 = findings.iter().filter(|f| f["rule"] == "KDS005").count();
        assert!((1..=declarations).contains(&kds005), "{format:?}: {kds005} KDS005");
    }
}
