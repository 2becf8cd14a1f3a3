//! A real editor drives `kdsguard lsp`: Neovim (Debian's package, 0.7.2 on Debian 12), headless
//! and without user configuration, runs `tests/nvim/lsp_demo.lua` on a copy of testdata/demo.
//! The script opens `terraform/iam.tf`, waits for the server's diagnostics, narrows the
//! `iam:*` statement of `aws_iam_role.ops_admin` in the unsaved buffer to
//! `iam:CreateServiceLinkedRole`, and waits for the diagnostics to change. The test holds the
//! diagnostics Neovim kept, before and after, to exactly the findings `kdsguard check` gives on
//! the folder as it is and as edited: the edit removes KDS004 (the role can delete the
//! service-linked role) and the three KDS013 paths that went through the role rewriting its
//! own policy, and changes nothing else. Without nvim the test says it skipped; with `CI` set
//! it fails (scripts/ci-tools.sh installs it).
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{copy_dir, root};

/// The file the editor opens, relative to the workspace.
const FILE: &str = "terraform/iam.tf";
/// The statement's action before and after the edit (it occurs once in the file).
const FIND: &str = "\"iam:*\"";
const REPLACE: &str = "\"iam:CreateServiceLinkedRole\"";
/// Neovim is killed past this; the script's own waits are bounded by [`WAIT_MS`] each.
const DEADLINE: Duration = Duration::from_secs(90);
const WAIT_MS: &str = "30000";

/// One diagnostic as the script records it; positions 0-based, columns in bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Diag {
    code: String,
    lnum: u64,
    col: u64,
    end_lnum: u64,
    end_col: u64,
    severity: u64,
    message: String,
}

impl Diag {
    fn from_nvim(v: &Value) -> Self {
        let num = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {v}"));
        assert_eq!(v["source"], "kdsguard", "{v}");
        Self {
            code: v["code"]
                .as_str()
                .unwrap_or_else(|| panic!("no code in {v}"))
                .to_string(),
            lnum: num("lnum"),
            col: num("col"),
            end_lnum: num("end_lnum"),
            end_col: num("end_col"),
            severity: num("severity"),
            message: v["message"]
                .as_str()
                .unwrap_or_else(|| panic!("no message in {v}"))
                .to_string(),
        }
    }

    /// A finding of the JSON report as the server should publish it: 1-based line and
    /// column to 0-based, the severity as the protocol's (the demo is ASCII, so columns in
    /// bytes and in UTF-16 units agree).
    fn from_finding(f: &Value) -> Self {
        let num = |k: &str| f[k].as_u64().unwrap_or_else(|| panic!("no {k} in {f}"));
        let severity = match f["severity"].as_str() {
            Some("error") => 1,
            Some("warning") => 2,
            Some("note") => 3,
            other => panic!("severity {other:?} in {f}"),
        };
        Self {
            code: f["rule"]
                .as_str()
                .unwrap_or_else(|| panic!("no rule in {f}"))
                .to_string(),
            lnum: num("line") - 1,
            col: num("column") - 1,
            end_lnum: num("end_line") - 1,
            end_col: num("end_column") - 1,
            severity,
            message: f["message"]
                .as_str()
                .unwrap_or_else(|| panic!("no message in {f}"))
                .to_string(),
        }
    }

    /// Everything but the message; the message is compared by [`assert_same`].
    fn place(&self) -> (&str, u64, u64, u64, u64, u64) {
        (
            &self.code,
            self.lnum,
            self.col,
            self.end_lnum,
            self.end_col,
            self.severity,
        )
    }
}

/// The report's findings per file (paths relative to `dir`), as diagnostics, sorted.
fn findings(dir: &Path) -> BTreeMap<String, Vec<Diag>> {
    let out = Command::new(env!("CARGO_BIN_EXE_kdsguard"))
        .args(["check", "--format", "json", "."])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let mut by_file: BTreeMap<String, Vec<Diag>> = BTreeMap::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let file = f["file"].as_str().unwrap_or_else(|| panic!("no file in {f}"));
        let file = file.strip_prefix("./").unwrap_or(file).to_string();
        by_file.entry(file).or_default().push(Diag::from_finding(f));
    }
    by_file.values_mut().for_each(|v| v.sort());
    by_file
}

fn diags(v: &Value) -> Vec<Diag> {
    let mut list: Vec<Diag> = v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(Diag::from_nvim)
        .collect();
    list.sort();
    list
}

/// The script's per-file map (an empty one is encoded as `[]`).
fn diags_by_file(v: &Value) -> BTreeMap<String, Vec<Diag>> {
    match v {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), diags(v))).collect(),
        Value::Array(a) if a.is_empty() => BTreeMap::new(),
        other => panic!("not a map of files: {other}"),
    }
}

/// Codes and lines: what the assertions name literally.
fn codes_and_lines(list: &[Diag]) -> Vec<(&str, u64)> {
    list.iter().map(|d| (d.code.as_str(), d.lnum)).collect()
}

/// Neovim's diagnostics are the report's findings: same code, range and severity, and the
/// message the finding's (the server may append the finding's label to it).
fn assert_same(what: &str, got: &[Diag], want: &[Diag]) {
    let (got_places, want_places): (Vec<_>, Vec<_>) = (
        got.iter().map(Diag::place).collect(),
        want.iter().map(Diag::place).collect(),
    );
    assert_eq!(got_places, want_places, "{what}: the diagnostics are not the findings");
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.message.starts_with(&w.message),
            "{what}: {} at line {}: message {:?} is not the finding's {:?}",
            g.code,
            g.lnum,
            g.message,
            w.message
        );
    }
}

/// What one run of the script gave.
struct Outcome {
    status: ExitStatus,
    result: Option<Value>,
    stderr: String,
    log: String,
}

impl Outcome {
    /// Everything that helps tell why a run failed: the script's result or error, Neovim's
    /// stderr, and the end of the LSP log (the traffic, at debug level).
    fn explain(&self) -> String {
        let tail: String = {
            let chars: Vec<char> = self.log.chars().collect();
            chars[chars.len().saturating_sub(6000)..].iter().collect()
        };
        format!(
            "nvim exited with {}\nresult: {}\nstderr: {}\nend of the LSP log:\n{tail}",
            self.status,
            self.result
                .as_ref()
                .map_or_else(|| "none".to_string(), Value::to_string),
            self.stderr
        )
    }
}

/// Runs the script on `workspace` with `bin` as the server; kills Neovim past [`DEADLINE`].
fn drive(bin: &Path, workspace: &Path, scratch: &Path) -> Outcome {
    let out = scratch.join("result.json");
    let xdg = scratch.join("xdg");
    let mut cmd = Command::new("nvim");
    cmd.args([
        "--headless",
        "-u",
        "NONE",
        "-i",
        "NONE",
        "--noplugin",
        "-c",
        "luafile tests/nvim/lsp_demo.lua",
    ])
    .current_dir(root())
    .env("KDSGUARD_BIN", bin)
    .env("KDSGUARD_WORKSPACE", workspace)
    .env("KDSGUARD_OUT", &out)
    .env("KDSGUARD_FILE", FILE)
    .env("KDSGUARD_FIND", FIND)
    .env("KDSGUARD_REPLACE", REPLACE)
    .env("KDSGUARD_TIMEOUT_MS", WAIT_MS)
    .env("KDSGUARD_LSP_LOG", "debug")
    .env("NO_COLOR", "1")
    .env_remove("RUST_LOG");
    // Neovim's log, swap and state go to the scratch folder, not the user's.
    for (var, sub) in [
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ] {
        cmd.env(var, xdg.join(sub));
    }
    let stderr_path = scratch.join("nvim.stderr");
    let stderr = std::fs::File::create(&stderr_path).unwrap_or_else(|e| panic!("{e}"));
    let stdout = std::fs::File::create(scratch.join("nvim.stdout")).unwrap_or_else(|e| panic!("{e}"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run nvim: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
            let _ = writeln!(std::io::stderr(), "nvim killed after {DEADLINE:?}");
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let result = std::fs::read_to_string(&out).ok().map(|text| {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("the script's result is not JSON ({e}): {text}"))
    });
    Outcome {
        status,
        result,
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
        log: std::fs::read_to_string(xdg.join("cache/nvim/lsp.log")).unwrap_or_default(),
    }
}

/// A canonical temporary folder (the server names files by the paths it finds; Neovim by the
/// path it opened: both are this one).
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = temp.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    (temp, path)
}

#[test]
fn neovim_shows_the_servers_diagnostics_and_their_change_after_an_unsaved_edit() {
    if !common::tool_runs("nvim", "apt-get install neovim") {
        return;
    }
    let (_temp, dir) = scratch();
    let workspace = dir.join("demo");
    copy_dir(&root().join("testdata/demo"), &workspace);
    // What `kdsguard check` says of the folder as it is and as the edit leaves it.
    let edited = dir.join("edited");
    copy_dir(&workspace, &edited);
    let text = std::fs::read_to_string(workspace.join(FILE)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text.matches(FIND).count(), 1, "{FIND} is not on one line of {FILE}");
    std::fs::write(edited.join(FILE), text.replace(FIND, REPLACE)).unwrap_or_else(|e| panic!("{e}"));
    let mut want_before = findings(&workspace);
    let mut want_after = findings(&edited);
    let want_file_before = want_before.remove(FILE).unwrap_or_default();
    let want_file_after = want_after.remove(FILE).unwrap_or_default();
    assert_eq!(want_before, want_after, "the edit changes the findings of other files");

    let run = drive(Path::new(env!("CARGO_BIN_EXE_kdsguard")), &workspace, &dir);
    let result = match &run.result {
        Some(r) if run.status.success() && r.get("error").is_none() => r.clone(),
        _ => panic!("the editor did not get through the script\n{}", run.explain()),
    };

    // The edit was the one line, in the buffer only.
    assert_eq!(result["edit"]["line"], 107, "{}", result["edit"]);
    assert_eq!(result["edit"]["old"], "          Action   = \"iam:*\"");
    assert_eq!(
        result["edit"]["new"],
        "          Action   = \"iam:CreateServiceLinkedRole\""
    );
    assert_eq!(result["modified"], true);
    let on_disk = std::fs::read_to_string(workspace.join(FILE)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(on_disk, text, "the edit was saved");

    let before = diags(&result["before"]);
    let after = diags(&result["after"]);
    // The `iam:*` statement spans lines 105-109 (0-based); the edit is on line 107.
    assert_eq!(
        codes_and_lines(&before),
        [
            ("KDS001", 29),
            ("KDS001", 73),
            ("KDS003", 105),
            ("KDS004", 105),
            ("KDS007", 73),
            ("KDS013", 105),
            ("KDS013", 105),
            ("KDS013", 105),
        ],
        "before the edit\n{}",
        run.explain()
    );
    assert_eq!(
        codes_and_lines(&after),
        [("KDS001", 29), ("KDS001", 73), ("KDS003", 105), ("KDS007", 73)],
        "after the edit\n{}",
        run.explain()
    );
    // What is left is what was there, unchanged (ranges, severities, messages).
    assert!(
        after.iter().all(|d| before.contains(d)),
        "{after:#?}\nnot all in\n{before:#?}"
    );
    let kds004 = before
        .iter()
        .find(|d| d.code == "KDS004")
        .unwrap_or_else(|| panic!("no KDS004"));
    assert_eq!(
        (
            kds004.lnum,
            kds004.col,
            kds004.end_lnum,
            kds004.end_col,
            kds004.severity
        ),
        (105, 8, 109, 9, 1),
        "{kds004:?}"
    );
    assert!(
        kds004.message.contains("iam:DeleteServiceLinkedRole"),
        "{}",
        kds004.message
    );
    // And all of it is what the command line reports.
    assert_same("before the edit", &before, &want_file_before);
    assert_same("after the edit", &after, &want_file_after);

    // The other files: published as the command line reports them, and the edit of iam.tf
    // does not change them.
    let others_before = diags_by_file(&result["others_before"]);
    let others_after = diags_by_file(&result["others_after"]);
    assert_eq!(
        others_before.keys().collect::<Vec<_>>(),
        ["cloudformation/template.yaml", "terraform/main.tf"],
        "the files with diagnostics besides {FILE}"
    );
    assert_eq!(others_before, others_after, "the edit changed other files' diagnostics");
    for (file, got) in &others_before {
        assert_same(file, got, want_before.get(file).map_or(&[][..], Vec::as_slice));
    }

    // Every publication for the file after the edit was the old set or the new one: no
    // empty or partial set flashed in between; the last was the new one.
    let codes = |l: &[Diag]| l.iter().map(|d| d.code.clone()).collect::<Vec<_>>();
    let seen: Vec<Vec<String>> =
        serde_json::from_value(result["after_edit_codes"].clone()).unwrap_or_else(|e| panic!("after_edit_codes: {e}"));
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let (old, new) = (sorted(codes(&before)), sorted(codes(&after)));
    assert_eq!(seen.last().cloned().map(sorted), Some(new.clone()), "{seen:?}");
    for s in &seen {
        let s = sorted(s.clone());
        assert!(
            s == old || s == new,
            "a publication after the edit had {s:?}; all: {seen:?}"
        );
    }
}

/// The script cannot pass without a server: with one that exits at once (`/bin/true`) Neovim
/// exits with status 1 and the result says why, well before the deadline.
#[test]
fn without_a_server_the_script_fails_and_says_why() {
    if !common::tool_runs("nvim", "apt-get install neovim") {
        return;
    }
    let (_temp, dir) = scratch();
    let workspace = dir.join("demo");
    copy_dir(&root().join("testdata/demo"), &workspace);
    let start = Instant::now();
    let run = drive(Path::new("/bin/true"), &workspace, &dir);
    assert_eq!(run.status.code(), Some(1), "{}", run.explain());
    let error = run
        .result
        .as_ref()
        .and_then(|r| r["error"].as_str())
        .unwrap_or_else(|| panic!("no error in the result\n{}", run.explain()))
        .to_string();
    assert!(error.contains("the server exited"), "{error}");
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
    assert!(
        run.result.as_ref().is_some_and(|r| r.get("before").is_none()),
        "{}",
        run.explain()
    );
}
