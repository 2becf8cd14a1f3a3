//! `check --timings` tells the truth: the entry counts it prints are the report's, and
//! `check --help` names every phase it times.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::estate::{Format, Options, write};

/// The numbers of the `work:` line that counts the report's entries:
/// (access entries, indirect entries).
fn entry_counts(stderr: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("work: ") && l.contains("access entries"))
        .unwrap_or_else(|| panic!("no entry counts in:\n{stderr}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

fn assert_counts_match(dir: &std::path::Path) {
    let out = common::kdsguard()
        .current_dir(dir)
        .args(["check", "--format", "json", "--timings", "."])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let len = |k: &str| report[k].as_array().map_or(0, Vec::len);
    let (access, indirect) = entry_counts(&stderr);
    assert!(access > 0, "the run has access entries:\n{stderr}");
    assert_eq!(
        access,
        len("access"),
        "--timings' access entries are the report's:\n{stderr}"
    );
    assert_eq!(
        indirect,
        len("indirect"),
        "--timings' indirect entries are the report's:\n{stderr}"
    );
}

#[test]
fn entry_counts_are_the_reports_on_the_demo() {
    assert_counts_match(&common::root().join("testdata/demo"));
}

/// A generated estate has many decisions that grant nothing (not in the report): they must
/// not be counted as entries.
#[test]
fn entry_counts_are_the_reports_on_an_estate_with_reach() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let opts = Options {
        principals: 120,
        tables: 40,
        files: 12,
        seed: 42,
        assumable: 12,
        iam_writers: 3,
    };
    write(dir.path(), Format::Terraform, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_counts_match(dir.path());
}

#[test]
fn help_lists_every_timed_phase() {
    let run = common::run(&["check", "--format", "json", "--timings", "testdata/demo"]);
    let help = common::run(&["check", "--help"]).stdout;
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let phases: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("timing: "))
        .map(|l| l.split("  ").next().unwrap_or_default().trim())
        .map(|phase| phase.split(" (").next().unwrap_or(phase))
        .collect();
    assert!(phases.len() >= 8, "every phase is timed: {phases:?}");
    for phase in phases {
        assert!(help.contains(phase), "check --help names the {phase:?} phase:\n{help}");
    }
}
