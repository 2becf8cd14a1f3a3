//! The `kdsguard` command: parse the command line, call the library, map the outcome to
//! an exit code (0 clean, 1 findings, 2 bad usage or load errors).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;

use kdsguard::cli::{CheckArgs, Cli, Command, FailOn, Format};
use kdsguard::model::Severity;
use kdsguard::report::{human, json};
use kdsguard::value::Pins;
use kdsguard::{Config, analyze};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "kdsguard: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Simulate(args) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match kdsguard::simulate::run(&args, &mut std::io::stdin().lock(), &mut out) {
                Err(kdsguard::simulate::SimulateError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
                other => Ok(other?),
            }
        }
    }
}

fn check(args: CheckArgs) -> Result<u8> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = Config {
        paths: args.paths.clone(),
        load: kdsguard::load::LoadOptions {
            tf_vars: pairs(&args.vars, "--var")?,
            tf_var_files: args.var_files.clone(),
            cfn_parameters: pairs(&args.parameters, "--parameter")?,
        },
        pins: Pins {
            account: args.account.clone(),
            region: args.region.clone(),
            partition: args.partition.clone(),
        },
    };
    let analysis = analyze(&config, &cwd)?;
    let stdout = std::io::stdout();
    let text = match args.format {
        Format::Json => json::render(&analysis)?,
        Format::Human => {
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            human::render(
                &analysis,
                human::Style {
                    color,
                    verbose: args.verbose,
                    ..human::Style::default()
                },
            )
        }
    };
    write_out(&text)?;
    let report = json::build(&analysis);
    let mut stderr = std::io::stderr();
    for e in &report.errors {
        let _ = writeln!(stderr, "error: {}:{}:{}: {}", e.file, e.line, e.column, e.message);
    }
    let fail_on = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Note => Severity::Note,
    };
    Ok(analysis.exit_code(fail_on))
}

/// Writes to stdout; a closed pipe (`| head`) is a normal end, not an error.
fn write_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the report"),
    }
}

fn pairs(items: &[String], flag: &str) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("{flag} takes NAME=VALUE, got {s:?}"),
        })
        .collect()
}
