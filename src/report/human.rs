//! The human report: each finding as a miette diagnostic with labelled spans into the
//! template and a help line, then who can do what, the service-linked role's status,
//! the assumptions, and a summary line.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use crate::Analysis;
use crate::capability::Covers;
use crate::finding::Finding;
use crate::iam::eval::Outcome;
use crate::model::Severity;
use crate::report::json;

/// Rendering options.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Colours and unicode box drawing (a terminal), or plain unicode without colour.
    pub color: bool,
    /// Maximum line width.
    pub width: usize,
    /// List every load note, not just their count.
    pub verbose: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 100,
            verbose: false,
        }
    }
}

/// Renders the whole report.
pub fn render(a: &Analysis, style: Style) -> String {
    let report = json::build(a);
    let mut out = String::new();
    for f in &a.findings {
        out.push_str(&render_finding(a, f, style));
        out.push('\n');
    }
    render_errors(&report, &mut out);
    render_access(a, &report, &mut out);
    out.push_str(&super::reach_words::human(a));
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
    if !a.assumptions.is_empty() {
        out.push_str("Assumptions:\n");
        for s in &a.assumptions {
            let _ = writeln!(out, "  - {s}");
        }
    }
    let count = |s: Severity| a.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "\n{} finding(s): {} error(s), {} warning(s), {} note(s){}; {} input(s), {} load error(s), {} template note(s){}",
        a.findings.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
        hidden(a),
        a.graph.inputs.len(),
        a.errors.len(),
        a.diagnostics.len(),
        if a.diagnostics.is_empty() || style.verbose {
            ""
        } else {
            " (--verbose lists them)"
        },
    );
    out
}

/// ", 2 suppressed, 1 in the baseline" when anything was hidden.
fn hidden(a: &Analysis) -> String {
    let mut out = String::new();
    if !a.suppressed.is_empty() {
        let _ = write!(out, ", {} suppressed", a.suppressed.len());
    }
    if !a.baselined.is_empty() {
        let _ = write!(out, ", {} in the baseline", a.baselined.len());
    }
    out
}

/// Renders one finding as a miette graphical diagnostic.
pub fn render_finding(a: &Analysis, f: &Finding, style: Style) -> String {
    let severity = match f.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    };
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(f.label.clone()),
        (f.span.start as usize, f.span.len()),
    )];
    for l in f.labels.iter().filter(|l| l.span.file == f.span.file) {
        labels.push(LabeledSpan::new_with_span(
            Some(l.message.clone()),
            (l.span.start as usize, l.span.len()),
        ));
    }
    let diag = MietteDiagnostic::new(f.message.clone())
        .with_code(format!("{}({})", f.rule, f.name))
        .with_severity(severity)
        .with_help(format!("{}\nsee {}", f.help, f.docs))
        .with_labels(labels);
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
        .with_links(false)
        .with_urls(false);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        // Rendering into a String cannot fail for I/O reasons; fall back to one line.
        out = format!(
            "{}: {}: {} [{}]\n",
            f.severity.as_str(),
            a.sources.describe(f.span),
            f.message,
            f.rule
        );
    }
    out
}

fn render_errors(report: &json::Report, out: &mut String) {
    if report.errors.is_empty() {
        return;
    }
    out.push_str("Inputs that failed to load:\n");
    for e in &report.errors {
        let _ = writeln!(out, "  {}:{}:{}: {}", e.file, e.line, e.column, e.message);
    }
    out.push('\n');
}

/// Who can do what: one line per reported (principal, capability, set of tables).
fn render_access(a: &Analysis, report: &json::Report, out: &mut String) {
    let g = &a.graph;
    let dec = &a.decisions;
    let mut rows: Vec<(String, String, String, &'static str, String)> = dec
        .entries
        .iter()
        .filter(|x| dec.reported(x))
        .map(|x| {
            let d = dec.decision(x);
            let target = match &x.covers {
                Covers::Tables(set) => dec.phrase(set),
                Covers::Slr(_) => "service-linked role".to_string(),
            };
            let p = &g.principals[x.principal];
            let extra = match d.outcome {
                Outcome::NotAllowed => format!("missing {}", d.missing().join(", ")),
                Outcome::Conditional => format!("{} open condition(s)/unknown(s)", d.open().len()),
                _ => String::new(),
            };
            (
                format!("{} ({})", p.address, p.class.as_str()),
                dec.cap_name(x.cap).to_string(),
                target,
                d.outcome.as_str(),
                extra,
            )
        })
        .collect();
    rows.sort();
    if rows.is_empty() {
        out.push_str("Access: no principal in the inputs is granted any replication capability.\n\n");
    } else {
        out.push_str("Access (principal, capability, resource, decision):\n");
        for (p, c, t, d, extra) in &rows {
            let line = format!("  {p:<44} {c:<11} {t:<28} {d:<12} {extra}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out.push('\n');
    }
    for s in &report.service_linked_roles {
        let _ = writeln!(out, "Service-linked role {}: {}", s.address, s.status);
        for r in &s.reasons {
            let _ = writeln!(out, "  - {r}");
        }
    }
}
