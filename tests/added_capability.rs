//! A capability added to a copy of `rules/capabilities.toml` (a new action on tables) goes
//! through the whole pipeline with no code change: it is decided, a config guardrail can
//! name it, it is reported in JSON, the human report and SARIF, queries answer for it, and
//! its `manages` fact decides whether the GitHub summary lists it. A capability fact that
//! some code still kept in a list of its own, or a catalogue the pipeline did not take,
//! fails here.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::path::Path;
use std::sync::Arc;

use kdsguard::catalog::{Capabilities, parse_capabilities};
use kdsguard::iam::eval::Outcome;
use kdsguard::query::{self, Ask, Question};
use kdsguard::report::github::{self, Links};
use kdsguard::report::{human, json, sarif};
use serde_json::Value;

/// The new capability: read a table's description. Placed before the internal probes, as
/// the catalogue keeps them last.
const INSPECT: &str = r#"
[[capability]]
id = "inspect"
target = "table"
summary = "read the table's description"
words = "read the description of"
requirements = [
  { action = "dynamodb:DescribeTable", on = "table", primary = true },
]

"#;

/// A table, a role that may describe it, and the one role the guardrail allows.
const MAIN_TF: &str = r#"
resource "aws_dynamodb_table" "orders" {
  name         = "prod-orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_iam_role" "auditor" {
  name               = "auditor"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] })
}

resource "aws_iam_role" "app" {
  name               = "orders-app"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] })
}

data "aws_iam_policy_document" "describe" {
  statement {
    actions   = ["dynamodb:DescribeTable"]
    resources = [aws_dynamodb_table.orders.arn]
  }
}

resource "aws_iam_role_policy" "auditor" {
  role   = aws_iam_role.auditor.id
  policy = data.aws_iam_policy_document.describe.json
}

resource "aws_iam_role_policy" "app" {
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.describe.json
}
"#;

/// Only the auditor may inspect production tables.
const CONFIG: &str = r#"
[[guardrail]]
capability = "inspect"
tables = "prod-*"
only = ["aws_iam_role.auditor"]
"#;

/// The bundled catalogue's text with `added` before the internal probes.
fn catalogue_with(added: &str) -> Capabilities {
    let path = common::root().join("rules/capabilities.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let probes = text
        .find("# Internal probes")
        .unwrap_or_else(|| panic!("no internal probes in {}", path.display()));
    let copy = format!("{}{added}{}", &text[..probes], &text[probes..]);
    parse_capabilities("capabilities-with-inspect.toml", &copy).unwrap_or_else(|e| panic!("{e}"))
}

fn catalogue_with_inspect() -> Capabilities {
    catalogue_with(INSPECT)
}

fn analyse(dir: &Path, config: kdsguard::Config) -> kdsguard::Analysis {
    let mut config = config;
    config.paths = vec![dir.to_path_buf()];
    config.root = Some(dir.to_path_buf());
    config.today = Some("2026-12-01".to_string());
    kdsguard::analyze(&config, dir).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn a_capability_added_to_the_catalogue_is_decided_selected_and_reported() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("main.tf"), MAIN_TF).unwrap_or_else(|e| panic!("{e}"));

    // The bundled catalogue has no `inspect`: the config cannot name it.
    let unknown = kdsguard::config::parse("kdsguard.toml", CONFIG)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(unknown.contains("unknown capability `inspect`"), "{unknown}");

    // With the copy, it can; and the run decides it.
    let caps = Arc::new(catalogue_with_inspect());
    let config = kdsguard::config::parse_with("kdsguard.toml", CONFIG, Some(caps))
        .unwrap_or_else(|e| panic!("the copy's capability is not selectable: {e}"));
    assert_eq!(config.guardrails.len(), 1);
    let a = analyse(dir.path(), config);
    assert!(a.errors.is_empty(), "{:?}", a.errors);

    let dec = &a.decisions;
    let inspect = dec.cap("inspect").unwrap_or_else(|| panic!("inspect was not decided"));
    let mut holders: Vec<&str> = dec
        .entries
        .iter()
        .filter(|x| x.cap == inspect && dec.decision(x).outcome == Outcome::Allowed)
        .map(|x| a.graph.principals[x.principal].address.as_str())
        .collect();
    holders.sort_unstable();
    assert_eq!(holders, ["aws_iam_role.app", "aws_iam_role.auditor"]);
    // Only the guardrail's finding is about it: the app role holds it, the auditor may.
    let about: Vec<(String, Option<&str>)> = a
        .findings
        .iter()
        .filter(|f| f.capability == Some(inspect))
        .map(|f| {
            (
                f.rule.to_string(),
                f.principal.map(|p| a.graph.principals[p].id.as_str()),
            )
        })
        .collect();
    assert_eq!(about.len(), 1, "{:?}", a.findings);
    assert_eq!(about[0].0, "KDS011");
    assert!(about[0].1.is_some_and(|p| p.ends_with("aws_iam_role.app")), "{about:?}");

    // JSON: access entries and the finding.
    let report: Value =
        serde_json::from_str(&json::render(&a).unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"));
    let table = common::resource_named(&report, "prod-orders");
    for name in ["orders-app", "auditor"] {
        let principal = common::principal_named(&report, name);
        let entries = common::access(&report, &principal, "inspect", &table);
        assert_eq!(entries.len(), 1, "{name}: {}", report["access"]);
        assert_eq!(entries[0]["decision"], "allowed", "{}", entries[0]);
    }
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "KDS011" && f["message"].as_str().is_some_and(|m| m.contains("can inspect"))),
        "{findings:?}"
    );

    // Human: the finding and the access summary name it.
    let text = human::render(&a, human::Style::default());
    assert!(text.contains("KDS011"), "{text}");
    assert!(text.contains("can inspect on table prod-orders"), "{text}");

    // SARIF: the guardrail's result, about `inspect`.
    let log: Value = serde_json::from_str(&sarif::render(&a, None).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let results = log["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    let kds011: Vec<&Value> = results.iter().filter(|r| r["ruleId"] == "KDS011").collect();
    assert_eq!(kds011.len(), 1, "{results:?}");
    assert!(kds011[0].to_string().contains("inspect"), "{}", kds011[0]);

    // Queries answer from the run's catalogue.
    let question = Question {
        ask: Ask::WhoCan,
        principal: None,
        capability: "inspect",
        on: None,
    };
    let answer = query::answer(&a, &question).unwrap_or_else(|e| panic!("{e}"));
    assert!(answer.yes(), "{}", kdsguard::report::query::render_human(&a, &answer));

    // It does not manage replication: the GitHub summary's table leaves it out.
    let links = Links {
        docs_url: None,
        sarif_file: None,
    };
    let summary = github::summary(&a, links);
    assert!(!summary.contains("| inspect |"), "{summary}");
}

#[test]
fn a_capability_the_catalogue_says_manages_is_listed_as_managing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("main.tf"), MAIN_TF).unwrap_or_else(|e| panic!("{e}"));
    let managing = INSPECT.replace("words =", "manages = true\nwords =");
    let config = kdsguard::Config {
        capabilities: Some(Arc::new(catalogue_with(&managing))),
        ..kdsguard::Config::default()
    };
    let a = analyse(dir.path(), config);
    let links = Links {
        docs_url: None,
        sarif_file: None,
    };
    let summary = github::summary(&a, links);
    assert!(summary.contains("### Who can manage replication"), "{summary}");
    assert!(summary.contains("| `aws_iam_role.app` | inspect |"), "{summary}");
}

#[test]
fn without_the_copy_the_same_estate_has_no_such_capability() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("main.tf"), MAIN_TF).unwrap_or_else(|e| panic!("{e}"));
    let a = analyse(dir.path(), kdsguard::Config::default());
    assert!(a.decisions.cap("inspect").is_none());
    let report = json::render(&a).unwrap_or_else(|e| panic!("{e}"));
    assert!(!report.contains("\"inspect\""), "{report}");
}
