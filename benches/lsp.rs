//! `kdsguard lsp` latency: from the editor's `didChange` of one file to the server's
//! `publishDiagnostics` for it, on generated Terraform estates (300 × 100 and
//! 5,000 × 2,000; `tests/common/estate.rs`). The change adds (then removes) a role that may
//! delete the service-linked role, so each change alters the file's diagnostics. The figure
//! includes the server's debounce (`lsp::DEBOUNCE`, 50 ms). Median of five changes after a first run.
//!
//! `cargo bench --bench lsp` (`KDSGUARD_BENCH_QUICK=1`: the small estate only).
#![allow(clippy::panic, clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // benches report by printing

#[path = "../tests/common/estate.rs"]
#[allow(dead_code)]
mod estate;
#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;

use std::path::Path;
use std::time::{Duration, Instant};

use estate::{Format, Options, write};
use lsp_client::{Client, uri};
use serde_json::json;

const PROBE: &str = r#"
resource "aws_iam_role" "lsp_bench_probe" {
  name = "lsp-bench-probe"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  inline_policy {
    name   = "probe"
    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "iam:*", Resource = "*" }] })
  }
}
"#;

const CHANGES: usize = 5;

fn main() {
    let quick = std::env::var_os("KDSGUARD_BENCH_QUICK").is_some();
    let binary = env!("CARGO_BIN_EXE_kdsguard");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let base = dir.path().canonicalize().unwrap();
    println!("| estate (Terraform) | first analysis | change → diagnostics (median of {CHANGES}) | min | max |");
    println!("|---|---|---|---|---|");
    let sizes: &[(usize, usize, usize)] = if quick {
        &[(300, 100, 30)]
    } else {
        &[(300, 100, 30), (5000, 2000, 200)]
    };
    for &(principals, tables, files) in sizes {
        let root = base.join(format!("tf-{principals}"));
        let opts = Options {
            principals,
            tables,
            files,
            seed: 7,
            ..Options::default()
        };
        write(&root, Format::Terraform, &opts).unwrap();
        let (first, mut times) = measure(binary, &root);
        times.sort();
        println!(
            "| {principals} × {tables} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
            ms(first),
            ms(times[times.len() / 2]),
            ms(times[0]),
            ms(times[times.len() - 1])
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The first run (opening the file with the probe added), then the changes' latencies.
fn measure(binary: &str, root: &Path) -> (Duration, Vec<Duration>) {
    let file = root.join("part_000.tf");
    let text = std::fs::read_to_string(&file).unwrap();
    let probed = format!("{text}{PROBE}");
    let mut c = Client::start(binary, root);
    c.request("initialize", json!({"capabilities": {}, "rootUri": uri(root)}));
    c.notify("initialized", json!({}));
    let start = Instant::now();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&file), "languageId": "terraform", "version": 1, "text": probed}}),
    );
    let with_probe = c.diagnostics_for(&file);
    let first = start.elapsed();
    let mut times = Vec::new();
    for k in 0..CHANGES {
        let next = if k % 2 == 0 { &text } else { &probed };
        let start = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(&file), "version": k + 2}, "contentChanges": [{"text": next}]}),
        );
        let got = c.diagnostics_for(&file);
        times.push(start.elapsed());
        assert_eq!(
            got == with_probe,
            k % 2 == 1,
            "each change alters the file's diagnostics"
        );
        c.seen.clear();
    }
    c.stop();
    (first, times)
}
