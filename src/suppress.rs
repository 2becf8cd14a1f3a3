//! Suppressions: a team's statement that a finding is accepted, with a reason and an
//! optional expiry.
//!
//! Written as a comment in HCL or YAML (`# kdsguard:ignore KDS004 reason: ... expires:
//! 2027-01-31`, or `//` in HCL), or in CloudFormation metadata (`Metadata: {kdsguard:
//! {ignore: [{rule, reason, expires}]}}`, at template or resource level). A comment covers
//! findings that start on its line or the next, findings whose span contains it (a trailing
//! comment), findings inside a policy statement that starts on its line or the next, and
//! findings whose principal or resource is declared there. A comment in a block of comment
//! lines speaks for the line after the block, and when a declaration (a Terraform block, a
//! CloudFormation logical id) starts on that line, or on the line a trailing comment ends,
//! it covers every finding inside the declaration. `reason:` and `expires:` may continue on
//! the next comment lines of the block. Every
//! problem with a suppression is a [`Problem`], which KDS014 reports: no reason or a bad
//! date (it does not work), expired (it stopped working), an unknown rule, a near-spelling
//! of the marker (it works, but is not the canonical spelling), or nothing suppressed.

use crate::finding::{Finding, Resource};
use crate::graph::Graph;
use crate::model::{Scope, Suppression};
use crate::source::{SourceMap, Span};

/// The marker that starts a suppression comment.
pub(crate) const MARKER: &str = "kdsguard:ignore";

/// The canonical form, for messages.
pub(crate) const CANONICAL: &str = "kdsguard:ignore <RULE> reason: <why> [expires: YYYY-MM-DD]";

/// A finding hidden by a suppression.
#[derive(Clone, PartialEq, Debug)]
pub struct Suppressed {
    pub finding: Finding,
    pub reason: String,
    pub at: Span,
}

/// What is wrong with a suppression.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProblemKind {
    /// No `reason:`: the suppression does not work.
    NoReason,
    /// Past its expiry: it no longer works.
    Expired,
    /// It names a rule that does not exist.
    UnknownRule,
    /// Not the canonical spelling (`kdsguard: ignore`, `kdsguard-ignore`), a bad date, or no rule.
    Malformed,
    /// It matched no finding.
    Unused,
}

/// A problem with one suppression, at the suppression.
#[derive(Clone, PartialEq, Debug)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    pub span: Span,
}

/// Finds suppression comments in every loaded file, in the canonical spelling and in the
/// near-spellings people write (`kdsguard: ignore`, `kdsguard-ignore`, `kdsguard_ignore`).
pub(crate) fn from_comments(sources: &SourceMap) -> Vec<Suppression> {
    use rayon::prelude::*;
    // Files in path order, each read on its own (a large estate's files in parallel).
    let per_file: Vec<Vec<Suppression>> = sources.files().par_iter().map(|f| file_comments(f)).collect();
    per_file.into_iter().flatten().collect()
}

/// Where "kdsguard" first appears in `text`, in any case (a byte search for its first
/// letter, then a comparison: most bytes are skipped by `memchr`).
fn find_name(text: &str) -> Option<usize> {
    const NAME: &[u8] = b"kdsguard";
    let bytes = text.as_bytes();
    memchr::memchr2_iter(b'k', b'K', bytes).find(|&i| {
        bytes
            .get(i..i + NAME.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(NAME))
    })
}

/// The comment suppressions of one file.
fn file_comments(file: &crate::source::SourceFile) -> Vec<Suppression> {
    let mut out = Vec::new();
    // Every spelling `marker` knows holds "kdsguard" in some case: a file without it has
    // no suppression (one search per file instead of one per line).
    if find_name(&file.text).is_none() {
        return out;
    }
    let mut lines = Vec::new();
    let mut offset = 0usize;
    for line in file.text.split_inclusive('\n') {
        lines.push((offset, line));
        offset += line.len();
    }
    for (k, &(offset, line)) in lines.iter().enumerate() {
        let Some((pos, after)) = marker(line) else {
            continue;
        };
        let before = &line[..pos];
        if !(before.contains('#') || before.contains("//")) {
            continue;
        }
        let start = offset + before.rfind(['#', '/']).unwrap_or(pos);
        let end = offset + line.trim_end().len();
        let span = Span::new(file.id, start, end);
        let mut text = line[after..].to_string();
        let number = k + 1;
        let scope = if comment_text(line).is_some() {
            // A full-line comment speaks for the line after its block of comment lines;
            // the lines of the block below it may carry its `reason:` and `expires:`.
            let below = lines[k + 1..].iter().take_while(|(_, l)| comment_text(l).is_some());
            let mut continuing = true;
            let mut block = 0;
            for (_, l) in below {
                block += 1;
                let rest = comment_text(l).unwrap_or_default();
                continuing &= marker(l).is_none() && (rest.starts_with("reason:") || rest.starts_with("expires:"));
                if continuing {
                    text.push(' ');
                    text.push_str(rest);
                }
            }
            let after_block = number + block + 1;
            Scope::Lines {
                comment: span,
                first: number,
                last: after_block,
                opens: after_block,
            }
        } else {
            Scope::Lines {
                comment: span,
                first: number,
                last: number + 1,
                opens: number,
            }
        };
        let (rules, reason, expires) = parse_comment(&text);
        out.push(Suppression {
            rules,
            reason,
            expires,
            scope,
            span,
        });
    }
    out
}

/// The text of a line that is only a comment (`#` or `//`), without the comment marker.
fn comment_text(line: &str) -> Option<&str> {
    let t = line.trim_start();
    t.strip_prefix("//").or_else(|| t.strip_prefix('#')).map(str::trim)
}

/// Where the marker (or a near-spelling of it) starts in `line`, and where it ends.
fn marker(line: &str) -> Option<(usize, usize)> {
    if let Some(pos) = line.find(MARKER) {
        return Some((pos, pos + MARKER.len()));
    }
    let pos = find_name(line)?;
    let rest = &line[pos + "kdsguard".len()..];
    let sep = rest.trim_start_matches(' ');
    let sep = sep.strip_prefix([':', '-', '_'])?.trim_start_matches(' ');
    let word = sep.get(..6)?;
    word.eq_ignore_ascii_case("ignore")
        .then(|| (pos, line.len() - sep.len() + 6))
}

/// The spelling a comment suppression used, when it is not the canonical one.
fn near_spelling(s: &Suppression, sources: &SourceMap) -> Option<String> {
    let Scope::Lines { comment: span, .. } = s.scope else {
        return None;
    };
    let text = sources.get(span.file)?.slice(span)?.to_string();
    if text.contains(MARKER) {
        return None;
    }
    let (pos, end) = marker(&text)?;
    Some(text[pos..end].to_string())
}

/// `KDS004,KDS005 reason: text expires: 2027-01-31` → (rules, reason, expires).
fn parse_comment(rest: &str) -> (Vec<String>, Option<String>, Option<String>) {
    let (head, expires) = match rest.find("expires:") {
        Some(i) => (&rest[..i], Some(rest[i + "expires:".len()..].trim().to_string())),
        None => (rest, None),
    };
    let (rules, reason) = match head.find("reason:") {
        Some(i) => (&head[..i], Some(head[i + "reason:".len()..].trim().to_string())),
        None => (head, None),
    };
    let rules = rules
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    (
        rules,
        reason.filter(|r| !r.is_empty()),
        expires.filter(|e| !e.is_empty()),
    )
}

/// What [`apply`] gives: the findings kept, those suppressed, and the problems.
pub struct Applied {
    pub kept: Vec<Finding>,
    pub hidden: Vec<Suppressed>,
    pub problems: Vec<Problem>,
}

/// Applies suppressions to findings. `known` lists every rule id and name.
pub fn apply(
    findings: Vec<Finding>,
    suppressions: &[Suppression],
    graph: &Graph,
    sources: &SourceMap,
    today: &str,
    known: &[String],
) -> Applied {
    let mut problems = Vec::new();
    let mut active = Vec::new();
    for s in suppressions {
        let mut problem = |kind: ProblemKind, message: String| {
            problems.push(Problem {
                kind,
                message,
                span: s.span,
            })
        };
        if let Some(spelling) = near_spelling(s, sources) {
            problem(
                ProblemKind::Malformed,
                format!("`{spelling}` is not the canonical spelling: write `{MARKER}` (this one is honoured)"),
            );
        }
        for r in s.rules.iter().filter(|r| !known.contains(r)) {
            problem(
                ProblemKind::UnknownRule,
                format!("suppression names unknown rule `{r}`"),
            );
        }
        if s.rules.is_empty() {
            problem(
                ProblemKind::Malformed,
                format!("suppression names no rule: write `{CANONICAL}`"),
            );
        } else if s.reason.is_none() {
            problem(
                ProblemKind::NoReason,
                format!("suppression of {} has no `reason:` and is ignored", s.rules.join(", ")),
            );
        } else if let Some(date) = &s.expires {
            if !is_date(date) {
                problem(
                    ProblemKind::Malformed,
                    format!("suppression expiry {date:?} is not a date (YYYY-MM-DD); the suppression is ignored"),
                );
            } else if date.as_str() < today {
                problem(
                    ProblemKind::Expired,
                    format!(
                        "suppression of {} expired on {date} and no longer applies",
                        s.rules.join(", ")
                    ),
                );
            } else {
                active.push(s);
            }
        } else {
            active.push(s);
        }
    }
    let mut used = vec![false; active.len()];
    let mut kept = Vec::new();
    let mut hidden = Vec::new();
    let statements = Statements::of(graph, !active.is_empty());
    let comments = active.iter().any(|s| matches!(s.scope, Scope::Lines { .. }));
    let declared = Declarations::of(graph, sources, comments);
    for f in findings {
        let stmt = statements.enclosing(f.span);
        let hit = active.iter().position(|s| {
            s.rules.iter().any(|r| f.rule == **r || r == &f.name) && covers(s, &f, stmt, graph, sources, &declared)
        });
        match hit {
            Some(k) => {
                used[k] = true;
                hidden.push(Suppressed {
                    reason: active[k].reason.clone().unwrap_or_default(),
                    at: active[k].span,
                    finding: f,
                });
            }
            None => kept.push(f),
        }
    }
    for (s, used) in active.iter().zip(used) {
        let named: Vec<&str> = s
            .rules
            .iter()
            .filter(|r| known.contains(r))
            .map(String::as_str)
            .collect();
        if !used && !named.is_empty() {
            problems.push(Problem {
                kind: ProblemKind::Unused,
                message: format!("unused suppression: no {} finding here", named.join(", ")),
                span: s.span,
            });
        }
    }
    Applied { kept, hidden, problems }
}

/// Every policy statement's span by file, sorted, to find the statement a finding is in.
struct Statements(std::collections::HashMap<crate::source::FileId, Vec<Span>>);

impl Statements {
    /// Built only when some suppression is active (there is nothing to cover otherwise).
    fn of(graph: &Graph, needed: bool) -> Statements {
        let mut by_file: std::collections::HashMap<crate::source::FileId, Vec<Span>> = Default::default();
        for p in graph.policies.iter().filter(|_| needed) {
            for st in &p.policy.document.statements {
                by_file.entry(st.span.file).or_default().push(st.span);
            }
        }
        for v in by_file.values_mut() {
            v.sort_by_key(|s| (s.start, s.end));
            v.dedup();
        }
        Statements(by_file)
    }

    /// The statement whose span contains `span`, if any (statements do not nest, so it is
    /// the last one starting at or before it).
    fn enclosing(&self, span: Span) -> Option<Span> {
        let v = self.0.get(&span.file)?;
        let k = v.partition_point(|s| s.start <= span.start);
        v[..k].last().filter(|s| s.end >= span.end).copied()
    }
}

/// The spans of every declaration (principal, group, policy, attachment, table, stream,
/// key, service-linked role) by file and starting line, so a comment above a Terraform
/// block or a CloudFormation logical id finds what it stands above.
struct Declarations(std::collections::HashMap<(crate::source::FileId, usize), Vec<Span>>);

impl Declarations {
    /// Built only when some comment suppression is active.
    fn of(graph: &Graph, sources: &SourceMap, needed: bool) -> Declarations {
        let mut by_line: std::collections::HashMap<(crate::source::FileId, usize), Vec<Span>> = Default::default();
        for input in graph.inputs.iter().filter(|_| needed) {
            let spans = (input.principals.iter().map(|x| x.span))
                .chain(input.groups.iter().map(|x| x.span))
                .chain(input.memberships.iter().map(|x| x.span))
                .chain(input.policies.iter().map(|x| x.span))
                .chain(input.attachments.iter().map(|x| x.span))
                .chain(input.tables.iter().map(|x| x.span))
                .chain(input.streams.iter().map(|x| x.span))
                .chain(input.destinations.iter().map(|x| x.span))
                .chain(input.keys.iter().map(|x| x.span))
                .chain(input.slrs.iter().map(|x| x.span));
            for span in spans {
                if let Some(at) = sources.start(span) {
                    by_line.entry((span.file, at.line)).or_default().push(span);
                }
            }
        }
        for v in by_line.values_mut() {
            v.sort_by_key(|s| (s.start, s.end));
            v.dedup();
        }
        Declarations(by_line)
    }

    /// The declarations that start on this line of this file.
    fn opening(&self, file: crate::source::FileId, line: usize) -> &[Span] {
        self.0.get(&(file, line)).map_or(&[], Vec::as_slice)
    }
}

fn covers(
    s: &Suppression,
    f: &Finding,
    stmt: Option<Span>,
    graph: &Graph,
    sources: &SourceMap,
    declared: &Declarations,
) -> bool {
    let mut declarations = declaration_spans(f, graph);
    // The statement's first line (or the line above it) covers what is found inside it.
    declarations.extend(stmt);
    let within =
        |outer: Span, span: Span| span.file == outer.file && span.start >= outer.start && span.end <= outer.end;
    match &s.scope {
        Scope::Lines {
            comment,
            first,
            last,
            opens,
        } => {
            let on_line = |span: Span| {
                span.file == comment.file && sources.start(span).is_some_and(|l| (*first..=*last).contains(&l.line))
            };
            // A comment inside the finding's statement (a trailing one) covers it too.
            let inside = f.span.file == comment.file && f.span.start <= comment.start && comment.start < f.span.end;
            // A comment above a declaration (or trailing its first line) covers it whole.
            let block = declared
                .opening(comment.file, *opens)
                .iter()
                .any(|d| within(*d, f.span));
            inside || block || on_line(f.span) || declarations.iter().any(|d| on_line(*d))
        }
        Scope::Within(outer) => within(*outer, f.span) || declarations.iter().any(|d| within(*outer, *d)),
        Scope::File(any) => f.span.file == any.file,
    }
}

/// The declarations of the finding's principal and resource.
fn declaration_spans(f: &Finding, graph: &Graph) -> Vec<Span> {
    let mut out = Vec::new();
    if let Some(p) = f.principal {
        out.extend(graph.principals[p].span);
    }
    match f.resource {
        Some(Resource::Table(t)) => out.push(graph.tables[t].table.span),
        // The role's own id is its first declaration's.
        Some(Resource::Slr(s)) => out.extend(graph.slrs[s].first().map(|d| d.span)),
        Some(Resource::SlrDeclaration { slr, declaration }) => out.push(graph.slrs[slr].declarations[declaration].span),
        Some(Resource::Undeclared) | None => {}
    }
    out
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub(crate) fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_date(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// Days since 1970-01-01 → `YYYY-MM-DD` (proleptic Gregorian).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_found_in_any_case_at_its_first_place() {
        assert_eq!(find_name("# KDSGuard:ignore KDS004"), Some(2));
        assert_eq!(find_name("k kd kdsguar kdsGUARD kdsguard"), Some(13));
        assert_eq!(find_name("kdsguar"), None);
        assert_eq!(find_name(""), None);
        // Multi-byte text before it: a byte position, as `str::find` gives.
        assert_eq!(find_name("é kdsguard"), "é kdsguard".find("kdsguard"));
    }

    #[test]
    fn comments_parse_rules_reason_and_expiry() {
        let (r, reason, exp) = parse_comment(" KDS004,KDS005 reason: break-glass role expires: 2027-01-31");
        assert_eq!(r, ["KDS004", "KDS005"]);
        assert_eq!(reason.as_deref(), Some("break-glass role"));
        assert_eq!(exp.as_deref(), Some("2027-01-31"));
        let (r, reason, exp) = parse_comment(" slr-deletable");
        assert_eq!(r, ["slr-deletable"]);
        assert!(reason.is_none() && exp.is_none());
    }

    #[test]
    fn near_spellings_of_the_marker_are_found() {
        assert_eq!(marker("# kdsguard:ignore KDS004"), Some((2, 17)));
        for line in [
            "# kdsguard: ignore KDS004",
            "# kdsguard-ignore KDS004",
            "// KDSGUARD_IGNORE KDS004",
        ] {
            let (pos, end) = marker(line).unwrap_or_else(|| unreachable!("{line}"));
            assert_eq!(line[end..].trim(), "KDS004", "{line} from {pos}");
        }
        assert_eq!(marker("# kdsguard checks this"), None);
    }

    #[test]
    fn a_file_is_passed_over_only_without_the_marker_in_any_case() {
        let sources = SourceMap::new();
        sources.add(
            "loud.tf",
            std::sync::Arc::from("// KDSGUARD_IGNORE KDS004 reason: shouted\nresource \"x\" \"y\" {}\n"),
        );
        sources.add(
            "plain.tf",
            std::sync::Arc::from("# ignore KDS004\nresource \"x\" \"z\" {}\n"),
        );
        let found = from_comments(&sources);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(sources.path(found[0].span), "loud.tf");
        assert_eq!(found[0].rules, ["KDS004"]);
    }

    #[test]
    fn a_comment_block_speaks_for_the_line_after_it() {
        let sources = SourceMap::new();
        sources.add(
            "main.tf",
            std::sync::Arc::from(
                "# kdsguard:ignore KDS003 reason: a\n\
                 // kdsguard:ignore KDS004\n\
                 #   reason: b\n\
                 #   expires: 2027-01-31\n\
                 # prose, not rules\n\
                 resource \"aws_iam_role\" \"r\" { # kdsguard:ignore KDS010 reason: c\n\
                 }\n",
            ),
        );
        let found = from_comments(&sources);
        let scopes: Vec<(usize, usize, usize)> = found
            .iter()
            .map(|s| match s.scope {
                Scope::Lines { first, last, opens, .. } => (first, last, opens),
                _ => unreachable!(),
            })
            .collect();
        // Both block comments speak for line 6; the trailing one for its own line.
        assert_eq!(scopes, [(1, 6, 6), (2, 6, 6), (6, 7, 6)]);
        assert_eq!(found[1].rules, ["KDS004"]);
        assert_eq!(found[1].reason.as_deref(), Some("b"));
        assert_eq!(found[1].expires.as_deref(), Some("2027-01-31"));
        assert_eq!(found[0].reason.as_deref(), Some("a"));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_819), "2027-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert!(is_date("2027-01-31"));
        assert!(!is_date("2027-1-31"));
    }
}
