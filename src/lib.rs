//! kdsguard: who can enable, change or disable Kinesis Data Streams replication of
//! DynamoDB tables, and who can delete its service-linked role, read statically from
//! Terraform and CloudFormation.
//!
//! [`analyze`] runs the whole pipeline: discover → load with spans → model → graph →
//! capability decisions → rules → findings. Reports read the returned [`Analysis`].

pub mod baseline;
pub mod capability;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod delta;
pub mod error;
pub mod finding;
pub mod graph;
pub mod iam;
pub mod json;
pub mod limits;
pub mod load;
pub mod lsp;
pub mod model;
pub mod paths;
pub mod query;
pub mod reach;
pub mod reclaim;
pub mod report;
pub mod root;
pub mod rules;
pub mod simulate;
pub mod slr;
pub mod source;
pub mod suppress;
pub mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::capability::Decisions;
use crate::finding::Finding;
use crate::graph::Graph;
use crate::load::LoadOptions;
use crate::model::{Diagnostic, LoadError, Severity};
use crate::source::SourceMap;
use crate::value::Pins;

pub use error::{CANCELLED, InternalError};

/// What a run is asked to do: the command line on top of `kdsguard.toml`.
#[derive(Clone, Debug)]
pub struct Config {
    pub paths: Vec<PathBuf>,
    /// The analysis root (`--root`); `None`: the git top level of the first path, else
    /// that path's folder ([`root::analysis_root`]).
    pub root: Option<PathBuf>,
    pub load: LoadOptions,
    pub pins: Pins,
    /// Lowest severity that fails the run.
    pub fail_on: Severity,
    /// Per-rule severity or off, by rule id.
    pub rule_levels: BTreeMap<String, RuleLevel>,
    /// Whether the service-linked role already exists in the account.
    pub slr_exists: bool,
    /// Whether access through other principals is followed (`reach = false` turns it off).
    pub reach: bool,
    /// Whether AWS's `FullAWSAccess` is attached at every organisation level.
    pub full_aws_access: bool,
    /// Globs of principal addresses/names that declared SCPs apply to (`None`: all).
    pub scp_apply_to: Option<Vec<String>>,
    /// Access expectations for KDS011.
    pub guardrails: Vec<Guardrail>,
    /// Whether suppressions (comments, template metadata) are honoured.
    pub use_suppressions: bool,
    /// Whether to decide capabilities and run the rules (`graph` needs only the graph).
    pub decide: bool,
    /// Findings in this baseline file are not reported.
    pub baseline: Option<PathBuf>,
    /// The date expiry of suppressions is judged against (`YYYY-MM-DD`); default today (UTC).
    pub today: Option<String>,
    /// Where rule pages live (`docs-url`): a base URL, or a template with `{id}`.
    pub docs_url: Option<String>,
    /// Set from another thread to end the run early, between phases (`kdsguard lsp`, when a
    /// newer change has made the run stale): [`analyze`] then returns [`InternalError`]
    /// with [`CANCELLED`].
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            paths: Vec::new(),
            root: None,
            load: LoadOptions::default(),
            pins: Pins::default(),
            fail_on: Severity::Warning,
            rule_levels: BTreeMap::new(),
            slr_exists: false,
            reach: true,
            full_aws_access: true,
            scp_apply_to: None,
            guardrails: Vec::new(),
            use_suppressions: true,
            decide: true,
            baseline: None,
            today: None,
            docs_url: None,
            cancel: None,
        }
    }
}

/// A rule's configured level.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RuleLevel {
    Off,
    On(Severity),
}

/// "Only these principals may have this capability on these tables" (KDS011).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Guardrail {
    pub capability: String,
    /// Table-name glob (`None`: every table, and the SLR for SLR capabilities).
    pub tables: Option<String>,
    /// Globs of principal addresses, names or ids allowed; empty: nobody.
    pub only: Vec<String>,
    pub description: Option<String>,
    /// Where the guardrail is declared (`kdsguard.toml:12`).
    pub origin: String,
}

/// Everything a run found; reports read only this.
#[derive(Debug)]
pub struct Analysis {
    pub sources: SourceMap,
    pub graph: Graph,
    /// Every capability decision, over sets of tables.
    pub decisions: Decisions,
    /// Access through other principals: steps and indirect decisions.
    pub reach: reach::Reach,
    /// Each service-linked role's protection status (per [`Graph::slrs`]).
    pub slrs: Vec<slr::SlrStatus>,
    /// Time per phase, in pipeline order (`check --timings`).
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// Sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    /// Load and policy diagnostics (notes and warnings about templates).
    pub diagnostics: Vec<Diagnostic>,
    pub assumptions: Vec<String>,
    /// Findings hidden by a suppression (with its reason).
    pub suppressed: Vec<suppress::Suppressed>,
    /// Findings hidden because the baseline lists them.
    pub baselined: Vec<Finding>,
    /// Identities relative to the analysis root (baseline keys, fingerprints, deltas).
    pub identity: finding::Identity,
    /// What a change adds and removes (`check --diff-base`); `findings` then holds only
    /// the findings new at head.
    pub delta: Option<delta::Delta>,
}

/// Ends the run with [`CANCELLED`] once [`Config::cancel`] is set (checked between phases).
fn stop_if_cancelled(config: &Config) -> Result<(), InternalError> {
    match &config.cancel {
        Some(c) if c.load(std::sync::atomic::Ordering::Relaxed) => Err(InternalError(CANCELLED.to_string())),
        _ => Ok(()),
    }
}

/// Runs the analysis over `config.paths`; display paths are relative to `cwd`.
pub fn analyze(config: &Config, cwd: &Path) -> Result<Analysis, InternalError> {
    analyze_against(config, cwd, None)
}

/// [`analyze`], in PR mode when `base` is given ([`delta::analyze`]): the delta against
/// the base is computed from the decisions before the rules run, so KDS015's findings go
/// through rule levels, suppressions and the baseline like every other finding; then
/// only the findings the base did not have are kept.
pub fn analyze_against(config: &Config, cwd: &Path, base: Option<&delta::Base>) -> Result<Analysis, InternalError> {
    let caps = catalog::capabilities().map_err(InternalError)?;
    let sources = SourceMap::with_limits(config.load.limits).with_overlay(config.load.overlay.clone());
    let mut clock = Clock::start();
    // One analysis root for the run: confinement (the loaders) and identities share it.
    let root = root::analysis_root(
        &config.paths,
        cwd,
        config.root.as_deref().or(config.load.root.as_deref()),
    );
    let mut options = config.load.clone();
    options.root = Some(root.clone());
    let loaded = load::load_paths(&config.paths, cwd, &options, &sources);
    clock.split("load (parse and evaluate values)");
    stop_if_cancelled(config)?;
    clock.timings.insert(0, ("discover", loaded.discover_time));
    if let Some((_, load)) = clock.timings.get_mut(1) {
        *load = load.saturating_sub(loaded.discover_time);
    }
    let mut errors = loaded.errors;
    let mut diagnostics = Vec::new();
    for input in &loaded.inputs {
        errors.extend(input.errors.iter().cloned());
        diagnostics.extend(input.diagnostics.iter().cloned());
    }
    let mut identity = finding::Identity::new(&config.paths, &root, cwd);
    let mut inputs = loaded.inputs;
    identity.order(&mut inputs);
    let graph = Graph::build(inputs, &config.pins);
    identity.learn(&graph);
    diagnostics.extend(graph.diagnostics.iter().cloned());
    clock.split("graph");
    stop_if_cancelled(config)?;
    let mut decisions = if config.decide {
        capability::evaluate(&graph, &caps, config)
    } else {
        capability::Decisions::default()
    };
    clock.split("decisions");
    stop_if_cancelled(config)?;
    let reach = if config.decide {
        reach::compute(&graph, &caps, config, &mut decisions)
    } else {
        reach::Reach::default()
    };
    clock.split("reach");
    stop_if_cancelled(config)?;
    clock.timings.extend(reach.phases.iter().copied());
    let slrs = slr::statuses(&graph, &decisions, &reach);
    clock.split("SLR status");
    let mut delta = base.map(|b| {
        let head = delta::Parts {
            graph: &graph,
            decisions: &decisions,
            reach: &reach,
            identity: &identity,
        };
        delta::access(&head, b)
    });
    let ctx = rules::CheckContext {
        graph: &graph,
        decisions: &decisions,
        reach: &reach,
        slrs: &slrs,
        policy_index: graph
            .policies
            .iter()
            .enumerate()
            .map(|(k, p)| (&*p.policy.address, k))
            .collect(),
        sources: &sources,
        config,
        identity: &identity,
        delta: delta.as_ref(),
    };
    let mut findings = if config.decide {
        rules::run(&ctx).map_err(InternalError)?
    } else {
        Vec::new()
    };
    drop(ctx);
    // Levels apply after suppressions, so a suppression of a rule turned off (`off`,
    // `--ignore`) is not reported as unused while its finding is there.
    let mut suppressed = Vec::new();
    if config.use_suppressions && config.decide {
        let mut all = suppress::from_comments(&sources);
        for input in &graph.inputs {
            all.extend(input.suppressions.iter().cloned());
        }
        let today = config.today.clone().unwrap_or_else(suppress::today_utc);
        let known: Vec<String> = rules::catalogue()
            .map_err(InternalError)?
            .into_iter()
            .flat_map(|r| [r.id, r.name])
            .collect();
        let mut applied = suppress::apply(findings, &all, &graph, &sources, &today, &known);
        findings = applied.kept;
        suppressed = applied.hidden;
        // KDS015 fires only in the pull request that adds the access: its suppression
        // stays true afterwards and is never "unused".
        let pr_only: std::collections::BTreeSet<source::Span> = all
            .iter()
            .filter(|s| !s.rules.is_empty() && s.rules.iter().all(|r| rules::fires_only_in_pr_mode(r)))
            .map(|s| s.span)
            .collect();
        applied
            .problems
            .retain(|p| p.kind != suppress::ProblemKind::Unused || !pr_only.contains(&p.span));
        findings.extend(rules::run_suppressions(&applied.problems).map_err(InternalError)?);
    }
    findings.retain_mut(|f| apply_level(config, f));
    suppressed.retain_mut(|s| apply_level(config, &mut s.finding));
    finding::name_slrs(&mut findings, &graph);
    let mut baselined = Vec::new();
    if let Some(path) = &config.baseline {
        let display = paths::display_path(path, cwd);
        let accepted = baseline::read(&cwd.join(path), &display).map_err(InternalError)?;
        let (old, new): (Vec<Finding>, Vec<Finding>) = findings
            .into_iter()
            .partition(|f| accepted.contains(&baseline::key(f, &identity, &graph)));
        findings = new;
        baselined = old;
    }
    let position = |s: source::Span| (sources.path(s), sources.start(s));
    sort_by_position(
        &mut findings,
        |f| position(f.span),
        |a, b| (&a.rule, &a.message).cmp(&(&b.rule, &b.message)),
    );
    errors.sort_by(|a, b| {
        (&a.path, a.span.map(|s| s.start), &a.message).cmp(&(&b.path, b.span.map(|s| s.start), &b.message))
    });
    sort_by_position(&mut diagnostics, |d| position(d.span), |a, b| a.message.cmp(&b.message));
    diagnostics.dedup();
    if let (Some(b), Some(d)) = (base, delta.as_mut()) {
        d.unchanged_findings = delta::keep_new(&mut findings, &identity, &graph, b);
    }
    let assumptions = assumptions(config, &graph, &reach);
    clock.split("rules (findings, suppressions, baseline)");
    reclaim::wait();
    Ok(Analysis {
        sources,
        graph,
        decisions,
        reach,
        slrs,
        timings: clock.timings,
        findings,
        errors,
        diagnostics,
        assumptions,
        suppressed,
        baselined,
        identity,
        delta,
    })
}

/// A finding under the configured rule levels: `false` when its rule is off, else with the
/// configured severity.
fn apply_level(config: &Config, f: &mut Finding) -> bool {
    match config.rule_levels.get(&f.rule) {
        Some(RuleLevel::Off) => false,
        Some(RuleLevel::On(sev)) => {
            f.severity = *sev;
            true
        }
        None => true,
    }
}

impl Analysis {
    /// The exit code `semantics.md` fixes: 2 if an input failed to load, 1 if a finding is
    /// at or above `fail_on`, else 0.
    pub fn exit_code(&self, fail_on: Severity) -> u8 {
        if !self.errors.is_empty() {
            2
        } else if self.findings.iter().any(|f| f.severity >= fail_on) {
            1
        } else {
            0
        }
    }
}

/// Measures the phases of a run, one after the other.
struct Clock {
    last: std::time::Instant,
    timings: Vec<(&'static str, std::time::Duration)>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            last: std::time::Instant::now(),
            timings: Vec::new(),
        }
    }

    fn split(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        self.timings.push((phase, now - self.last));
        self.last = now;
    }
}

/// Sorts by position, then by `then`; each item's position is computed once, not once per
/// comparison (a position reads the file table and counts characters on its line).
fn sort_by_position<T: Send, K: Ord + Send>(
    items: &mut Vec<T>,
    position: impl Fn(&T) -> K + Sync,
    then: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
) {
    use rayon::prelude::*;
    // Positions are read and the items sorted (a stable sort, as `sort_by`) in parallel.
    let mut keyed: Vec<(K, T)> = std::mem::take(items)
        .into_par_iter()
        .map(|x| (position(&x), x))
        .collect();
    keyed.par_sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then_with(|| then(a, b)));
    items.extend(keyed.into_iter().map(|(_, x)| x));
}

fn assumptions(config: &Config, graph: &Graph, reach: &reach::Reach) -> Vec<String> {
    let mut out = Vec::new();
    if config.pins.account.is_none() || config.pins.region.is_none() {
        out.push("templates deploy to the account/region the policies name".to_string());
    }
    if !graph.scps.is_empty() {
        let whom = if config.scp_apply_to.is_some() {
            "the principals the config names"
        } else {
            "every analysed principal"
        };
        let base = if config.full_aws_access {
            ", on top of FullAWSAccess at every level"
        } else {
            ", with no FullAWSAccess: they must allow"
        };
        out.push(format!("declared SCPs apply to {whom}{base}"));
    }
    if graph.tables.iter().any(|t| t.stream_arn.is_none()) {
        out.push(
            "a table with no streaming destination is evaluated against any stream in its account and region"
                .to_string(),
        );
    }
    if graph.slrs.iter().all(|s| !s.declared()) {
        out.push("the service-linked role is not declared in the inputs".to_string());
    }
    if !config.reach {
        out.push("access through other principals is not followed (reach = false)".to_string());
    }
    let mut actions: Vec<&str> = reach.not_followed.iter().map(|(_, a)| *a).collect();
    actions.sort_unstable();
    actions.dedup();
    for action in actions {
        out.push(format!(
            "{action} is granted, but acting as another principal through it is not followed"
        ));
    }
    out
}
