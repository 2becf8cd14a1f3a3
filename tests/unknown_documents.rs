//! Issue 19, item 3, through the binary: a policy whose document cannot be read may hold a
//! Deny. Every decision it applies to is at best `conditional`, naming it, with one KDS012
//! per unknown value; it never denies, and no reach step through it is `allowed`.
#![allow(clippy::panic)] // a failing test panics with what it saw

mod common;

use common::*;
use serde_json::Value;

fn check(fixture: &str) -> Value {
    let path = format!("testdata/unknown-deny/{fixture}");
    let r = run(&["check", "--format", "json", &path]);
    assert!(
        r.code == 0 || r.code == 1,
        "check {path} failed ({}):\n{}",
        r.code,
        r.stderr
    );
    r.json()
}

/// The entries (direct and indirect) of one principal and capability.
fn entries<'a>(report: &'a Value, section: &str, principal: &str, capability: &str) -> Vec<&'a Value> {
    report[section]
        .as_array()
        .unwrap_or_else(|| panic!("no {section} array in {report}"))
        .iter()
        .filter(|a| a["principal"] == principal && a["capability"] == capability)
        .collect()
}

/// The unknown expressions an entry's conditions name.
fn unknowns(entry: &Value) -> Vec<String> {
    entry["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["unknown"].as_str().map(str::to_string))
        .collect()
}

/// The KDS012 findings, as (line, message).
fn kds012(report: &Value) -> Vec<(u64, String)> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "KDS012")
        .map(|f| {
            (
                f["line"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn both_unknown_documents_leave_disable_conditional_naming_each() {
    let r = check("both");
    let ops = "testdata/unknown-deny/both#aws_iam_role.ops";
    let disable = entries(&r, "access", ops, "disable");
    assert_eq!(disable.len(), 1, "{disable:?}");
    assert_eq!(disable[0]["decision"], "conditional", "{}", disable[0]);
    let named = unknowns(disable[0]);
    for var in ["var.scp_json", "var.extra"] {
        assert!(named.iter().any(|u| u.starts_with(var)), "{var} not named in {named:?}");
    }
    // The readable Allow still proves the grant.
    assert!(
        disable[0]["because"].as_array().is_some_and(|b| b
            .iter()
            .any(|s| s["action"] == "dynamodb:DisableKinesisStreamingDestination")),
        "{}",
        disable[0]
    );
    // One KDS012 per unknown value (not per decision), at the value to pin.
    let notes = kds012(&r);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes.iter().any(|(line, m)| *line == 7 && m.contains("var.scp_json")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|(line, m)| *line == 24 && m.contains("var.extra")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|(_, m)| m.contains("aws_iam_role.ops disable")),
        "{notes:?}"
    );
}

#[test]
fn an_unknown_scp_alone_keeps_every_decision_from_allowed() {
    let r = check("scp-only");
    let access = r["access"].as_array().unwrap_or_else(|| panic!("no access in {r}"));
    assert!(!access.is_empty(), "{r}");
    for a in access {
        assert_ne!(a["decision"], "allowed", "{a}");
        assert_ne!(a["decision"], "denied", "an unknown SCP never denies: {a}");
    }
    let ops = "testdata/unknown-deny/scp-only#aws_iam_role.ops";
    let disable = entries(&r, "access", ops, "disable");
    assert_eq!(disable.len(), 1, "{disable:?}");
    assert_eq!(disable[0]["decision"], "conditional");
    assert!(
        unknowns(disable[0]).iter().any(|u| u.starts_with("var.scp_json")),
        "{}",
        disable[0]
    );
    let notes = kds012(&r);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].0, 6, "{notes:?}");
    assert!(notes[0].1.contains("var.scp_json"), "{notes:?}");
}

#[test]
fn no_reach_step_through_an_unknown_document_is_allowed() {
    let r = check("reach");
    let dev = "testdata/unknown-deny/reach#aws_iam_user.dev";
    for section in ["access", "indirect"] {
        for e in entries(&r, section, dev, "disable") {
            assert_ne!(e["decision"], "allowed", "{section}: {e}");
            for v in e["via"].as_array().into_iter().flatten() {
                assert_ne!(v["decision"], "allowed", "{e}");
            }
        }
    }
    // The user may still disable (directly through the unknown policy, or through ops):
    // unknown never drops a grant.
    let direct = entries(&r, "access", dev, "disable");
    assert_eq!(direct.len(), 1, "{direct:?}");
    assert_eq!(direct[0]["decision"], "conditional");
    assert!(
        unknowns(direct[0]).iter().any(|u| u.starts_with("var.dev_extra")),
        "{}",
        direct[0]
    );
}

#[test]
fn a_trust_policy_that_cannot_be_read_leaves_the_step_conditional() {
    let r = check("trust");
    let dev = "testdata/unknown-deny/trust#aws_iam_user.dev";
    let through = entries(&r, "indirect", dev, "disable");
    assert_eq!(
        through.len(),
        1,
        "the grant through ops is not dropped: {}",
        r["indirect"]
    );
    assert_eq!(through[0]["decision"], "conditional", "{}", through[0]);
    let via = through[0]["via"].as_array().cloned().unwrap_or_default();
    assert_eq!(via.len(), 1, "{via:?}");
    assert_eq!(via[0]["step"], "assume-role");
    assert_eq!(via[0]["decision"], "conditional");
    assert!(
        via[0]["conditions"].as_array().is_some_and(|c| c
            .iter()
            .any(|c| c["unknown"].as_str().is_some_and(|u| u.starts_with("var.trust")))),
        "{}",
        via[0]
    );
}
