//! SARIF: schema-valid, with what code scanning needs (invocations, code flows, rule
//! links), fingerprints that are stable and unique; pinned by a snapshot.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::io::Write as _;

use common::*;
use serde_json::Value;

/// Validates a SARIF log against the OASIS schema in `../shared/schemas` (skipped, saying
/// so, when the file is absent).
fn validate(sarif: &Value) {
    let path = schema_path();
    if !path.is_file() {
        let _ = writeln!(
            std::io::stderr(),
            "skipped schema validation: {} is absent",
            path.display()
        );
        return;
    }
    // The published schema has one malformed `pattern` (an unbalanced `]` in the
    // `language` property, which kdsguard never writes); ECMAScript regex engines reject
    // it, so it is replaced by the pattern it evidently means before compiling.
    let text = std::fs::read_to_string(&path).unwrap_or_default().replace(
        "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("bad schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF does not validate: {errors:#?}");
}

/// The fingerprints of a SARIF log, in result order.
fn fingerprints_of(sarif: &Value) -> Vec<String> {
    sarif["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            r["partialFingerprints"]["kdsguard/v2"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn schema_path() -> std::path::PathBuf {
    let corpus = std::env::var("KDSGUARD_CORPUS").unwrap_or_else(|_| "../shared/corpus".to_string());
    let corpus = root().join(corpus);
    corpus
        .parent()
        .map(|p| p.join("schemas/sarif-2.1.0.json"))
        .unwrap_or_default()
}

#[test]
fn sarif_is_valid_and_has_what_code_scanning_needs() {
    let r = run(&["check", "--format", "sarif", "testdata/demo"]);
    assert_eq!(r.code, 1);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    validate(&sarif);
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().cloned().unwrap_or_default();
    assert_eq!(rules.len(), kdsguard::rules::catalogue().map_or(0, |c| c.len()));
    for rule in &rules {
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(rule["help"]["text"].is_string());
        assert!(rule["properties"]["security-severity"].is_string());
    }
    let results = run["results"].as_array().cloned().unwrap_or_default();
    assert!(!results.is_empty());
    for res in &results {
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap_or_default();
        assert!(uri.starts_with("testdata/demo/"), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap_or(0) >= 1);
        assert!(res["partialFingerprints"]["kdsguard/v2"].is_string());
        let idx = res["ruleIndex"].as_u64().unwrap_or(99) as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(run["automationDetails"]["id"], "kdsguard/testdata/demo/");
    // A grant's proof as a code flow: principal, attachment, policy, statement.
    let flow = results
        .iter()
        .find(|r| r["ruleId"] == "KDS001")
        .map(|r| r["codeFlows"][0]["threadFlows"][0]["locations"].clone())
        .unwrap_or_default();
    let steps: Vec<&str> = flow
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["location"]["message"]["text"].as_str())
        .collect();
    assert!(steps.len() >= 3, "{steps:?}");
    assert!(steps[0].starts_with("principal `"), "{steps:?}");
    assert!(steps.iter().any(|s| s.starts_with("attaches policy")), "{steps:?}");
    assert!(
        steps.last().is_some_and(|s| s.starts_with("Allow dynamodb:")),
        "{steps:?}"
    );
}

#[test]
fn rule_pages_follow_the_docs_url_and_otherwise_say_explain() {
    let r = run(&[
        "check",
        "--format",
        "sarif",
        "--docs-url",
        "https://docs.example/kdsguard/rules",
        "testdata/demo",
    ]);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    validate(&sarif);
    let driver = &sarif["runs"][0]["tool"]["driver"];
    assert_eq!(
        driver["rules"][3]["helpUri"],
        "https://docs.example/kdsguard/rules/KDS004.md"
    );
    assert_eq!(driver["informationUri"], "https://docs.example/kdsguard/rules");
    let r = run(&["check", "--format", "sarif", "testdata/demo"]);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"][3];
    if env!("CARGO_PKG_REPOSITORY").is_empty() {
        assert!(rule.get("helpUri").is_none());
        assert!(
            rule["help"]["text"]
                .as_str()
                .unwrap_or("")
                .contains("kdsguard explain KDS004")
        );
    }
}

#[test]
fn a_broken_input_is_a_failed_invocation_with_a_notification() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("broken.tf"), "resource \"aws_iam_role\" {\n").unwrap_or_else(|e| panic!("{e}"));
    let r = run(&["check", "--format", "sarif", &dir.path().to_string_lossy()]);
    assert_eq!(r.code, 2);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    validate(&sarif);
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(notes.len(), 1, "{inv}");
    assert_eq!(notes[0]["level"], "error");
    let uri = notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap_or_default();
    assert!(uri.ends_with("broken.tf"), "{uri}");
}

#[test]
fn no_two_results_share_a_fingerprint_with_two_declared_slrs() {
    // testdata/demo declares the service-linked role twice (Terraform and CloudFormation).
    let r = run(&["check", "--format", "sarif", "testdata/demo"]);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let prints = fingerprints_of(&sarif);
    let unique: std::collections::BTreeSet<&String> = prints.iter().collect();
    assert!(prints.len() > 4);
    assert_eq!(unique.len(), prints.len(), "{prints:#?}");
    // The two declarations are one role (one account): KDS004 once per principal, keyed
    // by the account's role; KDS005 once per declaration, keyed by the declaration.
    let results = sarif["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    let key = |r: &Value| {
        r["partialFingerprints"]["kdsguard/v2"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let kds004: Vec<String> = results.iter().filter(|r| r["ruleId"] == "KDS004").map(key).collect();
    assert_eq!(kds004.len(), 2, "{kds004:?}");
    assert!(
        kds004
            .iter()
            .all(|k| k.starts_with("KDS004|")
                && k.ends_with("|slr:kinesisreplication.dynamodb.amazonaws.com|delete-slr")),
        "{kds004:?}"
    );
    let kds005: Vec<String> = results.iter().filter(|r| r["ruleId"] == "KDS005").map(key).collect();
    assert_eq!(kds005.len(), 2);
    assert!(
        kds005
            .iter()
            .any(|k| k.ends_with("cloudformation/template.yaml#KdsServiceLinkedRole|")),
        "{kds005:?}"
    );
    assert!(
        kds005
            .iter()
            .any(|k| k.ends_with("terraform#aws_iam_service_linked_role.kds|")),
        "{kds005:?}"
    );
    // Messages no longer say which account "a file deploys to".
    assert!(
        results
            .iter()
            .all(|r| !r["message"]["text"].as_str().unwrap_or_default().contains("deploys to"))
    );
}

/// Copies the demo into `repo/infra` of a new git repository and returns the repository.
fn demo_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.path().join(".git")).unwrap_or_else(|e| panic!("{e}"));
    for sub in ["terraform", "cloudformation"] {
        let from = root().join("testdata/demo").join(sub);
        let to = dir.path().join("infra").join(sub);
        std::fs::create_dir_all(&to).unwrap_or_else(|e| panic!("{e}"));
        for entry in std::fs::read_dir(&from).into_iter().flatten().flatten() {
            if entry.path().is_file() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    dir
}

fn sarif_from(cwd: &std::path::Path, path: &str) -> Vec<String> {
    let out = kdsguard()
        .current_dir(cwd)
        .args(["check", "--format", "sarif", path])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    fingerprints_of(&v)
}

#[test]
fn fingerprints_and_baseline_keys_do_not_depend_on_the_folder_or_the_spelling() {
    let repo = demo_repository();
    let top = repo.path();
    let from_top = sarif_from(top, "infra");
    assert!(!from_top.is_empty());
    assert_eq!(sarif_from(&top.join("infra"), "."), from_top);
    assert_eq!(sarif_from(top, "./infra/../infra/"), from_top);
    assert_eq!(sarif_from(&top.join("infra/terraform"), ".."), from_top);
    assert!(
        from_top.iter().all(|f| !f.contains(&*top.to_string_lossy())),
        "{from_top:#?}"
    );

    // A baseline written inside the folder hides everything when run from its parent.
    let baseline = top.join("baseline.json");
    let b = baseline.to_string_lossy().to_string();
    let written = kdsguard()
        .current_dir(top.join("infra"))
        .args(["check", "--format", "json", "--write-baseline", &b, "."])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(written.status.code(), Some(0));
    let later = kdsguard()
        .current_dir(top)
        .args(["check", "--format", "json", "--baseline", &b, "infra"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let report: Value = serde_json::from_slice(&later.stdout).unwrap_or_default();
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(0),
        "{}",
        report["findings"]
    );
    assert_eq!(later.status.code(), Some(0));
    let text = std::fs::read_to_string(&baseline).unwrap_or_default();
    assert!(text.contains("\"infra/terraform#aws_iam_role.ops_admin\""), "{text}");
}

#[test]
fn fingerprints_and_baseline_keys_do_not_depend_on_lines() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let baseline = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let baseline = baseline.path().join("baseline.json").to_string_lossy().to_string();
    let text = std::fs::read_to_string(root().join("testdata/rules/KDS004/bad/main.tf")).unwrap_or_default();
    let f = dir.path().join("main.tf");
    let fingerprints = |content: &str| -> Vec<String> {
        std::fs::write(&f, content).unwrap_or_else(|e| panic!("{e}"));
        let r = run(&["check", "--format", "sarif", &dir.path().to_string_lossy()]);
        let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
        fingerprints_of(&v)
    };
    let before = fingerprints(&text);
    let r = run(&["check", "--write-baseline", &baseline, &dir.path().to_string_lossy()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = fingerprints(&format!("\n\n# moved down\n{text}"));
    assert!(!before.is_empty());
    assert_eq!(before, after);
    // The baseline written before the blank lines still hides every finding.
    let r = run(&[
        "check",
        "--format",
        "json",
        "--baseline",
        &baseline,
        &dir.path().to_string_lossy(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(r.json()["baselined"].as_u64(), Some(before.len() as u64));
}

#[test]
fn sarif_snapshot_of_one_finding() {
    let r = run(&["check", "--format", "sarif", "testdata/rules/KDS005/bad/main.tf"]);
    let mut v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    // The rule list is long and generated from data the catalogue test already pins.
    v["runs"][0]["tool"]["driver"]["rules"] = Value::String("<12 rules>".into());
    v["runs"][0]["tool"]["driver"]["version"] = Value::String("<version>".into());
    v["runs"][0]["tool"]["driver"]["semanticVersion"] = Value::String("<version>".into());
    insta::assert_json_snapshot!("kds005_sarif", v);
}
