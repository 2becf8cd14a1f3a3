//! PR delta mode (`check --diff-base`) on temporary git repositories built here: what a
//! change adds fails the run, what it removes is listed, renames and moved statements add
//! nothing, a base without the paths is empty, a bad revision exits 2. The work tree is
//! never touched.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const TABLE_AND_ROLE: &str = r#"resource "aws_dynamodb_table" "orders" {
  name         = "Orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_iam_role" "etl" {
  name = "etl"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "glue.amazonaws.com" } }]
  })
}
"#;

/// A policy on the etl role with these statements (HCL object literals).
fn policy(statements: &[&str]) -> String {
    format!(
        "resource \"aws_iam_role_policy\" \"etl\" {{\n  role = aws_iam_role.etl.id\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [\n{}\n    ]\n  }})\n}}\n",
        statements.join(",\n")
    )
}

const DISABLE: &str = r#"      {
        Effect   = "Allow"
        Action   = ["dynamodb:DisableKinesis*"]
        Resource = aws_dynamodb_table.orders.arn
      }"#;

const DESCRIBE: &str = r#"      {
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeKinesisStreamingDestination", "dynamodb:DescribeTable"]
        Resource = aws_dynamodb_table.orders.arn
      }"#;

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "user.name", "test"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run git: {e}"));
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn write(&self, file: &str, text: &str) {
        let p = self.path().join(file);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    /// `check --diff-base BASE --format json infra` from the repository's top level.
    fn delta(&self, base: &str) -> (Value, i32, String) {
        let out = common::kdsguard()
            .current_dir(self.path())
            .args(["check", "--diff-base", base, "--format", "json", "infra"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        (
            report,
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

#[test]
fn a_policy_granting_disable_reports_only_that_access_and_fails() {
    let repo = Repo::new();
    repo.write("infra/main.tf", TABLE_AND_ROLE);
    repo.write("infra/iam.tf", &policy(&[DESCRIBE]));
    repo.commit("base");
    repo.write("infra/iam.tf", &policy(&[DESCRIBE, DISABLE]));
    repo.commit("grant disable");
    let (report, code, stderr) = repo.delta("HEAD~1");
    assert_eq!(code, 1, "{stderr}");
    let delta = &report["delta"];
    assert_eq!(delta["base"], "HEAD~1");
    assert_eq!(delta["commit"].as_str().map(str::len), Some(40));
    let added = list(&delta["added"]);
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(added[0]["principal"], "infra#aws_iam_role.etl");
    assert_eq!(added[0]["capability"], "disable");
    assert_eq!(added[0]["decision"], "allowed");
    assert_eq!(added[0]["was"], "not_allowed");
    assert_eq!(added[0]["tables"]["declared"][0], "infra#aws_dynamodb_table.orders");
    assert_eq!(
        added[0]["summary"],
        "this change lets `aws_iam_role.etl` disable replication on Orders"
    );
    assert!(list(&delta["removed"]).is_empty());
    // Only findings new at head: the wildcard grant's KDS006.
    let rules: Vec<Value> = list(&report["findings"]).iter().map(|f| f["rule"].clone()).collect();
    assert_eq!(rules, ["KDS006"]);
    // The human report says it in words, too.
    let out = common::kdsguard()
        .current_dir(repo.path())
        .args(["check", "--diff-base", "HEAD~1", "infra"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Added access:\n  - this change lets `aws_iam_role.etl` disable replication on Orders\n"),
        "{text}"
    );
    // The work tree is as it was: nothing written, nothing checked out.
    let head = std::fs::read_to_string(repo.path().join("infra/iam.tf")).unwrap_or_default();
    assert!(head.contains("DisableKinesis"));
}

#[test]
fn a_change_that_only_removes_access_passes_and_lists_the_removal() {
    let repo = Repo::new();
    repo.write("infra/main.tf", TABLE_AND_ROLE);
    repo.write("infra/iam.tf", &policy(&[DESCRIBE, DISABLE]));
    repo.commit("base");
    repo.write("infra/iam.tf", &policy(&[DESCRIBE]));
    repo.commit("revoke disable");
    let (report, code, stderr) = repo.delta("main~1");
    assert_eq!(code, 0, "{stderr}");
    assert!(list(&report["delta"]["added"]).is_empty());
    let removed = list(&report["delta"]["removed"]);
    assert_eq!(removed.len(), 1, "{removed:#?}");
    assert_eq!(removed[0]["capability"], "disable");
    assert_eq!(removed[0]["was"], "allowed");
    assert_eq!(
        removed[0]["summary"],
        "`aws_iam_role.etl` can no longer disable replication on Orders"
    );
    assert!(list(&report["findings"]).is_empty());
}

#[test]
fn a_renamed_file_or_a_moved_statement_adds_nothing() {
    let repo = Repo::new();
    repo.write("infra/main.tf", TABLE_AND_ROLE);
    repo.write("infra/iam.tf", &policy(&[DISABLE, DESCRIBE]));
    repo.commit("base");
    // Renamed file, statements swapped and moved down by blank lines.
    std::fs::remove_file(repo.path().join("infra/iam.tf")).unwrap_or_else(|e| panic!("{e}"));
    repo.write("infra/roles.tf", &format!("\n\n\n{}", policy(&[DESCRIBE, DISABLE])));
    repo.commit("rename and reorder");
    let (report, code, stderr) = repo.delta("HEAD~1");
    assert_eq!(code, 0, "{stderr}");
    assert!(list(&report["delta"]["added"]).is_empty(), "{}", report["delta"]);
    assert!(list(&report["delta"]["removed"]).is_empty(), "{}", report["delta"]);
    assert!(list(&report["findings"]).is_empty(), "{}", report["findings"]);
    // Every head finding was already at the base.
    let plain = common::kdsguard()
        .current_dir(repo.path())
        .args(["check", "--format", "json", "infra"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap_or(Value::Null);
    let all = list(&plain["findings"]).len();
    assert!(all >= 1);
    assert_eq!(report["delta"]["unchanged_findings"], all);
}

#[test]
fn a_base_without_the_paths_is_an_empty_base() {
    let repo = Repo::new();
    repo.write("README.md", "nothing here yet\n");
    repo.commit("base");
    repo.write("infra/main.tf", TABLE_AND_ROLE);
    repo.write("infra/iam.tf", &policy(&[DISABLE]));
    repo.commit("add infra");
    let (report, code, stderr) = repo.delta("HEAD~1");
    assert_eq!(code, 1, "{stderr}");
    let added = list(&report["delta"]["added"]);
    assert!(added.iter().any(|a| a["capability"] == "disable"), "{added:#?}");
    assert!(list(&report["delta"]["removed"]).is_empty());
    assert_eq!(list(&report["findings"]).len(), 1);
}

#[test]
fn a_revision_that_does_not_exist_exits_2() {
    let repo = Repo::new();
    repo.write("infra/main.tf", TABLE_AND_ROLE);
    repo.commit("base");
    let (_, code, stderr) = repo.delta("no-such-branch");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--diff-base no-such-branch: no such revision"),
        "{stderr}"
    );
}

#[test]
fn outside_a_repository_delta_mode_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("main.tf"), TABLE_AND_ROLE).unwrap_or_else(|e| panic!("{e}"));
    if kdsguard::root::git_top_level(dir.path()).is_some() {
        return; // the temporary folder sits inside a repository: nothing to test here
    }
    let out = common::kdsguard()
        .current_dir(dir.path())
        .args(["check", "--diff-base", "main", "."])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a git repository"));
}
