//! The human report, read straight from the [`Analysis`]: findings grouped by rule, each
//! statement's findings as one miette diagnostic with a short excerpt, then a short access
//! summary (or the full access section), the service-linked roles' status in words, the
//! assumptions, and last one summary line with counts per severity and per rule. Load
//! errors are not in it: the command prints them on stderr.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use crate::analysis::Analysis;
use crate::capability::{CapDecision, Covers, TableSet};
use crate::finding::Finding;
use crate::iam::eval::Outcome;
use crate::model::{Protection, RuleId, Severity};
use crate::report::{concise, rule_pointer};
use crate::source::Span;

/// How much of the report to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum View {
    /// Findings, access summary, service-linked roles, assumptions, summary line.
    #[default]
    Full,
    /// Only error findings (one line each), load errors and the summary line.
    Quiet,
    /// Only the counts per rule and the summary line.
    Statistics,
}

/// Rendering options.
#[derive(Clone, Copy, Debug)]
pub struct Style<'a> {
    /// Colours (a terminal), or plain unicode without colour.
    pub color: bool,
    /// Maximum line width.
    pub width: usize,
    /// List every load note, not just their count.
    pub verbose: bool,
    pub view: View,
    /// Print the full access section (one line per set) instead of the summary.
    pub access: bool,
    /// Findings below this severity are not shown (the exit code still counts them).
    pub min_severity: Severity,
    /// Where rule pages live (`docs-url`); without it, findings point at `kdsguard explain`.
    pub docs_url: Option<&'a str>,
}

impl Default for Style<'_> {
    fn default() -> Self {
        Style {
            color: false,
            width: 100,
            verbose: false,
            view: View::Full,
            access: false,
            min_severity: Severity::Note,
            docs_url: None,
        }
    }
}

/// Findings of one rule shown with an excerpt; the rest of the rule's diagnostics are one
/// line each, so a large estate's report stays readable and every finding stays reachable.
const EXCERPTS_PER_RULE: usize = 10;
/// Principals named in a diagnostic that many principals share.
const NAMED_PRINCIPALS: usize = 5;
/// A principal's declaration is drawn in the excerpt when it is this close to the statement.
const NEAR_LINES: usize = 3;
/// Table sets per capability in the access summary.
const SETS_PER_CAPABILITY: usize = 3;

/// Renders the whole report.
pub fn render(a: &Analysis, style: Style<'_>) -> String {
    let mut out = String::new();
    match style.view {
        View::Statistics => statistics(a, style, &mut out),
        View::Quiet => {
            for f in a.findings.iter().filter(|f| f.severity == Severity::Error) {
                let _ = writeln!(out, "{}", concise::line(a, f, style.color));
            }
        }
        View::Full => {
            for (rule, groups) in by_rule(a, style.min_severity) {
                rule_section(a, rule, &groups, style, &mut out);
            }
            if style.access {
                access_full(a, &mut out);
            } else {
                access_summary(a, &mut out);
            }
            out.push_str(&super::reach_words::human(a));
            slr_status(a, &mut out);
            notes_and_assumptions(a, style, &mut out);
        }
    }
    summary_line(a, style, &mut out);
    out
}

/// The findings of one statement under one rule (one per principal).
type Group<'a> = Vec<&'a Finding>;
/// Groups by rule (errors first), then by (statement, label) in report order.
type ByRule<'a> = BTreeMap<(std::cmp::Reverse<Severity>, RuleId), indexmap::IndexMap<(Span, &'a str), Group<'a>>>;

/// Shown findings grouped by (rule, statement), rules ordered errors first, then by id.
fn by_rule(a: &Analysis, min: Severity) -> Vec<(RuleId, Vec<Group<'_>>)> {
    let mut rules: ByRule<'_> = BTreeMap::new();
    for f in a.findings.iter().filter(|f| f.severity >= min) {
        rules
            .entry((std::cmp::Reverse(f.severity), f.rule))
            .or_default()
            .entry((f.span, f.label.as_str()))
            .or_default()
            .push(f);
    }
    rules
        .into_iter()
        .map(|((_, rule), groups)| (rule, groups.into_values().collect()))
        .collect()
}

fn rule_section(a: &Analysis, rule: RuleId, groups: &[Group<'_>], style: Style<'_>, out: &mut String) {
    let first = groups[0][0];
    let n: usize = groups.iter().map(Vec::len).sum();
    let _ = writeln!(
        out,
        "── {rule} {} · {} · {} ──",
        first.name,
        concise::paint(first.severity, style.color),
        count(n, "finding")
    );
    let _ = writeln!(out, "help: {}", first.help.trim());
    let _ = writeln!(out, "more: {}\n", rule_pointer(style.docs_url, rule));
    for g in groups.iter().take(EXCERPTS_PER_RULE) {
        out.push_str(&render_group(a, g, style));
        out.push('\n');
    }
    if groups.len() > EXCERPTS_PER_RULE {
        let _ = writeln!(
            out,
            "{} more {rule} statement(s), one line each:",
            groups.len() - EXCERPTS_PER_RULE
        );
        for g in &groups[EXCERPTS_PER_RULE..] {
            let at = position(a, g[0].span);
            let _ = writeln!(out, "  {at}: {}", group_message(a, g));
        }
        out.push('\n');
    }
}

/// The group's message: the finding's own, or for many principals their count and the
/// first few names.
fn group_message(a: &Analysis, g: &[&Finding]) -> String {
    let mut names: Vec<String> = Vec::new();
    for f in g {
        let name = principal_name(a, f).unwrap_or_default();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.len() <= 1 {
        return g[0].message.clone();
    }
    let summary = crate::rules::catalogue()
        .ok()
        .and_then(|c| c.into_iter().find(|r| r.id == g[0].rule))
        .map(|r| r.summary)
        .unwrap_or_default();
    let mut msg = format!(
        "{summary}: {} principals through this statement: {}",
        names.len(),
        names[..names.len().min(NAMED_PRINCIPALS)].join(", ")
    );
    if names.len() > NAMED_PRINCIPALS {
        let _ = write!(msg, ", and {} more", names.len() - NAMED_PRINCIPALS);
    }
    msg
}

fn principal_name(a: &Analysis, f: &Finding) -> Option<String> {
    f.principal.map(|p| a.graph.principals[p].address.clone())
}

/// One group as a miette graphical diagnostic: the statement (± 1 line) with its label,
/// other places as labels only when they are within a few lines, else as notes.
pub(crate) fn render_group(a: &Analysis, g: &[&Finding], style: Style<'_>) -> String {
    let f = g[0];
    let severity = match f.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    };
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(f.label.clone()),
        (f.span.start as usize, f.span.len()),
    )];
    let mut notes = Vec::new();
    for l in &f.labels {
        if !g.iter().all(|o| o.labels.iter().any(|m| m.span == l.span)) {
            continue; // a place of one principal only (its declaration): the names say who
        }
        if l.span.file == f.span.file && near(a, f.span, l.span) {
            labels.push(LabeledSpan::new_with_span(
                Some(l.message.clone()),
                (l.span.start as usize, l.span.len()),
            ));
        } else {
            // "role declared here" names a place the excerpt does not show: say where.
            let what = l.message.strip_suffix(" here").unwrap_or(&l.message);
            notes.push(format!("{what} at {}", position(a, l.span)));
        }
    }
    if g.len() > 1 {
        if group_message(a, g) == f.message {
            notes.push(format!("{} findings here, one per resource", g.len()));
        } else {
            notes.push(format!("{} findings here; the first: {}", g.len(), f.message));
        }
    }
    let mut diag = MietteDiagnostic::new(group_message(a, g))
        .with_severity(severity)
        .with_labels(labels);
    if !notes.is_empty() {
        diag = diag.with_help(notes.join("\n"));
    }
    let mut report = miette::Report::new(diag);
    if let Some(file) = a.sources.get(f.span.file) {
        report = report.with_source_code(NamedSource::new(file.path.clone(), file.text.to_string()));
    }
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_context_lines(1)
        .with_links(false)
        .with_urls(false);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        // Rendering into a String cannot fail for I/O reasons; fall back to one line.
        out = format!("{}\n", concise::line(a, f, false));
    }
    out
}

/// Whether `other` starts within a few lines of `main`.
fn near(a: &Analysis, main: Span, other: Span) -> bool {
    let (Some((s, e)), Some(o)) = (a.sources.range(main), a.sources.start(other)) else {
        return false;
    };
    o.line + NEAR_LINES >= s.line && o.line <= e.line + NEAR_LINES
}

/// `file:line:col`.
fn position(a: &Analysis, span: Span) -> String {
    let at = a.sources.start(span).map(|l| (l.line, l.column)).unwrap_or((1, 1));
    format!("{}:{}:{}", a.sources.path(span), at.0, at.1)
}

fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A decision in words: "can", "can under conditions (2 open)", "not allowed: missing …", "denied".
pub(crate) fn decision_words(d: &CapDecision) -> String {
    match d.outcome {
        Outcome::Allowed => "can".to_string(),
        Outcome::Conditional => format!("can under conditions ({} open)", d.open().len()),
        Outcome::NotAllowed => format!("not allowed: missing {}", d.missing().join(", ")),
        Outcome::Denied => "denied by an explicit Deny".to_string(),
    }
}

/// Per capability and table set: the principals, in graph order.
type Sets<'a> = BTreeMap<(String, String), (Option<&'a TableSet>, Vec<usize>)>;

/// Every reported entry grouped by (capability, decision in words, set).
fn access_sets(a: &Analysis, only_can: bool) -> BTreeMap<String, Sets<'_>> {
    let dec = &a.decisions;
    let mut out: BTreeMap<String, Sets<'_>> = BTreeMap::new();
    for x in dec.entries.iter().filter(|x| dec.reported(x)) {
        let d = dec.decision(x);
        if only_can && !d.outcome.can() {
            continue;
        }
        let (set, target) = match &x.covers {
            Covers::Tables(set) => (Some(set), dec.phrase(set)),
            Covers::Slr(k) => (None, crate::slr::short_words(&a.graph, *k)),
        };
        let words = if only_can { String::new() } else { decision_words(d) };
        let entry = out
            .entry(dec.cap_name(x.cap).to_string())
            .or_default()
            .entry((words, target))
            .or_insert((set, Vec::new()));
        entry.1.push(x.principal);
    }
    out
}

/// Per capability: how many principals can, on how many tables, the broadest sets first.
fn access_summary(a: &Analysis, out: &mut String) {
    let sets = access_sets(a, true);
    if sets.is_empty() {
        out.push_str("Access: no analysed principal can exercise any replication capability.\n\n");
        return;
    }
    let total = a.decisions.table_count();
    out.push_str("Access (who can; `--access` lists every set):\n");
    for (cap, by_set) in &sets {
        let mut principals: Vec<usize> = by_set.values().flat_map(|(_, p)| p.iter().copied()).collect();
        principals.sort_unstable();
        principals.dedup();
        let union = by_set
            .values()
            .filter_map(|(s, _)| *s)
            .fold(TableSet::default(), |acc, s| acc.union(s));
        let on = if by_set.values().all(|(s, _)| s.is_none()) {
            "the service-linked role".to_string()
        } else {
            tables_phrase(&union, total)
        };
        let _ = writeln!(out, "  {cap:<10} {} on {on}", count(principals.len(), "principal"));
        let mut ranked: Vec<_> = by_set.iter().collect();
        ranked.sort_by_key(|(k, (s, p))| {
            (
                std::cmp::Reverse(s.map_or(0, |s| s.count(total))),
                std::cmp::Reverse(p.len()),
                *k,
            )
        });
        for ((_, target), (set, p)) in ranked.iter().take(SETS_PER_CAPABILITY) {
            let size = set
                .map(|s| format!(" on {}", count(s.count(total), "table")))
                .unwrap_or_default();
            let _ = writeln!(out, "    {}{size}: {target}", count(p.len(), "principal"));
        }
        if ranked.len() > SETS_PER_CAPABILITY {
            let _ = writeln!(out, "    and {} more set(s)", ranked.len() - SETS_PER_CAPABILITY);
        }
    }
    out.push('\n');
}

/// "all 100 declared tables and every undeclared table (*)", "3 of 100 declared tables".
fn tables_phrase(set: &TableSet, total: usize) -> String {
    let n = set.count(total);
    let declared = if n == total && total > 0 {
        format!("all {total} declared tables")
    } else {
        format!("{n} of {total} declared tables")
    };
    if !set.undeclared {
        declared
    } else if n == 0 {
        "every undeclared table (*)".to_string()
    } else {
        format!("{declared} and every undeclared table (*)")
    }
}

/// Every reported (capability, decision, set), one line each, with all its principals.
fn access_full(a: &Analysis, out: &mut String) {
    let sets = access_sets(a, false);
    if sets.is_empty() {
        out.push_str("Access: no analysed principal is granted any replication capability.\n\n");
        return;
    }
    out.push_str("Access (capability, decision, tables: principals):\n");
    for (cap, by_set) in &sets {
        for ((words, target), (_, p)) in by_set {
            let names: Vec<&str> = p.iter().map(|&k| a.graph.principals[k].address.as_str()).collect();
            let _ = writeln!(out, "  {cap} {words} on {target}: {}", names.join(", "));
        }
    }
    out.push('\n');
}

/// Each service-linked role's status in words.
fn slr_status(a: &Analysis, out: &mut String) {
    let g = &a.graph;
    for (k, s) in g.slrs.iter().enumerate() {
        // The status is the analysis's (direct and indirect deleters); this only words it.
        let Some(st) = a.slrs.get(k) else { continue };
        let deleters: Vec<&str> = st
            .deletable_by
            .iter()
            .map(|&p| g.principals[p].address.as_str())
            .collect();
        let who = match deleters.len() {
            0 if st.status == crate::slr::Status::Protected => {
                "an explicit Deny keeps every analysed principal from deleting it".to_string()
            }
            0 => "no analysed principal can delete it (principals outside the inputs are not known)".to_string(),
            n => {
                let mut s = format!(
                    "{} can delete it: {}",
                    count(n, "principal"),
                    deleters[..n.min(NAMED_PRINCIPALS)].join(", ")
                );
                if n > NAMED_PRINCIPALS {
                    let _ = write!(s, ", and {} more", n - NAMED_PRINCIPALS);
                }
                if !st.indirect.is_empty() {
                    let _ = write!(s, " ({} only through other principals)", st.indirect.len());
                }
                s
            }
        };
        let lifecycle = lifecycle_words(a, s);
        let mut name = crate::slr::words(g, &a.sources, k);
        if let Some(first) = name.get(..1) {
            name = format!("{}{}", first.to_uppercase(), &name[1..]);
        }
        let _ = writeln!(out, "{name}: {who}{lifecycle}");
    }
}

/// How the declarations' tools guard the SLR against deletion, in words (the places named
/// when several declarations differ).
fn lifecycle_words(a: &Analysis, s: &crate::graph::SlrNode) -> String {
    let mut by_words: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for d in &s.declarations {
        let words = match &d.protection {
            Protection::Unprotected => "declared without deletion protection",
            Protection::Unknown(_) => "its deletion protection depends on an unresolved value",
            Protection::NotShown => "declared in a plan, which cannot show deletion protection",
            Protection::Protected(_) => "protected against deletion by its tool",
        };
        let line = a.sources.start(d.span).map_or(1, |lc| lc.line);
        by_words
            .entry(words)
            .or_default()
            .push(format!("{}:{line}", a.sources.path(d.span)));
    }
    let several = by_words.len() > 1;
    let mut out = String::new();
    for (words, places) in by_words {
        let _ = write!(out, "; {words}");
        if several {
            let _ = write!(out, " ({})", places.join(", "));
        }
    }
    out
}

fn notes_and_assumptions(a: &Analysis, style: Style<'_>, out: &mut String) {
    if style.verbose {
        for d in &a.diagnostics {
            let _ = writeln!(
                out,
                "{}: {}: {}",
                d.severity.as_str(),
                a.sources.describe(d.span),
                d.message
            );
        }
    }
    if let Some(d) = &a.delta {
        out.push_str(&crate::report::delta_words::human(d));
    }
    if !a.assumptions.is_empty() {
        out.push_str("Assumptions:\n");
        for s in &a.assumptions {
            let _ = writeln!(out, "  - {s}");
        }
    }
}

/// `--statistics`: the number of findings per rule, most first.
fn statistics(a: &Analysis, style: Style<'_>, out: &mut String) {
    let mut rows: Vec<(usize, RuleId, &str, Severity)> = per_rule(a, style.min_severity)
        .into_iter()
        .map(|((rule, name, sev), n)| (n, rule, name, sev))
        .collect();
    rows.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    for (n, rule, name, sev) in rows {
        let _ = writeln!(out, "{n:>6}  {rule}  {name:<28} {}", sev.as_str());
    }
}

fn per_rule(a: &Analysis, min: Severity) -> BTreeMap<(RuleId, &str, Severity), usize> {
    let mut m = BTreeMap::new();
    for f in a.findings.iter().filter(|f| f.severity >= min) {
        *m.entry((f.rule, f.name.as_str(), f.severity)).or_insert(0) += 1;
    }
    m
}

/// The last line: counts per severity and per rule, what was hidden, the inputs.
fn summary_line(a: &Analysis, style: Style<'_>, out: &mut String) {
    let n = |s: Severity| a.findings.iter().filter(|f| f.severity == s).count();
    let rules: Vec<String> = per_rule(a, Severity::Note)
        .into_iter()
        .map(|((rule, _, _), n)| format!("{rule} {n}"))
        .collect();
    let mut line = format!(
        "{}: {} error(s), {} warning(s), {} note(s)",
        count(a.findings.len(), "finding"),
        n(Severity::Error),
        n(Severity::Warning),
        n(Severity::Note)
    );
    if !rules.is_empty() {
        let _ = write!(line, " ({})", rules.join(", "));
    }
    if style.min_severity > Severity::Note {
        let shown = a.findings.iter().filter(|f| f.severity >= style.min_severity).count();
        let _ = write!(line, ", {shown} shown at --severity {}", style.min_severity.as_str());
    }
    if !a.suppressed.is_empty() {
        let _ = write!(line, ", {} suppressed", a.suppressed.len());
    }
    if !a.baselined.is_empty() {
        let _ = write!(line, ", {} in the baseline", a.baselined.len());
    }
    let _ = write!(
        line,
        "; {}, {} load error(s), {} template note(s)",
        count(a.graph.inputs.len(), "input"),
        a.errors.len(),
        a.diagnostics.len()
    );
    if !a.diagnostics.is_empty() && !style.verbose {
        line.push_str(" (--verbose lists them)");
    }
    let _ = writeln!(out, "\n{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sets_are_counted_in_words() {
        assert_eq!(tables_phrase(&TableSet::only(vec![0, 2]), 4), "2 of 4 declared tables");
        assert_eq!(tables_phrase(&TableSet::only(vec![0, 1]), 2), "all 2 declared tables");
        let mut all = TableSet::all_except(Vec::new());
        all.undeclared = true;
        assert_eq!(
            tables_phrase(&all, 3),
            "all 3 declared tables and every undeclared table (*)"
        );
        assert_eq!(
            tables_phrase(&TableSet::undeclared_only(), 3),
            "every undeclared table (*)"
        );
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(1, "finding"), "1 finding");
        assert_eq!(count(0, "finding"), "0 findings");
        assert_eq!(count(170, "principal"), "170 principals");
    }
}
