//! Faults seen on real-world templates (issue 13), each pinned through the binary on a
//! small fixture of `testdata/realworld/<case>/`.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::{access, check_json};
use serde_json::Value;

fn items<'a>(report: &'a Value, key: &str) -> Vec<&'a Value> {
    report[key].as_array().into_iter().flatten().collect()
}

/// Every access entry of a principal.
fn entries_of<'a>(report: &'a Value, principal: &str) -> Vec<&'a Value> {
    items(report, "access")
        .into_iter()
        .filter(|a| a["principal"] == principal)
        .collect()
}

fn decision(report: &Value, principal: &str, capability: &str, resource: &str) -> String {
    access(report, principal, capability, resource)
        .first()
        .and_then(|a| a["decision"].as_str())
        .unwrap_or("absent")
        .to_string()
}

fn slr(report: &Value) -> &Value {
    items(report, "service_linked_roles")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no SLR in {report}"))
}

#[test]
fn a_null_permissions_boundary_is_no_boundary() {
    let input = "testdata/realworld/null_boundary";
    let (report, _) = check_json(&[input]);
    assert_eq!(items(&report, "errors").len(), 0, "{}", report["errors"]);
    let app = format!("{input}#module.app.aws_iam_role.this");
    let s3 = format!("{input}#module.app.aws_iam_role.s3");
    // No boundary: the role's own grant is certain, and nothing else is granted.
    assert_eq!(decision(&report, &app, "disable", "*"), "allowed", "{}", report["access"]);
    let app_entries = entries_of(&report, &app);
    assert_eq!(app_entries.len(), 1, "{app_entries:?}");
    assert!(entries_of(&report, &s3).is_empty(), "{:?}", entries_of(&report, &s3));
    // Nothing unresolved: no KDS012, no note of an unknown policy, the SLR out of reach.
    assert!(items(&report, "findings").is_empty(), "{}", report["findings"]);
    assert!(
        !report.to_string().contains("policy a null"),
        "a null is taken for a policy somewhere: {report}"
    );
    assert_eq!(slr(&report)["status"], "not_deletable_in_scope");
}
