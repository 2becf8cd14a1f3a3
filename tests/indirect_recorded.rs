//! The indirect section of the assumable estate at 300 principals, recorded: a change to the
//! reach engine (principal classes, hubs, condensed cycles) must give the same answers. One
//! line per entry: principal, capability, covered tables or resource, decision, and the
//! path as (principal, step, decision) hops. Proof positions are not recorded, so a
//! reordering of statements is no change; a different answer is.
//!
//! `KDSGUARD_RECORD=1 cargo test --test indirect_recorded` rewrites the recording; only do that
//! for an intended change, and say why in the commit.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::estate::{Format, Options, write};
use serde_json::Value;

const RECORDING: &str = "testdata/recorded/indirect-assumable-300.tsv";

fn line(x: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let covers = match (&x["resource"], &x["tables"]) {
        (Value::String(r), _) => r.clone(),
        (_, t) => t.to_string(),
    };
    let via: Vec<String> = x["via"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| format!("{}:{}:{}", s(&h["principal"]), s(&h["step"]), s(&h["decision"])))
        .collect();
    [
        s(&x["principal"]),
        s(&x["capability"]),
        covers,
        s(&x["decision"]),
        via.join(" > "),
    ]
    .join("\t")
}

#[test]
fn the_indirect_section_of_the_assumable_estate_is_unchanged() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let opts = Options {
        principals: 300,
        tables: 120,
        files: 12,
        seed: 7,
        assumable: 30,
        iam_writers: 6,
    };
    write(dir.path(), Format::Terraform, &opts).unwrap_or_else(|e| panic!("{e}"));
    let out = common::kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "."])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<String> = report["indirect"].as_array().into_iter().flatten().map(line).collect();
    assert!(
        lines.len() > 100,
        "the estate reaches through other principals ({})",
        lines.len()
    );
    let got = lines.join("\n") + "\n";
    let path = common::root().join(RECORDING);
    if std::env::var_os("KDSGUARD_RECORD").is_some() {
        std::fs::write(&path, &got).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if got != want {
        let want: std::collections::BTreeSet<&str> = want.lines().collect();
        let got: std::collections::BTreeSet<&str> = got.lines().collect();
        let gone: Vec<&&str> = want.difference(&got).take(10).collect();
        let new: Vec<&&str> = got.difference(&want).take(10).collect();
        panic!("the indirect section changed\nrecorded, now gone:\n{gone:#?}\nnew:\n{new:#?}");
    }
}
