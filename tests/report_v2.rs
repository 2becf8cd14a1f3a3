//! The JSON report's access section is `kdsguard.report/v2` (report-json.md, Access in v2):
//! table capabilities name a set of tables in the canonical form, SLR capabilities a
//! resource, sets of one (principal, capability) are disjoint, equal decisions share one
//! entry, and the entries are sorted as the contract says.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

const TABLE_CAPABILITIES: &[&str] = &["enable", "describe", "disable", "update"];
const SLR_CAPABILITIES: &[&str] = &["create-slr", "delete-slr"];

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap_or_else(|| panic!("not an id: {x}")).to_string())
        .collect()
}

/// Checks one report; returns how many entries it checked.
fn check_v2(report: &Value) -> usize {
    assert_eq!(report["schema"], "kdsguard.report/v2");
    let tables: BTreeSet<String> = report["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["kind"] == "table")
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let n = tables.len();
    let entries = report["access"].as_array().cloned().unwrap_or_default();
    let mut covered: std::collections::BTreeMap<(String, String), BTreeSet<String>> = Default::default();
    let mut contents: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut keys = Vec::new();
    for e in &entries {
        let p = e["principal"].as_str().unwrap_or_default().to_string();
        let c = e["capability"].as_str().unwrap_or_default().to_string();
        assert!(["allowed", "conditional", "denied", "not_allowed"].contains(&e["decision"].as_str().unwrap_or("")));
        for k in ["missing", "conditions", "because"] {
            assert!(e[k].is_array(), "{k} in {e}");
        }
        if SLR_CAPABILITIES.contains(&c.as_str()) {
            assert!(e["resource"].is_string() && e.get("tables").is_none(), "{e}");
            keys.push((
                p,
                c,
                "\u{10FFFF}".to_string(),
                e["resource"].as_str().unwrap_or_default().to_string(),
            ));
            continue;
        }
        assert!(TABLE_CAPABILITIES.contains(&c.as_str()), "{e}");
        assert!(
            e.get("resource").is_none(),
            "a table entry names tables, not a resource: {e}"
        );
        let set = &e["tables"];
        let undeclared = set["undeclared"]
            .as_bool()
            .unwrap_or_else(|| panic!("undeclared is a bool: {e}"));
        let members: BTreeSet<String> = match &set["declared"] {
            Value::String(s) => {
                assert_eq!(s, "all");
                assert!(n > 0, "\"all\" with no declared table: {e}");
                tables.clone()
            }
            Value::Array(_) => {
                let list = ids(&set["declared"]);
                assert!(list.windows(2).all(|w| w[0] < w[1]), "list sorted and distinct: {e}");
                assert!(
                    !list.is_empty() || undeclared,
                    "an empty list with undeclared false: {e}"
                );
                assert!(
                    list.len() <= n - list.len(),
                    "the except form would name fewer ids: {e}"
                );
                assert!(list.len() < n || n == 0, "every table is \"all\": {e}");
                list.into_iter().collect()
            }
            Value::Object(m) => {
                let except = ids(&m["except"]);
                assert!(
                    except.windows(2).all(|w| w[0] < w[1]),
                    "except sorted and distinct: {e}"
                );
                assert!(!except.is_empty(), "except of nothing is \"all\": {e}");
                assert!(except.len() < n - except.len(), "the list form names no more ids: {e}");
                tables.iter().filter(|t| !except.contains(t)).cloned().collect()
            }
            other => panic!("declared is {other}"),
        };
        assert!(members.iter().all(|m| tables.contains(m)), "unknown table in {e}");
        let mut all = members.clone();
        if undeclared {
            all.insert("*".to_string());
        }
        let seen = covered.entry((p.clone(), c.clone())).or_default();
        assert!(seen.is_disjoint(&all), "overlapping sets for {p} {c}");
        seen.extend(all);
        // Equal decisions share one entry.
        let mut rest = e.clone();
        if let Some(m) = rest.as_object_mut() {
            m.remove("tables");
        }
        assert!(
            contents.insert((p.clone(), c.clone(), rest.to_string())),
            "two entries with the same decision for {p} {c}"
        );
        let smallest = members
            .iter()
            .next()
            .cloned()
            .unwrap_or_else(|| "\u{10FFFF}".to_string());
        keys.push((p, c, smallest, String::new()));
    }
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "access sorted by principal, capability, smallest table, resource"
    );
    entries.len()
}

#[test]
fn every_fixture_report_is_v2() {
    let mut checked = 0;
    for path in [
        "testdata/demo/terraform",
        "testdata/demo/cloudformation/template.yaml",
        "testdata/terraform/iam_shapes",
        "testdata/cloudformation/iam_shapes.yaml",
        "testdata/same_stream/template.yaml",
        "testdata/query/template.yaml",
    ] {
        let (report, _) = common::check_json(&[path]);
        checked += check_v2(&report);
    }
    assert!(checked > 20, "only {checked} entries checked");
}

#[test]
fn a_set_covering_most_tables_is_written_as_except() {
    // Three tables; a role that may disable all but one of them.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut tf = String::new();
    for name in ["a", "b", "c"] {
        tf.push_str(&format!(
            "resource \"aws_dynamodb_table\" \"{name}\" {{\n  name = \"{name}\"\n  hash_key = \"pk\"\n  attribute {{\n    name = \"pk\"\n    type = \"S\"\n  }}\n}}\n"
        ));
    }
    tf.push_str(
        r#"resource "aws_iam_role" "ops" {
  name               = "ops"
  assume_role_policy = "{}"
  inline_policy {
    name   = "ops"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [
        { Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = "*" },
        { Effect = "Deny", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = aws_dynamodb_table.c.arn },
      ]
    })
  }
}
"#,
    );
    std::fs::write(dir.path().join("main.tf"), tf).unwrap_or_else(|e| panic!("{e}"));
    let out = common::kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "."])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    check_v2(&report);
    let disable: Vec<&Value> = report["access"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["capability"] == "disable")
        .collect();
    assert_eq!(disable.len(), 2, "{disable:?}");
    assert_eq!(disable[0]["decision"], "allowed");
    assert_eq!(
        disable[0]["tables"]["declared"]["except"],
        serde_json::json!([".#aws_dynamodb_table.c"])
    );
    assert_eq!(disable[0]["tables"]["undeclared"], true);
    assert_eq!(disable[1]["decision"], "denied");
    assert_eq!(
        disable[1]["tables"]["declared"],
        serde_json::json!([".#aws_dynamodb_table.c"])
    );
    assert_eq!(disable[1]["tables"]["undeclared"], false);
}
