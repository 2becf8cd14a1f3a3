//! A query's answer (`query::Answer`) rendered: the JSON wire types of `query --format
//! json` and the human proof trees.

use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::catalog::On;
use crate::model::PolicyKind;
use crate::query::{
    ActionProof, Answer, Check, CheckKind, CheckStatus, Entry, PolicyProof, RequirementProof, Route, RouteKind,
    StatementProof,
};
use crate::report::json::{ConditionOut, PrincipalOut, ViaOut, condition_out, via_out};
use crate::source::{SourceMap, Span};

/// A query's answer (wire type for `--format json`).
#[derive(Serialize, Debug)]
pub(crate) struct AnswerOut {
    /// `who-can`, `can` or `why`.
    pub query: &'static str,
    pub capability: String,
    /// What the capability means.
    pub summary: String,
    /// The principal asked about (`can`, `why`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The resource asked about (`--on` or `why`'s resource) as given; absent: every one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
    /// One entry per (principal, resource), sorted by principal id then resource id.
    pub results: Vec<EntryOut>,
    pub assumptions: Vec<String>,
}

/// One decision with its proof.
#[derive(Serialize, Debug)]
pub(crate) struct EntryOut {
    pub principal: PrincipalOut,
    /// The resource id (`*` for every undeclared table).
    pub resource: String,
    /// A short human name of the resource (`table Orders`).
    pub resource_name: String,
    pub decision: &'static str,
    /// Requirements no Allow reaches (for `not_allowed` and `denied`).
    pub missing: Vec<String>,
    pub requirements: Vec<RequirementOut>,
    /// The checks that could have blocked the decision: explicit Denies, the permissions
    /// boundary, the SCPs.
    pub checks: Vec<CheckOut>,
    /// For access held through other principals: the steps, the last one's principal
    /// holding the capability (whose proof `requirements` and `checks` give).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<ViaOut>,
    /// The path in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One requirement of the capability and how it was decided.
#[derive(Serialize, Debug)]
pub(crate) struct RequirementOut {
    pub action: String,
    /// What it is evaluated on: `table`, `stream`, `any` (`*`) or `slr`.
    pub on: &'static str,
    /// The resource of the request, as text.
    pub resource: String,
    pub primary: bool,
    pub decision: &'static str,
    /// The Allow statements that grant it (identity and resource policies).
    pub grants: Vec<StatementOut>,
    /// The permissions-boundary (or session-policy) statements that allow it.
    pub boundary: Vec<StatementOut>,
    /// Declared SCP Allow statements that let it through (besides the assumed FullAWSAccess).
    pub scps: Vec<StatementOut>,
    /// The Deny statements that apply (`certain`) or might apply.
    pub denies: Vec<StatementOut>,
    /// Undecided conditions and unresolved values.
    pub conditions: Vec<ConditionOut>,
    /// For a requirement that is not granted: why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A statement that took part in a decision, with the route from the principal to it.
#[derive(Serialize, Debug)]
pub(crate) struct StatementOut {
    pub effect: &'static str,
    pub layer: &'static str,
    /// `false`: it applies only under an undecided condition or unresolved value.
    pub certain: bool,
    pub policy: PolicyOut,
    /// How the policy reaches the principal.
    pub routes: Vec<RouteOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The action string that matched (or the `NotAction` key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<TextOut>,
    /// The statement's resource patterns that cover the request (all of them when that
    /// cannot be narrowed down); `NotResource` patterns are prefixed with `not `.
    pub resources: Vec<String>,
    /// The statement's conditions, as `Operator key [values]`.
    pub conditions: Vec<String>,
}

#[derive(Serialize, Debug)]
pub(crate) struct PolicyOut {
    pub address: String,
    /// `inline`, `managed`, `aws-managed`, `scp` or `resource`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Serialize, Debug)]
pub(crate) struct RouteOut {
    /// `inline` (declared on the principal), `attachment` (an attachment resource or a
    /// managed-policy list entry), `group` (through a group the user is in), `boundary`
    /// (set as the principal's permissions boundary), `scp`
    /// (applies to every analysed principal) or `resource-policy`.
    pub kind: &'static str,
    /// The group's address, for `group`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Where the user is made a member of the group, for `group`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership: Option<TextOut>,
    /// Where the policy is attached (the attachment, or the inline policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<TextOut>,
}

/// A place in a source file and, where useful, the text there.
#[derive(Serialize, Debug)]
pub(crate) struct TextOut {
    pub text: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// A check that could have blocked the decision.
#[derive(Serialize, Debug)]
pub(crate) struct CheckOut {
    /// `explicit-deny`, `permissions-boundary` or `scp`.
    pub check: &'static str,
    /// `passed`, `might-block`, `blocked`, `not-set` or `not-reached`.
    pub status: &'static str,
    pub(crate) detail: String,
    /// The policies the check read (addresses).
    pub policies: Vec<String>,
}

/// The answer as JSON (`query --format json`).
pub fn render_json(a: &Analysis, answer: &Answer) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(&answer_out(a, answer))?;
    s.push('\n');
    Ok(s)
}

/// The answer as text: a headline, then one tree per decision (statements with their
/// file:line:column), then the assumptions.
pub fn render_human(a: &Analysis, answer: &Answer) -> String {
    let answer = &answer_out(a, answer);
    let mut out = String::new();
    let slr = a.decisions.named(&answer.capability).is_some_and(|c| c.about_slr());
    let on = match answer.on.as_deref() {
        None | Some("slr") if slr => match a.graph.slrs.len() {
            1 => crate::slr::words(&a.graph, &a.sources, 0),
            _ => "the service-linked role".to_string(),
        },
        None => "every table (and * for the tables the inputs do not declare)".to_string(),
        Some(on) => on.to_string(),
    };
    let who = answer.principal.as_deref().unwrap_or_default();
    let cap = &answer.capability;
    let _ = match answer.query {
        "who-can" => writeln!(out, "Who can {cap} on {on}?"),
        "can" => writeln!(out, "Can {who} {cap} on {on}?"),
        _ => writeln!(out, "Why: can {who} {cap} on {on}? The full proof:"),
    };
    let _ = writeln!(out, "({}: {})", answer.capability, answer.summary);
    if answer.results.is_empty() {
        out.push('\n');
        out.push_str(match answer.query {
            "who-can" => "Nobody in the analysed templates.\n",
            _ => "No: no statement relevant to this capability reaches the principal.\n",
        });
    }
    let full = answer.query == "why";
    for e in &answer.results {
        out.push('\n');
        render_tree(&entry_tree(e, full), &mut out);
    }
    if answer.query == "who-can" && !answer.results.is_empty() {
        let mut who: Vec<&str> = answer.results.iter().map(|e| e.principal.id.as_str()).collect();
        who.dedup();
        let _ = writeln!(out, "\n{} principal(s).", who.len());
    }
    if !answer.assumptions.is_empty() {
        out.push_str("\nAssumptions:\n");
        for s in &answer.assumptions {
            let _ = writeln!(out, "  - {s}");
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The answer in wire types.

fn answer_out(a: &Analysis, answer: &Answer) -> AnswerOut {
    let cap = a.decisions.capability(answer.capability);
    AnswerOut {
        query: answer.ask.as_str(),
        capability: cap.id.clone(),
        summary: cap.summary.clone(),
        principal: answer.principal.map(|p| a.graph.principals[p].id.clone()),
        on: answer.on.clone(),
        results: answer.results.iter().map(|e| entry_out(a, e)).collect(),
        assumptions: a.assumptions.clone(),
    }
}

fn entry_out(a: &Analysis, e: &Entry) -> EntryOut {
    EntryOut {
        principal: PrincipalOut::of(a, &a.graph.principals[e.principal]),
        resource: e.resource.clone(),
        resource_name: e.resource_name.clone(),
        decision: e.decision.as_str(),
        missing: e.missing.clone(),
        requirements: e.requirements.iter().map(|r| requirement_out(a, r)).collect(),
        checks: e.checks.iter().map(check_out).collect(),
        via: e.via.as_ref().map(|x| via_out(a, x)).unwrap_or_default(),
        path: e.path.clone(),
    }
}

fn requirement_out(a: &Analysis, r: &RequirementProof) -> RequirementOut {
    let statements = |ss: &[StatementProof]| ss.iter().map(|s| statement_out(&a.sources, s)).collect();
    RequirementOut {
        action: r.action.clone(),
        on: match r.on {
            Some(On::Table) => "table",
            Some(On::Stream) => "stream",
            Some(On::Any) => "any",
            Some(On::Slr) => "slr",
            Some(On::OtherSlr) => "other-slr",
            None => "unknown",
        },
        resource: r.resource.clone(),
        primary: r.primary,
        decision: r.decision.as_str(),
        grants: statements(&r.grants),
        boundary: statements(&r.boundary),
        scps: statements(&r.scps),
        denies: statements(&r.denies),
        conditions: r.open.iter().map(|o| condition_out(&a.sources, o)).collect(),
        reason: r.reason.clone(),
    }
}

fn statement_out(src: &SourceMap, s: &StatementProof) -> StatementOut {
    let at = located(src, s.statement);
    StatementOut {
        effect: s.effect.as_str(),
        layer: s.layer.as_str(),
        certain: s.certain,
        policy: policy_out(src, &s.policy),
        routes: s.routes.iter().map(|r| route_out(src, r)).collect(),
        sid: s.sid.clone(),
        file: at.file,
        line: at.line,
        column: at.column,
        action: s.action.as_ref().map(|x| match x {
            ActionProof::At(span) => located(src, *span),
            ActionProof::Bundled(text) => TextOut {
                text: text.clone(),
                file: BUILTIN.to_string(),
                line: 0,
                column: 0,
            },
        }),
        resources: s.resources.clone(),
        conditions: s.conditions.clone(),
    }
}

fn policy_out(src: &SourceMap, p: &PolicyProof) -> PolicyOut {
    PolicyOut {
        address: p.address.clone(),
        kind: policy_kind(p.kind, p.aws_managed),
        file: p.span.map(|s| src.path(s)),
        line: p.span.and_then(|s| src.start(s)).map(|lc| lc.line),
    }
}

fn policy_kind(kind: PolicyKind, aws_managed: bool) -> &'static str {
    match kind {
        PolicyKind::Managed if aws_managed => "aws-managed",
        PolicyKind::Managed => "managed",
        PolicyKind::Inline => "inline",
        PolicyKind::Scp => "scp",
        PolicyKind::Resource => "resource",
        PolicyKind::Trust => "trust",
    }
}

fn route_out(src: &SourceMap, r: &Route) -> RouteOut {
    RouteOut {
        kind: match r.kind {
            RouteKind::Inline => "inline",
            RouteKind::Attachment => "attachment",
            RouteKind::Group => "group",
            RouteKind::Boundary => "boundary",
            RouteKind::Scp => "scp",
            RouteKind::ResourcePolicy => "resource-policy",
        },
        group: r.group.clone(),
        membership: r.membership.map(|s| located(src, s)),
        attachment: r.attachment.map(|s| located(src, s)),
    }
}

fn check_out(c: &Check) -> CheckOut {
    CheckOut {
        check: match c.check {
            CheckKind::ExplicitDeny => "explicit-deny",
            CheckKind::PermissionsBoundary => "permissions-boundary",
            CheckKind::Scp => "scp",
        },
        status: match c.status {
            CheckStatus::Passed => "passed",
            CheckStatus::MightBlock => "might-block",
            CheckStatus::Blocked => "blocked",
            CheckStatus::NotSet => "not-set",
            CheckStatus::NotReached => "not-reached",
        },
        detail: c.detail.clone(),
        policies: c.policies.clone(),
    }
}

fn located(src: &SourceMap, span: Span) -> TextOut {
    let lc = src.start(span);
    let text = src
        .get(span.file)
        .and_then(|f| f.slice(span).map(str::to_string))
        .unwrap_or_default();
    let text = text.trim();
    let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    TextOut {
        text: first_line(text),
        file: src.path(span),
        line: lc.map(|l| l.line).unwrap_or(0),
        column: lc.map(|l| l.column).unwrap_or(0),
    }
}

/// The first line of a text, marked when cut.
fn first_line(text: &str) -> String {
    const MAX: usize = 80;
    let line = text.lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(MAX).collect();
    if out.len() < text.len() {
        out.push_str(" …");
    }
    out
}

// ---------------------------------------------------------------------------------------
// Human rendering.

/// A line of the proof tree and the lines under it.
struct Tree {
    text: String,
    children: Vec<Tree>,
}

impl Tree {
    fn leaf(text: impl Into<String>) -> Tree {
        Tree {
            text: text.into(),
            children: Vec::new(),
        }
    }
}

fn render_tree(t: &Tree, out: &mut String) {
    let _ = writeln!(out, "{}", t.text);
    render_children(&t.children, "", out);
}

fn render_children(children: &[Tree], prefix: &str, out: &mut String) {
    for (k, c) in children.iter().enumerate() {
        let last = k + 1 == children.len();
        let (branch, more) = if last { ("└─ ", "   ") } else { ("├─ ", "│  ") };
        let _ = writeln!(out, "{prefix}{branch}{}", c.text);
        render_children(&c.children, &format!("{prefix}{more}"), out);
    }
}

/// The file name of statements from the bundled AWS managed catalogue.
const BUILTIN: &str = crate::source::BUILTIN_PATH;

fn at(file: &str, line: usize, column: usize) -> String {
    if file == BUILTIN {
        "in the bundled AWS managed document".to_string()
    } else {
        format!("at {file}:{line}:{column}")
    }
}

fn entry_tree(e: &EntryOut, full: bool) -> Tree {
    let p = &e.principal;
    let declared = match (&p.file, p.line, p.column) {
        (Some(f), Some(l), Some(c)) => format!(", {f}:{l}:{c}"),
        _ => ", not declared in the inputs".to_string(),
    };
    let indirect = if e.via.is_empty() { "" } else { " (indirect)" };
    let mut root = Tree::leaf(format!(
        "{} ({} {}{declared}) → {}: {}{indirect}",
        p.id, p.kind, p.name, e.resource_name, e.decision
    ));
    if let Some(path) = &e.path {
        let mut t = Tree::leaf(format!("path: {path}"));
        for v in &e.via {
            let mut step = Tree::leaf(format!("{} {}: {}", v.step, v.principal, v.decision));
            for b in &v.because {
                step.children.push(Tree::leaf(format!(
                    "{} {} in {} ({}) at {}:{}:{}",
                    b.effect, b.action, b.policy, b.layer, b.file, b.line, b.column
                )));
            }
            for c in &v.conditions {
                step.children.push(Tree::leaf(match c {
                    ConditionOut::Condition {
                        key,
                        operator,
                        values,
                        file,
                        line,
                    } => format!("condition {operator} {key} {values:?} at {file}:{line}"),
                    ConditionOut::Unknown { unknown, file, line } => format!("unresolved {unknown} at {file}:{line}"),
                }));
            }
            t.children.push(step);
        }
        root.children.push(t);
        root.children.push(Tree::leaf(format!(
            "{} holds it:",
            e.via.last().map(|v| v.principal.as_str()).unwrap_or_default()
        )));
    }
    if !e.missing.is_empty() {
        root.children
            .push(Tree::leaf(format!("missing: {}", e.missing.join(", "))));
    }
    for r in &e.requirements {
        if !full && r.decision == "not_allowed" && r.grants.is_empty() && e.decision != "not_allowed" {
            continue;
        }
        root.children.push(requirement_tree(r, full));
    }
    if full {
        let mut checks = Tree::leaf("checks that did not block it:");
        if e.decision == "denied" || e.decision == "not_allowed" {
            checks.text = "checks:".to_string();
        }
        for c in &e.checks {
            let name = match c.check {
                "explicit-deny" => "explicit Deny",
                "permissions-boundary" => "permissions boundary",
                _ => "SCPs",
            };
            let policies = if c.policies.is_empty() {
                String::new()
            } else {
                format!(" [{}]", c.policies.join(", "))
            };
            checks
                .children
                .push(Tree::leaf(format!("{name}: {}: {}{policies}", c.status, c.detail)));
        }
        root.children.push(checks);
    }
    root
}

fn requirement_tree(r: &RequirementOut, full: bool) -> Tree {
    let primary = if r.primary { " (primary)" } else { "" };
    let mut t = Tree::leaf(format!("{}{primary} on {}: {}", r.action, r.resource, r.decision));
    for s in r.denies.iter().chain(&r.grants) {
        t.children.push(statement_tree(s, full));
    }
    if full {
        for s in &r.boundary {
            t.children.push(statement_tree(s, full));
        }
    }
    for c in &r.conditions {
        t.children.push(Tree::leaf(match c {
            ConditionOut::Condition {
                key,
                operator,
                values,
                file,
                line,
            } => format!("undecided condition {operator} {key} {values:?} at {file}:{line}"),
            ConditionOut::Unknown { unknown, file, line } => format!("unresolved {unknown} at {file}:{line}"),
        }));
    }
    if let Some(reason) = &r.reason {
        t.children.push(Tree::leaf(format!("why not: {reason}")));
    }
    t
}

fn statement_tree(s: &StatementOut, full: bool) -> Tree {
    let certainty = if s.certain { "" } else { " (might apply)" };
    let layer = match s.layer {
        "boundary" => "boundary ",
        "scp" => "SCP ",
        "resource" => "resource-policy ",
        _ => "",
    };
    let kind = match s.policy.kind {
        "aws-managed" => "AWS managed policy, from the bundled catalogue",
        "managed" => "customer managed policy",
        "inline" => "inline policy",
        "scp" => "service control policy",
        _ => "resource policy",
    };
    let sid = s.sid.as_ref().map(|x| format!(" `{x}`")).unwrap_or_default();
    if !full {
        let via = s
            .routes
            .iter()
            .find_map(|r| r.group.as_ref())
            .map(|g| format!(" via group {g}"))
            .unwrap_or_default();
        let action = s.action.as_ref().map(|x| format!(" `{}`", x.text)).unwrap_or_default();
        return Tree::leaf(format!(
            "{layer}{}{certainty}{action} in {}{via}, statement{sid} {}",
            s.effect,
            s.policy.address,
            at(&s.file, s.line, s.column)
        ));
    }
    let mut t = Tree::leaf(format!(
        "{layer}{}{certainty} by policy {} ({kind}{})",
        s.effect,
        s.policy.address,
        match (&s.policy.file, s.policy.line) {
            (Some(f), Some(l)) => format!(", {f}:{l}"),
            _ => String::new(),
        }
    ));
    for r in &s.routes {
        let attached = r
            .attachment
            .as_ref()
            .map(|x| format!(" {}", at(&x.file, x.line, x.column)))
            .unwrap_or_default();
        t.children.push(Tree::leaf(match r.kind {
            "group" => {
                let member = r
                    .membership
                    .as_ref()
                    .map(|m| format!(" (membership {})", at(&m.file, m.line, m.column)))
                    .unwrap_or_default();
                format!(
                    "reaches the user through group {}{member}; attached to the group{attached}",
                    r.group.as_deref().unwrap_or_default()
                )
            }
            "inline" => format!("declared on the principal{attached}"),
            "attachment" => format!("attached to the principal{attached}"),
            "boundary" => format!("set as the principal's permissions boundary{attached}"),
            "scp" => "applies to every analysed principal (SCP)".to_string(),
            _ => "the resource's own policy".to_string(),
        }));
    }
    t.children
        .push(Tree::leaf(format!("statement{sid} {}", at(&s.file, s.line, s.column))));
    if let Some(x) = &s.action {
        t.children.push(Tree::leaf(format!(
            "action `{}` {}",
            x.text,
            at(&x.file, x.line, x.column)
        )));
    }
    if !s.resources.is_empty() {
        t.children
            .push(Tree::leaf(format!("resource {}", s.resources.join(", "))));
    }
    t.children.push(Tree::leaf(if s.conditions.is_empty() {
        "no conditions".to_string()
    } else {
        format!("conditions: {}", s.conditions.join("; "))
    }));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_render_with_branches() {
        let t = Tree {
            text: "root".into(),
            children: vec![
                Tree {
                    text: "a".into(),
                    children: vec![Tree::leaf("a1"), Tree::leaf("a2")],
                },
                Tree::leaf("b"),
            ],
        };
        let mut out = String::new();
        render_tree(&t, &mut out);
        assert_eq!(out, "root\n├─ a\n│  ├─ a1\n│  └─ a2\n└─ b\n");
    }

    #[test]
    fn long_texts_are_cut_to_their_first_line() {
        assert_eq!(first_line("abc"), "abc");
        assert_eq!(first_line("abc\ndef"), "abc …");
        assert_eq!(first_line(""), "");
    }
}
