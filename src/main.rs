//! The `kdsguard` command: parse the command line, call the library, map the outcome to
//! an exit code (0 clean, 1 findings, 2 bad usage or load errors).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;

use kdsguard::cli::{CheckArgs, CheckFormat, Cli, Command, FailOn, Format, InputArgs, QueryCommand};
use kdsguard::model::Severity;
use kdsguard::report::{human, json};
use kdsguard::value::Pins;
use kdsguard::{Analysis, Config, analyze};

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
        Command::Query(q) => {
            let (input, format) = match &q {
                QueryCommand::WhoCan { input, format, .. }
                | QueryCommand::Can { input, format, .. }
                | QueryCommand::Why { input, format, .. } => (input.clone(), *format),
            };
            let analysis = load(&input)?;
            let answer = kdsguard::query::answer(&analysis, &q).map_err(anyhow::Error::msg)?;
            let text = match format {
                Format::Json => kdsguard::query::render_json(&answer)?,
                Format::Human => kdsguard::query::render_human(&analysis, &answer),
            };
            write_out(&text)?;
            report_errors(&analysis);
            Ok(if analysis.errors.is_empty() { 0 } else { 2 })
        }
        Command::Explain { rule } => {
            let text = kdsguard::rules::explain(&rule).map_err(anyhow::Error::msg)?;
            write_out(&text)?;
            Ok(0)
        }
        Command::Rules => {
            write_out(&kdsguard::rules::list().map_err(anyhow::Error::msg)?)?;
            Ok(0)
        }
        Command::Graph(args) => {
            // The graph shows no decision, but reach's steps need them (unless reach is off).
            let cwd = cwd()?;
            let mut config = config(&args.input, &cwd)?;
            config.decide = config.reach;
            let analysis = analyze(&config, &cwd)?;
            write_out(&kdsguard::report::graph::render(&analysis, args.format)?)?;
            report_errors(&analysis);
            Ok(if analysis.errors.is_empty() { 0 } else { 2 })
        }
    }
}

fn cwd() -> Result<std::path::PathBuf> {
    std::env::current_dir().context("cannot read the current directory")
}

/// The run's configuration: the config file, then the command line on top.
fn config(input: &InputArgs, cwd: &Path) -> Result<Config> {
    let mut config = match kdsguard::config::find(input.config.as_deref(), cwd) {
        Some(path) => kdsguard::config::load(&path, cwd).map_err(anyhow::Error::msg)?,
        None => Config::default(),
    };
    config.paths = input.paths.clone();
    config.load.tf_vars.extend(pairs(&input.vars, "--var")?);
    config.load.tf_var_files.extend(input.var_files.iter().cloned());
    // TF_VAR_name=value, as Terraform reads them (below tfvars files and --var).
    let mut env_vars: Vec<(String, String)> = std::env::vars()
        .filter_map(|(k, v)| k.strip_prefix("TF_VAR_").map(|name| (name.to_string(), v)))
        .collect();
    env_vars.sort();
    config.load.tf_env_vars = env_vars;
    config
        .load
        .cfn_parameters
        .extend(pairs(&input.parameters, "--parameter")?);
    config
        .load
        .cfn_parameter_files
        .extend(input.parameter_files.iter().cloned());
    let pins = Pins {
        account: input.account.clone().or(config.pins.account.take()),
        region: input.region.clone().or(config.pins.region.take()),
        partition: input.partition.clone().or(config.pins.partition.take()),
    };
    config.pins = pins;
    Ok(config)
}

fn load(input: &InputArgs) -> Result<Analysis> {
    let cwd = cwd()?;
    let config = config(input, &cwd)?;
    Ok(analyze(&config, &cwd)?)
}

fn check(args: CheckArgs) -> Result<u8> {
    let cwd = cwd()?;
    let mut config = config(&args.input, &cwd)?;
    config.use_suppressions = !args.no_suppressions;
    // Lets tests (and audits of the past) judge suppression expiry against a fixed date.
    config.today = std::env::var("KDSGUARD_TODAY").ok();
    config.baseline = args.baseline.clone();
    let analysis = analyze(&config, &cwd)?;
    if let Some(path) = &args.write_baseline {
        kdsguard::baseline::write(&analysis, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let report_start = std::time::Instant::now();
    let text = render(&analysis, args.format, color, args.verbose)?;
    let report_time = report_start.elapsed();
    write_out(&text)?;
    if args.timings {
        print_timings(&analysis, report_time);
    }
    for output in &args.outputs {
        let Some((format, file)) = output.split_once('=') else {
            bail!("--output takes FORMAT=FILE, got {output:?}");
        };
        let format = <CheckFormat as clap::ValueEnum>::from_str(format, true).map_err(|_| {
            anyhow::anyhow!("--output: unknown format {format:?} (human, json, sarif, github, markdown)")
        })?;
        let text = render(&analysis, format, false, args.verbose)?;
        // Appending lets several steps share $GITHUB_STEP_SUMMARY.
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(format == CheckFormat::Markdown)
            .write(true)
            .truncate(format != CheckFormat::Markdown)
            .open(file)
            .with_context(|| format!("cannot write {file}"))?;
        f.write_all(text.as_bytes())
            .with_context(|| format!("cannot write {file}"))?;
    }
    report_errors(&analysis);
    let fail_on = match args.fail_on {
        Some(FailOn::Error) => Severity::Error,
        Some(FailOn::Warning) => Severity::Warning,
        Some(FailOn::Note) => Severity::Note,
        None => config.fail_on,
    };
    if args.write_baseline.is_some() && analysis.errors.is_empty() {
        return Ok(0);
    }
    Ok(analysis.exit_code(fail_on))
}

/// The report in one of `check`'s formats.
fn render(analysis: &Analysis, format: CheckFormat, color: bool, verbose: bool) -> Result<String> {
    Ok(match format {
        CheckFormat::Json => json::render(analysis)?,
        CheckFormat::Sarif => kdsguard::report::sarif::render(analysis).map_err(anyhow::Error::msg)?,
        CheckFormat::Github => kdsguard::report::github::annotations(analysis),
        CheckFormat::Markdown => kdsguard::report::github::summary(analysis),
        CheckFormat::Human => human::render(
            analysis,
            human::Style {
                color,
                verbose,
                ..human::Style::default()
            },
        ),
    })
}

/// `--timings`: one line per phase, then the work counters, on stderr.
fn print_timings(analysis: &Analysis, report: std::time::Duration) {
    let mut stderr = std::io::stderr();
    let phases = analysis
        .timings
        .iter()
        .copied()
        .chain(std::iter::once(("report", report)));
    for (phase, d) in phases {
        let _ = writeln!(stderr, "timing: {phase:<34} {:>9.1} ms", d.as_secs_f64() * 1000.0);
    }
    let w = analysis.decisions.work;
    let _ = writeln!(
        stderr,
        "work: {} IAM requests, {} table classes, {} pattern matches, {} access entries",
        w.requests,
        w.classes,
        w.index_matches,
        analysis.decisions.entries.len()
    );
}

/// Names each input that failed to load on stderr, with line and column.
fn report_errors(analysis: &Analysis) {
    let mut stderr = std::io::stderr();
    for e in &json::errors(analysis) {
        let _ = writeln!(stderr, "error: {}:{}:{}: {}", e.file, e.line, e.column, e.message);
    }
}

/// Writes to stdout; a closed pipe (`| head`) is a normal end, not an error.
fn write_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the output"),
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
