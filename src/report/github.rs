//! GitHub Actions output: workflow-command annotations (one per finding, shown on the pull
//! request diff) and a Markdown step summary.

use std::fmt::Write as _;

use crate::Analysis;
use crate::model::Severity;
use crate::report::json;

/// One `::error file=…,line=…::message` line per finding, and per load error.
pub fn annotations(a: &Analysis) -> String {
    let report = json::build(a);
    let mut out = String::new();
    for f in &report.findings {
        let kind = match Severity::parse(f.severity) {
            Some(Severity::Error) => "error",
            Some(Severity::Warning) => "warning",
            _ => "notice",
        };
        let _ = writeln!(
            out,
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            property(&f.file),
            f.line,
            f.column,
            f.end_line,
            f.end_column,
            property(&format!("{} {}", f.rule, f.name)),
            data(&format!("{}\n{}", f.message, f.help))
        );
    }
    for e in &report.errors {
        let _ = writeln!(
            out,
            "::error file={},line={},col={},title=kdsguard: input failed to load::{}",
            property(&e.file),
            e.line,
            e.column,
            data(&e.message)
        );
    }
    out
}

/// A Markdown summary for `$GITHUB_STEP_SUMMARY`: findings, then who can manage replication.
pub fn summary(a: &Analysis) -> String {
    let report = json::build(a);
    let mut out = String::from("## kdsguard\n\n");
    if report.findings.is_empty() && report.errors.is_empty() {
        out.push_str("No findings.\n\n");
    }
    if !report.errors.is_empty() {
        out.push_str("### Inputs that failed to load\n\n");
        for e in &report.errors {
            let _ = writeln!(out, "- `{}:{}:{}`: {}", e.file, e.line, e.column, cell(&e.message));
        }
        out.push('\n');
    }
    if !report.findings.is_empty() {
        out.push_str("### Findings\n\n| rule | severity | where | message |\n|---|---|---|---|\n");
        for f in &report.findings {
            let _ = writeln!(
                out,
                "| [{}]({}) `{}` | {} | `{}:{}` | {} |",
                f.rule,
                f.docs,
                f.name,
                f.severity,
                f.file,
                f.line,
                cell(&f.message)
            );
        }
        out.push('\n');
    }
    let manage: Vec<&json::AccessOut> = report
        .access
        .iter()
        .filter(|x| matches!(x.decision, "allowed" | "conditional"))
        .filter(|x| matches!(x.capability.as_str(), "enable" | "disable" | "update" | "delete-slr"))
        .collect();
    if !manage.is_empty() {
        out.push_str(
            "### Who can manage replication\n\n| principal | capability | resource | decision |\n|---|---|---|---|\n",
        );
        for x in manage {
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` | {} |",
                x.principal,
                x.capability,
                x.covers(),
                x.decision
            );
        }
        out.push('\n');
    }
    out.push_str(&super::reach_words::markdown(a));
    for s in &report.service_linked_roles {
        let _ = writeln!(out, "Service-linked role `{}`: **{}**\n", s.address, s.status);
    }
    out
}

/// Escapes a workflow-command message.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Keeps a table cell on one line and its pipes literal.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
