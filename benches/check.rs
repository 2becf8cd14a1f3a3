//! End-to-end `check` on synthetic workloads from the shared generator
//! (`../shared/tools/gen_corpus.py`, or `$KDSGUARD_GEN`): Terraform and CloudFormation of a
//! given size, analysed in-process (discover, load, link, decide, rules). Prints the median of
//! a few runs per size. Run with `cargo bench --bench check`.
#![allow(clippy::panic, clippy::print_stdout)] // tests and benches report by panicking and printing

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kdsguard::{Config, analyze};

/// (principals, tables, files) per workload.
const SIZES: &[(usize, usize, usize)] = &[(50, 20, 5), (200, 50, 10), (500, 100, 20)];
const RUNS: usize = 3;

fn main() {
    let generator = std::env::var_os("KDSGUARD_GEN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/gen_corpus.py"));
    if !generator.is_file() {
        println!(
            "skipped: generator {} not found (set KDSGUARD_GEN)",
            generator.display()
        );
        return;
    }
    let Ok(dir) = tempfile::tempdir() else {
        println!("skipped: no temporary folder");
        return;
    };
    for &(principals, tables, files) in SIZES {
        for format in ["tf", "cfn"] {
            let out = dir.path().join(format!("{format}-{principals}-{tables}"));
            let status = Command::new("python3")
                .arg(&generator)
                .args(["--format", format, "--principals", &principals.to_string()])
                .args([
                    "--tables",
                    &tables.to_string(),
                    "--files",
                    &files.to_string(),
                    "--seed",
                    "1",
                ])
                .arg("--out")
                .arg(&out)
                .output();
            if !status.as_ref().is_ok_and(|o| o.status.success()) {
                println!("skipped {format} {principals}x{tables}: the generator failed");
                continue;
            }
            let config = Config {
                paths: vec![out.clone()],
                ..Config::default()
            };
            let mut times: Vec<Duration> = Vec::new();
            let mut decisions = 0;
            for _ in 0..RUNS {
                let start = Instant::now();
                let Ok(a) = analyze(&config, dir.path()) else {
                    println!("analysis failed");
                    return;
                };
                times.push(start.elapsed());
                decisions = a.decisions.entries.len();
            }
            times.sort();
            let median = times[RUNS / 2];
            println!(
                "check {format:>3} {principals:>4} principals x {tables:>3} tables: {:>8.1} ms  ({decisions} decisions, {:.0} decisions/s)",
                median.as_secs_f64() * 1000.0,
                decisions as f64 / median.as_secs_f64()
            );
        }
    }
}
