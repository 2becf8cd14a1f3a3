//! The human report through the binary: snapshots of the demo in each view, and on a
//! generated 300 × 100 estate a report a person can read that still reaches every finding.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::collections::BTreeMap;

use common::estate::{Format, Options, write};
use common::*;

#[test]
fn demo_human_report() {
    let r = run(&["check", "testdata/demo"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!("demo_human", r.stdout);
}

#[test]
fn demo_concise() {
    let r = run(&["check", "--format", "concise", "testdata/demo"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("demo_concise", r.stdout);
    let json = run(&["check", "--format", "json", "testdata/demo"]).json();
    let findings = json["findings"].as_array().map_or(0, Vec::len);
    assert_eq!(r.stdout.lines().count(), findings, "one line per finding");
}

#[test]
fn demo_statistics() {
    let r = run(&["check", "--statistics", "testdata/demo"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("demo_statistics", r.stdout);
}

#[test]
fn demo_quiet() {
    let r = run(&["check", "--quiet", "testdata/demo"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("demo_quiet", r.stdout);
    assert!(
        r.stdout
            .lines()
            .all(|l| l.is_empty() || l.contains(" error: ") || l.contains(" finding"))
    );
}

#[test]
fn findings_are_grouped_by_rule_with_short_excerpts() {
    let r = run(&["check", "testdata/demo"]);
    let headers: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("── KDS")).collect();
    assert_eq!(headers.len(), 6, "{headers:?}");
    assert!(
        headers[0].starts_with("── KDS004 slr-deletable · error · 2 findings"),
        "{headers:?}"
    );
    assert!(r.stdout.contains("more: kdsguard explain KDS004"));
    assert!(!r.stdout.contains("docs/rules/"), "no pointer into the source tree");
    // The principal's declaration is 20 lines above the statement: a note, not an excerpt.
    assert!(
        r.stdout
            .contains("role declared at testdata/demo/cloudformation/template.yaml:52:3")
    );
    assert!(!r.stdout.contains(" 60 │"), "the excerpt is the statement ± 1 line");
    let last = r.stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("18 findings: 4 error(s), 12 warning(s), 2 note(s) (KDS001 4, KDS003 2, KDS004 2"),
        "{last}"
    );
}

#[test]
fn access_summary_and_full_access_section() {
    let r = run(&["check", "testdata/demo"]);
    assert!(
        r.stdout.contains("  disable    2 principals on 2 of 4 declared tables"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("The account's replication role, declared at testdata/demo/cloudformation/template.yaml:46 and testdata/demo/terraform/main.tf:57: 2 principals can delete it"),
        "{}",
        r.stdout
    );
    let full = run(&["check", "--access", "testdata/demo"]);
    assert!(
        full.stdout
            .contains("Access (capability, decision, tables: principals):")
    );
    assert!(
        full.stdout
            .lines()
            .any(|l| l.starts_with("  enable not allowed: missing kinesis:ListStreams")),
        "{}",
        full.stdout
    );
    assert!(!full.stdout.contains("not_allowed"));
}

#[test]
fn severity_filters_what_is_shown_not_the_exit_code() {
    let r = run(&["check", "--severity", "error", "--format", "concise", "testdata/demo"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.lines().count(), 4);
    assert!(r.stdout.lines().all(|l| l.contains(" error: ")));
    let r = run(&[
        "check",
        "--severity",
        "error",
        "--fail-on",
        "note",
        "testdata/rules/KDS007/bad",
    ]);
    assert_eq!(r.code, 1, "a hidden note still fails --fail-on note");
    assert!(!r.stdout.contains("── KDS007"));
    assert!(r.stdout.contains("shown at --severity error"));
}

/// The first backquoted name in a message (the principal, in every per-principal rule).
fn first_quoted(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

#[test]
fn a_300_by_100_estate_stays_readable_and_reaches_every_finding() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let opts = Options {
        principals: 300,
        tables: 100,
        files: 4,
        seed: 7,
        ..Options::default()
    };
    write(dir.path(), Format::Terraform, &opts).unwrap_or_else(|e| panic!("cannot generate: {e}"));
    let run_in = |args: &[&str]| {
        let out = kdsguard()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let human = run_in(&["check", "."]);
    let concise = run_in(&["check", "--format", "concise", "."]);
    let lines = human.lines().count();
    assert!(lines <= 3_000, "{lines} lines");
    // (rule, position) → the findings there, from the concise list (every finding).
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for l in concise.lines() {
        let mut parts = l.splitn(5, ':');
        let (file, line, col, rest) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.collect::<Vec<_>>().join(":"),
        );
        let rule = rest.trim_start().split(' ').next().unwrap_or("").to_string();
        groups
            .entry((rule, format!("{file}:{line}:{col}")))
            .or_default()
            .push(rest);
    }
    assert!(groups.len() > 100, "the estate has many findings: {}", groups.len());
    for ((rule, at), findings) in &groups {
        assert!(human.contains(at), "{rule} at {at} is not in the report");
        let header = human.lines().find(|l| l.starts_with(&format!("── {rule} ")));
        assert!(header.is_some(), "{rule} has no section");
        if let Some(name) = findings.first().and_then(|m| first_quoted(m)) {
            assert!(human.contains(name), "{rule} at {at}: {name} is not named");
        }
    }
    // Every rule's section counts all of its findings.
    for l in human.lines().filter(|l| l.starts_with("── KDS")) {
        let rule = l.split(' ').nth(1).unwrap_or("");
        let n = concise.lines().filter(|c| c.contains(&format!(": {rule} "))).count();
        assert!(l.contains(&format!("· {n} finding")), "{l}: concise lists {n}");
    }
    assert!(
        human.contains(" principals through this statement: "),
        "shared statements are one diagnostic"
    );
}
