//! README.md's commands, run: every `kdsguard …` line of its `sh` code blocks that analyses
//! the bundled demo (`testdata/demo`, or `infra/`, which the usage examples stand for and
//! which is run as the demo's Terraform; `--diff-base origin/main` runs against HEAD) must not
//! end in a usage or load error (exit 2).
//! Commands that read standard input, write through a redirection or show a placeholder
//! (`[PATH...]`, `<ref>`) are left out, and the test says which.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::io::Write as _;

use common::root;

/// The `sh` code blocks' commands, continuation lines joined.
fn commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if let Some(lang) = line.strip_prefix("```") {
            in_sh = !in_sh && lang.trim() == "sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let (text, continued) = match line.trim_end().strip_suffix('\\') {
            Some(head) => (head, true),
            None => (line, false),
        };
        pending.push_str(text);
        pending.push(' ');
        if !continued {
            out.push(std::mem::take(&mut pending).trim().to_string());
        }
    }
    out
}

/// Splits a command line into words as a shell would (quotes, backslashes, a `#` that starts
/// a word begins a comment). `None` when it needs more than words: a redirection, a pipe,
/// an expansion.
fn words(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => out.extend(word.take()),
            '#' if word.is_none() => break,
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    match c {
                        '"' => break,
                        '$' | '`' | '\\' => return None,
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            '>' | '<' | '|' | '$' | '`' | ';' | '&' => return None,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    Some(out)
}

#[test]
fn readme_commands_on_the_demo_do_not_fail() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_else(|e| panic!("{e}"));
    let mut ran = Vec::new();
    let mut skipped = Vec::new();
    for line in commands(&readme) {
        let Some(mut argv) = words(&line) else {
            skipped.push(line);
            continue;
        };
        // The quick start runs the demo through cargo: the same binary.
        if argv.starts_with(&["cargo".into(), "run".into(), "--release".into(), "--".into()]) {
            argv.drain(..3);
            argv[0] = "kdsguard".into();
        }
        if argv.first().map(String::as_str) != Some("kdsguard") {
            continue;
        }
        let mut argv: Vec<String> = argv[1..]
            .iter()
            .map(|a| match a.as_str() {
                "infra/" => "testdata/demo/terraform".to_string(),
                // PR mode against a branch of a clone: this checkout's own commit stands in.
                "origin/main" => "HEAD".to_string(),
                _ => a.clone(),
            })
            .collect();
        let on_demo = argv.iter().any(|a| a.starts_with("testdata/demo"));
        let placeholder = argv.iter().any(|a| a == "-" || a.contains('[') || a.contains('<'));
        if !on_demo || placeholder {
            skipped.push(line);
            continue;
        }
        // `--output FORMAT=FILE` writes a file: into a temporary folder.
        let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for a in &mut argv {
            if let Some((format, file)) = a.split_once('=')
                && ["sarif", "json", "junit", "markdown"].contains(&format)
                && !file.is_empty()
            {
                *a = format!("{format}={}", scratch.path().join(file).display());
            }
        }
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let run = common::run(&args);
        assert_ne!(run.code, 2, "README: `{line}` exits 2:\n{}", run.stderr);
        assert!(
            !run.stderr.contains("error:"),
            "README: `{line}` prints an error:\n{}",
            run.stderr
        );
        ran.push(line);
    }
    let _ = writeln!(
        std::io::stderr(),
        "ran {} README commands; not run: {skipped:#?}",
        ran.len()
    );
    // The quick start and the query examples are among them.
    assert!(
        ran.iter()
            .any(|l| l.starts_with("cargo run --release -- check testdata/demo")),
        "{ran:#?}"
    );
    for q in ["query who-can", "query can", "query why"] {
        assert!(
            ran.iter().any(|l| l.contains(q)),
            "no `{q}` example on the demo: {ran:#?}"
        );
    }
}

#[test]
fn the_splitter_reads_quotes_and_comments() {
    assert_eq!(
        words("kdsguard query 'a#b c' x\\ y  # comment"),
        Some(vec!["kdsguard".into(), "query".into(), "a#b c".into(), "x y".into()])
    );
    assert_eq!(words("kdsguard completions bash > file"), None);
    let cmds = commands("```sh\na \\\n  b # c\n```\n```toml\nx = 1\n```\n");
    assert_eq!(cmds, ["a    b # c"]);
}
