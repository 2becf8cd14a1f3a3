//! GitHub Actions output within GitHub's limits, rendered from the [`Analysis`] itself:
//! workflow-command annotations (at most the number a step shows per level, errors first,
//! one per rule and statement, then one `::notice` saying how many more there are and
//! where the SARIF has them) and a Markdown step summary that stays far below GitHub's
//! 1 MiB cap whatever the estate (counts, truncated tables, access as sets of tables).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::analysis::Analysis;
use crate::capability::Covers;
use crate::model::{RuleId, Severity};
use crate::report::{delta_words, rule_url};
use crate::source::Span;

/// GitHub shows 10 error, 10 warning and 10 notice annotations per step (50 per job).
pub(crate) const MAX_PER_LEVEL: usize = 10;
/// Rows per table of the step summary.
pub(crate) const MAX_ROWS: usize = 100;
/// GitHub drops a step summary over 1 MiB; the summary is cut well below that.
pub(crate) const MAX_SUMMARY_BYTES: usize = 512 * 1024;
/// Longest table cell, in characters.
const MAX_CELL: usize = 400;

/// Where the full results are, for the closing notice.
#[derive(Clone, Copy, Debug, Default)]
pub struct Links<'a> {
    /// Rule pages ([`rule_url`]).
    pub docs_url: Option<&'a str>,
    /// The SARIF file the same run writes (`--output sarif=FILE`), if any.
    pub sarif_file: Option<&'a str>,
}

/// One annotation line.
struct Annotation {
    level: Severity,
    file: String,
    span: Option<Span>,
    title: String,
    message: String,
    /// Findings of the same rule at the same statement folded into this one.
    merged: usize,
    /// A load error (not a finding).
    load_error: bool,
}

/// Workflow commands: load errors and error findings, then warnings, then notes, at most
/// [`MAX_PER_LEVEL`] each (one per rule and statement). When anything is not annotated,
/// a `::notice` says how much and why (merged per statement, or over GitHub's limit); it
/// comes first and takes one of the notice level's places, so GitHub always shows it.
pub fn annotations(a: &Analysis, links: Links<'_>) -> String {
    let mut all: Vec<Annotation> = a
        .errors
        .iter()
        .map(|e| Annotation {
            level: Severity::Error,
            file: e.path.clone(),
            span: e.span,
            title: "kdsguard: input failed to load".to_string(),
            message: e.message.clone(),
            merged: 0,
            load_error: true,
        })
        .collect();
    let mut at: BTreeMap<(RuleId, String, u32), usize> = BTreeMap::new();
    for f in &a.findings {
        let key = (f.rule, a.sources.path(f.span), f.span.start);
        if let Some(&k) = at.get(&key) {
            all[k].merged += 1;
            continue;
        }
        at.insert(key, all.len());
        all.push(Annotation {
            level: f.severity,
            file: a.sources.path(f.span),
            span: Some(f.span),
            title: format!("{} {}", f.rule, f.name),
            message: format!("{}\n{}", f.message, f.help),
            merged: 0,
            load_error: false,
        });
    }
    // Stable: load errors stay before error findings.
    all.sort_by_key(|x| std::cmp::Reverse(x.level));
    let merged: usize = all.iter().map(|x| x.merged).sum();
    let mut shown = shown_at(&all, MAX_PER_LEVEL);
    if merged > 0 || shown.len() < all.len() {
        // The pointer takes one notice place.
        shown = shown_at(&all, MAX_PER_LEVEL - 1);
    }
    let over: Vec<&Annotation> = all
        .iter()
        .enumerate()
        .filter(|(k, _)| !shown.contains(k))
        .map(|(_, x)| x)
        .collect();
    let over_findings: usize = over.iter().filter(|x| !x.load_error).map(|x| 1 + x.merged).sum();
    let over_errors = over.iter().filter(|x| x.load_error).count();
    let shown_merged: usize = shown.iter().map(|&k| all[k].merged).sum();
    let mut out = String::new();
    if shown_merged + over_findings + over_errors > 0 {
        pointer(&mut out, links, shown_merged, over_findings, over_errors);
    }
    for &k in &shown {
        write_annotation(&mut out, a, &all[k]);
    }
    out
}

/// Indexes of the annotations shown with `notices` places at the notice level.
fn shown_at(all: &[Annotation], notices: usize) -> Vec<usize> {
    let mut count: BTreeMap<Severity, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (k, x) in all.iter().enumerate() {
        let cap = if x.level == Severity::Note {
            notices
        } else {
            MAX_PER_LEVEL
        };
        let n = count.entry(x.level).or_default();
        if *n < cap {
            *n += 1;
            out.push(k);
        }
    }
    out
}

/// The `::notice` that says what is not annotated, why, and where it is.
fn pointer(out: &mut String, links: Links<'_>, merged: usize, over: usize, over_errors: usize) {
    let whence = match links.sarif_file {
        Some(f) => format!("the SARIF report `{f}` has every finding (upload it to code scanning)"),
        None => "`kdsguard check --format sarif` lists every finding".to_string(),
    };
    let mut why = Vec::new();
    if merged > 0 {
        why.push(format!(
            "{merged} share a rule and statement with an annotation shown (merged per statement)"
        ));
    }
    if over > 0 {
        why.push(format!(
            "{over} are over GitHub's limit of {MAX_PER_LEVEL} annotations per level and step"
        ));
    }
    if over_errors > 0 {
        why.push(format!(
            "{over_errors} load error(s) are over the same limit (stderr lists them all)"
        ));
    }
    let more = merged + over;
    let _ = writeln!(
        out,
        "::notice title={}::{}",
        property(&format!("kdsguard: {more} more finding(s)")),
        data(&format!(
            "{more} more finding(s) are not annotated here: {}; {whence}.",
            why.join("; ")
        ))
    );
}

fn write_annotation(out: &mut String, a: &Analysis, x: &Annotation) {
    let kind = match x.level {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let range = x.span.and_then(|s| a.sources.range(s));
    let _ = write!(out, "::{kind} file={}", property(&x.file));
    if let Some((start, end)) = range {
        let _ = write!(
            out,
            ",line={},col={},endLine={},endColumn={}",
            start.line, start.column, end.line, end.column
        );
    } else {
        out.push_str(",line=1,col=1");
    }
    let mut message = x.message.clone();
    if x.merged > 0 {
        let _ = write!(
            message,
            "\n(and {} more finding(s) of this rule at this statement)",
            x.merged
        );
    }
    let _ = writeln!(out, ",title={}::{}", property(&x.title), data(&message));
}

/// A Markdown summary for `$GITHUB_STEP_SUMMARY`: the delta (in PR mode), counts, the
/// findings, who can manage replication (as sets of tables), the service-linked roles.
pub fn summary(a: &Analysis, links: Links<'_>) -> String {
    let mut out = String::from("## kdsguard\n\n");
    if let Some(d) = &a.delta {
        out.push_str(&delta_words::markdown(d, &access_added(a, links), MAX_ROWS / 2));
    }
    counts(&mut out, a);
    if !a.errors.is_empty() {
        out.push_str("### Inputs that failed to load\n\n");
        for e in a.errors.iter().take(MAX_ROWS) {
            let line = e.span.and_then(|s| a.sources.start(s)).map_or(1, |l| l.line);
            let _ = writeln!(out, "- `{}:{line}`: {}", e.path, cell(&e.message));
        }
        more(&mut out, a.errors.len(), "load errors", "");
        out.push('\n');
    }
    findings(&mut out, a, links);
    access(&mut out, a);
    out.push_str(&super::reach_words::markdown(a));
    for k in 0..a.graph.slrs.len() {
        // The status is the analysis's; the summary only prints it.
        let status = a.slrs.get(k).map_or("unknown", |st| st.status.as_str());
        let n = deletable_by(a, k);
        let mut name = crate::slr::words(&a.graph, &a.sources, k);
        if let Some(first) = name.get(..1) {
            name = format!("{}{}", first.to_uppercase(), &name[1..]);
        }
        let _ = writeln!(out, "{name}: **{status}** ({n} analysed principal(s) can delete it).\n");
    }
    if out.len() > MAX_SUMMARY_BYTES {
        let mut cut = MAX_SUMMARY_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("\n\n… the summary is cut here to stay within GitHub's limit; the JSON and SARIF reports have everything.\n");
    }
    out
}

fn counts(out: &mut String, a: &Analysis) {
    if a.findings.is_empty() && a.errors.is_empty() {
        out.push_str("No findings.\n\n");
        return;
    }
    let by = |s: Severity| a.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "**{} finding(s)**: {} error(s), {} warning(s), {} note(s); {} input(s) failed to load.\n",
        a.findings.len(),
        by(Severity::Error),
        by(Severity::Warning),
        by(Severity::Note),
        a.errors.len()
    );
}

fn findings(out: &mut String, a: &Analysis, links: Links<'_>) {
    if a.findings.is_empty() {
        return;
    }
    out.push_str("### Findings\n\n| rule | severity | where | message |\n|---|---|---|---|\n");
    // By severity, then file and line (the findings' own order).
    let mut ordered: Vec<&crate::finding::Finding> = a.findings.iter().collect();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in ordered.into_iter().take(MAX_ROWS) {
        let rule = match rule_url(links.docs_url, f.rule) {
            Some(url) => format!("[{}]({url}) `{}`", f.rule, f.name),
            None => format!("{} `{}` (`kdsguard explain {}`)", f.rule, f.name, f.rule),
        };
        let line = a.sources.start(f.span).map_or(1, |l| l.line);
        let _ = writeln!(
            out,
            "| {rule} | {} | `{}:{line}` | {} |",
            f.severity.as_str(),
            a.sources.path(f.span),
            cell(&f.message)
        );
    }
    more(
        out,
        a.findings.len(),
        "findings",
        " (the SARIF and JSON reports have them all)",
    );
    out.push('\n');
}

/// KDS015's findings (what the change adds) as Markdown list items, for the summary's
/// first section: severity, rule, place and the sentence; at most [`MAX_ROWS`] / 2.
fn access_added(a: &Analysis, links: Links<'_>) -> Vec<String> {
    let mut added: Vec<&crate::finding::Finding> = a
        .findings
        .iter()
        .filter(|f| crate::rules::fires_only_in_pr_mode(f.rule))
        .collect();
    added.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let total = added.len();
    let mut lines: Vec<String> = added
        .into_iter()
        .take(MAX_ROWS / 2)
        .map(|f| {
            let rule = match rule_url(links.docs_url, f.rule) {
                Some(url) => format!("[{}]({url})", f.rule),
                None => f.rule.to_string(),
            };
            let line = a.sources.start(f.span).map_or(1, |l| l.line);
            format!(
                "**{}** {rule} `{}:{line}`: {}",
                f.severity.as_str(),
                a.sources.path(f.span),
                cell(&f.message)
            )
        })
        .collect();
    if total > MAX_ROWS / 2 {
        lines.push(format!(
            "… and {} more (the SARIF and JSON reports have them all)",
            total - MAX_ROWS / 2
        ));
    }
    lines
}

fn access(out: &mut String, a: &Analysis) {
    let dec = &a.decisions;
    let rows: Vec<String> = dec
        .entries
        .iter()
        // The capabilities that change or remove replication (`manages`).
        .filter(|x| dec.capability(x.cap).manages && dec.decision(x).outcome.can())
        .map(|x| {
            let p = &a.graph.principals[x.principal];
            let covers = match &x.covers {
                Covers::Tables(set) => dec.phrase(set),
                Covers::Slr(s) => crate::slr::short_words(&a.graph, *s),
            };
            format!(
                "| `{}` | {} | {} | {} |",
                p.address,
                dec.cap_name(x.cap),
                cell(&covers),
                dec.decision(x).outcome.as_str()
            )
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "### Who can manage replication\n\n| principal | capability | tables | decision |\n|---|---|---|---|\n",
    );
    for r in rows.iter().take(MAX_ROWS) {
        out.push_str(r);
        out.push('\n');
    }
    more(
        out,
        rows.len(),
        "entries",
        " (`kdsguard query who-can CAPABILITY` lists them all)",
    );
    out.push('\n');
}

fn deletable_by(a: &Analysis, k: usize) -> usize {
    a.slrs.get(k).map_or(0, |st| st.deletable_by.len())
}

/// The line a truncated list ends with.
fn more(out: &mut String, total: usize, what: &str, whence: &str) {
    if total > MAX_ROWS {
        let _ = writeln!(out, "\n… and {} more {what}{whence}.", total - MAX_ROWS);
    }
}

/// Escapes a workflow-command message.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Keeps a table cell on one line, its pipes literal and its length bounded.
fn cell(s: &str) -> String {
    let one = s.replace('|', "\\|").replace('\n', " ");
    match one.char_indices().nth(MAX_CELL) {
        Some((cut, _)) => format!("{}…", &one[..cut]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(cell(&"x".repeat(MAX_CELL + 5)).chars().count(), MAX_CELL + 1);
    }
}
