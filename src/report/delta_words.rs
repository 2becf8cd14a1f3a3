//! The PR delta in words ("this change lets `aws_iam_role.etl` disable replication on
//! Orders"), shared by the human and Markdown reports. Reads the [`Delta`] the analysis
//! computed; decides nothing.

use crate::delta::{Change, Delta};

/// At most this many table names are spelled out per sentence.
const NAMES_SHOWN: usize = 5;

/// The delta as a short text block: added access, then removed access, one line each.
pub fn human(d: &Delta) -> String {
    let mut out = format!("\nCompared with {} ({}):\n", d.base, short(&d.commit));
    push_list(&mut out, "Added access", &added(d), "  - ");
    push_list(&mut out, "Removed access", &removed(d), "  - ");
    out.push_str(&footer(d));
    out
}

/// The delta as Markdown (a heading level 3 section for the step summary); at most
/// `limit` lines per list, with a line saying how many more there are.
pub fn markdown(d: &Delta, limit: usize) -> String {
    let mut out = format!("### Changes against `{}` ({})\n\n", d.base, short(&d.commit));
    for (title, lines) in [("Added access", added(d)), ("Removed access", removed(d))] {
        if lines.is_empty() {
            out.push_str(&format!("**{title}:** none.\n\n"));
            continue;
        }
        out.push_str(&format!("**{title}:**\n\n"));
        for l in lines.iter().take(limit) {
            out.push_str(&format!("- {}\n", l.replace('|', "\\|")));
        }
        if lines.len() > limit {
            out.push_str(&format!(
                "- … and {} more (the JSON report's `delta` has them all)\n",
                lines.len() - limit
            ));
        }
        out.push('\n');
    }
    out.push_str(&footer(d));
    out.push('\n');
    out
}

/// One sentence per added change.
pub fn added(d: &Delta) -> Vec<String> {
    d.added
        .iter()
        .map(|c| {
            let was = match c.before {
                "not_allowed" => String::new(),
                b => format!(" (was {})", b.replace('_', " ")),
            };
            let how = if c.after == "conditional" {
                " under conditions"
            } else {
                ""
            };
            format!("this change lets `{}` {}{how}{was}", c.address, action(c))
        })
        .collect()
}

/// One sentence per removed change.
pub fn removed(d: &Delta) -> Vec<String> {
    d.removed
        .iter()
        .map(|c| {
            let now = match c.after {
                "not_allowed" => String::new(),
                a => format!(" (now {})", a.replace('_', " ")),
            };
            format!("`{}` can no longer {}{now}", c.address, action(c))
        })
        .collect()
}

/// What the capability lets a principal do, on what.
fn action(c: &Change) -> String {
    let on = on(c);
    match c.capability.as_str() {
        "enable" => format!("enable replication on {on}"),
        "disable" => format!("disable replication on {on}"),
        "update" => format!("change the replication settings of {on}"),
        "describe" => format!("read the replication settings of {on}"),
        "create-slr" => format!("create the replication service-linked role{}", slr(c)),
        "delete-slr" => format!("delete the replication service-linked role{}", slr(c)),
        other => format!("use `{other}` on {on}"),
    }
}

fn slr(c: &Change) -> String {
    c.slr
        .as_ref()
        .filter(|s| s.id.contains('#'))
        .map(|s| format!(" `{}`", s.name))
        .unwrap_or_default()
}

/// `Orders`, `Orders, Music`, `Orders and 3 more tables`, `every table not declared here`.
fn on(c: &Change) -> String {
    let mut names: Vec<&str> = c.tables.iter().map(|t| t.name.as_str()).collect();
    names.dedup();
    let mut parts = names.iter().take(NAMES_SHOWN).copied().collect::<Vec<_>>().join(", ");
    if names.len() > NAMES_SHOWN {
        parts.push_str(&format!(" and {} more tables", names.len() - NAMES_SHOWN));
    }
    match (parts.is_empty(), c.undeclared) {
        (true, _) => "tables not declared in the inputs (*)".to_string(),
        (false, true) => format!("{parts} and tables not declared in the inputs (*)"),
        (false, false) => parts,
    }
}

fn push_list(out: &mut String, title: &str, lines: &[String], bullet: &str) {
    if lines.is_empty() {
        out.push_str(&format!("{title}: none.\n"));
        return;
    }
    out.push_str(&format!("{title}:\n"));
    for l in lines {
        out.push_str(bullet);
        out.push_str(l);
        out.push('\n');
    }
}

fn footer(d: &Delta) -> String {
    let mut out = format!(
        "{} finding(s) the base already had are not reported.\n",
        d.unchanged_findings
    );
    if d.base_errors > 0 {
        out.push_str(&format!(
            "{} input(s) failed to load at the base; their access counts as absent there.\n",
            d.base_errors
        ));
    }
    out
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::Named;

    fn change(cap: &str, before: &'static str, after: &'static str, tables: &[&str]) -> Change {
        Change {
            principal: "infra#aws_iam_role.etl".into(),
            address: "aws_iam_role.etl".into(),
            capability: cap.into(),
            tables: tables
                .iter()
                .map(|t| Named {
                    id: format!("infra#{t}"),
                    name: t.to_string(),
                })
                .collect(),
            undeclared: false,
            slr: None,
            before,
            after,
        }
    }

    #[test]
    fn changes_read_as_sentences() {
        let d = Delta {
            base: "main".into(),
            commit: "0123456789abcdef".into(),
            added: vec![change("disable", "not_allowed", "allowed", &["Orders"])],
            removed: vec![change("enable", "allowed", "not_allowed", &["Music", "Orders"])],
            unchanged_findings: 2,
            base_errors: 0,
        };
        assert_eq!(
            added(&d),
            ["this change lets `aws_iam_role.etl` disable replication on Orders"]
        );
        assert_eq!(
            removed(&d),
            ["`aws_iam_role.etl` can no longer enable replication on Music, Orders"]
        );
        let text = human(&d);
        assert!(text.starts_with("\nCompared with main (0123456789ab):\n"), "{text}");
        assert!(text.contains("2 finding(s) the base already had"), "{text}");
    }
}
