//! End-to-end `kdsguard check --format json` on generated estates (the Rust port of
//! `../shared/tools/gen_corpus.py`, `tests/common/estate.rs`), Terraform and CloudFormation:
//! the scaling table (1×, 2×, 4×, 8×, 10×, 20×, 40× of 500 principals × 200 tables, reach
//! on as by default) with the 5,000 × 2,000 target and 20,000 × 8,000. Each row: the median wall time of a few runs of the release binary, the load
//! (parse-only) time it reports with `--timings`, peak memory (through `/usr/bin/time` when
//! present), the JSON report's size and its access entries.
//!
//! Then reach (capabilities.md, Access through other principals): 5,000 principals with 500
//! assumable roles every user may assume and 100 roles that may attach policies to
//! themselves, checked with reach and with `reach = false` (the ratio must stay ≤ 1.5×).
//!
//! `cargo bench --bench check` (all rows), `KDSGUARD_BENCH_QUICK=1` for the first two sizes,
//! `KDSGUARD_BENCH_REACH=1` for the reach rows only.
#![allow(clippy::panic, clippy::print_stdout, clippy::unwrap_used)] // benches report by printing

#[path = "../tests/common/estate.rs"]
#[allow(dead_code)]
mod estate;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use estate::{Format, Options, write};

/// (principals, tables, files) per row.
const SIZES: &[(usize, usize, usize)] = &[
    (500, 200, 20),
    (1000, 400, 40),
    (2000, 800, 80),
    (4000, 1600, 160),
    (5000, 2000, 200),
    (10000, 4000, 400),
    (20000, 8000, 800),
];
const RUNS: usize = 3;

struct Row {
    wall: Duration,
    load: f64,
    /// Decisions and reach, seconds (`--timings`).
    decisions: f64,
    reach: f64,
    peak_kb: Option<u64>,
    json_bytes: usize,
    entries: usize,
    indirect: usize,
}

fn main() {
    let quick = std::env::var_os("KDSGUARD_BENCH_QUICK").is_some();
    let binary = env!("CARGO_BIN_EXE_kdsguard");
    let Ok(dir) = tempfile::tempdir() else {
        println!("skipped: no temporary folder");
        return;
    };
    println!(
        "| estate | format | check --format json | load only | decisions | reach | peak memory | JSON | access entries |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let reach_only = std::env::var_os("KDSGUARD_BENCH_REACH").is_some();
    let sizes = if reach_only {
        &SIZES[..0]
    } else if quick {
        &SIZES[..2]
    } else {
        SIZES
    };
    for &(principals, tables, files) in sizes {
        for (name, format) in [
            ("Terraform", Format::Terraform),
            ("CloudFormation", Format::CloudFormation),
        ] {
            let out = dir.path().join(format!("{name}-{principals}"));
            let opts = Options {
                principals,
                tables,
                files,
                seed: 7,
                ..Options::default()
            };
            if let Err(e) = write(&out, format, &opts) {
                println!("skipped {name} {principals}x{tables}: {e}");
                continue;
            }
            let row = measure(binary, &out, &[]);
            println!(
                "| {principals} × {tables} | {name} | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {} | {:.1} MB | {} |",
                row.wall.as_secs_f64(),
                row.load,
                row.decisions,
                row.reach,
                row.peak_kb
                    .map(|k| format!("{:.0} MB", k as f64 / 1024.0))
                    .unwrap_or_else(|| "n/a".to_string()),
                row.json_bytes as f64 / 1e6,
                row.entries
            );
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    if !quick {
        reach_rows(binary, dir.path());
    }
}

/// The reach estate, checked with reach on and off.
fn reach_rows(binary: &str, dir: &Path) {
    let out = dir.join("reach");
    let opts = Options {
        principals: 5000,
        tables: 2000,
        files: 200,
        seed: 7,
        assumable: 500,
        iam_writers: 100,
    };
    if let Err(e) = write(&out, Format::Terraform, &opts) {
        println!("skipped the reach rows: {e}");
        return;
    }
    let off = out.join("reach-off.toml");
    if std::fs::write(&off, "reach = false\n").is_err() {
        println!("skipped the reach rows: cannot write the config");
        return;
    }
    println!("\n| estate (Terraform) | reach | check --format json | reach phase | peak memory | indirect entries |");
    println!("|---|---|---|---|---|---|");
    let on = measure(binary, &out, &[]);
    let config = off.to_string_lossy().to_string();
    let without = measure(binary, &out, &["--config", &config]);
    for (name, row) in [("on", &on), ("off", &without)] {
        println!(
            "| 5000 × 2000, 500 assumable roles | {name} | {:.2} s | {:.2} s | {} | {} |",
            row.wall.as_secs_f64(),
            row.reach,
            row.peak_kb
                .map(|k| format!("{:.0} MB", k as f64 / 1024.0))
                .unwrap_or_else(|| "n/a".to_string()),
            row.indirect
        );
    }
    println!(
        "\nreach on / off: {:.2}x",
        on.wall.as_secs_f64() / without.wall.as_secs_f64().max(1e-9)
    );
}

/// Median wall time of `RUNS` runs; load time, memory and sizes from the last.
fn measure(binary: &str, dir: &Path, extra: &[&str]) -> Row {
    let time = Path::new("/usr/bin/time");
    let mut walls = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let mut cmd = if time.is_file() {
            let mut c = Command::new(time);
            c.args(["-f", "peak-kb %M", binary]);
            c
        } else {
            Command::new(binary)
        };
        cmd.current_dir(dir)
            .args(["check", "--format", "json", "--timings"])
            .args(extra)
            .arg(".");
        let start = Instant::now();
        let out = cmd.output().unwrap();
        walls.push(start.elapsed());
        last = Some(out);
    }
    walls.sort();
    let out = last.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ms = |phase: &str| -> f64 {
        stderr
            .lines()
            .find(|l| l.starts_with("timing: ") && l.contains(phase))
            .and_then(|l| l.split_whitespace().rev().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let peak_kb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-kb "))
        .and_then(|v| v.trim().parse().ok());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    Row {
        wall: walls[RUNS / 2],
        load: (ms("discover") + ms("load")) / 1000.0,
        decisions: ms("decisions") / 1000.0,
        reach: ms("reach") / 1000.0,
        peak_kb,
        json_bytes: out.stdout.len(),
        entries: report["access"].as_array().map_or(0, Vec::len),
        indirect: report["indirect"].as_array().map_or(0, Vec::len),
    }
}
