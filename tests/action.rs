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
    let step = |id: &str| {
        steps
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no step {id}"))
            .clone()
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    // The release binary of the Action's version comes first (scripts/install.sh, tested
    // below against a fake release); a build from source only when it says so.
    let install = step("install");
    assert!(text(&install["run"]).contains("scripts/install.sh"), "{install}");
    let restore = step("cache");
    assert!(
        text(&restore["uses"]).starts_with("actions/cache/restore@"),
        "{restore}"
    );
    assert!(
        text(&restore["if"]).contains("steps.install.outputs.build == 'true'"),
        "{restore}"
    );
    let build = step("build");
    let build_if = text(&build["if"]);
    assert!(build_if.contains("steps.install.outputs.build == 'true'") && build_if.contains("cache-hit"));
    // From the Action's folder, so that rust-toolchain.toml pins the toolchain.
    let build_run = text(&build["run"]);
    let lines: Vec<&str> = build_run.lines().collect();
    assert_eq!(lines[0], "cd \"$GITHUB_ACTION_PATH\"", "{build_run}");
    assert!(lines.contains(&"rustup toolchain install"), "{build_run}");
    assert!(
        lines.iter().any(|l| l.starts_with("cargo install --locked")),
        "{build_run}"
    );
    let save = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/cache/save@")))
        .unwrap_or_else(|| panic!("no actions/cache/save step"));
    // Saved whatever the job's result, once built.
    assert!(text(&save["if"]).contains("always()") && text(&save["if"]).contains("steps.build.outcome"));
    // A key from the sources, not from github.action_ref (empty inside a composite action).
    for s in [&restore, save] {
        assert_eq!(text(&s["with"]["key"]), "${{ steps.install.outputs.cache-key }}");
    }
    let whole = std::fs::read_to_string(root().join("action.yml")).unwrap_or_default();
    assert!(!whole.contains("github.action_ref"));
    let toolchain = std::fs::read_to_string(root().join("rust-toolchain.toml")).unwrap_or_default();
    assert!(toolchain.contains("channel = \"1.95"), "{toolchain}");
    assert_eq!(
        text(&step("run")["env"]["KDSGUARD_BIN"]),
        "${{ steps.install.outputs.bin }}"
    );
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
/// when pre-commit is not installed, but in CI (`.ci/run` installs it).
#[test]
fn the_pre_commit_hook_checks_the_folders_of_changed_files() {
    if !common::tool_runs("pre-commit", "pip install pre-commit") {
        return;
    }
    let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = repo.path();
    pull_request(dir);
    // A third commit touches only files the hook's pattern matches but that are no
    // templates: a package.json and a workflow.
    std::fs::write(
        dir.join("package.json"),
        "{\"name\": \"web\", \"version\": \"1.0.0\"}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.join(".github/workflows")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "web tooling"]);
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), std::path::PathBuf::from)
        .join("pre-commit");
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The hook on the files one commit changed (`pre-commit run --from-ref C~1 --to-ref C`).
    let hook = |commit: &str| {
        let mut cmd = Command::new("pre-commit");
        cmd.args(["try-repo", &root().to_string_lossy(), "kdsguard", "--verbose"])
            .args(["--from-ref", &format!("{commit}~1"), "--to-ref", commit])
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
    // The commit that adds iam.tf: the module is analysed whole, so the grant on the table
    // that main.tf declares is found.
    let (code, out) = hook("HEAD~1");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("KDS006"), "{out}");
    assert!(out.contains("table Orders"), "{out}");
    // The commit that touches only package.json and a workflow: the hook runs on them,
    // finds no template among them, and passes.
    let (code, out) = hook("HEAD");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Passed"), "{out}");
    assert!(!out.contains("no template"), "{out}");
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

/// The Action's `args` (and `paths`) are split as a shell splits words: quotes group,
/// backslashes escape, nothing is expanded or run.
#[test]
fn the_step_splits_args_as_a_shell_would_without_running_them() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let seen = dir.path().join("argv.txt");
    let fake = dir.path().join("fake-kdsguard");
    // Stands in for kdsguard: records each argument on a line of its own.
    std::fs::write(
        &fake,
        format!("#!/usr/bin/env bash\nprintf '<%s>\\n' \"$@\" > '{}'\n", seen.display()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    let witness = dir.path().join("pwned");
    let args = format!(
        "--var 'env=prod stage' --parameter \"Name=a \\\"b\\\"\" e\\ f ''\n  $(touch {w}) `touch {w}` \"$HOME\" --exclude '*.tf'",
        w = witness.display()
    );
    let run = |paths: &str, args: &str| {
        Command::new("bash")
            .arg(root().join("scripts/action.sh"))
            .current_dir(dir.path())
            .env("KDSGUARD_BIN", &fake)
            .env("INPUT_PATHS", paths)
            .env("INPUT_ARGS", args)
            .env("GITHUB_OUTPUT", dir.path().join("out.txt"))
            .env("GITHUB_EVENT_NAME", "push")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("RUNNER_TEMP", dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let out = run("\"infra dir\" b", &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let argv = std::fs::read_to_string(&seen).unwrap_or_default();
    let words: Vec<&str> = argv.lines().collect();
    let tail = words
        .iter()
        .position(|w| *w == "<--var>")
        .map(|i| &words[i..])
        .unwrap_or_default();
    let w = witness.display();
    let expected = [
        "<--var>".to_string(),
        "<env=prod stage>".to_string(),
        "<--parameter>".to_string(),
        "<Name=a \"b\">".to_string(),
        "<e f>".to_string(),
        "<>".to_string(),
        "<$(touch>".to_string(),
        format!("<{w})>"),
        "<`touch>".to_string(),
        format!("<{w}`>"),
        "<$HOME>".to_string(),
        "<--exclude>".to_string(),
        "<*.tf>".to_string(),
    ];
    assert_eq!(tail, expected, "{argv}");
    assert_eq!(words[0], "<check>", "{argv}");
    assert_eq!(words[1..3], ["<infra dir>", "<b>"], "{argv}");
    assert!(!witness.exists(), "a command substitution in args was run");
    // An unterminated quote is a usage error that names the input.
    let out = run("infra", "--var 'env=prod");
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=kdsguard::args: unterminated ' quote"),
        "{stdout}"
    );
}

/// A static file server on 127.0.0.1 (a free port) for a fake release: `GET /x` answers the
/// file `root/x`, anything else 404. Returns its base URL and how many requests it answered.
fn serve(root: std::path::PathBuf) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead as _, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap_or_else(|e| panic!("{e}")));
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/');
            let body = (!path.split('/').any(|c| c == ".."))
                .then(|| std::fs::read(root.join(path)).ok())
                .flatten();
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", b"no such release asset\n".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (format!("http://{addr}"), hits)
}

struct Install {
    code: i32,
    stdout: String,
    outputs: String,
}

impl Install {
    fn output(&self, name: &str) -> &str {
        let prefix = format!("{name}=");
        self.outputs
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no output {name} in {}", self.outputs))
    }
}

/// Runs the Action's install step as GitHub would on a Linux x64 runner, with the Action
/// at `ref` and its releases at `base_url`.
fn install(runner_temp: &Path, action_ref: &str, base_url: &str) -> Install {
    let outputs = runner_temp.join("output.txt");
    let _ = std::fs::remove_file(&outputs);
    let out = Command::new("bash")
        .arg(root().join("scripts/install.sh"))
        .env("GITHUB_ACTION_PATH", root())
        .env("KDSGUARD_ACTION_REF", action_ref)
        .env("KDSGUARD_RELEASE_BASE_URL", base_url)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", runner_temp)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap_or_else(|e| panic!("cannot run install.sh: {e}"));
    Install {
        code: out.status.code().unwrap_or(-1),
        stdout: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
    }
}

/// The Action's download path against a fake release on 127.0.0.1: the archive of the
/// Action's own version is downloaded, its checksum verified and the binary run; a tampered
/// checksum fails the step; a branch, or a version without a release, builds from source.
#[test]
fn the_action_installs_its_own_release_and_verifies_its_checksum() {
    let version = env!("CARGO_PKG_VERSION");
    let tag = format!("v{version}");
    let asset = format!("kdsguard-{tag}-x86_64-unknown-linux-musl.tar.gz");
    let site = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The release layout: BASE/TAG/ASSET and BASE/TAG/ASSET.sha256, as release.yml uploads.
    let good = site.path().join("good").join(&tag);
    let tampered = site.path().join("tampered").join(&tag);
    for d in [&good, &tampered, &site.path().join("stage")] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::copy(env!("CARGO_BIN_EXE_kdsguard"), site.path().join("stage/kdsguard")).unwrap_or_else(|e| panic!("{e}"));
    let packed = Command::new("tar")
        .args(["--use-compress-program=gzip -1", "-cf"])
        .arg(good.join(&asset))
        .arg("-C")
        .arg(site.path().join("stage"))
        .arg("kdsguard")
        .status()
        .unwrap_or_else(|e| panic!("cannot run tar: {e}"));
    assert!(packed.success());
    let sum = Command::new("sha256sum")
        .arg(&asset)
        .current_dir(&good)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sha256sum: {e}"));
    let sum = String::from_utf8_lossy(&sum.stdout).into_owned();
    std::fs::write(good.join(format!("{asset}.sha256")), &sum).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(good.join(&asset), tampered.join(&asset)).unwrap_or_else(|e| panic!("{e}"));
    let other = format!("{}{}", "0".repeat(64), &sum[64..]);
    std::fs::write(tampered.join(format!("{asset}.sha256")), other).unwrap_or_else(|e| panic!("{e}"));
    let (base, hits) = serve(site.path().to_path_buf());
    let requests = || hits.load(std::sync::atomic::Ordering::SeqCst);

    // The exact version tag, and a moving major tag (v0 for 0.x), download and verify.
    let major = format!("v{}", version.split('.').next().unwrap_or_default());
    for action_ref in [tag.as_str(), major.as_str()] {
        let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let got = install(temp.path(), action_ref, &format!("{base}/good"));
        assert_eq!(got.code, 0, "{}", got.stdout);
        assert!(
            got.stdout.contains(&format!("{asset} checksum verified")),
            "{}",
            got.stdout
        );
        assert!(
            got.stdout.contains(&format!("installed kdsguard {version}")),
            "{}",
            got.stdout
        );
        assert_eq!(got.output("build"), "false");
        let bin = got.output("bin").to_string();
        assert_eq!(Path::new(&bin), temp.path().join("kdsguard-bin/bin/kdsguard"));
        let ran = Command::new(&bin)
            .arg("--version")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(String::from_utf8_lossy(&ran.stdout).contains(version));
        let _ = writeln!(std::io::stderr(), "cold start ({action_ref}): {}", got.stdout.trim());
    }

    // A checksum that does not match fails the step, and installs nothing.
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let got = install(temp.path(), &tag, &format!("{base}/tampered"));
    assert_eq!(got.code, 1, "{}", got.stdout);
    assert!(
        got.stdout.contains(&format!(
            "::error title=kdsguard install::checksum mismatch for {asset}"
        )),
        "{}",
        got.stdout
    );
    assert!(!temp.path().join("kdsguard-bin/bin/kdsguard").exists());
    assert!(!got.outputs.contains("bin="));

    // A branch has no release: nothing is requested, the build-from-source steps run.
    let before = requests();
    let got = install(temp.path(), "main", &format!("{base}/good"));
    assert_eq!(got.code, 0, "{}", got.stdout);
    assert!(got.stdout.contains("no release for main"), "{}", got.stdout);
    assert_eq!(got.output("build"), "true");
    let key = got.output("cache-key").to_string();
    assert!(key.starts_with(&format!("kdsguard-Linux-X64-{version}-")), "{key}");
    assert_eq!(requests(), before, "a branch asks for no release");
    // The key follows the sources, not the ref: another branch of the same sources shares it.
    let got = install(temp.path(), "feature/x", &format!("{base}/good"));
    assert_eq!(got.output("cache-key"), key);

    // A version tag whose release is missing (404) builds from source too.
    let got = install(temp.path(), &tag, &format!("{base}/nothing-here"));
    assert_eq!(got.code, 0, "{}", got.stdout);
    assert!(
        got.stdout.contains(&format!("no release {tag} for {tag}")),
        "{}",
        got.stdout
    );
    assert_eq!(got.output("build"), "true");
    // A tag of another version does not take this version's binary.
    let got = install(temp.path(), "v999.0.0", &format!("{base}/good"));
    assert!(got.stdout.contains("does not name its version"), "{}", got.stdout);
    assert_eq!(got.output("build"), "true");
}

/// actionlint on every workflow, ShellCheck on the scripts the Action and CI run, hadolint on
/// the Dockerfile. `.ci/run` installs them (scripts/ci-tools.sh); outside CI a missing tool skips, saying so; in CI it fails.
#[test]
fn workflows_scripts_and_dockerfile_pass_their_linters() {
    let workflows: Vec<std::path::PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    assert!(workflows.iter().any(|p| p.ends_with("release.yml")), "{workflows:?}");
    let scripts = [
        "scripts/action.sh",
        "scripts/install.sh",
        "scripts/ci-tools.sh",
        ".ci/run",
    ];
    for (tool, args, files) in [
        ("actionlint", vec!["-no-color"], workflows.clone()),
        ("shellcheck", vec![], scripts.iter().map(|s| root().join(s)).collect()),
        ("hadolint", vec![], vec![root().join("Dockerfile")]),
    ] {
        let found = Command::new(tool).arg("--version").output();
        if !found.is_ok_and(|o| o.status.success()) {
            assert!(
                std::env::var_os("CI").is_none(),
                "{tool} is not installed: .ci/run installs it (scripts/ci-tools.sh)"
            );
            let _ = writeln!(std::io::stderr(), "skipped: {tool} is not installed");
            continue;
        }
        let out = Command::new(tool)
            .args(&args)
            .args(&files)
            .current_dir(root())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `--changed-files` skips the files that are no templates (CloudFormation is recognised by
/// its content, whatever the extension); with none left there is nothing to check: exit 0.
#[test]
fn changed_files_that_are_no_templates_are_skipped() {
    let repo = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = repo.path();
    pull_request(dir);
    std::fs::write(dir.join("package.json"), "{\"name\": \"web\"}\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.join(".github/workflows")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join(".github/workflows/ci.yml"), "on: push\njobs: {}\n").unwrap_or_else(|e| panic!("{e}"));
    let changed = |files: &[&str]| {
        let out = common::kdsguard()
            .current_dir(dir)
            .args(["check", "--format", "json", "--changed-files"])
            .args(files)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (
            out.status.code(),
            report,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, report, stderr) = changed(&["package.json", ".github/workflows/ci.yml"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(report.is_null(), "nothing was analysed: {report}");
    // A template among them is checked, by its folder.
    let (code, report, stderr) = changed(&["package.json", "infra/iam.tf"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(report["findings"][0]["rule"], "KDS006");
    // A CloudFormation template with a .json name is one.
    std::fs::create_dir_all(dir.join("stacks")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        root().join("testdata/cloudformation/replication.json"),
        dir.join("stacks/replication.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, report, stderr) = changed(&["package.json", "stacks/replication.json"]);
    assert_ne!(code, Some(2), "{stderr}");
    let inputs: Vec<&str> = report["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["path"].as_str())
        .collect();
    assert_eq!(inputs, ["stacks/replication.json"], "{report}");
}

/// The release workflow builds every target the Action's install script downloads, under
/// the name it and `cargo binstall` ask for.
#[test]
fn the_release_workflow_builds_what_the_installers_download() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap_or_else(|e| panic!("{e}"));
    let docs = YamlOwned::load_from_str(&text).unwrap_or_else(|e| panic!("release.yml: {e}"));
    let release = to_json(&docs[0]);
    assert_eq!(release["on"]["push"]["tags"][0], "v[0-9]+.[0-9]+.[0-9]+*");
    let mut built: Vec<String> = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["target"].as_str().map(str::to_string))
        .collect();
    built.sort();
    let install = std::fs::read_to_string(root().join("scripts/install.sh")).unwrap_or_default();
    let mut downloaded: Vec<String> = install
        .lines()
        .filter_map(|l| {
            l.split_once(") target=")
                .map(|(_, t)| t.trim_end_matches(" ;;").to_string())
        })
        .filter(|t| !t.is_empty() && t != "\"\"")
        .collect();
    downloaded.sort();
    assert_eq!(built, downloaded);
    assert!(text.contains(r#"name="kdsguard-v$VERSION-$TARGET""#));
    assert!(install.contains(r#"asset="kdsguard-$tag-$target.tar.gz""#) && install.contains(r#"tag="v$version""#));
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap_or_default();
    assert!(cargo.contains(
        r#"pkg-url = "{ repo }/releases/download/v{ version }/kdsguard-v{ version }-{ target }{ archive-suffix }""#
    ));
    assert!(text.contains("sha256sum \"$asset\" > \"$asset.sha256\""));
}
