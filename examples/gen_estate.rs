//! Writes a synthetic Terraform or CloudFormation estate, byte-identical to
//! `../shared/tools/gen_corpus.py` with the same arguments:
//!
//! ```text
//! cargo run --release --example gen_estate -- --format tf --principals 500 --tables 200 \
//!     --files 20 --seed 7 --out /tmp/x
//! ```
// A command-line tool: it reports to stderr and ends with an exit code.
#![allow(clippy::print_stderr)]

#[path = "../tests/common/estate.rs"]
#[allow(dead_code, reason = "the example uses only `write`; tests use the rest")]
mod estate;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: gen_estate --format tf|cfn [--principals N] [--tables M] [--files F] [--seed S]
                  [--assumable N] [--iam-writers N] --out DIR

  --format      tf (providers.tf + part_NNN.tf) or cfn (stack_NNN.yaml)
  --principals  IAM roles and users (default 50)
  --tables      DynamoDB tables, one Kinesis stream each (default 20)
  --files       files to spread resources over, at least 1 (default 1)
  --seed        random seed; its absolute value is used, as Python does (default 0)
  --out         output directory (created; existing files overwritten)
  --assumable   extension: N roles trusting the account root, each user allowed to assume
                one of them (default 0: the script's output)
  --iam-writers extension: the first N roles may attach policies to themselves (default 0)";

struct Args {
    format: estate::Format,
    options: estate::Options,
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match estate::write(&args.out, args.format, &args.options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", args.out.display());
            ExitCode::FAILURE
        }
    }
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut format = None;
    let mut out = None;
    let mut options = estate::Options {
        principals: 50,
        tables: 20,
        files: 1,
        seed: 0,
        ..estate::Options::default()
    };
    while let Some(flag) = argv.next() {
        if flag == "-h" || flag == "--help" {
            return Err("help requested".to_string());
        }
        let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--format" => format = Some(parse_format(&value)?),
            "--principals" => options.principals = count(&flag, &value)?,
            "--tables" => options.tables = count(&flag, &value)?,
            "--files" => options.files = count(&flag, &value)?,
            "--seed" => options.seed = seed(&value)?,
            "--assumable" => options.assumable = count(&flag, &value)?,
            "--iam-writers" => options.iam_writers = count(&flag, &value)?,
            "--out" => out = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if options.files < 1 {
        return Err("--files must be at least 1".to_string());
    }
    Ok(Args {
        format: format.ok_or("--format is required")?,
        options,
        out: out.ok_or("--out is required")?,
    })
}

fn parse_format(value: &str) -> Result<estate::Format, String> {
    match value {
        "tf" => Ok(estate::Format::Terraform),
        "cfn" => Ok(estate::Format::CloudFormation),
        _ => Err(format!("--format must be tf or cfn, not {value}")),
    }
}

fn count(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} must be a count >= 0, not {value}"))
}

/// Python seeds `random.Random` with `abs(seed)`.
fn seed(value: &str) -> Result<u64, String> {
    let n: i128 = value
        .parse()
        .map_err(|_| format!("--seed must be an integer, not {value}"))?;
    u64::try_from(n.unsigned_abs()).map_err(|_| format!("--seed must fit in 64 bits, not {value}"))
}
