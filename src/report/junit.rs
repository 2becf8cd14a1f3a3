//! JUnit XML (the Ant/Jenkins shape most CI systems read): one test suite per rule, one
//! test case per (rule, resource) with a `<failure>` holding that resource's findings, one
//! passing case for a rule with no finding, and a `load` suite whose cases are the inputs
//! that failed to load, each an `<error>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::Analysis;
use crate::finding::Finding;

/// Renders the report.
pub fn render(a: &Analysis) -> Result<String, String> {
    let rules = crate::rules::catalogue()?;
    let mut by_rule: BTreeMap<&str, BTreeMap<String, Vec<&Finding>>> = BTreeMap::new();
    for f in &a.findings {
        by_rule
            .entry(f.rule.as_str())
            .or_default()
            .entry(subject(a, f))
            .or_default()
            .push(f);
    }
    let mut suites = String::new();
    let (mut tests, mut failures) = (0, 0);
    for meta in &rules {
        let cases = by_rule.get(meta.id.as_str());
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
                    attr(&meta.id)
                );
            }
            Some(cases) => {
                for (resource, found) in cases {
                    write_failure(&mut suites, a, &meta.id, resource, found);
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

/// What a test case is about: the resource, else the principal, else the file.
fn subject(a: &Analysis, f: &Finding) -> String {
    let id = f.resource.as_deref().or(f.principal.as_deref());
    match id {
        Some(id) => a.identity.id(id),
        None => a.identity.path(&a.sources.path(f.span)),
    }
}

fn write_failure(out: &mut String, a: &Analysis, rule: &str, resource: &str, found: &[&Finding]) {
    let first = found.first().map(|f| a.sources.path(f.span)).unwrap_or_default();
    let _ = writeln!(
        out,
        "    <testcase classname=\"kdsguard.{}\" name=\"{}\" file=\"{}\" time=\"0\">",
        attr(rule),
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
