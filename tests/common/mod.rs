//! The one shared helper of the integration tests: run the binary, return its report.
#![allow(dead_code, clippy::panic)]

pub mod estate;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The crate root: every test runs the binary from here, so report paths are relative to it.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `program --version` runs. When it does not, the test is to be skipped: outside CI
/// this says so on stderr (with `install`, how to get the tool) and returns `false`; under
/// `CI` it fails, since CI installs every tool the tests drive (scripts/ci-tools.sh).
pub fn tool_runs(program: &str, install: &str) -> bool {
    let found = std::process::Command::new(program).arg("--version").output();
    if found.is_ok_and(|o| o.status.success()) {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{program} is not installed: CI needs it (scripts/ci-tools.sh)"
    );
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("skipped: {program} is not installed ({install})\n"),
    );
    false
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let e = e.unwrap_or_else(|e| panic!("{e}"));
        let target = to.join(e.file_name());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap_or_else(|err| panic!("{}: {err}", target.display()));
        }
    }
}

/// A command for the built binary, run from the crate root, with no colour.
pub fn kdsguard() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_kdsguard"));
    cmd.current_dir(root()).env("NO_COLOR", "1").env_remove("RUST_LOG");
    cmd
}

/// What one run gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout parsed as the JSON report.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs `kdsguard` with these arguments.
pub fn run(args: &[&str]) -> Run {
    run_env(args, &[])
}

/// Runs `kdsguard` with these arguments and extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = kdsguard();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `check --format json` on the paths; returns the report and the exit code.
pub fn check_json(paths: &[&str]) -> (Value, i32) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(paths);
    let r = run(&args);
    (r.json(), r.code)
}

/// The principal id whose IAM name is `name`.
pub fn principal_named(report: &Value, name: &str) -> String {
    report["principals"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .and_then(|p| p["id"].as_str())
        .unwrap_or_else(|| panic!("no principal named {name} in {}", report["principals"]))
        .to_string()
}

/// The resource id of the declared table or stream named `name`.
pub fn resource_named(report: &Value, name: &str) -> String {
    report["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == name)
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("no resource named {name} in {}", report["resources"]))
        .to_string()
}

/// The access entries for (principal, capability, resource).
pub fn access<'a>(report: &'a Value, principal: &str, capability: &str, resource: &str) -> Vec<&'a Value> {
    report["access"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["principal"] == principal && a["capability"] == capability && covers(a, resource))
        .collect()
}

/// Whether a v2 access entry covers `resource`: an SLR id (`resource`), a declared table id,
/// or `*` (the undeclared tables) in its `tables` set.
pub fn covers(entry: &Value, resource: &str) -> bool {
    if let Some(r) = entry.get("resource") {
        return r == resource;
    }
    let tables = &entry["tables"];
    if resource == "*" {
        return tables["undeclared"] == true;
    }
    let listed = |v: &Value| v.as_array().into_iter().flatten().any(|x| x == resource);
    match &tables["declared"] {
        Value::String(all) => all == "all",
        Value::Array(_) => listed(&tables["declared"]),
        Value::Object(m) => !m.get("except").is_some_and(listed),
        _ => false,
    }
}

/// Lines (1-based) of `file` that contain `needle`.
pub fn lines_with(file: &Path, needle: &str) -> Vec<usize> {
    let text = std::fs::read_to_string(root().join(file)).unwrap_or_default();
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect()
}
