//! Hostile input (issue 12): each case ends in a clear, located error naming the limit or
//! the path, or in a correct report, within bounded time (the harness's timeout) and
//! memory (the binary runs under `ulimit -v`). Small fixtures are in `testdata/hostile/`;
//! large ones are generated here in a temporary folder.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::path::Path;
use std::time::Duration;

/// Virtual memory the binary may map, in KiB (generous: rayon threads and malloc arenas
/// reserve address space they never touch).
const MEMORY_KIB: u64 = 2 * 1024 * 1024;
/// Wall time a run may take before the harness kills it (a bound, not a measurement).
const TIMEOUT: Duration = Duration::from_secs(180);

/// One bounded run: its exit code, stdout and the `error: file:line:col: message` lines.
struct Bounded {
    code: i32,
    stdout: String,
    errors: Vec<(String, u32, String)>,
    stderr: String,
}

impl Bounded {
    /// The one error whose message contains `needle`, as (file, line, message).
    fn error(&self, needle: &str) -> (&str, u32, &str) {
        let found: Vec<_> = self.errors.iter().filter(|e| e.2.contains(needle)).collect();
        match found.as_slice() {
            [(file, line, message)] => (file.as_str(), *line, message.as_str()),
            _ => panic!("expected one error containing {needle:?}; stderr:\n{}", self.stderr),
        }
    }
}

/// Runs `kdsguard ARGS` in `cwd` under `ulimit -v` and the harness timeout.
fn bounded(cwd: &Path, args: &[&str]) -> Bounded {
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_kdsguard"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .timeout(TIMEOUT);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("kdsguard {args:?} did not finish: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let errors = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .filter_map(|l| {
            let mut parts = l.splitn(4, ':');
            let (file, line, _column, message) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            Some((file.to_string(), line.parse().ok()?, message.trim().to_string()))
        })
        .collect();
    Bounded {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        errors,
        stderr,
    }
}

fn hostile() -> std::path::PathBuf {
    common::root().join("testdata/hostile")
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

#[test]
fn an_alias_bomb_is_refused_by_the_alias_limit() {
    let r = bounded(&hostile(), &["check", "alias_bomb.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("YAML alias expansion limit");
    assert_eq!(file, "alias_bomb.yaml");
    assert!(line >= 2, "{line}");
    assert!(message.contains("`[limits] yaml-alias-nodes`"), "{message}");
}

#[test]
fn a_hundred_thousand_levels_of_nesting_are_refused_in_json_yaml_and_hcl() {
    let dir = temp();
    let n = 100_000;
    let deep = format!("{}{}", "[".repeat(n), "]".repeat(n));
    std::fs::write(
        dir.path().join("deep.json"),
        format!("{{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {deep}}}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("deep.yaml"),
        format!("AWSTemplateFormatVersion: '2010-09-09'\nResources: {deep}\n"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("tf")).unwrap();
    std::fs::write(dir.path().join("tf/main.tf"), format!("locals {{\n  x = {deep}\n}}\n")).unwrap();
    for (path, file, line, needle) in [
        ("deep.json", "deep.json", 1, "nesting depth"),
        ("deep.yaml", "deep.yaml", 2, "recursion limit"),
        ("tf", "tf/main.tf", 2, "nesting depth"),
    ] {
        let r = bounded(dir.path(), &["check", path]);
        assert_eq!(r.code, 2, "{path}: {}", r.stderr);
        let (f, l, _) = r.error(needle);
        assert_eq!((f, l), (file, line), "{path}: {}", r.stderr);
    }
}

#[test]
fn deep_block_yaml_is_refused_by_the_configured_nesting_depth() {
    let dir = temp();
    let mut yaml = String::from("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n");
    for i in 0..40 {
        yaml.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 1)));
    }
    std::fs::write(dir.path().join("t.yaml"), yaml).unwrap();
    std::fs::write(dir.path().join("kdsguard.toml"), "[limits]\nnesting-depth = 16\n").unwrap();
    let r = bounded(dir.path(), &["check", "t.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("nesting depth limit");
    assert_eq!((file, line), ("t.yaml", 18), "{message}");
    assert!(
        message.contains("(16; raise it with `[limits] nesting-depth`"),
        "{message}"
    );
}

#[test]
fn a_hundred_megabyte_file_is_refused_by_the_file_size_limit() {
    let dir = temp();
    let f = std::fs::File::create(dir.path().join("big.yaml")).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap();
    drop(f);
    let r = bounded(dir.path(), &["check", "big.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("file size limit");
    assert_eq!((file, line), ("big.yaml", 1));
    assert!(message.starts_with("file is 104857600 bytes"), "{message}");
    assert!(message.contains("`[limits] file-bytes`"), "{message}");
}

#[test]
fn inputs_past_the_total_size_limit_are_refused_in_path_order() {
    let dir = temp();
    let template = std::fs::read_to_string(common::root().join("testdata/clean/template.yaml")).unwrap();
    for name in ["a.yaml", "b.yaml", "c.yaml"] {
        std::fs::write(dir.path().join(name), &template).unwrap();
    }
    let limit = template.len() * 2 + 10;
    std::fs::write(
        dir.path().join("kdsguard.toml"),
        format!("[limits]\ntotal-bytes = {limit}\n"),
    )
    .unwrap();
    let r = bounded(dir.path(), &["check", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("total input size limit");
    assert_eq!((file, line), ("c.yaml", 1));
    assert!(message.contains("`[limits] total-bytes`"), "{message}");
}

#[test]
fn a_count_of_a_hundred_million_is_refused_by_the_instance_limit() {
    let r = bounded(&hostile(), &["check", "count"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("instance limit");
    assert_eq!((file, line), ("count/main.tf", 2));
    assert!(message.starts_with("count is 100000000"), "{message}");
    assert!(
        message.contains("(10000; raise it with `[limits] instances`"),
        "{message}"
    );
}

#[test]
fn a_cycle_of_three_modules_is_an_error_naming_the_chain_without_verbose() {
    let r = bounded(&hostile(), &["check", "module_cycle"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("module cycle");
    assert_eq!((file, line), ("module_cycle/modules/c/main.tf", 1));
    assert!(
        message.contains("module.a.module.b.module.c.module.a (source ../a)"),
        "{message}"
    );
    assert!(
        message.contains(
            "module_cycle/modules/a → module_cycle/modules/b → module_cycle/modules/c → module_cycle/modules/a"
        ),
        "{message}"
    );
    // Shown by default (not a note under -v): load errors go to stderr, and the report's
    // summary line counts them.
    assert!(r.stderr.contains("module cycle"), "{}", r.stderr);
    assert!(r.stdout.contains("1 load error(s)"), "{}", r.stdout);
}

#[test]
fn a_file_call_outside_the_root_is_an_error_and_the_policy_is_unknown() {
    let args = [
        "check",
        "--root",
        "escape_file/repo",
        "escape_file/repo",
        "--format",
        "json",
    ];
    let r = bounded(&hostile(), &args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("outside the analysis root");
    assert_eq!((file, line), ("escape_file/repo/main.tf", 8));
    assert!(
        message.contains("resolves to `escape_file/outside.json`, outside the analysis root `escape_file/repo`"),
        "{message}"
    );
    // The policy is unknown with that reason: its grants are conditional, never allowed.
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let access = report["access"].as_array().unwrap();
    assert!(!access.is_empty());
    for a in access {
        assert_eq!(a["decision"], "conditional", "{a}");
        let why = a["conditions"][0]["unknown"].as_str().unwrap_or_default();
        assert!(why.contains("outside the analysis root"), "{a}");
    }
    // Without --root the git top level is the root, and the same file is read.
    let inside = bounded(&hostile(), &["check", "escape_file/repo", "--format", "json"]);
    assert!(inside.errors.is_empty(), "{}", inside.stderr);
    let report: serde_json::Value = serde_json::from_str(&inside.stdout).unwrap();
    let access = report["access"].as_array().unwrap();
    assert!(access.iter().any(|a| a["decision"] == "allowed"), "{}", inside.stdout);
}

#[test]
fn a_module_source_outside_the_root_is_an_error_in_the_default_output() {
    let r = bounded(
        &hostile(),
        &["check", "--root", "escape_module/repo", "escape_module/repo"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("outside the analysis root");
    assert_eq!((file, line), ("escape_module/repo/main.tf", 1));
    assert!(
        message.starts_with("module outside: source `../outside` resolves to `escape_module/outside`"),
        "{message}"
    );
    assert!(r.stderr.contains("outside the analysis root"), "{}", r.stderr);
    assert!(r.stdout.contains("1 load error(s)"), "{}", r.stdout);
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_detected() {
    let dir = temp();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::os::unix::fs::symlink("b.json", dir.path().join("a.json")).unwrap();
    std::os::unix::fs::symlink("a.json", dir.path().join("b.json")).unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "resource \"aws_iam_policy\" \"p\" {\n  name   = \"p\"\n  policy = file(\"${path.module}/a.json\")\n}\n",
    )
    .unwrap();
    let r = bounded(dir.path(), &["check", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, message) = r.error("symlink loop");
    assert_eq!((file, line), ("main.tf", 3));
    assert!(message.starts_with("`./a.json` is a symlink loop"), "{message}");
}

#[test]
fn invalid_utf8_a_nul_byte_and_an_empty_file_are_located_errors() {
    let dir = temp();
    let head = b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
    let mut bad = head.to_vec();
    bad.extend_from_slice(b"    Properties: {TableName: \"\xff\xfe\"}\n");
    std::fs::write(dir.path().join("utf8.yaml"), &bad).unwrap();
    let mut nul = head.to_vec();
    nul.extend_from_slice(b"    Properties: {TableName: \"a\0b\"}\n");
    std::fs::write(dir.path().join("nul.yaml"), &nul).unwrap();
    std::fs::write(dir.path().join("empty.yaml"), "").unwrap();
    let r = bounded(dir.path(), &["check", "utf8.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, _, message) = r.error("not valid UTF-8");
    assert_eq!(file, "utf8.yaml");
    let at = head.len() + b"    Properties: {TableName: \"".len();
    assert!(message.contains(&format!("at byte {at}")), "{message}");
    let r = bounded(dir.path(), &["check", "nul.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, _) = r.error("contains a NUL byte");
    assert_eq!((file, line), ("nul.yaml", 5), "{}", r.stderr);
    let r = bounded(dir.path(), &["check", "empty.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, line, _) = r.error("no document");
    assert_eq!((file, line), ("empty.yaml", 1));
}

#[test]
fn a_bom_with_crlf_line_endings_reads_like_the_plain_template() {
    let dir = temp();
    let plain = std::fs::read_to_string(common::root().join("testdata/rules/KDS001/bad/template.yaml")).unwrap();
    let crlf = format!("\u{feff}{}", plain.replace('\n', "\r\n"));
    std::fs::write(dir.path().join("plain.yaml"), &plain).unwrap();
    std::fs::write(dir.path().join("crlf.yaml"), crlf).unwrap();
    let a = bounded(dir.path(), &["check", "plain.yaml", "--format", "json"]);
    let b = bounded(dir.path(), &["check", "crlf.yaml", "--format", "json"]);
    assert_eq!(a.code, 1, "{}", a.stderr);
    assert_eq!(b.code, a.code, "{}", b.stderr);
    let lines = |r: &Bounded| {
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["rule"].clone(), f["line"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&a), lines(&b));
    assert!(!lines(&a).is_empty());
}

#[test]
fn a_template_that_is_one_long_line_gives_a_report() {
    let dir = temp();
    let name = "t".repeat(4 * 1024 * 1024);
    let json = format!(
        "{{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {{\"T\": {{\"Type\": \"AWS::DynamoDB::Table\", \"Properties\": {{\"TableName\": \"{name}\"}}}}}}}}"
    );
    std::fs::write(dir.path().join("long.json"), json).unwrap();
    let r = bounded(dir.path(), &["check", "long.json", "--format", "json"]);
    assert!(r.errors.is_empty(), "{}", r.stderr);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let tables: Vec<_> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "table")
        .collect();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0]["name"].as_str().map(str::len), Some(name.len()));
}

#[test]
fn a_string_past_the_template_length_limit_is_a_located_error() {
    let dir = temp();
    std::fs::write(dir.path().join("kdsguard.toml"), "[limits]\ntemplate-length = 1000\n").unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "locals {\n  x = \"aaaaaaaaaa\"\n}\nresource \"aws_iam_role\" \"r\" {\n  name               = join(\"\", [for i in range(200) : local.x])\n  assume_role_policy = \"{}\"\n}\nresource \"aws_iam_role\" \"s\" {\n  name               = format(\"%99999999999d\", 1)\n  assume_role_policy = \"{}\"\n}\n",
    )
    .unwrap();
    let r = bounded(dir.path(), &["check", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let found: Vec<_> = r
        .errors
        .iter()
        .filter(|e| e.2.contains("template length limit"))
        .collect();
    assert!(found.iter().any(|e| e.0 == "main.tf" && e.1 == 9), "{}", r.stderr);
    assert!(
        found.iter().all(|e| e.2.contains("`[limits] template-length`")),
        "{}",
        r.stderr
    );
}

#[test]
fn evaluation_past_the_step_limit_stops_with_one_located_error() {
    let dir = temp();
    std::fs::write(dir.path().join("kdsguard.toml"), "[limits]\neval-steps = 50\n").unwrap();
    let mut tf = String::new();
    for i in 0..40 {
        tf.push_str(&format!("locals {{\n  v{i} = [1, 2, 3, 4, 5]\n}}\n"));
        tf.push_str(&format!(
            "resource \"aws_iam_role\" \"r{i}\" {{\n  name = \"r-${{length(local.v{i})}}\"\n  assume_role_policy = \"{{}}\"\n}}\n"
        ));
    }
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let r = bounded(dir.path(), &["check", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let (file, _, message) = r.error("evaluation step limit");
    assert_eq!(file, "main.tf");
    assert!(
        message.contains("(50; raise it with `[limits] eval-steps`"),
        "{message}"
    );
}

#[test]
fn a_bad_limits_section_is_a_config_error_with_its_position() {
    let dir = temp();
    std::fs::write(dir.path().join("kdsguard.toml"), "[limits]\ninstances = -1\n").unwrap();
    let r = bounded(dir.path(), &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("kdsguard.toml:2:13: limit `instances` must be a positive integer"),
        "{}",
        r.stderr
    );
}

/// The binary never starts a process: no spawning API appears in the library or `main.rs`.
#[test]
fn the_source_never_spawns_a_process() {
    let mut stack = vec![common::root().join("src")];
    let mut offenders = Vec::new();
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                for needle in ["std::process::Command", "Command::new", "process::Command"] {
                    if text.contains(needle) {
                        offenders.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
    }
    assert!(files > 20, "the source tree was not found");
    assert!(offenders.is_empty(), "process spawning in the source: {offenders:?}");
}
