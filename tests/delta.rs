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

/// Disable named exactly (no wildcard, so KDS006 stays quiet): only KDS015 can fail the run.
const DISABLE_NAMED: &str = r#"      {
        Effect   = "Allow"
        Action   = "dynamodb:DisableKinesisStreamingDestination"
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

    /// `kdsguard ARGS` from the repository's top level: exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = common::kdsguard()
            .current_dir(self.path())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
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
    // Only findings new at head: the wildcard grant's KDS006, and KDS015 for the access.
    let mut rules: Vec<String> = list(&report["findings"])
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    rules.sort();
    assert_eq!(rules, ["KDS006", "KDS015"]);
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
    let mut rules: Vec<String> = list(&report["findings"])
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    rules.sort();
    assert_eq!(rules, ["KDS006", "KDS015"]);
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

/// A repository whose last commit lets `etl` disable replication on Orders (named action).
fn etl_gains_disable(statement_prefix: &str) -> Repo {
    let repo = Repo::new();
    repo.write("infra/main.tf", TABLE_AND_ROLE);
    repo.write("infra/iam.tf", &policy(&[DESCRIBE]));
    repo.commit("base");
    let disable = format!("{statement_prefix}{DISABLE_NAMED}");
    repo.write("infra/iam.tf", &policy(&[DESCRIBE, &disable]));
    repo.commit("grant disable");
    repo
}

const ETL_DISABLES: &str = "this change lets `aws_iam_role.etl` disable replication on Orders";

#[test]
fn kds015_reports_the_added_access_in_every_format() {
    let repo = etl_gains_disable("");
    let (report, code, stderr) = repo.delta("HEAD~1");
    assert_eq!(code, 1, "{stderr}");
    let findings = list(&report["findings"]);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["rule"], "KDS015");
    assert_eq!(f["name"], "access-added");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["message"], ETL_DISABLES);
    assert_eq!(f["file"], "infra/iam.tf");
    // At head's granting statement: the second statement of the policy.
    let statement_line = std::fs::read_to_string(repo.path().join("infra/iam.tf"))
        .unwrap_or_default()
        .lines()
        .position(|l| l.contains("dynamodb:DisableKinesisStreamingDestination"))
        .map(|k| k as u64 - 1);
    assert_eq!(f["line"].as_u64(), statement_line);

    let diff = ["check", "--diff-base", "HEAD~1"];
    let with = |format: &str| -> (i32, String) {
        let mut args = diff.to_vec();
        args.extend(["--format", format, "infra"]);
        let (code, out, _) = repo.run(&args);
        (code, out)
    };
    let (code, concise) = with("concise");
    assert_eq!(code, 1);
    assert!(
        concise.contains(&format!("infra/iam.tf:{}:7: KDS015 warning: {ETL_DISABLES}", f["line"])),
        "{concise}"
    );
    let (_, sarif) = with("sarif");
    let sarif: Value = serde_json::from_str(&sarif).unwrap_or(Value::Null);
    let results = list(&sarif["runs"][0]["results"]);
    assert!(
        results.iter().any(|r| r["ruleId"] == "KDS015"
            && r["level"] == "warning"
            && r["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with(ETL_DISABLES))),
        "{results:#?}"
    );
    let (_, junit) = with("junit");
    assert!(
        junit.contains("<testsuite name=\"KDS015 access-added\" tests=\"1\" failures=\"1\""),
        "{junit}"
    );
    assert!(junit.contains(ETL_DISABLES), "{junit}");
    let (_, github) = with("github");
    assert!(
        github.lines().any(|l| l.starts_with("::warning file=infra/iam.tf,")
            && l.contains("title=KDS015 access-added::")
            && l.contains(ETL_DISABLES)),
        "{github}"
    );
    let (_, human) = with("human");
    assert!(human.contains("KDS015 access-added"), "{human}");
    // The step summary's first section is the change, and opens with KDS015's findings.
    let (_, summary) = with("markdown");
    let first = summary.split("\n### ").nth(1).unwrap_or_default();
    assert!(first.starts_with("Changes against `HEAD~1`"), "{summary}");
    assert!(
        first.contains(&format!(
            "- **warning** KDS015 `infra/iam.tf:{}`: {ETL_DISABLES}",
            f["line"]
        )),
        "{summary}"
    );
}

#[test]
fn a_suppression_with_a_reason_silences_kds015_and_is_never_unused_later() {
    let repo = etl_gains_disable("      # kdsguard:ignore KDS015 reason: etl rotates streams nightly\n");
    let (report, code, stderr) = repo.delta("HEAD~1");
    assert_eq!(code, 0, "{stderr}{}", report["findings"]);
    assert!(list(&report["findings"]).is_empty(), "{}", report["findings"]);
    assert_eq!(list(&report["suppressed"]).len(), 1, "{}", report["suppressed"]);
    // Outside PR mode (after the merge) KDS015 does not fire, and its suppression is not
    // reported as suppressing nothing.
    let (code, out, _) = repo.run(&["check", "--format", "json", "infra"]);
    let plain: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    assert!(
        list(&plain["findings"]).iter().all(|f| f["rule"] != "KDS014"),
        "{}",
        plain["findings"]
    );
    assert_eq!(code, 0, "{}", plain["findings"]);
}

#[test]
fn a_baseline_silences_kds015() {
    let repo = etl_gains_disable("");
    let (code, _, stderr) = repo.run(&[
        "check",
        "--diff-base",
        "HEAD~1",
        "--write-baseline",
        "baseline.json",
        "infra",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let written = std::fs::read_to_string(repo.path().join("baseline.json")).unwrap_or_default();
    assert!(written.contains("\"rule\": \"KDS015\""), "{written}");
    let (code, out, stderr) = repo.run(&[
        "check",
        "--diff-base",
        "HEAD~1",
        "--baseline",
        "baseline.json",
        "--format",
        "json",
        "infra",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    assert!(list(&report["findings"]).is_empty(), "{}", report["findings"]);
    assert_eq!(report["baselined"].as_u64(), Some(1));
}

#[test]
fn an_added_describe_is_a_kds015_note_and_passes() {
    let repo = Repo::new();
    repo.write("infra/main.tf", TABLE_AND_ROLE);
    repo.commit("base");
    let describe_stream = r#"      {
        Effect   = "Allow"
        Action   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary"]
        Resource = "*"
      }"#;
    repo.write("infra/iam.tf", &policy(&[DESCRIBE, describe_stream]));
    repo.commit("grant describe");
    let (report, code, stderr) = repo.delta("HEAD~1");
    let kds015: Vec<Value> = list(&report["findings"])
        .into_iter()
        .filter(|f| f["rule"] == "KDS015")
        .collect();
    assert_eq!(kds015.len(), 1, "{}", report["findings"]);
    assert_eq!(kds015[0]["severity"], "note");
    assert_eq!(
        kds015[0]["message"],
        "this change lets `aws_iam_role.etl` read the replication settings of Orders"
    );
    assert_eq!(code, 0, "{stderr}{}", report["findings"]);
}

/// `ops` may disable replication on Orders; its trust policy names `principal`.
fn ops_trusting(principal: &str) -> String {
    format!(
        r#"resource "aws_iam_user" "dev" {{
  name = "dev"
}}

resource "aws_iam_role" "ops" {{
  name = "ops"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = {principal}
      }}
    ]
  }})
}}

resource "aws_iam_role_policy" "ops" {{
  role = aws_iam_role.ops.id
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "dynamodb:DisableKinesisStreamingDestination", Resource = aws_dynamodb_table.orders.arn }}]
  }})
}}
"#
    )
}

#[test]
fn access_added_through_another_principal_is_kds015_at_the_first_step() {
    let repo = Repo::new();
    repo.write("infra/main.tf", TABLE_AND_ROLE);
    repo.write("infra/ops.tf", &ops_trusting(r#"{ Service = "ec2.amazonaws.com" }"#));
    repo.commit("base");
    repo.write("infra/ops.tf", &ops_trusting("{ AWS = aws_iam_user.dev.arn }"));
    repo.commit("let dev assume ops");
    let (report, code, stderr) = repo.delta("HEAD~1");
    assert_eq!(code, 1, "{stderr}");
    let kds015: Vec<Value> = list(&report["findings"])
        .into_iter()
        .filter(|f| f["rule"] == "KDS015")
        .collect();
    assert_eq!(kds015.len(), 1, "{}", report["findings"]);
    let f = &kds015[0];
    let message = f["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("this change lets `aws_iam_user.dev` disable replication on Orders, through other principals: `aws_iam_user.dev` → assumes `aws_iam_role.ops`"),
        "{message}"
    );
    // At the trust policy's statement, the first step of the path.
    let trust_line = std::fs::read_to_string(repo.path().join("infra/ops.tf"))
        .unwrap_or_default()
        .lines()
        .position(|l| l.contains("sts:AssumeRole"))
        .map(|k| k as u64 - 1);
    assert_eq!(f["file"], "infra/ops.tf");
    assert_eq!(f["line"].as_u64(), trust_line);
}
