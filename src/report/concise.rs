//! The concise report: one line per finding (`file:line:col: KDS004 error: message`), for
//! editors, grep and quick looks (load errors go to stderr, as with every format).

use crate::analysis::Analysis;
use crate::finding::Finding;
use crate::model::Severity;

/// One line per shown finding at or above `min`.
pub fn render(a: &Analysis, min: Severity, color: bool) -> String {
    let mut out = String::new();
    for f in a.findings.iter().filter(|f| f.severity >= min) {
        out.push_str(&line(a, f, color));
        out.push('\n');
    }
    out
}

/// `file:line:col: RULE severity: message`.
pub fn line(a: &Analysis, f: &Finding, color: bool) -> String {
    let at = a.sources.start(f.span).map(|l| (l.line, l.column)).unwrap_or((1, 1));
    format!(
        "{}:{}:{}: {} {}: {}",
        a.sources.path(f.span),
        at.0,
        at.1,
        f.rule,
        paint(f.severity, color),
        f.message
    )
}

/// The severity word, coloured as miette colours it when `color` is on.
pub(crate) fn paint(s: Severity, color: bool) -> String {
    if !color {
        return s.as_str().to_string();
    }
    let code = match s {
        Severity::Error => "31",
        Severity::Warning => "33",
        Severity::Note => "36",
    };
    format!("\x1b[1;{code}m{}\x1b[0m", s.as_str())
}
