//! Team workflow through the binary: suppressions (comments and metadata, reasons, expiry,
//! unused), `--no-suppressions`, baselines, guardrails, and the config file.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::*;
use serde_json::Value;

const TODAY: (&str, &str) = ("KDSGUARD_TODAY", "2026-11-26");

fn rules_at(report: &Value) -> Vec<(String, String, u64)> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The KDS014 findings (problems with suppressions) as `file:line: message`.
fn suppression_problems(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "KDS014")
        .map(|f| {
            format!(
                "{}:{}: {}",
                f["file"].as_str().unwrap_or(""),
                f["line"],
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn check(args: &[&str], env: &[(&str, &str)]) -> (Value, i32) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let r = run_env(&all, env);
    (r.json(), r.code)
}

#[test]
fn comment_and_metadata_suppressions_hide_findings_with_their_reasons() {
    let (report, _) = check(&["testdata/suppress"], &[TODAY]);
    let found = rules_at(&report);
    // The break-glass role's KDS004 is suppressed by the comment above its statement.
    assert!(
        !found.iter().any(|(r, f, _)| r == "KDS004" && f.ends_with("main.tf")),
        "{found:?}"
    );
    // The cleanup user's KDS004 is suppressed by its resource metadata (rule named by name).
    let suppressed = report["suppressed"].as_array().cloned().unwrap_or_default();
    let reasons: Vec<&str> = suppressed.iter().filter_map(|s| s["reason"].as_str()).collect();
    assert!(
        reasons.contains(&"break-glass admin, reviewed by security"),
        "{suppressed:?}"
    );
    assert!(
        reasons.contains(&"cleans up service-linked roles of deleted services"),
        "{suppressed:?}"
    );
    // The auditor's KDS004 stays: the template-level suppression expired.
    let auditor = lines_with(
        std::path::Path::new("testdata/suppress/template.yaml"),
        "- Effect: Allow",
    )[1] as u64;
    assert!(
        found.contains(&("KDS004".into(), "testdata/suppress/template.yaml".into(), auditor)),
        "{found:?}"
    );
    let notes = suppression_problems(&report);
    assert!(notes.iter().any(|n| n.contains("expired on 2020-01-01")), "{notes:?}");
}

#[test]
fn a_suppression_without_a_reason_does_not_work_and_says_so() {
    let (report, _) = check(&["testdata/suppress"], &[TODAY]);
    assert!(rules_at(&report).iter().any(|(r, _, _)| r == "KDS005"));
    let line = lines_with(
        std::path::Path::new("testdata/suppress/main.tf"),
        "kdsguard:ignore KDS005",
    )[0];
    let at = format!("main.tf:{line}:");
    assert!(
        suppression_problems(&report)
            .iter()
            .any(|n| n.contains(&at) && n.contains("has no `reason:`")),
        "{:?}",
        suppression_problems(&report)
    );
}

#[test]
fn unused_suppressions_are_reported() {
    let (report, _) = check(&["testdata/suppress"], &[TODAY]);
    let line = lines_with(
        std::path::Path::new("testdata/suppress/main.tf"),
        "kdsguard:ignore KDS001",
    )[0];
    let at = format!("main.tf:{line}:");
    assert!(
        suppression_problems(&report)
            .iter()
            .any(|n| n.contains(&at) && n.contains("unused suppression")),
        "{:?}",
        suppression_problems(&report)
    );
}

#[test]
fn suppressions_expire() {
    let (report, _) = check(&["testdata/suppress/main.tf"], &[("KDSGUARD_TODAY", "2027-02-01")]);
    assert!(
        rules_at(&report)
            .iter()
            .any(|(r, f, _)| r == "KDS004" && f.ends_with("main.tf"))
    );
    assert!(
        suppression_problems(&report)
            .iter()
            .any(|n| n.contains("expired on 2027-01-31")),
        "{:?}",
        suppression_problems(&report)
    );
}

#[test]
fn no_suppressions_reports_everything() {
    let (report, _) = check(&["--no-suppressions", "testdata/suppress"], &[TODAY]);
    let kds004 = rules_at(&report).into_iter().filter(|(r, _, _)| r == "KDS004").count();
    assert_eq!(kds004, 3);
    assert!(report["suppressed"].as_array().is_some_and(|s| s.is_empty()));
}

#[test]
fn baseline_round_trip_survives_moved_code() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let work = dir.path().join("infra");
    std::fs::create_dir_all(&work).unwrap_or_else(|e| panic!("{e}"));
    let original = std::fs::read_to_string(root().join("testdata/rules/KDS004/bad/main.tf")).unwrap_or_default();
    std::fs::write(work.join("main.tf"), &original).unwrap_or_else(|e| panic!("{e}"));
    let baseline = dir.path().join("baseline.json");
    let (b, w) = (
        baseline.to_string_lossy().to_string(),
        work.to_string_lossy().to_string(),
    );

    let r = run(&["check", "--write-baseline", &b, &w]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap_or_default()).unwrap_or_default();
    assert_eq!(written["schema"], "kdsguard.baseline/v1");
    let rules: Vec<&str> = written["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    // iam:* on * can delete the SLR (KDS004) and create any service's SLR (KDS003), and,
    // as it may put policies on itself, enable, disable and update replication (KDS013).
    assert_eq!(rules, ["KDS003", "KDS004", "KDS013", "KDS013", "KDS013"]);

    let r = run(&["check", "--format", "json", "--baseline", &b, &w]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["baselined"], 5);

    // Moving the code (lines inserted above) does not resurrect the finding.
    std::fs::write(work.join("main.tf"), format!("# moved\n\n\n{original}")).unwrap_or_else(|e| panic!("{e}"));
    let r = run(&["check", "--format", "json", "--baseline", &b, &w]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // A new finding is reported.
    std::fs::write(
        work.join("slr.tf"),
        "resource \"aws_iam_service_linked_role\" \"kds\" {\n  aws_service_name = \"kinesisreplication.dynamodb.amazonaws.com\"\n}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = run(&["check", "--format", "json", "--baseline", &b, &w]);
    assert_eq!(r.code, 1);
    let rules: Vec<String> = rules_at(&r.json()).into_iter().map(|(r, _, _)| r).collect();
    assert_eq!(rules, ["KDS005"]);
}

#[test]
fn a_guardrail_that_nobody_may_delete_the_slr_fires_on_the_demo() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("kdsguard.toml");
    std::fs::write(&config, "[[guardrail]]\ncapability = \"delete-slr\"\nonly = []\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let c = config.to_string_lossy().to_string();
    let (report, code) = check(&["--config", &c, "testdata/demo/terraform"], &[]);
    assert_eq!(code, 1);
    let kds011: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "KDS011")
        .collect();
    assert_eq!(kds011.len(), 1, "{kds011:?}");
    assert!(
        kds011[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("aws_iam_role.ops_admin")
    );
    assert!(
        kds011[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("allows only nobody")
    );
}

#[test]
fn config_severities_and_fail_on_apply() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("kdsguard.toml");
    std::fs::write(
        &config,
        "fail-on = \"error\"\n[rules]\nKDS004 = \"off\"\nslr-lifecycle-unprotected = \"warning\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let c = config.to_string_lossy().to_string();
    let (report, code) = check(&["--config", &c, "testdata/demo/terraform"], &[]);
    let found = rules_at(&report);
    assert!(!found.iter().any(|(r, _, _)| r == "KDS004"), "{found:?}");
    let kds005 = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "KDS005")
        .cloned();
    assert_eq!(kds005.map(|f| f["severity"].clone()), Some(Value::from("warning")));
    // Only warnings and notes remain, and the config says to fail on errors only.
    assert_eq!(code, 0, "{found:?}");
}

#[test]
fn a_bad_config_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("kdsguard.toml");
    std::fs::write(&config, "[rules]\nKDS001 = \"loud\"\n").unwrap_or_else(|e| panic!("{e}"));
    let c = config.to_string_lossy().to_string();
    let r = run(&["check", "--config", &c, "testdata/demo"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("kdsguard.toml:2:10:"), "{}", r.stderr);
}

#[test]
fn explain_and_rules_print_the_catalogue() {
    let r = run(&["explain", "slr-deletable"]);
    assert_eq!(r.code, 0);
    assert!(!r.stdout.contains("<!--"), "{}", r.stdout);
    assert!(r.stdout.starts_with("# KDS004 `slr-deletable`"), "{}", r.stdout);
    let page = std::fs::read_to_string(root().join("docs/rules/KDS004.md")).unwrap_or_default();
    assert!(
        page.ends_with(&r.stdout),
        "explain prints the page without its maintainer comment"
    );
    let r = run(&["explain", "KDS999"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("KDS004 (slr-deletable)"));
    let r = run(&["rules"]);
    let rules = kdsguard::rules::catalogue().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.stdout.lines().count(), rules.len());
    assert!(r.stdout.lines().all(|l| l.starts_with("KDS0")));
}

#[test]
fn parameter_files_in_both_shapes_set_parameters() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let list = dir.path().join("list.json");
    std::fs::write(
        &list,
        r#"[{"ParameterKey": "Environment", "ParameterValue": "staging"}]"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let map = dir.path().join("map.json");
    std::fs::write(&map, r#"{"Parameters": {"Environment": "qa"}}"#).unwrap_or_else(|e| panic!("{e}"));
    for (file, want) in [(&list, "music-changes-staging"), (&map, "music-changes-qa")] {
        let f = file.to_string_lossy().to_string();
        let (report, _) = check(
            &["--parameter-file", &f, "testdata/demo/cloudformation/template.yaml"],
            &[],
        );
        let names: Vec<&str> = report["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["kind"] == "stream")
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert_eq!(names, [want]);
    }
}

/// The decision of `principal` (IAM name) for `capability` on the SLR in testdata/query.
fn slr_decision(report: &Value, name: &str, capability: &str) -> Option<String> {
    let p = principal_named(report, name);
    report["access"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["principal"] == p.as_str() && a["capability"] == capability)
        .and_then(|a| a["decision"].as_str().map(str::to_string))
}

#[test]
fn scps_can_be_scoped_and_full_aws_access_removed() {
    // By default the declared SCP (Deny iam:DeleteServiceLinkedRole) applies to everyone.
    let (report, _) = check(&["testdata/query"], &[]);
    assert_eq!(slr_decision(&report, "ops", "delete-slr").as_deref(), Some("denied"));

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("kdsguard.toml");
    let c = config.to_string_lossy().to_string();

    // Scoped to Alice only, the SCP no longer stops the ops role.
    std::fs::write(&config, "[scps]\napply-to = [\"Alice\"]\n").unwrap_or_else(|e| panic!("{e}"));
    let (report, _) = check(&["--config", &c, "testdata/query"], &[]);
    assert_eq!(slr_decision(&report, "ops", "delete-slr").as_deref(), Some("allowed"));
    assert_eq!(slr_decision(&report, "alice", "delete-slr").as_deref(), Some("denied"));

    // Without FullAWSAccess, the SCP (which allows nothing) must allow: nothing is allowed.
    std::fs::write(&config, "[scps]\nfull-aws-access = false\n").unwrap_or_else(|e| panic!("{e}"));
    let (report, _) = check(&["--config", &c, "testdata/query"], &[]);
    let decisions: Vec<&str> = report["access"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["decision"].as_str())
        .collect();
    assert!(
        !decisions.contains(&"allowed") && !decisions.contains(&"conditional"),
        "{decisions:?}"
    );
}

#[test]
fn exclude_globs_leave_inputs_out() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("kdsguard.toml");
    std::fs::write(&config, "exclude = [\"**/demo/cloudformation\"]\n").unwrap_or_else(|e| panic!("{e}"));
    let c = config.to_string_lossy().to_string();
    let (report, _) = check(&["--config", &c, "testdata/demo"], &[]);
    let inputs: Vec<&str> = report["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["path"].as_str())
        .collect();
    assert_eq!(inputs, ["testdata/demo/terraform"]);
}

#[test]
fn tf_var_environment_variables_give_terraform_variables_values() {
    // Without a value, the resource of the KDS012 fixture is unresolved.
    let dir = "testdata/rules/KDS012/bad";
    let (report, _) = check(&[dir], &[]);
    assert!(rules_at(&report).iter().any(|(r, _, _)| r == "KDS012"));
    // TF_VAR_table_arn gives it one, as Terraform would read it.
    let arn = (
        "TF_VAR_table_arn",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
    );
    let (report, _) = check(&[dir], &[arn]);
    assert!(
        !rules_at(&report).iter().any(|(r, _, _)| r == "KDS012"),
        "{:?}",
        rules_at(&report)
    );
    // --var outranks the environment: with `*` the grant reaches every undeclared table,
    // which the environment's single table name does not.
    let disable_on_every_table = |report: &Value| {
        let p = principal_named(report, "ops");
        report["access"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["principal"] == p.as_str() && a["capability"] == "disable" && common::covers(a, "*"))
    };
    assert!(!disable_on_every_table(&report));
    let (report, _) = check(&["--var", "table_arn=*", dir], &[arn]);
    assert!(disable_on_every_table(&report), "{}", report["access"]);
}

#[test]
fn a_grant_only_an_unknown_policy_may_give_is_still_reported_where_it_is_attached() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let tf = "variable \"extra_policy\" {}\n\nresource \"aws_iam_role\" \"r\" {\n  name = \"r\"\n  assume_role_policy = \"{}\"\n}\n\nresource \"aws_iam_role_policy_attachment\" \"extra\" {\n  role       = aws_iam_role.r.name\n  policy_arn = var.extra_policy\n}\n";
    std::fs::write(dir.path().join("main.tf"), tf).unwrap_or_else(|e| panic!("{e}"));
    let (report, _) = check(&[&dir.path().to_string_lossy()], &[]);
    let kds004: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "KDS004")
        .collect();
    assert_eq!(kds004.len(), 1, "{}", report["findings"]);
    assert!(kds004[0]["message"].as_str().unwrap_or("").contains("may be able to"));
    // The attachment resource, which names the unresolved policy.
    assert_eq!(kds004[0]["line"], 8);
}

#[test]
fn pinning_the_account_or_region_stops_policies_that_name_others() {
    let demo = "testdata/demo/terraform";
    let disables = |args: &[&str]| -> bool {
        let mut all = args.to_vec();
        all.push(demo);
        let (report, _) = check(&all, &[]);
        let p = principal_named(&report, "kds-disable-music");
        report["access"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["principal"] == p.as_str() && a["capability"] == "disable" && a["decision"] == "allowed")
    };
    // The example policy names account 123456789012 in us-west-2.
    assert!(disables(&[]), "unpinned: the templates deploy where the policies say");
    assert!(disables(&["--account", "123456789012", "--region", "us-west-2"]));
    assert!(!disables(&["--account", "999999999999"]));
    assert!(!disables(&["--region", "eu-west-1"]));
}
