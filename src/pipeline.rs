//! The pipeline ([`analyze`]): discover → load with spans → model → graph → capability
//! decisions → reach → SLR status → rules → findings (suppressions, rule levels, baseline),
//! timed phase by phase, into an [`Analysis`]. In PR mode ([`analyze_against`]) head's
//! access is compared with the base's before the rules run.

use std::path::Path;

use crate::analysis::{Analysis, Base};
use crate::capability::{self, Decisions};
use crate::catalog::{self, Capabilities};
use crate::compare::{self, Delta, Parts};
use crate::error::InternalError;
use crate::finding::{self, Finding, Identity};
use crate::graph::Graph;
use crate::model::{Diagnostic, LoadError};
use crate::reach::{self, Reach};
use crate::settings::{Config, RuleLevel};
use crate::slr::{self, SlrStatus};
use crate::source::{self, SourceMap};
use crate::suppress::{self, Suppressed};
use crate::{baseline, load, paths, reclaim, root, rules};

/// Runs the analysis over `config.paths`; display paths are relative to `cwd`.
pub fn analyze(config: &Config, cwd: &Path) -> Result<Analysis, InternalError> {
    analyze_against(config, cwd, None)
}

/// [`analyze`], in PR mode when `base` is given ([`crate::delta::analyze`]): the delta
/// against the base is computed from the decisions before the rules run, so KDS015's
/// findings go through rule levels, suppressions and the baseline like every other
/// finding; then only the findings the base did not have are kept.
pub fn analyze_against(config: &Config, cwd: &Path, base: Option<&Base>) -> Result<Analysis, InternalError> {
    let bundled;
    let caps: &Capabilities = match &config.capabilities {
        Some(caps) => caps,
        None => {
            bundled = catalog::capabilities()?;
            &bundled
        }
    };
    let sources = SourceMap::with_limits(config.load.limits).with_overlay(config.load.overlay.clone());
    let mut clock = Clock::start();
    let Linked {
        graph,
        identity,
        mut errors,
        mut diagnostics,
    } = load_and_link(config, cwd, &sources, &mut clock)?;
    let decided = decide(config, &graph, caps, &mut clock)?;
    let mut delta = base.map(|b| {
        let head = Parts {
            graph: &graph,
            decisions: &decided.decisions,
            reach: &decided.reach,
            identity: &identity,
        };
        compare::access(&head, &b.parts())
    });
    let findings = check(config, &sources, &graph, &decided, &identity, delta.as_ref())?;
    // Levels apply after suppressions, so a suppression of a rule turned off (`off`,
    // `--ignore`) is not reported as unused while its finding is there.
    let (mut findings, mut suppressed) = apply_suppressions(config, &sources, &graph, findings)?;
    findings.retain_mut(|f| apply_level(config, f));
    suppressed.retain_mut(|s| apply_level(config, &mut s.finding));
    finding::name_slrs(&mut findings, &graph);
    let (mut findings, baselined) = apply_baseline(config, cwd, &identity, &graph, &decided.decisions, findings)?;
    sort_outputs(&sources, &mut findings, &mut errors, &mut diagnostics);
    if let (Some(b), Some(d)) = (base, delta.as_mut()) {
        d.unchanged_findings = baseline::keep_new(&mut findings, &identity, &graph, &decided.decisions, b);
    }
    let assumptions = assumptions(config, &graph, &decided.reach);
    clock.split("rules (findings, suppressions, baseline)");
    reclaim::wait();
    Ok(Analysis {
        sources,
        graph,
        decisions: decided.decisions,
        reach: decided.reach,
        slrs: decided.slrs,
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

/// The inputs loaded and linked into the graph, with the identities relative to the
/// analysis root and what loading reported.
struct Linked {
    graph: Graph,
    identity: Identity,
    errors: Vec<LoadError>,
    diagnostics: Vec<Diagnostic>,
}

/// Discovers and loads the inputs, orders them by identity and builds the graph (phases
/// "discover", "load", "graph").
fn load_and_link(config: &Config, cwd: &Path, sources: &SourceMap, clock: &mut Clock) -> Result<Linked, InternalError> {
    // One analysis root for the run: confinement (the loaders) and identities share it.
    let root = root::analysis_root(
        &config.paths,
        cwd,
        config.root.as_deref().or(config.load.root.as_deref()),
    );
    let mut options = config.load.clone();
    options.root = Some(root.clone());
    let loaded = load::load_paths(&config.paths, cwd, &options, sources);
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
    let mut identity = Identity::new(&config.paths, &root, cwd);
    let mut inputs = loaded.inputs;
    identity.order(&mut inputs);
    let graph = Graph::build(inputs, &config.pins);
    diagnostics.extend(graph.diagnostics.iter().cloned());
    clock.split("graph");
    stop_if_cancelled(config)?;
    Ok(Linked {
        graph,
        identity,
        errors,
        diagnostics,
    })
}

/// The engine's results: direct decisions, access through other principals, SLR status.
struct Decided {
    decisions: Decisions,
    reach: Reach,
    slrs: Vec<SlrStatus>,
}

/// Decides every capability, follows reach, and works out each SLR's status (phases
/// "decisions", "reach" and its parts, "SLR status"); with `config.decide` off, nothing is
/// decided.
fn decide(config: &Config, graph: &Graph, caps: &Capabilities, clock: &mut Clock) -> Result<Decided, InternalError> {
    let mut decisions = if config.decide {
        capability::evaluate(graph, caps, config)
    } else {
        Decisions::default()
    };
    clock.split("decisions");
    stop_if_cancelled(config)?;
    let reach = if config.decide {
        reach::compute(graph, caps, config, &mut decisions)
    } else {
        Reach::default()
    };
    clock.split("reach");
    stop_if_cancelled(config)?;
    clock.timings.extend(reach.phases.iter().copied());
    let slrs = slr::statuses(graph, &decisions, &reach);
    clock.split("SLR status");
    Ok(Decided { decisions, reach, slrs })
}

/// Runs the rules over the decisions (none when `config.decide` is off).
fn check(
    config: &Config,
    sources: &SourceMap,
    graph: &Graph,
    decided: &Decided,
    identity: &Identity,
    delta: Option<&Delta>,
) -> Result<Vec<Finding>, InternalError> {
    let ctx = rules::CheckContext {
        graph,
        decisions: &decided.decisions,
        reach: &decided.reach,
        slrs: &decided.slrs,
        sources,
        config,
        identity,
        delta,
    };
    if config.decide {
        rules::run(&ctx).map_err(InternalError::Rules)
    } else {
        Ok(Vec::new())
    }
}

/// Hides the findings suppressions cover and adds KDS014's findings about the
/// suppressions themselves; returns the findings kept and those hidden.
fn apply_suppressions(
    config: &Config,
    sources: &SourceMap,
    graph: &Graph,
    mut findings: Vec<Finding>,
) -> Result<(Vec<Finding>, Vec<Suppressed>), InternalError> {
    let mut suppressed = Vec::new();
    if config.use_suppressions && config.decide {
        let mut all = suppress::from_comments(sources);
        for input in &graph.inputs {
            all.extend(input.suppressions.iter().cloned());
        }
        let today = config.today.clone().unwrap_or_else(suppress::today_utc);
        let known: Vec<String> = rules::catalogue()
            .map_err(InternalError::Rules)?
            .into_iter()
            .flat_map(|r| [r.id.to_string(), r.name])
            .collect();
        let mut applied = suppress::apply(findings, &all, graph, sources, &today, &known);
        findings = applied.kept;
        suppressed = applied.hidden;
        // KDS015 fires only in the pull request that adds the access: its suppression
        // stays true afterwards and is never "unused".
        let pr_only: std::collections::BTreeSet<source::Span> = all
            .iter()
            .filter(|s| !s.rules.is_empty() && s.rules.iter().all(|r| rules::names_pr_mode_rule(r)))
            .map(|s| s.span)
            .collect();
        applied
            .problems
            .retain(|p| p.kind != suppress::ProblemKind::Unused || !pr_only.contains(&p.span));
        findings.extend(rules::run_suppressions(&applied.problems).map_err(InternalError::Rules)?);
    }
    Ok((findings, suppressed))
}

/// Splits off the findings the baseline file (`config.baseline`) lists; returns the new
/// findings and the baselined ones.
fn apply_baseline(
    config: &Config,
    cwd: &Path,
    identity: &Identity,
    graph: &Graph,
    decisions: &Decisions,
    findings: Vec<Finding>,
) -> Result<(Vec<Finding>, Vec<Finding>), InternalError> {
    let Some(path) = &config.baseline else {
        return Ok((findings, Vec::new()));
    };
    let display = paths::display_path(path, cwd);
    let accepted = baseline::read(&cwd.join(path), &display).map_err(InternalError::Baseline)?;
    Ok(findings
        .into_iter()
        .partition(|f| !accepted.contains(&baseline::key(f, identity, graph, decisions))))
}

/// Puts findings, load errors and diagnostics in their output order (diagnostics once each).
fn sort_outputs(
    sources: &SourceMap,
    findings: &mut Vec<Finding>,
    errors: &mut [LoadError],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let position = |s: source::Span| (sources.path(s), sources.start(s));
    sort_by_position(
        findings,
        |f| position(f.span),
        |a, b| (&a.rule, &a.message).cmp(&(&b.rule, &b.message)),
    );
    errors.sort_by(|a, b| {
        (&a.path, a.span.map(|s| s.start), &a.message).cmp(&(&b.path, b.span.map(|s| s.start), &b.message))
    });
    sort_by_position(diagnostics, |d| position(d.span), |a, b| a.message.cmp(&b.message));
    diagnostics.dedup();
}

/// Ends the run with [`InternalError::Cancelled`] once [`Config::cancel`] is set (checked between phases).
fn stop_if_cancelled(config: &Config) -> Result<(), InternalError> {
    match &config.cancel {
        Some(c) if c.load(std::sync::atomic::Ordering::Relaxed) => Err(InternalError::Cancelled),
        _ => Ok(()),
    }
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

fn assumptions(config: &Config, graph: &Graph, reach: &Reach) -> Vec<String> {
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
