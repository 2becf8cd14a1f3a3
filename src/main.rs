//! The `kdsguard` command: parse the command line, call the library, map the outcome to
//! an exit code (0 clean, 1 findings, 2 bad usage or load errors).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;

use kdsguard::cli::{
    CheckArgs, Cli, ColorChoice, Command, FailOn, Format, InputArgs, QueryCommand, RulesFormat, ShownSeverity,
};
use kdsguard::model::Severity;
use kdsguard::report::format::{self as report_format, Format as CheckFormat};
use kdsguard::report::github::Links;
use kdsguard::report::{human, json};
use kdsguard::value::Pins;
use kdsguard::{Analysis, Config, analyze};

/// mimalloc instead of the system allocator: the analysis allocates and frees many small
/// values (templates, tokens, proofs), and glibc's allocator spent about a quarter of the
/// instructions of a run on it (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    small_pages();
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
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    let color = use_color(cli.color);
    match cli.command {
        Command::Check(args) => check(args, color),
        Command::Simulate(args) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match kdsguard::simulate::run(&args.request(), &mut std::io::stdin().lock(), &mut out) {
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
            if let Some(code) = empty(&analysis, &input) {
                return Ok(code);
            }
            let answer = kdsguard::query::answer(&analysis, &q.question())?;
            let text = match format {
                Format::Json => kdsguard::report::query::render_json(&analysis, &answer)?,
                Format::Human => kdsguard::report::query::render_human(&analysis, &answer),
            };
            write_out(&text)?;
            report_errors(&analysis);
            Ok(if !analysis.errors.is_empty() {
                2
            } else if matches!(q, QueryCommand::Can { .. }) && !answer.yes() {
                // `query can` answers with its exit status too: 0 yes, 1 no.
                1
            } else {
                0
            })
        }
        Command::Lsp { .. } => {
            let env_vars: Vec<(String, String)> = std::env::vars()
                .filter_map(|(k, v)| k.strip_prefix("TF_VAR_").map(|name| (name.to_string(), v)))
                .collect();
            // The protocol's exit status: 0 after `shutdown`, 1 when the editor ended first.
            Ok(if kdsguard::lsp::serve_stdio(&cwd()?, env_vars) {
                0
            } else {
                1
            })
        }
        Command::Explain { rule } => {
            let text = kdsguard::rules::explain(&rule).map_err(anyhow::Error::msg)?;
            write_out(&text)?;
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "kdsguard",
                &mut buf,
            );
            write_out(&String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
        Command::Rules { format } => {
            let text = match format {
                RulesFormat::Human => kdsguard::rules::list().map_err(anyhow::Error::msg)?,
                RulesFormat::Json => rules_json()?,
            };
            write_out(&text)?;
            Ok(0)
        }
        Command::Graph(args) => {
            // The graph shows no decision, but reach's steps need them (unless reach is off).
            let cwd = cwd()?;
            let mut config = config(&args.input, &cwd)?;
            config.decide = config.reach;
            let analysis = with_progress(|| analyze(&config, &cwd))?;
            if let Some(code) = empty(&analysis, &args.input) {
                return Ok(code);
            }
            write_out(&kdsguard::report::graph::render(&analysis, args.format.format())?)?;
            report_errors(&analysis);
            Ok(if analysis.errors.is_empty() { 0 } else { 2 })
        }
    }
}

/// Where the kernel backs every anonymous mapping with transparent huge pages (the
/// `always` setting), the allocator's growing heap is zeroed and counted 2 MiB at a time:
/// at 5,000 x 2,000 that cost about a second of system time and 5-10 % of the peak
/// resident size (docs/performance.md). The run turns them off for itself; where the
/// kernel refuses, nothing changes.
fn small_pages() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

fn cwd() -> Result<std::path::PathBuf> {
    std::env::current_dir().context("cannot read the current directory")
}

/// The run's configuration: the config file, then the command line on top.
fn config(input: &InputArgs, cwd: &Path) -> Result<Config> {
    let over = kdsguard::config::Overrides {
        config: input.config.clone(),
        paths: input.paths.clone(),
        excludes: input.excludes.clone(),
        tf_vars: pairs(&input.vars, "--var")?,
        tf_var_files: input.var_files.clone(),
        cfn_parameters: pairs(&input.parameters, "--parameter")?,
        cfn_parameter_files: input.parameter_files.clone(),
        pins: Pins {
            account: input.account.clone(),
            region: input.region.clone(),
            partition: input.partition.clone(),
        },
        root: input.root.clone(),
        environment: std::env::vars().collect(),
    };
    let (config, warnings) = kdsguard::config::resolve(&over, cwd)?;
    for w in &warnings {
        warn(w);
    }
    Ok(config)
}

fn load(input: &InputArgs) -> Result<Analysis> {
    let cwd = cwd()?;
    let config = config(input, &cwd)?;
    Ok(with_progress(|| analyze(&config, &cwd))?)
}

fn check(args: CheckArgs, color: bool) -> Result<u8> {
    // Every output argument is checked before the (possibly long) analysis.
    let targets = targets(&args)?;
    let real_cwd = cwd()?;
    let mut config = config(&args.input, &real_cwd)?;
    kdsguard::config::select(&mut config, &args.selection())
        .map_err(|e| anyhow::anyhow!("--select/--ignore/--extend-select: {e}"))?;
    config.use_suppressions = !args.no_suppressions;
    // Lets tests (and audits of the past) judge suppression expiry against a fixed date.
    config.today = std::env::var("KDSGUARD_TODAY").ok();
    config.baseline = args.baseline.as_ref().map(|b| real_cwd.join(b));
    if args.changed_files {
        config.paths = folders_of(&config.paths);
        if config.paths.is_empty() {
            // A commit that touches no template (package.json, a workflow) has nothing to check.
            return Ok(0);
        }
    }
    let stdin = stdin_input(&args.input, &mut config, &real_cwd)?;
    let cwd = stdin.clone().unwrap_or_else(|| real_cwd.clone());
    let docs_url = args.docs_url.clone().or(config.docs_url.clone());
    let mut analysis = match &args.diff_base {
        Some(rev) => with_progress(|| kdsguard::delta::analyze(&config, &cwd, rev))?,
        None => with_progress(|| analyze(&config, &cwd))?,
    };
    if let Some(dir) = &stdin {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Some(code) = empty(&analysis, &args.input) {
        return Ok(code);
    }
    if let Some(path) = &args.write_baseline {
        kdsguard::baseline::write(&analysis, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let sarif_file = targets
        .extra
        .iter()
        .find(|(f, _)| *f == CheckFormat::Sarif)
        .map(|(_, file)| file.to_string_lossy().into_owned());
    let links = Links {
        docs_url: docs_url.as_deref(),
        sarif_file: sarif_file.as_deref(),
    };
    let style = human::Style {
        color: color && targets.main.is_none(),
        verbose: args.verbose,
        view: if args.quiet {
            human::View::Quiet
        } else if args.statistics {
            human::View::Statistics
        } else {
            human::View::Full
        },
        access: args.access,
        min_severity: args.severity.map_or(Severity::Note, shown_severity),
        docs_url: links.docs_url,
        ..human::Style::default()
    };
    let fail_on = match args.fail_on {
        Some(FailOn::Error) => Some(Severity::Error),
        Some(FailOn::Warning) => Some(Severity::Warning),
        Some(FailOn::Note) => Some(Severity::Note),
        Some(FailOn::None) => None,
        None => Some(config.fail_on),
    };
    let soft = args.exit_zero || fail_on.is_none() || args.write_baseline.is_some();
    let code = analysis.exit_code(fail_on.unwrap_or(Severity::Error));
    let report_start = std::time::Instant::now();
    let mut texts: Vec<Option<String>> = vec![None; targets.extra.len() + 1];
    let file_style = human::Style { color: false, ..style };
    for pass in [true, false] {
        if !pass && args.severity.is_some() {
            analysis.findings.retain(|f| f.severity >= style.min_severity);
        }
        if args.format.shows_hidden() == pass {
            if args.format == CheckFormat::Json {
                // Written as it is serialised: at organisation scale the text is tens of
                // megabytes, the largest allocation of a run.
                stream_json(&analysis, targets.main.as_deref())?;
            } else {
                texts[0] = Some(render(&analysis, args.format, style, links)?);
            }
        }
        for (k, (format, _)) in targets.extra.iter().enumerate() {
            if format.shows_hidden() == pass {
                texts[k + 1] = Some(render(&analysis, *format, file_style, links)?);
            }
        }
    }
    let report_time = report_start.elapsed();
    if let Some(main_text) = texts[0].take() {
        match &targets.main {
            Some(path) => write_file(path, &main_text, false)?,
            None => write_out(&main_text)?,
        }
    }
    if args.timings {
        print_timings(&analysis, report_time);
    }
    for ((format, path), text) in targets.extra.iter().zip(texts.into_iter().skip(1)) {
        // Appending lets several steps share $GITHUB_STEP_SUMMARY.
        write_file(path, &text.unwrap_or_default(), format.appends())?;
    }
    report_errors(&analysis);
    // The process ends with this command: freeing the analysis (millions of small
    // allocations at organisation scale, 4 % of a run) would only cost time.
    std::mem::forget(analysis);
    Ok(if soft && code == 1 { 0 } else { code })
}

/// `--changed-files`: the folders holding the files that are templates (a module or stack is
/// analysed whole); every other file (package.json, a workflow) is skipped.
fn folders_of(files: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut out: Vec<std::path::PathBuf> = files
        .iter()
        .filter(|f| f.is_dir() || kdsguard::load::is_template_file(f))
        .map(|f| match f.parent() {
            _ if f.is_dir() => f.clone(),
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where `check` writes its reports, checked before the analysis.
struct Targets {
    /// `-o`: the main format's file (else standard output).
    main: Option<std::path::PathBuf>,
    /// `--output FORMAT=FILE`, in order.
    extra: Vec<(CheckFormat, std::path::PathBuf)>,
}

/// Parses and checks every output argument: `--output` values, that `--statistics` fits
/// the format, and that each file can be created (its folder exists, it is not a folder,
/// no file is named twice).
fn targets(args: &CheckArgs) -> Result<Targets> {
    if args.statistics && !args.format.has_statistics() {
        bail!(
            "--statistics prints counts per rule in the human and concise formats only; --format {} reports the findings themselves (drop --statistics, or use --format human or concise)",
            args.format.name()
        );
    }
    let mut extra = Vec::new();
    for output in &args.outputs {
        let Some((format, file)) = output.split_once('=') else {
            bail!("--output takes FORMAT=FILE, got {output:?}");
        };
        let format = CheckFormat::parse(format).map_err(|e| anyhow::anyhow!("--output: {e}"))?;
        if file.is_empty() {
            bail!("--output {output:?} names no file");
        }
        extra.push((format, std::path::PathBuf::from(file)));
    }
    let main = args.output_file.clone();
    let mut seen = std::collections::BTreeMap::new();
    let files = main
        .iter()
        .map(|p| ("--output-file", None, p))
        .chain(extra.iter().map(|(f, p)| ("--output", Some(*f), p)));
    for (flag, format, path) in files {
        if path.as_os_str().is_empty() {
            bail!("{flag} names no file");
        }
        if path.is_dir() {
            bail!("{flag} {}: is a folder, not a file", path.display());
        }
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !folder.is_dir() {
            bail!(
                "{flag} {}: the folder {} does not exist",
                path.display(),
                folder.display()
            );
        }
        // Markdown appends, so several summaries may share a file; anything else would
        // overwrite one report with another.
        let appends = format.is_some_and(CheckFormat::appends);
        if seen
            .insert(path.clone(), appends)
            .is_some_and(|before| !(before && appends))
        {
            bail!("{} is named by two outputs", path.display());
        }
    }
    Ok(Targets { main, extra })
}

/// Writes a report file (appended to, or overwritten).
fn write_file(path: &Path, text: &str, append: bool) -> Result<()> {
    emit(Some(path), append, |w| w.write_all(text.as_bytes()))
}

/// One rule in `rules --format json`.
#[derive(serde::Serialize)]
struct RuleOut {
    id: String,
    name: String,
    severity: String,
    summary: String,
    help: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    docs_url: Option<String>,
}

/// `rules --format json`: every rule's id, name, default severity, summary and help.
fn rules_json() -> Result<String> {
    let rules: Vec<RuleOut> = kdsguard::rules::catalogue()
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .map(|r| RuleOut {
            docs_url: kdsguard::report::rule_url(None, r.id),
            summary: r.summary.trim().to_string(),
            help: r.help.trim().to_string(),
            id: r.id.to_string(),
            name: r.name,
            severity: r.severity,
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rules)?;
    text.push('\n');
    Ok(text)
}

/// `--severity`: the lowest severity shown.
fn shown_severity(s: ShownSeverity) -> Severity {
    match s {
        ShownSeverity::Error => Severity::Error,
        ShownSeverity::Warning => Severity::Warning,
        ShownSeverity::Note => Severity::Note,
    }
}

/// The report in one of `check`'s formats; what it says on the side is a warning.
fn render(analysis: &Analysis, format: CheckFormat, style: human::Style<'_>, links: Links<'_>) -> Result<String> {
    let rendered = report_format::render(analysis, format, report_format::Options { style, links })?;
    if let Some(note) = &rendered.note {
        warn(note);
    }
    Ok(rendered.text)
}

/// `--color`, then the conventions: NO_COLOR, FORCE_COLOR / CLICOLOR_FORCE, TERM=dumb, a terminal.
fn use_color(choice: ColorChoice) -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => false,
        ColorChoice::Auto if set("FORCE_COLOR") || set("CLICOLOR_FORCE") => true,
        ColorChoice::Auto => std::env::var("TERM").map_or(true, |t| t != "dumb") && std::io::stdout().is_terminal(),
    }
}

/// No input found: say so and exit 2, unless `--allow-empty`.
fn empty(analysis: &Analysis, input: &InputArgs) -> Option<u8> {
    if !analysis.graph.inputs.is_empty() || !analysis.errors.is_empty() || input.allow_empty {
        return None;
    }
    let paths: Vec<String> = input.paths.iter().map(|p| p.display().to_string()).collect();
    let _ = writeln!(
        std::io::stderr(),
        "error: no Terraform configuration, plan or CloudFormation template found in {} (--allow-empty accepts this)",
        paths.join(", ")
    );
    Some(2)
}

/// `check -`: the template on standard input, written under `--stdin-filename` into a
/// private folder that becomes the run's display root, so reports name it as given.
fn stdin_input(input: &InputArgs, config: &mut Config, cwd: &Path) -> Result<Option<std::path::PathBuf>> {
    if !input.paths.iter().any(|p| p.as_os_str() == "-") {
        return Ok(None);
    }
    if input.paths.len() > 1 {
        bail!("`-` (standard input) cannot be combined with other paths");
    }
    let name = input.stdin_filename.clone().unwrap_or_else(|| "stdin.yaml".to_string());
    let rel = Path::new(&name);
    if rel.is_absolute() || rel.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        bail!("--stdin-filename must be a relative path without `..`, got {name:?}");
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("cannot read standard input")?;
    let dir = std::env::temp_dir().join(format!("kdsguard-stdin-{}", std::process::id()));
    let file = dir.join(rel);
    std::fs::create_dir_all(file.parent().unwrap_or(&dir)).context("cannot create a folder for standard input")?;
    std::fs::write(&file, text).context("cannot write standard input to a temporary file")?;
    // Paths the config and command line gave stay relative to the real working folder.
    let abs = |p: &mut std::path::PathBuf| *p = cwd.join(&*p);
    config.load.tf_var_files.iter_mut().for_each(abs);
    config.load.cfn_parameter_files.iter_mut().for_each(abs);
    config.paths = vec![rel.to_path_buf()];
    Ok(Some(dir))
}

/// Runs `work`, with a spinner on stderr once it has taken a second (only on a terminal).
fn with_progress<T>(work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let spinner = std::thread::spawn(move || {
        if wait.recv_timeout(std::time::Duration::from_secs(1)).is_ok() {
            return;
        }
        let bar = indicatif::ProgressBar::new_spinner().with_message("analysing");
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        let _ = wait.recv();
        bar.finish_and_clear();
    });
    let out = work();
    let _ = done.send(());
    let _ = spinner.join();
    out
}

fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {message}");
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
        let _ = writeln!(stderr, "timing: {phase:<41} {:>9.1} ms", d.as_secs_f64() * 1000.0);
    }
    let w = analysis.decisions.work;
    let decisions = &analysis.decisions;
    let reported = decisions.entries.iter().filter(|x| decisions.reported(x)).count();
    let _ = writeln!(
        stderr,
        "work: {} IAM requests (decisions and reach steps), {} table classes decided, {} pattern-index matches",
        w.requests, w.classes, w.index_matches
    );
    let _ = writeln!(
        stderr,
        "work: {} access entries and {} indirect entries in the report, from {} grouped decisions ({} distinct)",
        reported,
        analysis.reach.indirect.len(),
        decisions.entries.len(),
        decisions.arena.len()
    );
    let r = &analysis.reach;
    let _ = writeln!(
        stderr,
        "work: reach: {} steps ({} permission changes, {} hub edges shown in paths), {} hub edges and roles on their lists in {} hubs, {} changed principals ({} decided, {} of them again for their own proofs)",
        r.steps.len(),
        r.steps
            .iter()
            .filter(|s| s.kind == kdsguard::reach::StepKind::ChangePermissions)
            .count(),
        r.hub_steps_shown(),
        r.hub_size(),
        r.hubs.len(),
        r.changed_class.len(),
        r.changed.len(),
        r.changed_again
    );
}

/// Names each input that failed to load on stderr, with line and column.
fn report_errors(analysis: &Analysis) {
    let mut stderr = std::io::stderr();
    for e in &json::errors(analysis) {
        let _ = writeln!(stderr, "error: {}:{}:{}: {}", e.file, e.line, e.column, e.message);
    }
}

/// The JSON report written to `path` (or standard output) as it is serialised.
fn stream_json(analysis: &Analysis, path: Option<&Path>) -> Result<()> {
    emit(path, false, |w| {
        // The serialiser writes many small pieces: buffered here, they reach the output
        // (behind `dyn Write`) in large ones.
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, w);
        json::write(analysis, &mut buffered).map_err(std::io::Error::from)?;
        buffered.flush()
    })
}

/// Writes to stdout; a closed pipe (`| head`) is a normal end, not an error.
fn write_out(text: &str) -> Result<()> {
    emit(None, false, |w| w.write_all(text.as_bytes()))
}

/// Writes through `body` to `path` (created, or appended to with `append`), or to standard
/// output, buffered: the one place that says how an output that cannot be written fails,
/// and that a closed pipe on standard output is a normal end.
fn emit(path: Option<&Path>, append: bool, body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    match path {
        Some(path) => {
            let cannot = || format!("cannot write {}", path.display());
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(append)
                .write(true)
                .truncate(!append)
                .open(path)
                .with_context(cannot)?;
            let mut w = std::io::BufWriter::new(f);
            body(&mut w).and_then(|()| w.flush()).with_context(cannot)
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            match body(&mut w).and_then(|()| w.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write the output"),
            }
        }
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
