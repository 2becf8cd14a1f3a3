//! The conventions users know, through the binary: empty input, missing paths, one error
//! prefix on stderr, config discovery and `exclude`, `--exclude`, `--color` and the colour
//! variables, stdin, completions, `explain`, help on every argument, query suggestions.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::path::Path;

use common::*;

const ANSI: &str = "\u{1b}[";

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn demo_file(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Runs the binary in `dir` (not the crate root) with these arguments.
fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = kdsguard()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn input_paths(r: &Run) -> Vec<String> {
    r.json()["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["path"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_folder_without_inputs_is_an_error_unless_allowed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(&dir.path().join("README.md"), "nothing to analyse\n");
    let d = dir.path().to_string_lossy().to_string();
    let r = run(&["check", &d]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.starts_with("error: no Terraform configuration"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--allow-empty"), "{}", r.stderr);
    let r = run(&["check", "--allow-empty", &d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0 findings"), "{}", r.stdout);
}

#[test]
fn a_missing_path_is_one_error_line_on_stderr() {
    let r = run(&["check", "/nope/missing"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr, "error: no such file or directory: /nope/missing\n");
    assert!(r.stdout.is_empty(), "no empty report: {}", r.stdout);
}

#[test]
fn load_errors_go_to_stderr_only_with_one_prefix() {
    let r = run(&["check", "testdata/broken"]);
    assert_eq!(r.code, 2);
    assert!(!r.stdout.contains("failed to load"), "{}", r.stdout);
    assert!(r.stderr.lines().all(|l| l.starts_with("error: ")), "{}", r.stderr);
    assert!(!r.stderr.contains("kdsguard: error"));
}

#[test]
fn the_config_closest_to_the_analysed_path_is_used() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let infra = dir.path().join("infra");
    write(&infra.join("main.tf"), &demo_file("testdata/rules/KDS005/bad/main.tf"));
    write(&infra.join("kdsguard.toml"), "[rules]\nKDS005 = \"off\"\n");
    // From the parent, `check infra` reads infra/kdsguard.toml.
    let r = run_in(dir.path(), &["check", "--format", "json", "infra"]);
    let rules: Vec<String> = r.json()["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    assert!(!rules.contains(&"KDS005".to_string()), "{rules:?}");
    // --config overrides it.
    write(&dir.path().join("other.toml"), "fail-on = \"error\"\n");
    let r = run_in(
        dir.path(),
        &["check", "--format", "json", "--config", "other.toml", "infra"],
    );
    assert!(r.stdout.contains("\"KDS005\""), "{}", r.stdout);
}

#[test]
fn exclude_globs_are_relative_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let infra = dir.path().join("infra");
    write(
        &infra.join("app/main.tf"),
        &demo_file("testdata/rules/KDS005/bad/main.tf"),
    );
    write(
        &infra.join("examples/main.tf"),
        &demo_file("testdata/rules/KDS004/bad/main.tf"),
    );
    write(&infra.join("kdsguard.toml"), "exclude = [\"examples\"]\n");
    let r = run_in(dir.path(), &["check", "--format", "json", "infra"]);
    assert_eq!(input_paths(&r), ["infra/app"]);
    // The same glob, relative to the current folder, would have matched nothing.
    let r = run_in(&infra, &["check", "--format", "json", "."]);
    assert_eq!(input_paths(&r), ["app"]);
}

#[test]
fn cli_exclude_adds_globs_and_an_excluded_named_path_warns() {
    let r = run(&[
        "check",
        "--format",
        "json",
        "--exclude",
        "testdata/demo/cloudformation",
        "testdata/demo",
    ]);
    assert_eq!(input_paths(&r), ["testdata/demo/terraform"]);
    let r = run(&[
        "check",
        "--format",
        "json",
        "--exclude",
        "**/cloudformation/**",
        "--exclude",
        "testdata/demo/terraform",
        "testdata/demo",
    ]);
    assert_eq!(r.code, 2, "nothing left to analyse");
    let r = run(&[
        "check",
        "--exclude",
        "testdata/demo/cloudformation",
        "testdata/demo/cloudformation/template.yaml",
        "testdata/demo/terraform",
    ]);
    assert!(
        r.stderr
            .contains("warning: testdata/demo/cloudformation/template.yaml is excluded"),
        "{}",
        r.stderr
    );
}

#[test]
fn color_follows_the_flag_and_the_variables() {
    let args = ["check", "testdata/demo"];
    let colored = |extra: &[&str], env: &[(&str, &str)]| {
        let mut a = args.to_vec();
        a.extend_from_slice(extra);
        let mut cmd = kdsguard();
        cmd.env_remove("NO_COLOR")
            .env_remove("FORCE_COLOR")
            .env_remove("CLICOLOR_FORCE");
        cmd.args(&a);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout).contains(ANSI)
    };
    assert!(colored(&["--color", "always"], &[]));
    assert!(!colored(&["--color", "never"], &[("FORCE_COLOR", "1")]));
    assert!(!colored(&[], &[]), "not a terminal");
    assert!(colored(&[], &[("FORCE_COLOR", "1")]));
    assert!(colored(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!colored(&[], &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]));
    assert!(colored(&["--format", "concise", "--color", "always"], &[]));
}

#[test]
fn a_template_on_stdin_is_reported_under_its_name() {
    let text = demo_file("testdata/rules/KDS005/bad/main.tf");
    let out = kdsguard()
        .args(["check", "--format", "concise", "--stdin-filename", "infra/slr.tf", "-"])
        .write_stdin(text)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("infra/slr.tf:") && l.contains("KDS005")),
        "{stdout}"
    );
    let yaml = demo_file("testdata/demo/cloudformation/template.yaml");
    let out = kdsguard()
        .args(["check", "--format", "json", "--stdin-filename", "stack.yaml", "-"])
        .write_stdin(yaml)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"file\":\"stack.yaml\""), "{stdout}");
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef kdsguard"),
        ("fish", "complete -c kdsguard"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(
            r.stdout.contains(marker),
            "{shell}: {}",
            &r.stdout[..r.stdout.len().min(300)]
        );
        assert!(r.stdout.contains("stdin-filename"), "{shell} completes check's flags");
    }
}

#[test]
fn explain_prints_the_page_without_maintainer_comments() {
    let r = run(&["explain", "KDS004"]);
    assert_eq!(r.code, 0);
    assert!(!r.stdout.contains("<!--"));
    assert!(r.stdout.starts_with("# KDS004 `slr-deletable`"), "{}", r.stdout);
}

#[test]
fn every_argument_of_every_subcommand_has_help() {
    let cmd = <kdsguard::cli::Cli as clap::CommandFactory>::command();
    let mut missing = Vec::new();
    let mut stack = vec![(String::from("kdsguard"), cmd)];
    while let Some((path, c)) = stack.pop() {
        for a in c.get_arguments() {
            let id = a.get_id().as_str();
            if a.get_help().is_none() && a.get_long_help().is_none() && id != "help" && id != "version" {
                missing.push(format!("{path} {id}"));
            }
        }
        for s in c.get_subcommands() {
            stack.push((format!("{path} {}", s.get_name()), s.clone()));
        }
    }
    assert!(missing.is_empty(), "arguments without help: {missing:?}");
    let r = run(&["simulate", "--help"]);
    let format = r
        .stdout
        .lines()
        .skip_while(|l| !l.contains("--format"))
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(format.contains("the statements that decided it"), "{format}");
    assert!(!format.contains("check"), "{format}");
}

#[test]
fn unknown_query_names_suggest_the_nearest_and_never_list_all() {
    let r = run(&["query", "who-can", "disable", "--on", "Ordrs", "testdata/demo"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: unknown table `Ordrs`; did you mean"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("`Orders`"), "{}", r.stderr);
    let r = run(&["query", "who-can", "disable", "--on", "nope", "testdata/demo"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty(), "no table is listed as an answer: {}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("no close name among the 4 declared tables"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "query",
        "can",
        "aws_iam_role.ops_admn",
        "disable",
        "testdata/demo/terraform",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean") && r.stderr.contains("aws_iam_role.ops_admin"),
        "{}",
        r.stderr
    );
}

#[test]
fn terraform_arns_are_written_in_terraform_terms() {
    let r = run(&["query", "who-can", "disable", "testdata/demo/terraform"]);
    assert!(!r.stdout.contains("${AWS::"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("arn:<partition>:dynamodb:<region>:<account>:table/Music"),
        "{}",
        r.stdout
    );
    let r = run(&["query", "who-can", "disable", "testdata/demo/cloudformation"]);
    assert!(!r.stdout.contains("<partition>"), "{}", r.stdout);
}
