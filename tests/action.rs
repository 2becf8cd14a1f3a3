//! The GitHub Action: `action.yml` parsed with a YAML parser and checked against the
//! structure GitHub requires of a composite action; its run step (`scripts/action.sh`)
//! run locally with a simulated `GITHUB_*` environment (event payload, step summary,
//! outputs file) on a temporary git repository with a pull request's two commits.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::io::Write as _;

use std::path::Path;
use std::process::Command;

use saphyr::{LoadableYamlNode, ScalarOwned, YamlOwned};
use serde_json::{Map, Value, json};

use common::root;

/// The YAML document as JSON values (scalars as YAML's core schema types them).
fn to_json(y: &YamlOwned) -> Value {
    match y {
        YamlOwned::Value(ScalarOwned::String(s)) => Value::String(s.clone()),
        YamlOwned::Value(ScalarOwned::Boolean(b)) => Value::Bool(*b),
        YamlOwned::Value(ScalarOwned::Integer(i)) => json!(i),
        YamlOwned::Value(ScalarOwned::FloatingPoint(f)) => json!(f.into_inner()),
        YamlOwned::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        YamlOwned::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match to_json(k) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                assert!(out.insert(key.clone(), to_json(v)).is_none(), "duplicate key {key}");
            }
            Value::Object(out)
        }
        YamlOwned::Tagged(_, inner) => to_json(inner),
        _ => Value::Null,
    }
}

fn action() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap_or_else(|e| panic!("{e}"));
    let docs = YamlOwned::load_from_str(&text).unwrap_or_else(|e| panic!("action.yml is not valid YAML: {e}"));
    assert_eq!(docs.len(), 1);
    to_json(&docs[0])
}

#[test]
fn action_yml_has_the_structure_github_requires() {
    let a = action();
    assert!(a["name"].is_string() && a["description"].is_string());
    let known = ["name", "author", "description", "inputs", "outputs", "runs", "branding"];
    for key in a.as_object().into_iter().flat_map(|m| m.keys()) {
        assert!(known.contains(&key.as_str()), "unknown top-level key {key}");
    }
    let inputs = a["inputs"].as_object().cloned().unwrap_or_default();
    for (name, input) in &inputs {
        assert!(input["description"].is_string(), "input {name} has no description");
        assert!(input["default"].is_string(), "input {name}: defaults are strings");
    }
    for name in ["paths", "fail-on", "config", "sarif-file", "diff-base", "args"] {
        assert!(inputs.contains_key(name), "no input {name}");
    }
    let outputs = a["outputs"].as_object().cloned().unwrap_or_default();
    for name in ["findings", "sarif-file"] {
        let o = &outputs[name];
        assert!(o["description"].is_string(), "output {name} has no description");
        // Composite actions must map each output to a step's output.
        assert!(
            o["value"].as_str().is_some_and(|v| v.contains("steps.run.outputs.")),
            "{o}"
        );
    }
    assert_eq!(a["runs"]["using"], "composite");
    let steps = a["runs"]["steps"].as_array().cloned().unwrap_or_default();
    assert!(!steps.is_empty());
    for step in &steps {
        let (run, uses) = (step.get("run"), step.get("uses"));
        assert!(
            run.is_some() != uses.is_some(),
            "a step has exactly one of run and uses: {step}"
        );
        if run.is_some() {
            assert!(step["shell"].is_string(), "composite run steps need a shell: {step}");
        }
    }
    // The built binary is cached, keyed by the action's ref and Cargo.lock.
    let cache = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/cache@")))
        .unwrap_or_else(|| panic!("no actions/cache step"));
    let key = cache["with"]["key"].as_str().unwrap_or_default();
    assert!(key.contains("github.action_ref"), "{key}");
    let lock_step = steps
        .iter()
        .find(|s| s["id"] == "key")
        .unwrap_or_else(|| panic!("no key step"));
    assert!(lock_step["run"].as_str().unwrap_or_default().contains("Cargo.lock"));
    assert!(key.contains("steps.key.outputs.lock"), "{key}");
    let build = steps
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("cargo install")))
        .unwrap_or_else(|| panic!("no build step"));
    assert!(build["if"].as_str().unwrap_or_default().contains("cache-hit"));
    // The run step is the script the local test drives.
    let run = steps
        .iter()
        .find(|s| s["id"] == "run")
        .unwrap_or_else(|| panic!("no run step"));
    assert!(run["run"].as_str().unwrap_or_default().contains("scripts/action.sh"));
    assert!(root().join("scripts/action.sh").is_file());
}

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

const GRANT: &str = r#"resource "aws_iam_role_policy" "etl" {
  role = aws_iam_role.etl.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["dynamodb:DisableKinesis*"]
      Resource = aws_dynamodb_table.orders.arn
    }]
  })
}
"#;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run git: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository with a base commit and a head commit that grants `disable`; returns the
/// base commit's id.
fn pull_request(dir: &Path) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.email", "test@example.com"]);
    git(dir, &["config", "user.name", "test"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    std::fs::create_dir_all(dir.join("infra")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("infra/main.tf"), TABLE_AND_ROLE).unwrap_or_else(|e| panic!("{e}"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let base = git(dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("infra/iam.tf"), GRANT).unwrap_or_else(|e| panic!("{e}"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "grant disable"]);
    base
}

struct Step {
    code: i32,
    stdout: String,
    summary: String,
    outputs: String,
}

/// Runs the Action's step as GitHub would: a workspace, an event, the files it writes.
fn run_step(repo: &Path, event_name: &str, event: &Value, inputs: &[(&str, &str)]) -> Step {
    let github = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let event_path = github.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let summary = github.path().join("summary.md");
    let outputs = github.path().join("output.txt");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/action.sh"))
        .current_dir(repo)
        .env("KDSGUARD_BIN", env!("CARGO_BIN_EXE_kdsguard"))
        .env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_WORKSPACE", repo)
        .env("RUNNER_TEMP", github.path())
        .env("NO_COLOR", "1")
        .env("INPUT_PATHS", "infra");
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run the step: {e}"));
    Step {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
    }
}

#[test]
fn the_step_reports_what_a_pull_request_adds_and_fails_per_fail_on() {
    let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = pull_request(repo.path());
    let event = json!({"pull_request": {"number": 7, "base": {"sha": base, "ref": "main"}}});
    let step = run_step(repo.path(), "pull_request", &event, &[]);
    assert_eq!(step.code, 1, "{}", step.stdout);
    // The wildcard grant's KDS006 and KDS015 for the access it adds.
    assert!(step.outputs.lines().any(|l| l == "findings=2"), "{}", step.outputs);
    assert!(
        step.outputs.lines().any(|l| l == "sarif-file=kdsguard.sarif"),
        "{}",
        step.outputs
    );
    assert!(
        step.stdout.starts_with("::warning file=infra/iam.tf,"),
        "{}",
        step.stdout
    );
    assert!(
        step.summary.contains(&format!("### Changes against `{base}`")),
        "{}",
        step.summary
    );
    assert!(
        step.summary
            .contains("- this change lets `aws_iam_role.etl` disable replication on Orders"),
        "{}",
        step.summary
    );
    let sarif: Value = serde_json::from_slice(&std::fs::read(repo.path().join("kdsguard.sarif")).unwrap_or_default())
        .unwrap_or_else(|e| panic!("no SARIF written: {e}"));
    assert_eq!(sarif["runs"][0]["results"].as_array().map(Vec::len), Some(2));

    // fail-on none: the same findings, a passing step.
    let step = run_step(repo.path(), "pull_request", &event, &[("INPUT_FAIL_ON", "none")]);
    assert_eq!(step.code, 0, "{}", step.stdout);
    assert!(step.outputs.lines().any(|l| l == "findings=2"), "{}", step.outputs);
    // fail-on error: a warning does not fail.
    let step = run_step(repo.path(), "pull_request", &event, &[("INPUT_FAIL_ON", "error")]);
    assert_eq!(step.code, 0);
    // A bad fail-on is a usage error.
    let step = run_step(repo.path(), "pull_request", &event, &[("INPUT_FAIL_ON", "sometimes")]);
    assert_eq!(step.code, 2);
}

#[test]
fn on_a_push_the_step_reports_everything() {
    let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    pull_request(repo.path());
    let step = run_step(
        repo.path(),
        "push",
        &json!({"ref": "refs/heads/main"}),
        &[
            ("INPUT_SARIF_FILE", "out/k.sarif"),
            ("INPUT_ARGS", "--account 123456789012"),
        ],
    );
    // out/ does not exist: writing the SARIF fails, which is a usage error (exit 2).
    assert_eq!(step.code, 2, "{}", step.stdout);
    std::fs::create_dir_all(repo.path().join("out")).unwrap_or_else(|e| panic!("{e}"));
    let step = run_step(
        repo.path(),
        "push",
        &json!({"ref": "refs/heads/main"}),
        &[
            ("INPUT_SARIF_FILE", "out/k.sarif"),
            ("INPUT_ARGS", "--account 123456789012"),
        ],
    );
    assert_eq!(step.code, 1, "{}", step.stdout);
    assert!(!step.summary.contains("Changes against"), "{}", step.summary);
    assert!(step.summary.contains("**1 finding(s)**"), "{}", step.summary);
    assert!(step.outputs.lines().any(|l| l == "sarif-file=out/k.sarif"));
    assert!(repo.path().join("out/k.sarif").is_file());
}

/// `pre-commit try-repo` on this checkout: the hook builds kdsguard (in a target folder of
/// its own beside the tests', with release optimisation off so that it builds in about a
/// debug build's time) and checks the folders of the changed files. Skipped, saying so,
/// when pre-commit is not installed (`.ci/run` installs it).
#[test]
fn the_pre_commit_hook_checks_the_folders_of_changed_files() {
    let found = Command::new("pre-commit").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: pre-commit is not installed (pip install pre-commit)"
        );
        return;
    }
    let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = repo.path();
    pull_request(dir);
    std::fs::write(dir.join("infra/notes.md"), "not analysed\n").unwrap_or_else(|e| panic!("{e}"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), std::path::PathBuf::from)
        .join("pre-commit");
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let hook = |files: &[&str]| {
        let mut cmd = Command::new("pre-commit");
        cmd.args([
            "try-repo",
            &root().to_string_lossy(),
            "kdsguard",
            "--verbose",
            "--files",
        ])
        .args(files)
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", home.path())
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("NO_COLOR", "1");
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run pre-commit: {e}"));
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    // Only iam.tf changed, but the module is analysed whole: the grant on the table that
    // main.tf declares is found.
    let (code, out) = hook(&["infra/iam.tf"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("KDS006"), "{out}");
    assert!(out.contains("table Orders"), "{out}");
    // A file the hook does not match is not analysed.
    let (code, out) = hook(&["infra/notes.md"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn soft_fail_flags_exit_0_on_findings_but_not_on_load_errors() {
    let bad = "testdata/rules/KDS004/bad/main.tf";
    assert_eq!(common::run(&["check", bad]).code, 1);
    for flag in [&["--exit-zero"][..], &["--soft-fail"], &["--fail-on", "none"]] {
        let mut args = vec!["check", "--format", "json"];
        args.extend_from_slice(flag);
        args.push(bad);
        let r = common::run(&args);
        assert_eq!(r.code, 0, "{flag:?}");
        assert!(!r.json()["findings"].as_array().cloned().unwrap_or_default().is_empty());
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("broken.tf"), "resource \"x\" {\n").unwrap_or_else(|e| panic!("{e}"));
    let r = common::run(&["check", "--exit-zero", &dir.path().to_string_lossy()]);
    assert_eq!(r.code, 2);
}

#[test]
fn changed_files_are_checked_by_their_folders() {
    // main.tf alone declares the role; the grant is in another file of the same module.
    let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    pull_request(repo.path());
    let out = common::kdsguard()
        .current_dir(repo.path())
        .args([
            "check",
            "--format",
            "json",
            "--changed-files",
            "infra/main.tf",
            "infra/iam.tf",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let inputs: Vec<&str> = report["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["path"].as_str())
        .collect();
    assert_eq!(inputs, ["infra"], "one module, analysed once");
    assert_eq!(report["findings"][0]["rule"], "KDS006");
}
