//! The Rust estate generator (`tests/common/estate.rs`): byte-identical to
//! `../shared/tools/gen_corpus.py`, deterministic, and loadable by kdsguard without errors.
#![allow(clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::estate::{self, Format, Options};
use common::{root, run};

/// (principals, tables, files), each generated with every seed of `SEEDS`.
const SIZES: [(usize, usize, usize); 4] = [(0, 0, 1), (7, 3, 2), (50, 20, 5), (200, 80, 10)];
const SEEDS: [u64; 3] = [0, 1, 7];
/// Single-seed cases for the paths the sizes above miss.
const EXTRA: [Options; 3] = [
    // No tables (literal ARNs) and 30 shared policies in one file: `sample`'s set-based method.
    Options {
        principals: 300,
        tables: 0,
        files: 1,
        seed: 5,
        assumable: 0,
        iam_writers: 0,
    },
    // Four kinesisreplication SLRs (every protection variant) over four accounts.
    Options {
        principals: 250,
        tables: 420,
        files: 2,
        seed: 42,
        assumable: 0,
        iam_writers: 0,
    },
    // A seed of more than 32 bits: CPython seeds MT19937 with two key words.
    Options {
        principals: 120,
        tables: 40,
        files: 4,
        seed: 12_345_678_901_234,
        assumable: 0,
        iam_writers: 0,
    },
];

fn script() -> PathBuf {
    root().join("../shared/tools/gen_corpus.py")
}

/// True when `python3` and the script are both there; else says the test was skipped.
fn python_available() -> bool {
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let reason = if !python {
        "python3 not found"
    } else if !script().is_file() {
        "../shared/tools/gen_corpus.py not found"
    } else {
        return true;
    };
    let _ = writeln!(std::io::stderr(), "skipped: {reason}");
    false
}

fn flag(format: Format) -> &'static str {
    match format {
        Format::Terraform => "tf",
        Format::CloudFormation => "cfn",
    }
}

fn python_generate(dir: &Path, format: Format, o: &Options) -> Result<(), String> {
    let out = Command::new("python3")
        .arg(script())
        .args(["--format", flag(format)])
        .args([
            "--principals",
            &o.principals.to_string(),
            "--tables",
            &o.tables.to_string(),
        ])
        .args(["--files", &o.files.to_string(), "--seed", &o.seed.to_string()])
        .arg("--out")
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "gen_corpus.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Every file of `dir` by name.
fn files_in(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    entries
        .map(|entry| {
            let path = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Ok((name, bytes))
        })
        .collect()
}

/// Where two texts first differ, for a readable failure.
fn first_difference(left: &[u8], right: &[u8]) -> String {
    let (left, right) = (String::from_utf8_lossy(left), String::from_utf8_lossy(right));
    let mut l = left.split('\n');
    let mut r = right.split('\n');
    for line in 1.. {
        match (l.next(), r.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => return format!("line {line}:\n  python: {a:?}\n  rust:   {b:?}"),
        }
    }
    String::new()
}

/// Generates with both tools and compares the file lists and every file's bytes.
fn compare(format: Format, o: &Options) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let (py, rs) = (tmp.path().join("py"), tmp.path().join("rs"));
    python_generate(&py, format, o)?;
    estate::write(&rs, format, o).map_err(|e| format!("cannot write the estate: {e}"))?;
    let (expected, actual) = (files_in(&py)?, files_in(&rs)?);
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    if names(&expected) != names(&actual) {
        return Err(format!(
            "file lists differ: python {:?}, rust {:?}",
            names(&expected),
            names(&actual)
        ));
    }
    for (name, bytes) in &expected {
        if bytes != &actual[name] {
            return Err(format!("{name} differs at {}", first_difference(bytes, &actual[name])));
        }
    }
    Ok(())
}

#[test]
fn output_is_byte_identical_to_the_python_tool() {
    if !python_available() {
        return;
    }
    let mut cases = Vec::new();
    for format in [Format::Terraform, Format::CloudFormation] {
        for (principals, tables, files) in SIZES {
            for seed in SEEDS {
                cases.push((
                    format,
                    Options {
                        principals,
                        tables,
                        files,
                        seed,
                        assumable: 0,
                        iam_writers: 0,
                    },
                ));
            }
        }
        cases.extend(EXTRA.iter().map(|o| (format, *o)));
    }
    // The cases are independent; most of the time is spent starting Python.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = cases
            .iter()
            .map(|(format, o)| (format, o, scope.spawn(|| compare(*format, o))))
            .collect();
        running
            .into_iter()
            .filter_map(|(format, o, handle)| {
                let outcome = handle
                    .join()
                    .unwrap_or_else(|_| Err("the comparison panicked".to_string()));
                outcome.err().map(|e| format!("{} {o:?}: {e}", flag(*format)))
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn generation_is_deterministic() {
    let o = Options {
        principals: 300,
        tables: 120,
        files: 7,
        seed: 7,
        assumable: 0,
        iam_writers: 0,
    };
    for format in [Format::Terraform, Format::CloudFormation] {
        assert_eq!(
            estate::render(format, &o),
            estate::render(format, &o),
            "{}",
            flag(format)
        );
    }
    let other = Options { seed: 8, ..o };
    assert_ne!(
        estate::render(Format::Terraform, &o),
        estate::render(Format::Terraform, &other)
    );
}

#[test]
fn principal_names_match_the_rendered_resources() {
    let o = Options {
        principals: 40,
        tables: 10,
        files: 3,
        seed: 1,
        assumable: 0,
        iam_writers: 0,
    };
    let names = estate::principal_names(&o);
    assert_eq!(names.len(), o.principals);
    let tf: String = estate::render(Format::Terraform, &o)
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let cfn: String = estate::render(Format::CloudFormation, &o)
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    for (address, logical_id) in &names {
        let (rtype, name) = address
            .split_once('.')
            .unwrap_or_else(|| panic!("not an address: {address}"));
        assert!(
            tf.contains(&format!("resource \"{rtype}\" \"{name}\" {{")),
            "{address} not in the Terraform"
        );
        assert!(
            cfn.contains(&format!("\n  {logical_id}:\n")),
            "{logical_id} not in the CloudFormation"
        );
    }
}

/// Both formats load with no errors, and kdsguard's principal addresses are `principal_names`.
#[test]
fn generated_estates_load_without_errors() {
    let o = Options {
        principals: 60,
        tables: 25,
        files: 4,
        seed: 3,
        assumable: 0,
        iam_writers: 0,
    };
    let names = estate::principal_names(&o);
    for format in [Format::Terraform, Format::CloudFormation] {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        estate::write(tmp.path(), format, &o).unwrap_or_else(|e| panic!("cannot write the estate: {e}"));
        let dir = tmp.path().to_string_lossy().into_owned();
        let r = run(&["check", "--format", "json", &dir]);
        let report = r.json();
        assert_eq!(
            report["errors"],
            serde_json::json!([]),
            "{} load errors; stderr:\n{}",
            flag(format),
            r.stderr
        );
        let mut addresses: Vec<&str> = report["principals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["address"].as_str())
            .collect();
        addresses.sort_unstable();
        assert_eq!(addresses.len(), o.principals, "{} principals", flag(format));
        let mut expected: Vec<&str> = names
            .iter()
            .map(|(tf, cfn)| if format == Format::Terraform { tf } else { cfn }.as_str())
            .collect();
        expected.sort_unstable();
        assert_eq!(addresses, expected, "{} principal addresses", flag(format));
    }
}
