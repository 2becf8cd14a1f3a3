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

/// `text` written as `file` into a fresh folder; `check --format json` on it.
fn check_text(file: &str, text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join(file), text).unwrap_or_else(|e| panic!("{e}"));
    check_json(&[&dir.path().to_string_lossy()]).0
}

/// The KDS004 fixture with `comment` (one or more lines) inserted above the block that
/// grants the deletion (`aws_iam_role_policy.platform`), whose finding is eight lines down.
fn kds004_with_comment_above_the_block(comment: &str) -> Value {
    let text = std::fs::read_to_string(root().join("testdata/rules/KDS004/bad/main.tf")).unwrap_or_default();
    let block = "resource \"aws_iam_role_policy\" \"platform\" {";
    assert!(text.contains(block), "the fixture changed");
    check_text("main.tf", &text.replace(block, &format!("{comment}\n{block}")))
}

fn suppressed(report: &Value) -> Vec<(String, String)> {
    report["suppressed"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["rule"].as_str().unwrap_or("").to_string(),
                s["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_comment_above_a_terraform_block_covers_the_findings_inside_it() {
    let report = kds004_with_comment_above_the_block("# kdsguard:ignore KDS004 reason: break-glass role");
    assert!(findings(&report, "KDS004").is_empty(), "{}", report["findings"]);
    assert!(findings(&report, "KDS014").is_empty(), "{}", report["findings"]);
    assert_eq!(
        suppressed(&report),
        [("KDS004".to_string(), "break-glass role".to_string())]
    );
    // KDS003 sits at the same statement and is not named: it stays.
    assert_eq!(findings(&report, "KDS003").len(), 1, "{}", report["findings"]);
}

#[test]
fn every_line_of_a_stacked_comment_block_is_read() {
    let report = kds004_with_comment_above_the_block(
        "# kdsguard:ignore KDS003 reason: creates roles for other services too\n\
         // kdsguard:ignore slr-deletable reason: break-glass role\n\
         # Owned by the platform team.",
    );
    for rule in ["KDS003", "KDS004", "KDS014"] {
        assert!(findings(&report, rule).is_empty(), "{rule}: {}", report["findings"]);
    }
    assert_eq!(suppressed(&report).len(), 2, "{}", report["suppressed"]);
}

#[test]
fn reason_and_expiry_may_continue_on_the_next_comment_lines() {
    let report = kds004_with_comment_above_the_block(
        "# kdsguard:ignore KDS004,KDS003\n#   reason: break-glass role\n#   expires: 2020-01-01",
    );
    // The expiry on the third line is read: the suppression has expired.
    let problems = findings(&report, "KDS014");
    assert!(
        problems.iter().any(|(_, m)| m.contains("expired on 2020-01-01")),
        "{problems:?}"
    );
    assert_eq!(findings(&report, "KDS004").len(), 1);
    let report = kds004_with_comment_above_the_block("# kdsguard:ignore KDS004 KDS003\n#   reason: break-glass role");
    assert!(findings(&report, "KDS014").is_empty(), "{}", report["findings"]);
    assert_eq!(
        suppressed(&report),
        [
            ("KDS003".to_string(), "break-glass role".to_string()),
            ("KDS004".to_string(), "break-glass role".to_string())
        ]
    );
}

#[test]
fn a_comment_not_directly_above_the_block_covers_nothing_and_is_reported() {
    let report = kds004_with_comment_above_the_block("# kdsguard:ignore KDS004 reason: break-glass role\n");
    assert_eq!(findings(&report, "KDS004").len(), 1, "{}", report["findings"]);
    let problems = findings(&report, "KDS014");
    assert!(
        problems
            .iter()
            .any(|(_, m)| m == "unused suppression: no KDS004 finding here"),
        "{problems:?}"
    );
    // Above the right block but naming a rule that does not fire inside it.
    let report = kds004_with_comment_above_the_block("# kdsguard:ignore KDS010 reason: no such finding");
    assert!(
        findings(&report, "KDS014")
            .iter()
            .any(|(_, m)| m == "unused suppression: no KDS010 finding here"),
        "{}",
        report["findings"]
    );
}

const CFN_DELETER: &str = "AWSTemplateFormatVersion: \"2010-09-09\"
Resources:
  COMMENT
  Cleanup:TRAILING
    Type: AWS::IAM::User
    Properties:
      UserName: cleanup-bot
      Policies:
        - PolicyName: delete-slrs
          PolicyDocument:
            Version: \"2012-10-17\"
            Statement:
              - Effect: Allow
                Action:
                  - iam:DeleteServiceLinkedRole
                  - iam:CreateServiceLinkedRole
                Resource: \"*\"
";

#[test]
fn a_comment_above_a_cloudformation_logical_id_covers_the_resource() {
    let bare = check_text("t.yaml", &CFN_DELETER.replace("COMMENT", "").replace("TRAILING", ""));
    assert_eq!(findings(&bare, "KDS004").len(), 1, "{}", bare["findings"]);
    assert_eq!(findings(&bare, "KDS003").len(), 1, "{}", bare["findings"]);
    let stacked = CFN_DELETER
        .replace(
            "COMMENT",
            "# kdsguard:ignore slr-deletable reason: cleans up roles of deleted services\n  # kdsguard:ignore KDS003 reason: creates roles for other services",
        )
        .replace("TRAILING", "");
    let report = check_text("t.yaml", &stacked);
    for rule in ["KDS003", "KDS004", "KDS014"] {
        assert!(findings(&report, rule).is_empty(), "{rule}: {}", report["findings"]);
    }
    let trailing = CFN_DELETER
        .replace("COMMENT", "")
        .replace("TRAILING", " # kdsguard:ignore KDS004 reason: on the logical id's line");
    let report = check_text("t.yaml", &trailing);
    assert!(findings(&report, "KDS004").is_empty(), "{}", report["findings"]);
    assert_eq!(findings(&report, "KDS003").len(), 1, "{}", report["findings"]);
}

#[test]
fn json_templates_suppress_through_resource_metadata() {
    let template = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Cleanup": {
      "Type": "AWS::IAM::User",
      "Metadata": {"kdsguard": {"ignore": [{"rules": ["KDS004", "slr-create-unscoped"], "reason": "cleans up roles"}]}},
      "Properties": {
        "UserName": "cleanup-bot",
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Action": ["iam:DeleteServiceLinkedRole", "iam:CreateServiceLinkedRole"], "Resource": "*"}]}}]
      }
    }
  }
}
"#;
    let report = check_text("t.json", template);
    for rule in ["KDS003", "KDS004", "KDS014"] {
        assert!(findings(&report, rule).is_empty(), "{rule}: {}", report["findings"]);
    }
    assert_eq!(suppressed(&report).len(), 2, "{}", report["suppressed"]);
}
