//! SARIF: schema-valid, with what code scanning needs (invocations, code flows, rule
//! links), fingerprints that are stable and unique; pinned by a snapshot.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::io::Write as _;

use common::estate::{Format, Options, write};
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
    // The home page follows `Cargo.toml`'s `repository`; any absolute https URI will do.
    let home = v["runs"][0]["tool"]["driver"]["informationUri"]
        .as_str()
        .unwrap_or_default();
    assert!(home.starts_with("https://"), "{home}");
    v["runs"][0]["tool"]["driver"]["informationUri"] = Value::String("<home page>".into());
    insta::assert_json_snapshot!("kds005_sarif", v);
}

/// Every `uri` in a SARIF log (artifact locations at any depth).
fn uris(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("uri", Value::String(u)) => out.push(u.clone()),
                    _ => uris(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| uris(x, out)),
        _ => {}
    }
}

/// Whether `u` is a relative RFC 3986 reference made only of allowed or percent-encoded
/// characters, with no scheme and no absolute path.
fn is_relative_uri_reference(u: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=@%:".contains(c);
    let first = u.split('/').next().unwrap_or_default();
    !u.is_empty() && !u.starts_with('/') && !first.contains(':') && u.chars().all(allowed)
}

const MANAGED_ADMIN: &str = r#"resource "aws_iam_role" "ops" {
  name = "ops"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "ops_admin" {
  role       = aws_iam_role.ops.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
"#;

#[test]
fn a_bundled_managed_policy_is_a_logical_location_and_every_uri_is_relative() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.path().join("my infra")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("my infra/main.tf"), MANAGED_ADMIN).unwrap_or_else(|e| panic!("{e}"));
    let out = kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "sarif", "--root", ".", "my infra"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    validate(&sarif);
    let mut all = Vec::new();
    uris(&sarif, &mut all);
    assert!(!all.is_empty());
    for u in &all {
        assert!(is_relative_uri_reference(u), "not a relative URI reference: {u:?}");
        assert!(!u.contains("builtin"), "{u}");
    }
    // The folder's space is percent-encoded.
    assert!(all.iter().any(|u| u == "my%20infra/main.tf"), "{all:?}");
    // AdministratorAccess grants delete-slr: its statement is a step of the code flow, as
    // a logical location named after the policy, not a file.
    let text = serde_json::to_string(&sarif).unwrap_or_default();
    assert!(
        text.contains(r#""logicalLocations":[{"fullyQualifiedName":"arn:aws:iam::aws:policy/AdministratorAccess","kind":"resource","name":"AdministratorAccess"}]"#),
        "{text}"
    );
    assert!(
        !text.contains(&dir.path().to_string_lossy().to_string()),
        "the runner's path leaks"
    );
}

/// The SARIF multitool (`KDSGUARD_SARIF_MULTITOOL`, installed by `.ci/run`): `None` after
/// saying the test is skipped; a failure when `CI` is set and the variable is not.
fn multitool() -> Option<std::path::PathBuf> {
    match std::env::var_os("KDSGUARD_SARIF_MULTITOOL") {
        Some(p) if !p.is_empty() => Some(std::path::PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but KDSGUARD_SARIF_MULTITOOL is not: .ci/run must install @microsoft/sarif-multitool"
            );
            let _ = writeln!(
                std::io::stderr(),
                "skipped: KDSGUARD_SARIF_MULTITOOL is not set (npm install @microsoft/sarif-multitool)"
            );
            None
        }
    }
}

/// Runs `sarif-multitool validate` on `file`; returns its errors and warnings.
fn multitool_problems(tool: &std::path::Path, file: &std::path::Path) -> Vec<String> {
    let report = file.with_extension("validation.sarif");
    let out = std::process::Command::new(tool)
        .arg("validate")
        .arg(file)
        .arg("--output")
        .arg(&report)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{} failed: {stdout}", tool.display());
    let log: Value = serde_json::from_slice(&std::fs::read(&report).unwrap_or_default())
        .unwrap_or_else(|e| panic!("no validation log ({e}): {stdout}"));
    log["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["results"].as_array().cloned().unwrap_or_default())
        // A result without a level is a warning (SARIF 3.27.10).
        .filter(|r| matches!(r["level"].as_str(), None | Some("error" | "warning")))
        .map(|r| format!("{} {}", r["ruleId"], r["message"]["text"]))
        .collect()
}

#[test]
fn the_demo_and_a_300_by_100_estate_pass_the_sarif_multitool() {
    let Some(tool) = multitool() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let demo = dir.path().join("demo.sarif");
    let r = run(&["check", "--format", "sarif", "testdata/demo"]);
    std::fs::write(&demo, &r.stdout).unwrap_or_else(|e| panic!("{e}"));
    let problems = multitool_problems(&tool, &demo);
    assert!(problems.is_empty(), "demo: {problems:#?}");

    let estate = dir.path().join("estate");
    let opts = Options {
        principals: 300,
        tables: 100,
        files: 20,
        seed: 7,
        ..Options::default()
    };
    write(&estate, Format::Terraform, &opts).unwrap_or_else(|e| panic!("cannot generate: {e}"));
    let out = kdsguard()
        .current_dir(&estate)
        .args(["check", "--format", "sarif", "."])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("estate.sarif");
    std::fs::write(&file, &out.stdout).unwrap_or_else(|e| panic!("{e}"));
    // The estate attaches AWS managed policies: their statements are code-flow steps.
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"logicalLocations\""));
    let problems = multitool_problems(&tool, &file);
    assert!(problems.is_empty(), "300 x 100 estate: {problems:#?}");
}

#[test]
fn every_finding_of_a_2000_principal_estate_reaches_sarif_or_is_counted_as_left_out() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let opts = Options {
        principals: 2000,
        tables: 100,
        files: 20,
        seed: 7,
        ..Options::default()
    };
    write(dir.path(), Format::Terraform, &opts).unwrap_or_else(|e| panic!("cannot generate: {e}"));
    let out = kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "--output", "sarif=kdsguard.sarif", "."])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let sarif: Value = serde_json::from_slice(&std::fs::read(dir.path().join("kdsguard.sarif")).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut by_rule: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        *by_rule
            .entry(f["rule"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let findings: i64 = by_rule.values().sum();
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().cloned().unwrap_or_default();
    // GitHub keeps 5,000 results per run: the estate has more findings than that.
    assert!(findings > 5000, "{findings} findings");
    assert_eq!(results.len(), 5000);
    for r in &results {
        *by_rule
            .entry(r["ruleId"].as_str().unwrap_or_default().to_string())
            .or_default() -= 1;
    }
    let left_out = &run["properties"]["kdsguard/left-out"];
    for (rule, n) in left_out["resultsByRule"].as_object().into_iter().flatten() {
        *by_rule.entry(rule.clone()).or_default() -= n.as_i64().unwrap_or(0);
    }
    // Per rule, the results and the count left out add up to the findings.
    assert!(by_rule.values().all(|n| *n == 0), "{by_rule:?}");
    assert_eq!(left_out["results"].as_i64(), Some(findings - 5000));
    // Errors first: levels never rise along the results.
    let rank = |l: &str| match l {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    };
    let levels: Vec<i32> = results
        .iter()
        .map(|r| rank(r["level"].as_str().unwrap_or_default()))
        .collect();
    assert!(levels.windows(2).all(|w| w[0] <= w[1]));
    let errors = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error")
        .count();
    assert_eq!(levels.iter().filter(|l| **l == 0).count(), errors.min(5000));
    // And it is said on stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "the SARIF log leaves out {} finding(s) beyond GitHub's 5000 results per run",
            findings - 5000
        )),
        "{stderr}"
    );
}
