//! `kdsguard simulate`: the table-driven IAM cases (`tests/iam_cases/*.jsonl`, each citing
//! the AWS rule it follows) run through the library and through the binary's `--batch`,
//! plus the single-request command line.
#![allow(clippy::panic)] // a test fails by panicking

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kdsguard::simulate::{answer_line, evaluate, parse_line};
use serde_json::Value as Json;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/iam_cases")
}

fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    files
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn field(line: &str, key: &str) -> Json {
    serde_json::from_str::<Json>(line)
        .ok()
        .and_then(|v| v.get(key).cloned())
        .unwrap_or(Json::Null)
}

#[test]
fn there_are_enough_cases_and_each_cites_its_rule() {
    let mut total = 0;
    for f in case_files() {
        for l in lines(&f) {
            total += 1;
            let cite = field(&l, "cite");
            assert!(
                cite.as_str().is_some_and(|c| c.len() > 10),
                "{}: case without a citation: {l}",
                f.display()
            );
            assert!(
                field(&l, "expect").is_string(),
                "{}: case without expect: {l}",
                f.display()
            );
        }
    }
    assert!(total >= 150, "only {total} cases");
}

#[test]
fn every_case_holds_through_the_library() {
    let mut failures = Vec::new();
    for f in case_files() {
        for (n, l) in lines(&f).iter().enumerate() {
            let id = field(l, "id");
            let expect = field(l, "expect");
            let got = match parse_line(l) {
                Ok((_, case)) => {
                    let warned = !case.diagnostics.is_empty();
                    if warned != field(l, "warnings").as_bool().unwrap_or(false) {
                        failures.push(format!("{id}: warnings {warned}: {:?}", case.diagnostics));
                    }
                    evaluate(&case).outcome.as_str().to_string()
                }
                Err((_, e)) => format!("error: {e}"),
            };
            if Json::String(got.clone()) != expect {
                failures.push(format!(
                    "{}:{}: {id} ({}) expected {expect}, got {got}",
                    f.display(),
                    n + 1,
                    field(l, "cite")
                ));
            }
            // The batch answer is the same decision.
            assert_eq!(answer_line(l, n + 1)["decision"], Json::String(got));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_case_holds_through_the_binary_batch() {
    for f in case_files() {
        let out = Command::new(env!("CARGO_BIN_EXE_kdsguard"))
            .args(["simulate", "--batch"])
            .arg(&f)
            .output();
        let Ok(out) = out else { unreachable!("the binary runs") };
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let answers: Vec<&str> = text.lines().collect();
        let inputs = lines(&f);
        assert_eq!(answers.len(), inputs.len(), "{}", f.display());
        for (input, answer) in inputs.iter().zip(&answers) {
            assert_eq!(field(answer, "id"), field(input, "id"), "order kept");
            assert_eq!(
                field(answer, "decision"),
                field(input, "expect"),
                "{}: {input}",
                f.display()
            );
            assert!(field(answer, "because").is_array());
            assert!(field(answer, "conditions").is_array());
        }
    }
}

fn run_stdin(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_kdsguard"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        unreachable!("the binary runs")
    };
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let Ok(out) = child.wait_with_output() else {
        unreachable!("the binary finishes")
    };
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn batch_from_stdin_answers_a_malformed_line_and_goes_on() {
    let input = concat!(
        r#"{"id":"a","action":"dynamodb:DescribeTable","resource":"*","policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:Describe*","Resource":"*"}}],"extra":1}"#,
        "\n",
        "{not json\n",
        r#"{"id":{"n":[1,2]},"resource":"*"}"#,
        "\n",
        r#"{"id":3,"action":"dynamodb:DescribeTable","resource":"*","policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:Describe*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}]}"#,
        "\n",
    );
    let (code, out, _) = run_stdin(&["simulate", "--batch", "-"], input);
    assert_eq!(code, Some(0));
    let answers: Vec<Json> = out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(answers.len(), 4, "{out}");
    assert_eq!(answers[0]["id"], "a");
    assert_eq!(answers[0]["decision"], "allowed");
    assert_eq!(answers[0]["because"][0]["line"], 1);
    assert!(answers[1]["error"].is_string());
    assert_eq!(answers[2]["id"], serde_json::json!({"n":[1,2]}));
    assert_eq!(answers[2]["error"], "missing \"action\"");
    assert_eq!(answers[3]["decision"], "conditional");
    assert_eq!(answers[3]["conditions"][0]["key"], "aws:SecureTransport");
    assert_eq!(answers[3]["conditions"][0]["line"], 4);
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    let _ = std::fs::write(&path, text);
    path.display().to_string()
}

#[test]
fn a_single_request_names_the_deciding_statement_with_its_position() {
    let Ok(dir) = tempfile::tempdir() else {
        unreachable!("a temporary folder")
    };
    let p = write(
        dir.path(),
        "p.json",
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"Admin\", \"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"},\n    {\"Sid\": \"NoDisable\", \"Effect\": \"Deny\", \"Action\": \"dynamodb:Disable*\", \"Resource\": \"*\"}\n  ]\n}\n",
    );
    let (code, out, err) = run_stdin(
        &[
            "simulate",
            "--policy",
            &p,
            "--action",
            "dynamodb:DisableKinesisStreamingDestination",
            "--resource",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Music",
        ],
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("denied"), "{out}");
    assert!(out.contains(&format!("{p}:5:5")), "{out}");
    assert!(out.contains("\"NoDisable\""), "{out}");

    let (code, out, _) = run_stdin(
        &[
            "simulate",
            "--policy",
            &p,
            "--action",
            "dynamodb:EnableKinesisStreamingDestination",
            "--resource",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Music",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(code, Some(0));
    let v: Json = serde_json::from_str(out.trim()).unwrap_or(Json::Null);
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["because"][0]["line"], 4);
    assert_eq!(v["because"][0]["sid"], "Admin");
}

#[test]
fn flags_cover_layers_context_and_strict_mode() {
    let Ok(dir) = tempfile::tempdir() else {
        unreachable!("a temporary folder")
    };
    let allow = write(
        dir.path(),
        "allow.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}}"#,
    );
    let scp = write(
        dir.path(),
        "scp.json",
        r#"[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}},{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kinesis:DeleteStream","Resource":"*"}}]"#,
    );
    let base = [
        "simulate",
        "--policy",
        allow.as_str(),
        "--scp",
        scp.as_str(),
        "--resource",
        "arn:aws:kinesis:us-east-1:123456789012:stream/s",
        "--action",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        run_stdin(&args, "").1
    };
    assert!(run(&["kinesis:PutRecords"]).starts_with("conditional"));
    assert!(run(&["kinesis:PutRecords", "--strict"]).starts_with("not_allowed"));
    assert!(run(&["kinesis:PutRecords", "--context", "aws:RequestedRegion=us-east-1"]).starts_with("allowed"));
    assert!(run(&["kinesis:PutRecords", "--absent", "aws:RequestedRegion"]).starts_with("not_allowed"));
    assert!(run(&["kinesis:DeleteStream", "--context", "aws:RequestedRegion=us-east-1"]).starts_with("denied"));
}

#[test]
fn unreadable_or_invalid_policy_files_exit_2_naming_the_file_and_line() {
    let Ok(dir) = tempfile::tempdir() else {
        unreachable!("a temporary folder")
    };
    let bad = write(
        dir.path(),
        "bad.json",
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}\n",
    );
    let (code, _, err) = run_stdin(
        &[
            "simulate",
            "--policy",
            &bad,
            "--action",
            "s3:GetObject",
            "--resource",
            "*",
        ],
        "",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains(&format!("{bad}:3:")), "{err}");
    let missing = dir.path().join("missing.json").display().to_string();
    let (code, _, err) = run_stdin(
        &[
            "simulate",
            "--policy",
            &missing,
            "--action",
            "s3:GetObject",
            "--resource",
            "*",
        ],
        "",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("missing.json"), "{err}");
    let (code, _, _) = run_stdin(&["simulate", "--action", "s3:GetObject"], "");
    assert_eq!(code, Some(2));
}
