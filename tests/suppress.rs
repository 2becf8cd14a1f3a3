//! Suppressions through the binary: KDS014 in each of its cases, where a comment may stand
//! (the finding's line, the line above, the statement's first line, a trailing comment),
//! and KDS014 findings in every output format.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const BAD: &str = "testdata/rules/KDS014/bad";

fn findings(report: &Value, rule: &str) -> Vec<(u64, String)> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["line"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The KDS014 message at the line of the fixture that contains `text`.
fn problem_at(text: &str) -> String {
    let line = lines_with(Path::new(&format!("{BAD}/main.tf")), text)[0] as u64;
    let (report, _) = check_json(&[BAD]);
    findings(&report, "KDS014")
        .into_iter()
        .find(|(l, _)| *l == line)
        .map(|(_, m)| m)
        .unwrap_or_else(|| panic!("no KDS014 at line {line}: {}", report["findings"]))
}

#[test]
fn kds014_no_reason() {
    assert!(problem_at("kdsguard:ignore KDS004").contains("has no `reason:`"));
}

#[test]
fn kds014_expired() {
    assert!(problem_at("expires: 2020-01-01").contains("expired on 2020-01-01"));
}

#[test]
fn kds014_unknown_rule() {
    assert!(problem_at("KDS099").contains("unknown rule `KDS099`"));
}

#[test]
fn kds014_near_spelling_names_the_canonical_one_and_still_works() {
    let m = problem_at("kdsguard-ignore KDS003");
    assert!(
        m.contains("`kdsguard-ignore`") && m.contains("write `kdsguard:ignore`"),
        "{m}"
    );
    let (report, _) = check_json(&[BAD]);
    assert!(
        findings(&report, "KDS003").is_empty(),
        "the near-spelling suppresses KDS003"
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(root().join(BAD).join("main.tf")).unwrap_or_default();
    let text = text.replace("kdsguard-ignore KDS003", "kdsguard: ignore KDS003");
    std::fs::write(dir.path().join("main.tf"), text).unwrap_or_else(|e| panic!("{e}"));
    let (report, _) = check_json(&[&dir.path().to_string_lossy()]);
    let msgs = findings(&report, "KDS014");
    assert!(
        msgs.iter()
            .any(|(_, m)| m.contains("`kdsguard: ignore` is not the canonical")),
        "{msgs:?}"
    );
}

#[test]
fn kds014_suppressing_nothing() {
    assert!(problem_at("enable-incomplete reason").contains("unused suppression: no enable-incomplete finding"));
}

#[test]
fn a_trailing_comment_on_the_statement_suppresses_it() {
    let (report, _) = check_json(&["testdata/rules/KDS014/good"]);
    assert!(findings(&report, "KDS005").is_empty(), "{}", report["findings"]);
    let reasons: Vec<&str> = report["suppressed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"the account's baseline stack owns the role"),
        "{reasons:?}"
    );
}

#[test]
fn a_comment_inside_the_statement_or_above_it_suppresses_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(root().join("testdata/rules/KDS004/bad/main.tf")).unwrap_or_default();
    let inside = text.replace(
        "Action   = [\"iam:*\"]",
        "Action   = [\"iam:*\"] # kdsguard:ignore KDS004,KDS003 reason: reviewed",
    );
    std::fs::write(dir.path().join("main.tf"), inside).unwrap_or_else(|e| panic!("{e}"));
    let (report, _) = check_json(&[&dir.path().to_string_lossy()]);
    assert!(findings(&report, "KDS004").is_empty(), "{}", report["findings"]);
    assert!(findings(&report, "KDS014").is_empty(), "{}", report["findings"]);
}

#[test]
fn kds014_flows_through_every_output() {
    let r = run(&["check", "--format", "concise", BAD]);
    assert!(
        r.stdout.lines().filter(|l| l.contains(": KDS014 warning: ")).count() >= 5,
        "{}",
        r.stdout
    );
    let r = run(&["check", BAD]);
    assert!(
        r.stdout
            .contains("── KDS014 suppression-problem · warning · 5 findings"),
        "{}",
        r.stdout
    );
    let r = run(&["check", "--format", "sarif", BAD]);
    assert!(r.stdout.contains("\"ruleId\":\"KDS014\"") || r.stdout.contains("\"ruleId\": \"KDS014\""));
    let r = run(&["check", "--format", "github", BAD]);
    assert!(r.stdout.contains("KDS014"), "{}", r.stdout);
    // A config can turn it off like any rule.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("kdsguard.toml");
    std::fs::write(&config, "[rules]\nsuppression-problem = \"off\"\n").unwrap_or_else(|e| panic!("{e}"));
    let (report, _) = check_json(&["--config", &config.to_string_lossy(), BAD]);
    assert!(findings(&report, "KDS014").is_empty());
}

#[test]
fn a_comment_on_the_statements_first_line_covers_a_finding_deeper_in_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(root().join("testdata/rules/KDS010/bad/template.yaml")).unwrap_or_default();
    // The KDS010 finding is the action string, two lines below the statement's first line.
    let on_first_line = text.replacen(
        "- Effect: Allow",
        "- Effect: Allow # kdsguard:ignore KDS010 reason: the typo is kept for a test",
        1,
    );
    std::fs::write(dir.path().join("template.yaml"), on_first_line).unwrap_or_else(|e| panic!("{e}"));
    let (report, _) = check_json(&[&dir.path().to_string_lossy()]);
    assert!(findings(&report, "KDS010").is_empty(), "{}", report["findings"]);
    assert!(findings(&report, "KDS014").is_empty(), "{}", report["findings"]);
    assert_eq!(report["suppressed"].as_array().map_or(0, Vec::len), 1);
}
