//! JUnit XML (the Ant/Jenkins shape most CI systems read): one test suite per rule, one
//! test case per (rule, input, resource) with a `<failure>` holding the findings the input
//! (a Terraform module, a template, a plan) has about that resource, one
//! passing case for a rule with no finding, and a `load` suite whose cases are the inputs
//! that failed to load, each an `<error>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::analysis::Analysis;
use crate::finding::Finding;
use crate::model::RuleId;
use crate::report::ReportError;

/// Renders the report.
pub fn render(a: &Analysis) -> Result<String, ReportError> {
    let rules = crate::rules::catalogue().map_err(ReportError::Rules)?;
    let mut by_rule: BTreeMap<RuleId, BTreeMap<String, Vec<&Finding>>> = BTreeMap::new();
    for f in &a.findings {
        by_rule
            .entry(f.rule)
            .or_default()
            .entry(case_name(a, f))
            .or_default()
            .push(f);
    }
    let mut suites = String::new();
    let (mut tests, mut failures) = (0, 0);
    for meta in &rules {
        let cases = by_rule.get(&meta.id);
        let n = cases.map_or(1, BTreeMap::len);
        let failed = cases.map_or(0, BTreeMap::len);
        tests += n;
        failures += failed;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"0\">",
            attr(&format!("{} {}", meta.id, meta.name))
        );
        match cases {
            None => {
                let _ = writeln!(
                    suites,
                    "    <testcase classname=\"kdsguard.{}\" name=\"no findings\" time=\"0\"/>",
                    attr(&meta.id.to_string())
                );
            }
            Some(cases) => {
                for (resource, found) in cases {
                    write_failure(&mut suites, a, meta.id, resource, found);
                }
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    let errors = a.errors.len();
    if errors > 0 {
        let _ = writeln!(
            suites,
            "  <testsuite name=\"load\" tests=\"{errors}\" failures=\"0\" errors=\"{errors}\" skipped=\"0\" time=\"0\">"
        );
        for e in &a.errors {
            let line = e.span.and_then(|s| a.sources.start(s)).map_or(1, |l| l.line);
            let _ = writeln!(
                suites,
                "    <testcase classname=\"kdsguard.load\" name=\"{}\" file=\"{}\" time=\"0\">\n      <error message=\"input failed to load\" type=\"load-error\">{}:{line}: {}</error>\n    </testcase>",
                attr(&e.path),
                attr(&e.path),
                text(&e.path),
                text(&e.message)
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kdsguard\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"0\">\n{suites}</testsuites>\n",
        tests + errors
    ))
}

/// A test case's name: what it is about (the resource, else the principal, else the file),
/// and, when that is declared in another input, the input the findings are in, so a
/// Terraform module's findings about a CloudFormation resource are its own case.
fn case_name(a: &Analysis, f: &Finding) -> String {
    let file = a.sources.path(f.span);
    let input = input_of(a, &file);
    let graph = &a.graph;
    let id = (f.resource.map(|r| r.id(graph))).or(f.principal.map(|p| graph.principals[p].id.as_str()));
    match (id, input) {
        (Some(id), Some(input)) if id.strip_prefix(input).is_some_and(|rest| rest.starts_with('#')) => {
            a.identity.id(id)
        }
        (Some(id), Some(input)) => format!("{} (found in {})", a.identity.id(id), a.identity.path(input)),
        (Some(id), None) => format!("{} (found in {})", a.identity.id(id), a.identity.path(&file)),
        (None, _) => a.identity.path(&file),
    }
}

/// The display path of the input a file belongs to: the input itself (a template, a
/// plan), or the folder of its Terraform module or of a child module it loaded.
fn input_of<'a>(a: &'a Analysis, file: &str) -> Option<&'a str> {
    let holds = |dir: &str| file == dir || file.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'));
    a.graph
        .inputs
        .iter()
        .filter_map(|i| {
            let own = holds(&i.path).then_some(i.path.len());
            let child = i.module_dirs.iter().filter(|d| holds(d)).map(String::len).max();
            own.max(child).map(|depth| (depth, i.path.as_str()))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, path)| path)
}

fn write_failure(out: &mut String, a: &Analysis, rule: RuleId, resource: &str, found: &[&Finding]) {
    let first = found.first().map(|f| a.sources.path(f.span)).unwrap_or_default();
    let _ = writeln!(
        out,
        "    <testcase classname=\"kdsguard.{}\" name=\"{}\" file=\"{}\" time=\"0\">",
        attr(&rule.to_string()),
        attr(resource),
        attr(&first)
    );
    let message = found.first().map(|f| f.message.as_str()).unwrap_or_default();
    let severity = found.iter().map(|f| f.severity).max().map_or("warning", |s| s.as_str());
    let mut body = String::new();
    for f in found {
        let line = a.sources.start(f.span).map_or(1, |l| l.line);
        let _ = writeln!(body, "{}:{line}: {} {}", a.sources.path(f.span), f.rule, f.message);
        let _ = writeln!(body, "help: {}", f.help);
    }
    let _ = writeln!(
        out,
        "      <failure message=\"{}\" type=\"{severity}\">{}</failure>\n    </testcase>",
        attr(message),
        text(&body)
    );
}

/// Escapes text content (and drops characters XML 1.0 cannot carry).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value (line breaks kept as character references).
fn attr(s: &str) -> String {
    text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped() {
        assert_eq!(text("a<b & c>\u{1}"), "a&lt;b &amp; c&gt;");
        assert_eq!(attr("say \"hi\"\nnow"), "say &quot;hi&quot;&#10;now");
    }
}
