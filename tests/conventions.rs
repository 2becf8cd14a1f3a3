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

const DEMO_TF: &str = "testdata/demo/terraform";

/// The rule ids of a JSON report's findings, sorted and deduplicated.
fn rules_found(report: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn select_ignore_and_extend_select_take_ids_names_and_prefixes() {
    let all = rules_found(&check_json(&[DEMO_TF]).0);
    assert!(
        all.contains(&"KDS004".to_string()) && all.contains(&"KDS013".to_string()),
        "{all:?}"
    );
    let (report, _) = check_json(&["--select", "KDS00", "--ignore", "slr-deletable", DEMO_TF]);
    let expected: Vec<String> = all
        .iter()
        .filter(|r| r.starts_with("KDS00") && *r != "KDS004")
        .cloned()
        .collect();
    assert_eq!(rules_found(&report), expected);
    let (report, _) = check_json(&["--ignore", "ALL", "--extend-select", "KDS004", DEMO_TF]);
    assert_eq!(rules_found(&report), ["KDS004"]);
    let (report, _) = check_json(&["--select", "enable-incomplete,kds005", DEMO_TF]);
    assert_eq!(rules_found(&report), ["KDS001", "KDS005"]);
    // The more specific selector wins: selected by id, ignored by prefix.
    let (report, _) = check_json(&["--select", "KDS004", "--select", "KDS005", "--ignore", "KDS00", DEMO_TF]);
    assert_eq!(rules_found(&report), ["KDS004", "KDS005"]);
    let (report, _) = check_json(&["--select", "KDS00", "--ignore", "KDS0", DEMO_TF]);
    assert!(rules_found(&report).iter().all(|r| r.starts_with("KDS00")), "{report}");
}

#[test]
fn unknown_selectors_are_errors_naming_the_nearest() {
    for (flag, value, nearest) in [
        ("--select", "KDS0004", "KDS004"),
        ("--ignore", "slr-deleteable", "slr-deletable"),
        ("--extend-select", "enable-incomplet", "enable-incomplete"),
    ] {
        let r = run(&["check", flag, value, DEMO_TF]);
        assert_eq!(r.code, 2, "{flag} {value}");
        assert!(
            r.stderr
                .contains(&format!("unknown rule selector `{value}`; did you mean `{nearest}`?")),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn the_config_file_selects_rules_and_the_command_line_replaces_its_select() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("kdsguard.toml");
    write(&config, "select = [\"KDS00\"]\nignore = [\"KDS001\"]\n");
    let config = config.to_string_lossy().into_owned();
    let found = rules_found(&check_json(&["--config", &config, DEMO_TF]).0);
    assert!(
        !found.is_empty() && found.iter().all(|r| r.starts_with("KDS00") && r != "KDS001"),
        "{found:?}"
    );
    // As in ruff, a command-line --select starts the selection afresh (the file's select
    // and ignore no longer apply); --ignore and --extend-select add to the file's.
    let found = rules_found(&check_json(&["--config", &config, "--select", "KDS001,KDS013", DEMO_TF]).0);
    assert_eq!(found, ["KDS001", "KDS013"]);
    let found = rules_found(
        &check_json(&[
            "--config",
            &config,
            "--ignore",
            "KDS004",
            "--extend-select",
            "KDS013",
            DEMO_TF,
        ])
        .0,
    );
    assert!(found.contains(&"KDS013".to_string()), "{found:?}");
    assert!(
        !found.contains(&"KDS004".to_string()) && !found.contains(&"KDS001".to_string()),
        "{found:?}"
    );
    write(Path::new(&config), "extend-select = [\"KDS999\"]\n");
    let r = run(&["check", "--config", &config, DEMO_TF]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("kdsguard.toml:1:18: unknown rule selector `KDS999`"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_suppression_of_an_ignored_rule_is_not_reported_unused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = demo_file("testdata/rules/KDS004/bad/main.tf").replace(
        "resource \"aws_iam_role_policy\"",
        "# kdsguard:ignore KDS004 reason: break-glass\nresource \"aws_iam_role_policy\"",
    );
    write(&dir.path().join("main.tf"), &text);
    let path = dir.path().to_string_lossy().into_owned();
    let (report, _) = check_json(&["--ignore", "KDS004", &path]);
    let found = rules_found(&report);
    assert!(
        !found.contains(&"KDS004".to_string()) && !found.contains(&"KDS014".to_string()),
        "{found:?}"
    );
    assert!(
        report["suppressed"].as_array().is_some_and(Vec::is_empty),
        "{}",
        report["suppressed"]
    );
}

#[test]
fn output_file_writes_the_main_format_instead_of_stdout() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let json = dir.path().join("report.json");
    let sarif = dir.path().join("report.sarif");
    let r = run(&[
        "check",
        "--format",
        "json",
        "-o",
        &json.to_string_lossy(),
        "--output",
        &format!("sarif={}", sarif.display()),
        DEMO_TF,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{e}"));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(!rules_found(&report).is_empty());
    assert!(std::fs::read_to_string(&sarif).is_ok_and(|s| s.contains("\"2.1.0\"")));
    // Overwritten, not appended, on the next run; and never coloured.
    let r = run(&[
        "check",
        "--color",
        "always",
        "--output-file",
        &json.to_string_lossy(),
        DEMO_TF,
    ]);
    assert_eq!(r.code, 1);
    let human = std::fs::read_to_string(&json).unwrap_or_default();
    assert!(!human.starts_with('{') && !human.contains(ANSI), "{human}");
}

#[test]
fn output_arguments_are_checked_before_the_analysis() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let folder = dir.path().to_string_lossy().into_owned();
    let missing = dir.path().join("no/such/folder/out.sarif");
    let file = dir.path().join("out.json");
    // The path analysed does not exist either: the output error comes first, so nothing
    // was analysed.
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--output".into(), "xml=out.xml".into()],
            "--output: unknown format \"xml\"".into(),
        ),
        (
            vec!["--output".into(), "sarif".into()],
            "--output takes FORMAT=FILE".into(),
        ),
        (vec!["--output".into(), "sarif=".into()], "names no file".into()),
        (
            vec!["--output".into(), format!("sarif={}", missing.display())],
            "does not exist".into(),
        ),
        (vec!["-o".into(), folder.clone()], "is a folder, not a file".into()),
        (
            vec![
                "-o".into(),
                file.display().to_string(),
                "--output".into(),
                format!("json={}", file.display()),
            ],
            "is named by two outputs".into(),
        ),
    ];
    for (args, message) in cases {
        let mut all: Vec<&str> = vec!["check"];
        all.extend(args.iter().map(String::as_str));
        all.push("no-such-input/");
        let r = run(&all);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains(&message), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("no such file or directory"), "{}", r.stderr);
        assert!(!missing.exists() && !file.exists());
    }
}

#[test]
fn statistics_is_honoured_by_human_and_concise_and_refused_elsewhere() {
    for format in ["human", "concise"] {
        let r = run(&["check", "--statistics", "--format", format, DEMO_TF]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(
            r.stdout
                .lines()
                .any(|l| l.contains("KDS004") && l.contains("slr-deletable")),
            "{}",
            r.stdout
        );
        assert!(!r.stdout.contains("can delete the service-linked role"), "{}", r.stdout);
    }
    for format in ["json", "sarif", "github", "markdown", "junit"] {
        let r = run(&["check", "--statistics", "--format", format, DEMO_TF]);
        assert_eq!(r.code, 2, "{format}");
        assert!(
            r.stderr.contains(&format!(
                "--statistics prints counts per rule in the human and concise formats only; --format {format}"
            )),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
    let help = run(&["check", "--help"]).stdout;
    assert!(
        help.contains("Honoured by the\n          human and concise formats")
            || help.contains("human and concise formats"),
        "{help}"
    );
}

#[test]
fn severity_is_honoured_by_every_format_and_the_exit_code_counts_all() {
    let (all, _) = check_json(&[DEMO_TF]);
    let count = |sev: &str| {
        all["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["severity"] == sev)
            .count()
    };
    let errors = count("error");
    assert!(errors > 0 && count("warning") > 0, "the demo has errors and warnings");
    let r = run(&["check", "--severity", "error", "--format", "json", DEMO_TF]);
    let shown = r.json();
    let shown = shown["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(shown.len(), errors);
    assert!(shown.iter().all(|f| f["severity"] == "error"));
    let r = run(&["check", "--severity", "error", "--format", "sarif", DEMO_TF]);
    let sarif: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    let results = sarif["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    assert!(
        !results.is_empty() && results.iter().all(|x| x["level"] == "error"),
        "{results:?}"
    );
    let r = run(&["check", "--severity", "error", "--format", "concise", DEMO_TF]);
    let lines: Vec<&str> = r.stdout.lines().filter(|l| l.contains(": KDS")).collect();
    assert_eq!(lines.len(), errors, "{}", r.stdout);
    let r = run(&["check", "--severity", "error", "--format", "github", DEMO_TF]);
    assert!(
        r.stdout.contains("::error") && !r.stdout.contains("::warning"),
        "{}",
        r.stdout
    );
    let r = run(&["check", "--severity", "error", "--format", "junit", DEMO_TF]);
    assert!(
        r.stdout.contains("type=\"error\"") && !r.stdout.contains("type=\"warning\""),
        "{}",
        r.stdout
    );
    let r = run(&["check", "--severity", "error", "--format", "markdown", DEMO_TF]);
    assert!(
        r.stdout.contains("KDS004") && !r.stdout.contains("KDS001"),
        "{}",
        r.stdout
    );
    // Warnings still fail the run at the default --fail-on warning, though not shown.
    let r = run(&[
        "check",
        "--severity",
        "error",
        "--select",
        "KDS001",
        "--format",
        "json",
        DEMO_TF,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.json()["findings"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn rules_lists_json() {
    let r = run(&["rules", "--format", "json"]);
    assert_eq!(r.code, 0);
    let rules: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    let rules = rules.as_array().cloned().unwrap_or_default();
    let human = run(&["rules"]).stdout;
    assert_eq!(rules.len(), human.lines().count());
    for (rule, line) in rules.iter().zip(human.lines()) {
        let id = rule["id"].as_str().unwrap_or_default();
        let name = rule["name"].as_str().unwrap_or_default();
        assert!(line.starts_with(id) && line.contains(name), "{line} vs {rule}");
        assert!(["error", "warning", "note"].contains(&rule["severity"].as_str().unwrap_or_default()));
        assert!(rule["summary"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(rule["help"].as_str().is_some_and(|s| !s.is_empty()));
    }
}

#[test]
fn help_names_the_v2_report() {
    for args in [
        vec!["check", "--help"],
        vec!["query", "who-can", "--help"],
        vec!["query", "can", "--help"],
        vec!["query", "why", "--help"],
    ] {
        let help = run(&args).stdout;
        assert!(!help.contains("report/v1"), "{args:?}: {help}");
    }
    assert!(run(&["check", "--help"]).stdout.contains("kdsguard.report/v2"));
    assert!(run(&["query", "can", "--help"]).stdout.contains("kdsguard.report/v2"));
}
