//! The PR delta in words ("this change lets `aws_iam_role.etl` disable replication on
//! Orders"), shared by the human and Markdown reports. Reads the [`Delta`] the analysis
//! computed; decides nothing.

use crate::compare::Delta;

/// The delta as a short text block: added access, then removed access, one line each.
pub fn human(d: &Delta) -> String {
    let mut out = format!("\nCompared with {} ({}):\n", d.base, short(&d.commit));
    push_list(&mut out, "Added access", &added(d), "  - ");
    push_list(&mut out, "Removed access", &removed(d), "  - ");
    out.push_str(&footer(d));
    out
}

/// The delta as Markdown (a heading level 3 section for the step summary): first the
/// findings the change raises (`findings`, list items already written), then the access
/// added and removed, at most `limit` lines per list, with a line saying how many more.
pub fn markdown(d: &Delta, findings: &[String], limit: usize) -> String {
    let mut out = format!("### Changes against `{}` ({})\n\n", d.base, short(&d.commit));
    if findings.is_empty() {
        out.push_str("**Findings on added access (KDS015):** none.\n\n");
    } else {
        out.push_str("**Findings on added access (KDS015):**\n\n");
        for l in findings {
            out.push_str(&format!("- {l}\n"));
        }
        out.push('\n');
    }
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
    d.added.iter().map(crate::compare::added_words).collect()
}

/// One sentence per removed change.
pub fn removed(d: &Delta) -> Vec<String> {
    d.removed.iter().map(crate::compare::removed_words).collect()
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
    use crate::compare::{Change, Named};

    fn change(cap: &str, before: &'static str, after: &'static str, tables: &[&str]) -> Change {
        Change {
            principal: "infra#aws_iam_role.etl".into(),
            address: "aws_iam_role.etl".into(),
            capability: cap.into(),
            words: crate::catalog::capabilities()
                .ok()
                .and_then(|c| c.get(cap)?.words.clone()),
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

    #[test]
    fn a_change_reads_as_its_capability_words_from_the_catalogue() {
        let mut c = change("inspect", "not_allowed", "allowed", &["Orders"]);
        assert_eq!(
            crate::compare::added_words(&c),
            "this change lets `aws_iam_role.etl` use `inspect` on Orders"
        );
        c.words = Some("read the description of".into());
        assert_eq!(
            crate::compare::added_words(&c),
            "this change lets `aws_iam_role.etl` read the description of Orders"
        );
    }
}
