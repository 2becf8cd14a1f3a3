//! The walking skeleton's acceptance: the demo, in Terraform and in CloudFormation, gives
//! the same decisions, findings at the right lines, and the exit codes of semantics.md.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const TF: &str = "testdata/demo/terraform";
const CFN: &str = "testdata/demo/cloudformation/template.yaml";

fn decision(report: &Value, role: &str, capability: &str, table: &str) -> Option<Value> {
    let p = principal_named(report, role);
    let r = if table == "slr" {
        report["service_linked_roles"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    } else {
        resource_named(report, table)
    };
    let found = access(report, &p, capability, &r);
    assert!(
        found.len() <= 1,
        "duplicate access entries for {role} {capability} {table}"
    );
    found.first().map(|a| (*a).clone())
}

fn assert_demo_decisions(path: &str) {
    let (report, code) = check_json(&[path]);
    assert_eq!(code, 1, "findings at warning or above make the exit code 1");
    assert_eq!(report["schema"], "kdsguard.report/v2");

    // Example 1: enable on Music is a partial grant; create-slr is allowed.
    let e1 = decision(&report, "kds-enable-music", "enable", "Music")
        .unwrap_or_else(|| panic!("no enable entry for example 1 in {path}"));
    assert_eq!(e1["decision"], "not_allowed");
    assert_eq!(
        e1["missing"],
        serde_json::json!(["kinesis:ListStreams", "kinesis:PutRecords", "kinesis:DescribeStream"])
    );
    let slr = decision(&report, "kds-enable-music", "create-slr", "slr")
        .unwrap_or_else(|| panic!("no create-slr entry in {path}"));
    assert_eq!(slr["decision"], "allowed");
    assert!(decision(&report, "kds-enable-music", "delete-slr", "slr").is_none());

    // Example 2: disable on Music allowed; nothing on Orders.
    let e2 = decision(&report, "kds-disable-music", "disable", "Music")
        .unwrap_or_else(|| panic!("no disable entry in {path}"));
    assert_eq!(e2["decision"], "allowed");
    assert!(decision(&report, "kds-disable-music", "disable", "Orders").is_none());
    assert!(decision(&report, "kds-disable-music", "enable", "Music").is_none());

    // Example 3: disable on Orders denied, through the Deny statement.
    let e3 = decision(&report, "kds-selective", "disable", "Orders")
        .unwrap_or_else(|| panic!("no disable/Orders entry in {path}"));
    assert_eq!(e3["decision"], "denied");
    assert_eq!(e3["because"][0]["effect"], "Deny");
    assert!(decision(&report, "kds-selective", "disable", "Music").is_none());
    let d3 = decision(&report, "kds-selective", "describe", "Music")
        .unwrap_or_else(|| panic!("no describe entry in {path}"));
    assert_eq!(d3["decision"], "not_allowed");
    assert_eq!(
        d3["missing"],
        serde_json::json!(["kinesis:DescribeStreamSummary", "kinesis:DescribeStream"])
    );

    // The ops admin can delete the SLR; the SLR is unprotected.
    let ops =
        decision(&report, "ops-admin", "delete-slr", "slr").unwrap_or_else(|| panic!("no delete-slr entry in {path}"));
    assert_eq!(ops["decision"], "allowed");
    assert_eq!(report["service_linked_roles"][0]["status"], "unprotected");
}

#[test]
fn terraform_demo_decisions() {
    assert_demo_decisions(TF);
}

#[test]
fn cloudformation_demo_decisions() {
    assert_demo_decisions(CFN);
}

/// The findings of one rule as (file, line).
fn findings_of(report: &Value, rule: &str) -> Vec<(String, usize)> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or(0) as usize,
            )
        })
        .collect()
}

#[test]
fn terraform_findings_point_at_the_granting_statement_and_the_slr() {
    let (report, _) = check_json(&[TF]);
    let iam = "testdata/demo/terraform/iam.tf";
    let kds001 = findings_of(&report, "KDS001");
    // Example 1's Enable statement opens at the `{` three lines above its action.
    let enable_stmt = lines_with(Path::new(iam), "\"dynamodb:EnableKinesisStreamingDestination\"")[0] - 3;
    assert!(
        kds001.contains(&(iam.to_string(), enable_stmt)),
        "{kds001:?} lacks {iam}:{enable_stmt}"
    );
    // Example 3's statement block.
    let selective = lines_with(Path::new(iam), "statement {")[1];
    assert!(
        kds001.contains(&(iam.to_string(), selective)),
        "{kds001:?} lacks {iam}:{selective}"
    );
    let kds005 = findings_of(&report, "KDS005");
    let main = "testdata/demo/terraform/main.tf";
    let slr_line = lines_with(Path::new(main), "resource \"aws_iam_service_linked_role\"")[0];
    assert_eq!(kds005, vec![(main.to_string(), slr_line)]);
    let kds004 = findings_of(&report, "KDS004");
    assert_eq!(kds004.len(), 1, "{kds004:?}");
}

#[test]
fn cloudformation_findings_point_at_the_granting_statement_and_the_slr() {
    let (report, _) = check_json(&[CFN]);
    let kds001 = findings_of(&report, "KDS001");
    let lines = lines_with(Path::new(CFN), "- dynamodb:EnableKinesisStreamingDestination");
    // The statement starts at its `- Effect: Allow` line, two lines above the action.
    let expected: Vec<(String, usize)> = lines.iter().map(|l| (CFN.to_string(), l - 2)).collect();
    for e in &expected {
        assert!(kds001.contains(e), "{kds001:?} lacks {e:?}");
    }
    let slr_line = lines_with(Path::new(CFN), "KdsServiceLinkedRole:")[0];
    assert_eq!(findings_of(&report, "KDS005"), vec![(CFN.to_string(), slr_line)]);
}

#[test]
fn the_whole_demo_has_one_slr_declared_twice_and_one_kds004_per_deleter() {
    // The Terraform and the CloudFormation half each declare the replication role: one
    // account, so one role with two declaring places (capabilities.md, "One per account").
    let (report, _) = check_json(&["testdata/demo"]);
    let slrs = report["service_linked_roles"].as_array().cloned().unwrap_or_default();
    assert_eq!(slrs.len(), 1, "{slrs:?}");
    let declarations: Vec<(String, u64)> = slrs[0]["declarations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let main = "testdata/demo/terraform/main.tf";
    let tf_line = lines_with(Path::new(main), "resource \"aws_iam_service_linked_role\"")[0] as u64;
    let cfn_line = lines_with(Path::new(CFN), "KdsServiceLinkedRole:")[0] as u64;
    assert_eq!(
        declarations,
        vec![(CFN.to_string(), cfn_line), (main.to_string(), tf_line)],
        "declarations in input order"
    );
    // The role's id is its first declaration's, and every SLR entry is on it.
    let id = slrs[0]["id"].as_str().unwrap_or_default();
    assert_eq!(id, format!("{CFN}#KdsServiceLinkedRole"));
    let slr_entries: Vec<&Value> = report["access"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a.get("resource").is_some())
        .collect();
    assert!(!slr_entries.is_empty());
    let mut per_principal: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for a in &slr_entries {
        assert_eq!(a["resource"], id, "{a}");
        *per_principal
            .entry((a["principal"].to_string(), a["capability"].to_string()))
            .or_default() += 1;
    }
    assert!(per_principal.values().all(|n| *n == 1), "{per_principal:?}");
    // Two principals can delete it: two KDS004, not four; KDS005 stays one per declaration.
    let kds004 = findings_of(&report, "KDS004");
    assert_eq!(kds004.len(), 2, "{kds004:?}");
    assert_eq!(slrs[0]["deletable_by"].as_array().map(Vec::len), Some(2));
    let mut kds005 = findings_of(&report, "KDS005");
    kds005.sort();
    assert_eq!(
        kds005,
        vec![
            (CFN.to_string(), cfn_line as usize),
            (main.to_string(), tf_line as usize)
        ]
    );
    // One `slr` resource.
    let slr_resources = report["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["kind"] == "slr")
        .count();
    assert_eq!(slr_resources, 1);
}

#[test]
fn the_human_report_names_the_slr_once_with_its_declarations() {
    let r = run(&["check", "testdata/demo"]);
    let main = "testdata/demo/terraform/main.tf";
    let tf_line = lines_with(Path::new(main), "resource \"aws_iam_service_linked_role\"")[0];
    let cfn_line = lines_with(Path::new(CFN), "KdsServiceLinkedRole:")[0];
    let named = format!("the account's replication role, declared at {CFN}:{cfn_line} and {main}:{tf_line}");
    let status: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("replication role, declared at"))
        .collect();
    assert_eq!(status.len(), 1, "{}", r.stdout);
    assert!(
        status[0].to_lowercase().contains(&named.to_lowercase()),
        "{}",
        status[0]
    );
    assert!(!r.stdout.contains("deploys to"), "{}", r.stdout);
    let md = run(&["check", "--format", "markdown", "testdata/demo"]);
    assert!(
        md.stdout
            .lines()
            .filter(|l| l.contains("replication role, declared at"))
            .count()
            == 1,
        "{}",
        md.stdout
    );
    let who = run(&["query", "who-can", "delete-slr", "testdata/demo"]);
    assert_eq!(
        who.stdout.lines().filter(|l| l.contains("declared at")).count(),
        1,
        "{}",
        who.stdout
    );
}

#[test]
fn exit_code_is_zero_on_a_clean_fixture() {
    let r = run(&["check", "testdata/clean"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn a_broken_file_gives_exit_2_with_its_position_and_the_rest_is_still_reported() {
    let r = run(&["check", "--format", "json", "testdata/broken"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("testdata/broken/broken.yaml:"),
        "stderr: {}",
        r.stderr
    );
    let report = r.json();
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["file"], "testdata/broken/broken.yaml");
    assert!(errors[0]["line"].as_u64().unwrap_or(0) >= 6, "{errors:?}");
    // The other template is analysed in full.
    assert!(
        report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["rule"] == "KDS004"),
        "{}",
        report["findings"]
    );
}

#[test]
fn a_missing_path_is_exit_2() {
    let r = run(&["check", "testdata/does-not-exist"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("testdata/does-not-exist"), "{}", r.stderr);
}

#[test]
fn bad_usage_is_exit_2() {
    let r = run(&["check", "--format", "xml"]);
    assert_eq!(r.code, 2);
}

#[test]
fn fail_on_error_ignores_warnings() {
    // The KDS001 fixture has only a warning.
    let r = run(&["check", "--fail-on", "error", "testdata/rules/KDS001/bad"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = run(&["check", "--fail-on", "warning", "testdata/rules/KDS001/bad"]);
    assert_eq!(r.code, 1);
}

#[test]
fn json_output_is_byte_identical_across_runs_and_thread_counts() {
    let args = ["check", "--format", "json", "testdata/demo"];
    let one = run_env(&args, &[("RAYON_NUM_THREADS", "1")]);
    let two = run_env(&args, &[("RAYON_NUM_THREADS", "4")]);
    let three = run_env(&args, &[("RAYON_NUM_THREADS", "4")]);
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(two.stdout, three.stdout);
}

#[test]
fn human_report_of_one_kds001_finding() {
    let r = run(&["check", "testdata/rules/KDS001/bad/template.yaml"]);
    insta::assert_snapshot!("kds001_human", r.stdout);
}

#[test]
fn every_fixture_together_gives_the_same_json_in_any_thread_count() {
    let args = ["check", "--format", "json", "testdata"];
    let one = run_env(&args, &[("RAYON_NUM_THREADS", "1")]);
    let many = run_env(&args, &[("RAYON_NUM_THREADS", "3")]);
    assert!(one.stdout.len() > 10_000, "{}", one.stderr);
    assert_eq!(one.code, many.code);
    assert!(
        one.stdout == many.stdout,
        "the JSON report differs between 1 and 3 threads"
    );
}
