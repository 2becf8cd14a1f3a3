//! Faults seen on real-world templates (issue 13), each pinned through the binary on a
//! small fixture of `testdata/realworld/<case>/`.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::{access, check_json};
use serde_json::Value;

const SLR: &str = "slr:kinesisreplication.dynamodb.amazonaws.com";

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

/// The rules of the findings about a principal.
fn rules_for(report: &Value, principal: &str) -> Vec<String> {
    items(report, "findings")
        .into_iter()
        .filter(|f| f["principal"] == principal || f["message"].as_str().is_some_and(|m| m.contains(principal)))
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
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
    assert_eq!(
        decision(&report, &app, "disable", "*"),
        "allowed",
        "{}",
        report["access"]
    );
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

#[test]
fn an_unknown_boundary_restricts_but_never_grants() {
    let input = "testdata/realworld/unknown_boundary";
    let (report, _) = check_json(&[input]);
    let storage = format!("{input}#aws_iam_role.storage");
    let operator = format!("{input}#aws_iam_role.operator");
    // The role whose policies grant only s3:* has no access at all, and no finding.
    assert!(
        entries_of(&report, &storage).is_empty(),
        "{:?}",
        entries_of(&report, &storage)
    );
    for rule in ["KDS003", "KDS004", "KDS012"] {
        assert!(
            !rules_for(&report, &storage).iter().any(|r| r == rule),
            "{rule} for {storage}: {}",
            report["findings"]
        );
    }
    assert!(
        !slr(&report)["deletable_by"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p == &Value::String(storage.clone())),
        "{}",
        slr(&report)
    );
    assert_ne!(slr(&report)["status"], "unprotected", "{}", slr(&report));
    // The role granted disable directly is capped by the unknown boundary: conditional, and
    // the conditions name the boundary.
    let entry = access(&report, &operator, "disable", "*");
    let entry = entry
        .first()
        .unwrap_or_else(|| panic!("no disable entry: {}", report["access"]));
    assert_eq!(entry["decision"], "conditional", "{entry}");
    let conditions = entry["conditions"].as_array().cloned().unwrap_or_default();
    assert!(
        conditions.iter().any(|c| c["unknown"]
            .as_str()
            .is_some_and(|u| u.contains("permissions boundary") && u.contains("var.boundary_arn"))),
        "{entry}"
    );
    assert_eq!(
        entries_of(&report, &operator).len(),
        1,
        "{:?}",
        entries_of(&report, &operator)
    );
}

#[test]
fn module_instances_that_share_a_role_name_each_keep_their_attachment() {
    let input = "testdata/realworld/module_instances";
    let (report, _) = check_json(&[input]);
    assert_eq!(items(&report, "errors").len(), 0, "{}", report["errors"]);
    let deletable_by: Vec<&Value> = slr(&report)["deletable_by"].as_array().into_iter().flatten().collect();
    for m in ["a", "b", "c"] {
        let role = format!("{input}#module.{m}.aws_iam_role.role");
        // AdministratorAccess reaches each instance's own role.
        for capability in ["enable", "disable", "update", "describe"] {
            assert_eq!(
                decision(&report, &role, capability, "*"),
                "allowed",
                "{role} {capability}: {}",
                report["access"]
            );
        }
        assert_eq!(decision(&report, &role, "delete-slr", SLR), "allowed", "{role}");
        assert!(
            rules_for(&report, &role).iter().any(|r| r == "KDS004"),
            "no KDS004 for {role}: {}",
            report["findings"]
        );
        assert!(
            deletable_by.contains(&&Value::String(role.clone())),
            "{role}: {deletable_by:?}"
        );
    }
    assert_eq!(deletable_by.len(), 3, "{deletable_by:?}");
    assert_eq!(slr(&report)["status"], "unprotected");
}

#[test]
fn an_invalid_json_policy_file_is_a_located_load_error() {
    let input = "testdata/realworld/invalid_json_policy";
    let (report, code) = check_json(&[input]);
    assert_eq!(code, 2, "a load error exits 2");
    let errors = items(&report, "errors");
    let at = |file: &str| {
        errors
            .iter()
            .find(|e| e["file"] == format!("{input}/{file}"))
            .map(|e| (e["line"].as_u64().unwrap_or(0), e["column"].as_u64().unwrap_or(0)))
            .unwrap_or_else(|| panic!("no error in {file}: {errors:?}"))
    };
    // policy.tpl: the comma missing at the end of the `Action` line.
    let action_line = common::lines_with(std::path::Path::new(&format!("{input}/policy.tpl")), "\"Action\"");
    assert_eq!(at("policy.tpl"), (action_line[0] as u64, 63));
    // trailing.json: the trailing comma after `Resource`.
    let resource_line = common::lines_with(std::path::Path::new(&format!("{input}/trailing.json")), "\"Resource\"");
    assert_eq!(at("trailing.json"), (resource_line[0] as u64, 22));
    assert_eq!(errors.len(), 2, "{errors:?}");
    // The rest is still analysed: the policies are unknown for the role they are attached to.
    let reader = format!("{input}#aws_iam_role.reader");
    let entry = access(&report, &reader, "disable", "*");
    let entry = entry.first().unwrap_or_else(|| panic!("{}", report["access"]));
    assert_eq!(entry["decision"], "conditional");
    let conditions = entry["conditions"].to_string();
    assert!(
        conditions.contains("policy.tpl") && conditions.contains("trailing.json"),
        "{conditions}"
    );
}

#[test]
fn aws_iam_policy_data_sources_resolve_to_the_catalogued_policy() {
    let input = "testdata/realworld/data_managed_policy";
    let (report, _) = check_json(&[input]);
    assert_eq!(items(&report, "errors").len(), 0, "{}", report["errors"]);
    let by_name = format!("{input}#aws_iam_role.by_name");
    let by_arn = format!("{input}#aws_iam_role.by_arn");
    let copied = format!("{input}#aws_iam_role.copied");
    // AmazonDynamoDBFullAccess by name (with AWSLambdaBasicExecutionRole beside it, which
    // holds no replication access) and by its document copied inline: disable is allowed,
    // with nothing left open.
    for role in [&by_name, &copied] {
        let entry = access(&report, role, "disable", "*");
        let entry = entry.first().unwrap_or_else(|| panic!("{role}: {}", report["access"]));
        assert_eq!(entry["decision"], "allowed", "{entry}");
        assert_eq!(entry["conditions"], serde_json::json!([]), "{entry}");
    }
    // AdministratorAccess by ARN: everything, including deleting the SLR.
    assert_eq!(decision(&report, &by_arn, "delete-slr", SLR), "allowed");
    // Nothing is unresolved.
    assert!(
        !items(&report, "findings").iter().any(|f| f["rule"] == "KDS012"),
        "{}",
        report["findings"]
    );
}

#[test]
fn simulate_needs_the_key_policy_for_a_kms_request_on_a_key() {
    let dir = "testdata/realworld/kms_simulate";
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let identity = format!("{dir}/identity.json");
    let simulate = |extra: &[&str]| {
        let mut args = vec![
            "simulate",
            "--policy",
            &identity,
            "--action",
            "kms:Decrypt",
            "--resource",
            key,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let r = common::run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    // The identity policy alone allows kms:Decrypt on any key, but no key policy is given.
    let alone = simulate(&[]);
    assert_eq!(alone["decision"], "not_allowed", "{alone}");
    assert!(
        alone["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r.as_str().is_some_and(|r| r.contains("key policy is missing"))),
        "{alone}"
    );
    // A key policy that delegates to IAM through the account root lets it through.
    let key_policy = format!("{dir}/key_policy.json");
    let delegated = simulate(&["--resource-policy", &key_policy]);
    assert_eq!(delegated["decision"], "allowed", "{delegated}");
}
