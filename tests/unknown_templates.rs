//! Issue 19, the loader side, through the binary: valid Terraform whose templates depend on
//! unknown values loads (exit 1 with its findings, never 2), an empty permissions boundary
//! is no boundary, and KDS006 names an AWS managed policy attached by ARN.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::{access, check_json};
use serde_json::Value;

const SLR: &str = "slr:kinesisreplication.dynamodb.amazonaws.com";

fn items<'a>(report: &'a Value, key: &str) -> Vec<&'a Value> {
    report[key].as_array().into_iter().flatten().collect()
}

/// The one access entry of (principal, capability, resource).
fn entry<'a>(report: &'a Value, principal: &str, capability: &str, resource: &str) -> &'a Value {
    let found = access(report, principal, capability, resource);
    assert_eq!(found.len(), 1, "{principal} {capability}: {}", report["access"]);
    found[0]
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    items(report, "findings")
        .into_iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn an_aft_shaped_template_with_an_unknown_if_loads_and_reads_both_branches() {
    let input = "testdata/unknown_templates/aft_trust";
    let (report, code) = check_json(&[input]);
    assert_eq!(items(&report, "errors").len(), 0, "{}", report["errors"]);
    assert_eq!(code, 1, "findings, not a load error");
    let admin = format!("{input}#aws_iam_role.admin");
    let operator = format!("{input}#aws_iam_role.operator");
    // AdministratorAccess: the admin role deletes the SLR, and KDS004 says so.
    assert_eq!(entry(&report, &admin, "delete-slr", SLR)["decision"], "allowed");
    assert!(
        findings(&report, "KDS004")
            .iter()
            .any(|f| f["principal"] == admin.as_str()),
        "{}",
        report["findings"]
    );
    // The account-root trust statement is read as written: the operator assumes the admin
    // role for certain, through the trust policy's first statement.
    let indirect: Vec<&Value> = items(&report, "indirect")
        .into_iter()
        .filter(|i| i["principal"] == operator.as_str() && i["capability"] == "delete-slr")
        .collect();
    assert_eq!(indirect.len(), 1, "{}", report["indirect"]);
    assert_eq!(indirect[0]["decision"], "allowed", "{}", indirect[0]);
    let step = &indirect[0]["via"][0];
    assert_eq!(step["principal"], admin.as_str());
    assert_eq!(step["decision"], "allowed", "{step}");
    let trust_line = common::lines_with(
        std::path::Path::new(&format!("{input}/trust_policy.tpl")),
        "\"sts:AssumeRole\"",
    )[0];
    assert!(
        step["because"].as_array().into_iter().flatten().any(|b| {
            b["policy"] == "aws_iam_role.admin (trust policy)"
                && b["file"] == format!("{input}/trust_policy.tpl")
                && b["line"].as_u64() == Some(trust_line as u64)
        }),
        "{step}"
    );
    // The statement rendered only when the OIDC provider ARN is set grants only under that
    // condition: conditional, naming the template `if` and the variable behind it.
    let disable = entry(&report, &operator, "disable", "*");
    assert_eq!(disable["decision"], "conditional", "{disable}");
    let conditions = disable["conditions"].to_string();
    assert!(
        conditions.contains("oidc_provider_arn != \\\"\\\"") && conditions.contains("var.oidc_provider_arn"),
        "{conditions}"
    );
    let if_line = common::lines_with(std::path::Path::new(&format!("{input}/operator_policy.tpl")), "%{ if")[0];
    assert_eq!(
        disable["conditions"][0]["line"].as_u64(),
        Some(if_line as u64),
        "{disable}"
    );
}

#[test]
fn an_empty_permissions_boundary_is_no_boundary() {
    let input = "testdata/unknown_templates/empty_boundary";
    let (report, _) = check_json(&[input]);
    assert_eq!(items(&report, "errors").len(), 0, "{}", report["errors"]);
    for principal in ["aws_iam_role.app", "aws_iam_user.ops"] {
        let e = entry(&report, &format!("{input}#{principal}"), "disable", "*");
        assert_eq!(e["decision"], "allowed", "{e}");
        assert_eq!(e["conditions"], serde_json::json!([]), "{e}");
    }
    assert!(findings(&report, "KDS012").is_empty(), "{}", report["findings"]);
}

#[test]
fn kds006_names_an_aws_managed_policy_attached_by_arn_and_its_wildcard() {
    for (input, principal) in [
        ("testdata/unknown_templates/managed_by_arn", "aws_iam_role.etl"),
        ("testdata/unknown_templates/managed_by_arn_cfn", "EtlRole"),
    ] {
        let (report, _) = check_json(&[input]);
        let kds006 = findings(&report, "KDS006");
        assert_eq!(kds006.len(), 1, "{input}: {}", report["findings"]);
        let message = kds006[0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(principal), "{message}");
        assert!(
            message.contains("only through the AWS managed policy AmazonDynamoDBFullAccess (`dynamodb:*`)"),
            "{input}: {message}"
        );
        // Never the attachment's source text.
        for raw in ["resource \"", "count", "{\n", "!Sub", "policy_arn"] {
            assert!(!message.contains(raw), "{input}: {raw:?} in {message}");
        }
    }
}

#[test]
fn pinning_the_variable_behind_a_template_if_decides_the_statement() {
    let input = "testdata/unknown_templates/aft_trust";
    let operator = format!("{input}#aws_iam_role.operator");
    let run = |value: &str| {
        let var = format!("oidc_provider_arn={value}");
        let r = common::run(&["check", "--format", "json", "--var", &var, input]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        r.json()
    };
    // Empty: the branch is not rendered, so nothing grants disable directly.
    let empty = run("");
    assert!(
        access(&empty, &operator, "disable", "*").is_empty(),
        "{}",
        empty["access"]
    );
    // Set: the branch is rendered, and its grant holds for certain.
    let set = run("arn:aws:iam::111122223333:oidc-provider/app.terraform.io");
    assert_eq!(entry(&set, &operator, "disable", "*")["decision"], "allowed");
    for report in [&empty, &set] {
        assert!(findings(report, "KDS012").is_empty(), "{}", report["findings"]);
    }
}
