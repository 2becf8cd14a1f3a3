//! GitHub outputs within GitHub's limits: annotations (errors first, at most what a step
//! shows, then one closing notice) and the Markdown step summary (under 1 MiB on any
//! estate, rule links that work outside this repository); pinned by snapshots.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::estate::{Format, Options, write};
use common::*;

/// Lines that are annotations (`::error`, `::warning`, `::notice`).
fn annotation_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("::")).collect()
}

#[test]
fn annotations_point_at_the_statement_and_are_pinned() {
    let r = run(&["check", "--format", "github", "testdata/rules/KDS001/bad/template.yaml"]);
    assert_eq!(r.code, 1);
    let line = r.stdout.lines().next().unwrap_or_default();
    assert!(
        line.starts_with("::warning file=testdata/rules/KDS001/bad/template.yaml,line=18,col=17,"),
        "{line}"
    );
    assert!(line.contains("title=KDS001 enable-incomplete::"));
    let r = run(&["check", "--format", "github", "testdata/demo/terraform"]);
    assert_eq!(r.code, 1);
    let lines = annotation_lines(&r.stdout);
    // Errors come first.
    let first_warning = lines.iter().position(|l| l.starts_with("::warning"));
    let last_error = lines.iter().rposition(|l| l.starts_with("::error"));
    if let (Some(w), Some(e)) = (first_warning, last_error) {
        assert!(e < w, "{lines:#?}");
    }
    insta::assert_snapshot!("demo_terraform_annotations", r.stdout);
}

#[test]
fn the_summary_appends_and_is_pinned() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let summary = dir.path().join("summary.md");
    let s = summary.to_string_lossy().to_string();
    let r = run(&[
        "check",
        "--output",
        &format!("markdown={s}"),
        "--output",
        &format!("markdown={s}"),
        "testdata/demo/terraform",
    ]);
    assert_eq!(r.code, 1);
    let text = std::fs::read_to_string(&summary).unwrap_or_default();
    // Markdown output appends, so two steps can share $GITHUB_STEP_SUMMARY.
    assert_eq!(text.matches("## kdsguard").count(), 2);
    let one = text.split("## kdsguard").nth(1).unwrap_or_default();
    // Without a docs URL, rule links say how to read the page anywhere.
    assert!(!one.contains("](docs/rules/"), "{one}");
    assert!(one.contains("(`kdsguard explain KDS004`)"), "{one}");
    insta::assert_snapshot!("demo_terraform_summary", one);

    let r = run(&[
        "check",
        "--format",
        "markdown",
        "--docs-url",
        "https://docs.example/rules/{id}",
        "testdata/demo/terraform",
    ]);
    assert!(
        r.stdout.contains("[KDS004](https://docs.example/rules/KDS004)"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_large_estate_stays_within_github_limits() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let opts = Options {
        principals: 300,
        tables: 100,
        files: 20,
        seed: 7,
        ..Options::default()
    };
    write(dir.path(), Format::Terraform, &opts).unwrap_or_else(|e| panic!("cannot generate: {e}"));
    let out = kdsguard()
        .current_dir(dir.path())
        .args([
            "check",
            "--format",
            "github",
            "--output",
            "markdown=summary.md",
            "--output",
            "sarif=kdsguard.sarif",
            "--output",
            "json=report.json",
            ".",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = annotation_lines(&stdout);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap_or_default()).unwrap_or_default();
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    assert!(findings > 100, "the estate should have many findings, has {findings}");
    // The pointer comes first and is one of the 10 notices GitHub shows per step.
    let notice = lines.first().copied().unwrap_or_default();
    assert!(lines.len() <= 50, "{} annotations", lines.len());
    for level in ["::error", "::warning", "::notice"] {
        assert!(lines.iter().filter(|l| l.starts_with(level)).count() <= 10, "{level}");
    }
    assert_eq!(lines.iter().filter(|l| l.starts_with("::notice")).count(), 10);
    assert!(notice.starts_with("::notice title=kdsguard%3A "), "{notice}");
    assert!(notice.contains("more finding(s) are not annotated here: "), "{notice}");
    assert!(
        notice.contains("over GitHub's limit of 10 annotations per level and step"),
        "{notice}"
    );
    assert!(notice.contains("`kdsguard.sarif`"), "{notice}");
    // Its count is exact: the findings annotated, merged into them, and over the limit.
    let more: usize = notice
        .split("::")
        .nth(2)
        .and_then(|m| m.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{notice}"));
    assert_eq!(more + lines.len() - 1, findings, "{notice}");
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap_or_default();
    assert!(summary.len() < 1024 * 1024, "summary is {} bytes", summary.len());
    assert!(
        summary.contains(&format!("**{findings} finding(s)**")),
        "counts are complete"
    );
    assert!(summary.contains("more findings (the SARIF and JSON reports have them all)."));
    // The findings table lists errors first, then warnings, then notes.
    let rank = |row: &str| {
        ["| error |", "| warning |", "| note |"]
            .iter()
            .position(|s| row.contains(s))
            .unwrap_or(3)
    };
    let rows: Vec<usize> = summary
        .split("### Findings")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take_while(|l| !l.starts_with("###"))
        .filter(|l| l.starts_with("| KDS"))
        .map(rank)
        .collect();
    assert!(!rows.is_empty());
    assert!(rows.windows(2).all(|w| w[0] <= w[1]), "{rows:?}");
    assert_eq!(rows[0], 0, "the estate has errors; they come first");
}

#[test]
fn findings_merged_per_statement_are_pointed_to_and_said_so() {
    let r = run(&["check", "--format", "github", "testdata/demo/terraform"]);
    let lines = annotation_lines(&r.stdout);
    let json = run(&["check", "--format", "json", "testdata/demo/terraform"]).json();
    let findings = json["findings"].as_array().map_or(0, Vec::len);
    // Fewer annotations than findings, none over the limit: the pointer says they are merged.
    let pointer = lines.first().copied().unwrap_or_default();
    assert!(pointer.contains("(merged per statement)"), "{pointer}");
    assert!(!pointer.contains("over GitHub's limit"), "{pointer}");
    assert_eq!(lines.len() - 1 + pointer_count(pointer), findings);
    // The annotation that absorbed them says how many.
    assert!(
        r.stdout.contains("more finding(s) of this rule at this statement)"),
        "{}",
        r.stdout
    );
}

/// The number a pointer notice starts its message with.
fn pointer_count(line: &str) -> usize {
    line.split("::")
        .nth(2)
        .and_then(|m| m.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}
