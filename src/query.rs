//! Queries over the decisions: who-can, can, why — each answer with its proof path.
//!
//! Queries never evaluate IAM: they read the capability decisions of
//! [`crate::capability`] and explain them with what the graph knows of each deciding
//! statement (the policy, how it reaches the principal, where it is written).

use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::capability::{Access, Covers, RequirementDecision};
use crate::catalog::{Capability, On, TargetKind};
use crate::graph::{Graph, PrincipalNode, slr_arn};
use crate::iam::eval::{Because, Layer, Outcome};
use crate::iam::pattern::{Tri, match_resource, text_tokens};
use crate::iam::policy::{Effect, Statement, Which};
use crate::model::PolicyKind;
use crate::report::json::{ConditionOut, PrincipalOut, condition_out};
use crate::source::{SourceMap, Span};
use crate::value::Dialect;
use crate::value::Template;

/// A query's answer (wire type for `--format json`).
#[derive(Serialize, Debug)]
pub struct Answer {
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
    pub results: Vec<Entry>,
    pub assumptions: Vec<String>,
}

/// One decision with its proof.
#[derive(Serialize, Debug)]
pub struct Entry {
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
    pub via: Vec<crate::report::json::ViaOut>,
    /// The path in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One requirement of the capability and how it was decided.
#[derive(Serialize, Debug)]
pub struct RequirementOut {
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
pub struct StatementOut {
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
pub struct PolicyOut {
    pub address: String,
    /// `inline`, `managed`, `aws-managed`, `scp` or `resource`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Serialize, Debug)]
pub struct RouteOut {
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
pub struct TextOut {
    pub text: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// A check that could have blocked the decision.
#[derive(Serialize, Debug)]
pub struct CheckOut {
    /// `explicit-deny`, `permissions-boundary` or `scp`.
    pub check: &'static str,
    /// `passed`, `might-block`, `blocked`, `not-set` or `not-reached`.
    pub status: &'static str,
    pub detail: String,
    /// The policies the check read (addresses).
    pub policies: Vec<String>,
}

/// Which question is asked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ask {
    /// Who can exercise a capability (on a table, or anywhere).
    WhoCan,
    /// Whether one principal can.
    Can,
    /// The full proof of one principal's decision on one target.
    Why,
}

/// A query, as plain data (the command line maps onto it).
#[derive(Clone, Copy, Debug)]
pub struct Question<'a> {
    pub ask: Ask,
    /// A principal address, IAM name or id (`can`, `why`).
    pub principal: Option<&'a str>,
    pub capability: &'a str,
    /// A table (address, name or id), `*`, or `slr`; `None`: every target.
    pub on: Option<&'a str>,
}

/// Answers a query; an error names what was not found (a principal, table, capability)
/// and lists the valid choices.
pub fn answer(a: &Analysis, q: &Question<'_>) -> Result<Answer, String> {
    let query = match q.ask {
        Ask::WhoCan => "who-can",
        Ask::Can => "can",
        Ask::Why => "why",
    };
    let (principal, capability, on) = (q.principal, q.capability, q.on);
    let cap = find_capability(&a.decisions.capabilities, capability)?;
    let who = principal.map(|p| find_principal(&a.graph, p)).transpose()?;
    let targets = on.map(|on| find_targets(&a.graph, cap, on)).transpose()?;
    let dec = &a.decisions;
    let cap_id = dec
        .cap(&cap.id)
        .ok_or_else(|| format!("capability `{}` was not evaluated", cap.id))?;
    let principals: Vec<usize> = match who {
        Some(p) => vec![p],
        None => (0..a.graph.principals.len()).collect(),
    };
    // Looked up per (principal, capability): one entry per set of tables, or per table asked.
    let mut results: Vec<Entry> = Vec::new();
    for p in principals {
        let wanted = |x: &Access| who.is_some() || dec.decision(x).outcome.can();
        match &targets {
            Some(targets) => {
                for t in targets {
                    let x = match t {
                        Target::Table(k) => dec.on_table(p, cap_id, Some(*k)),
                        Target::AllTables => dec.on_table(p, cap_id, None),
                        Target::Slr(s) => dec.on_slr(p, cap_id, *s),
                    };
                    if let Some(x) = x.filter(|x| wanted(x)) {
                        results.push(entry(a, cap, x, Some(t)));
                    }
                }
            }
            None => results.extend(
                dec.of(p, cap_id)
                    .iter()
                    .filter(|x| wanted(x))
                    .map(|x| entry(a, cap, x, None)),
            ),
        }
        // What the principal holds through other principals (only where it beats the
        // direct decision, so a target has at most one of each).
        for x in a.reach.of(p).iter().filter(|x| x.cap == cap_id && x.outcome.can()) {
            match &targets {
                Some(targets) => {
                    for t in targets.iter().filter(|t| covers_target(&x.covers, t)) {
                        results.retain(|e| {
                            !(e.via.is_empty() && e.principal.id == a.graph.principals[p].id && on_target(a, e, t))
                        });
                        results.push(indirect_entry(a, cap, x, Some(t)));
                    }
                }
                None => results.push(indirect_entry(a, cap, x, None)),
            }
        }
    }
    results.sort_by(|x, y| (&x.principal.id, &x.resource).cmp(&(&y.principal.id, &y.resource)));
    Ok(Answer {
        query,
        capability: cap.id.clone(),
        summary: cap.summary.clone(),
        principal: who.map(|p| a.graph.principals[p].id.clone()),
        on: on.map(str::to_string),
        results,
        assumptions: a.assumptions.clone(),
    })
}

impl Answer {
    /// Whether the answer is yes: some result is allowed or conditional (`query can`'s
    /// exit status).
    pub fn yes(&self) -> bool {
        let can = [Outcome::Allowed, Outcome::Conditional].map(Outcome::as_str);
        self.results.iter().any(|e| can.contains(&e.decision))
    }
}

pub fn render_json(answer: &Answer) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(answer)?;
    s.push('\n');
    Ok(s)
}

/// The answer as text: a headline, then one tree per decision (statements with their
/// file:line:column), then the assumptions.
pub fn render_human(a: &Analysis, answer: &Answer) -> String {
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
// Resolving the arguments.

fn find_capability<'c>(caps: &'c [Capability], id: &str) -> Result<&'c Capability, String> {
    let public = || caps.iter().filter(|c| !c.internal);
    public().find(|c| c.id == id).ok_or_else(|| {
        let valid: Vec<&str> = public().map(|c| c.id.as_str()).collect();
        format!("unknown capability `{id}`; valid capabilities: {}", valid.join(", "))
    })
}

/// A principal by id, address or IAM name.
fn find_principal(g: &Graph, arg: &str) -> Result<usize, String> {
    if let Some(k) = g.principals.iter().position(|p| p.id == arg) {
        return Ok(k);
    }
    let found: Vec<usize> = (0..g.principals.len())
        .filter(|&k| {
            let p = &g.principals[k];
            p.address == arg || p.name.as_literal() == Some(arg) || p.name.to_string() == arg
        })
        .collect();
    match found.as_slice() {
        [k] => Ok(*k),
        [] => {
            if g.principals.is_empty() {
                return Err(format!("unknown principal `{arg}`: the inputs declare no principal"));
            }
            let names = g
                .principals
                .iter()
                .flat_map(|p| [p.id.clone(), p.address.clone(), p.name.to_string()]);
            Err(format!(
                "unknown principal `{arg}`; {}",
                suggest(
                    arg,
                    names,
                    g.principals.iter().map(|p| p.id.clone()).collect(),
                    "principals"
                )
            ))
        }
        many => {
            let mut ids: Vec<&str> = many.iter().map(|&k| g.principals[k].id.as_str()).collect();
            ids.sort_unstable();
            Err(format!(
                "principal `{arg}` is ambiguous; use one of these ids:\n  {}",
                ids.join("\n  ")
            ))
        }
    }
}

/// Names a query argument may give.
const SUGGESTIONS: usize = 3;

/// "did you mean `a`, `b`?" from the names closest to `arg` (edit distance, or containing
/// it); with none close, the first few `ids`. Never the whole list: an estate has thousands.
fn suggest(arg: &str, names: impl Iterator<Item = String>, mut ids: Vec<String>, what: &str) -> String {
    let want = arg.to_lowercase();
    let mut scored: Vec<(usize, String)> = names
        .filter(|n| !n.is_empty())
        .filter_map(|n| {
            let lower = n.to_lowercase();
            let d = strsim::levenshtein(&want, &lower);
            let close = d <= (want.chars().count() / 3).max(2);
            let contains = want.len() >= 3 && lower.contains(&want);
            (close || contains).then(|| (if contains { d.min(want.len()) } else { d }, n))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    let near: Vec<String> = scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, n)| format!("`{n}`"))
        .collect();
    if near.is_empty() {
        let declared = ids.len();
        ids.sort();
        let mut some = ids.into_iter().take(SUGGESTIONS + 2).collect::<Vec<_>>().join(", ");
        if declared > SUGGESTIONS + 2 {
            some.push_str(", …");
        }
        format!("no close name among the {declared} declared {what} (an id, address or name: {some})")
    } else {
        format!("did you mean {}?", near.join(", "))
    }
}

/// Whether an entry is about target `t`.
fn on_target(a: &Analysis, e: &Entry, t: &Target) -> bool {
    match t {
        Target::Table(k) => e.resource == a.graph.tables[*k].id,
        Target::AllTables => e.resource == "*",
        Target::Slr(s) => e.resource == a.graph.slrs[*s].id,
    }
}

/// One thing a query asks about.
#[derive(Clone, PartialEq, Eq, Debug)]
enum Target {
    /// A declared table (index into [`Graph::tables`]).
    Table(usize),
    /// Every table the inputs do not declare.
    AllTables,
    /// A service-linked role (index into [`Graph::slrs`]).
    Slr(usize),
}

/// Every service-linked role target.
fn all_targets(g: &Graph, cap: &Capability) -> Vec<Target> {
    match cap.target {
        TargetKind::Table => (0..g.tables.len())
            .map(Target::Table)
            .chain(std::iter::once(Target::AllTables))
            .collect(),
        TargetKind::Slr => (0..g.slrs.len()).map(Target::Slr).collect(),
    }
}

/// The targets `arg` names for a capability: a table (id, address or name) or `*`, or
/// the service-linked role (`slr`, its id or address).
fn find_targets(g: &Graph, cap: &Capability, arg: &str) -> Result<Vec<Target>, String> {
    match cap.target {
        TargetKind::Table => {
            if arg == "*" {
                return Ok(vec![Target::AllTables]);
            }
            if let Some(k) = g.tables.iter().position(|t| t.id == arg) {
                return Ok(vec![Target::Table(k)]);
            }
            let found: Vec<usize> = (0..g.tables.len())
                .filter(|&k| {
                    let t = &g.tables[k].table;
                    t.address == arg || t.name.as_literal() == Some(arg) || t.name.to_string() == arg
                })
                .collect();
            match found.as_slice() {
                [k] => Ok(vec![Target::Table(*k)]),
                [] => {
                    let slr = if arg == "slr" {
                        format!(" (`slr` is for create-slr and delete-slr, not {})", cap.id)
                    } else {
                        String::new()
                    };
                    let names = g
                        .tables
                        .iter()
                        .flat_map(|t| [t.id.clone(), t.table.address.clone(), t.table.name.to_string()]);
                    Err(format!(
                        "unknown table `{arg}`{slr}; {}; `*` names every table the inputs do not declare",
                        suggest(arg, names, g.tables.iter().map(|t| t.id.clone()).collect(), "tables")
                    ))
                }
                many => {
                    let mut ids: Vec<&str> = many.iter().map(|&k| g.tables[k].id.as_str()).collect();
                    ids.sort_unstable();
                    Err(format!(
                        "table `{arg}` is ambiguous; use one of these ids:\n  {}",
                        ids.join("\n  ")
                    ))
                }
            }
        }
        TargetKind::Slr => {
            if arg == "slr" || arg == "*" {
                return Ok(all_targets(g, cap));
            }
            let found: Vec<Target> = (0..g.slrs.len())
                .filter(|&k| {
                    let s = &g.slrs[k];
                    s.id == arg || s.address == arg || s.declarations.iter().any(|d| d.id == arg || d.address == arg)
                })
                .map(Target::Slr)
                .collect();
            if found.is_empty() {
                let mut valid: Vec<&str> = g.slrs.iter().map(|s| s.id.as_str()).collect();
                valid.sort_unstable();
                Err(format!(
                    "`{arg}` is not the service-linked role; {} applies to the service-linked role: give `slr` or one of:\n  {}",
                    cap.id,
                    valid.join("\n  ")
                ))
            } else {
                Ok(found)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Building the proof.

/// One answer entry: the decision of `x`, about the target asked (`None`: about the
/// entry's whole set of tables).
fn entry(a: &Analysis, cap: &Capability, x: &Access, asked: Option<&Target>) -> Entry {
    entry_of(a, cap, x.principal, &x.covers, a.decisions.decision(x), asked)
}

/// An entry for what `x`'s principal holds through other principals: the holder's proof,
/// with the path before it.
fn indirect_entry(a: &Analysis, cap: &Capability, x: &crate::reach::Indirect, asked: Option<&Target>) -> Entry {
    let holder = a.reach.principal_of(x.holder);
    let held = a.reach.held(&a.decisions, x);
    let mut e = entry_of(a, cap, holder, &x.covers, held, asked);
    e.principal = PrincipalOut::of(a, &a.graph.principals[x.principal]);
    e.decision = x.outcome.as_str();
    e.via = crate::report::json::via_out(a, x);
    e.path = Some(crate::reach::path_words(&a.graph, &a.sources, &a.reach, &cap.id, x));
    e
}

/// Whether a set of tables (or the SLR) covers the target asked about.
fn covers_target(covers: &Covers, t: &Target) -> bool {
    match (covers, t) {
        (Covers::Tables(set), Target::Table(k)) => set.contains(*k),
        (Covers::Tables(set), Target::AllTables) => set.undeclared,
        (Covers::Slr(s), Target::Slr(k)) => s == k,
        _ => false,
    }
}

fn entry_of(
    a: &Analysis,
    cap: &Capability,
    principal: usize,
    covers: &Covers,
    d: &crate::capability::CapDecision,
    asked: Option<&Target>,
) -> Entry {
    let g = &a.graph;
    let dec = &a.decisions;
    let p = &g.principals[principal];
    // The one target the entry is about, when it is one.
    let one: Option<Target> = match (asked, covers) {
        (Some(t), _) => Some(t.clone()),
        (None, Covers::Slr(s)) => Some(Target::Slr(*s)),
        (None, Covers::Tables(set)) => match (set.count(dec.table_count()), set.undeclared) {
            (1, false) => set.first(dec.table_count()).map(Target::Table),
            (0, true) => Some(Target::AllTables),
            _ => None,
        },
    };
    let (resource, resource_name) = match (&one, covers) {
        (Some(Target::Table(t)), _) => (g.tables[*t].id.clone(), format!("table {}", g.tables[*t].table.name)),
        (Some(Target::AllTables), _) => ("*".to_string(), "every undeclared table (*)".to_string()),
        (Some(Target::Slr(s)), _) => (g.slrs[*s].id.clone(), crate::slr::short_words(g, *s)),
        (None, Covers::Tables(set)) => (
            set.first(dec.table_count())
                .map(|t| g.tables[t].id.clone())
                .unwrap_or_else(|| "*".to_string()),
            dec.phrase(set),
        ),
        (None, Covers::Slr(s)) => (g.slrs[*s].id.clone(), crate::slr::short_words(g, *s)),
    };
    let requirements: Vec<RequirementOut> = d
        .requirements
        .iter()
        .enumerate()
        .map(|(k, r)| requirement(a, p, cap.requirements.get(k).map(|q| q.on), one.as_ref(), r))
        .collect();
    let checks = checks(a, principal, one.as_ref(), &d.requirements);
    Entry {
        principal: PrincipalOut::of(a, p),
        resource,
        resource_name,
        decision: d.outcome.as_str(),
        missing: if d.outcome.can() { Vec::new() } else { d.missing() },
        requirements,
        checks,
        via: Vec::new(),
        path: None,
    }
}

fn requirement(
    a: &Analysis,
    p: &PrincipalNode,
    on: Option<On>,
    target: Option<&Target>,
    r: &RequirementDecision,
) -> RequirementOut {
    let resource = request_resource(&a.graph, on, target);
    let mut grants = Vec::new();
    let mut boundary = Vec::new();
    let mut scps = Vec::new();
    let mut denies = Vec::new();
    for b in &r.decision.because {
        let s = statement_out(a, p, b, resource.as_ref());
        match (b.effect, b.layer) {
            (Effect::Deny, _) => denies.push(s),
            (Effect::Allow, Layer::Boundary | Layer::Session) => boundary.push(s),
            (Effect::Allow, Layer::Scp) => scps.push(s),
            (Effect::Allow, Layer::Identity | Layer::Resource) => grants.push(s),
        }
    }
    let reason = match r.decision.outcome {
        Outcome::NotAllowed => Some(not_allowed_reason(a, p, &r.action, &r.decision.lacking)),
        Outcome::Denied => Some(format!(
            "explicitly denied by {}",
            denies
                .iter()
                .map(|d| format!(
                    "{} statement{} at {}:{}:{}",
                    d.policy.address,
                    d.sid.as_ref().map(|s| format!(" `{s}`")).unwrap_or_default(),
                    d.file,
                    d.line,
                    d.column
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        _ => None,
    };
    RequirementOut {
        action: r.action.clone(),
        on: match on {
            Some(On::Table) => "table",
            Some(On::Stream) => "stream",
            Some(On::Any) => "any",
            Some(On::Slr) => "slr",
            Some(On::OtherSlr) => "other-slr",
            None => "unknown",
        },
        resource: match (&resource, on, target) {
            (Some(t), _, _) => t.shown_in(Dialect::of(a.graph.inputs[p.input].kind)),
            (None, Some(On::Stream), _) => "some stream in the account and region".to_string(),
            (None, _, Some(Target::AllTables)) => "every table the inputs do not declare".to_string(),
            (None, Some(On::Table), None) => "each table of the set".to_string(),
            (None, _, _) => "unknown".to_string(),
        },
        primary: r.primary,
        decision: r.decision.outcome.as_str(),
        grants,
        boundary,
        scps,
        denies,
        conditions: r.decision.open.iter().map(|o| condition_out(&a.sources, o)).collect(),
        reason,
    }
}

/// Why no Allow reaches a requirement: the layers the evaluator found lacking, named with
/// the principal's policies in them.
fn not_allowed_reason(a: &Analysis, p: &PrincipalNode, action: &str, lacking: &[Layer]) -> String {
    let g = &a.graph;
    let names = |ks: &[usize]| -> String {
        ks.iter()
            .map(|&k| g.policies[k].policy.address.as_ref())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    for layer in lacking {
        parts.push(match layer {
            Layer::Identity if p.policies.is_empty() && p.unknown_policies.is_empty() => {
                format!("no identity policy reaches {}", p.address)
            }
            Layer::Identity => format!(
                "no Allow statement for {action} on this resource in the identity policies ({})",
                names(&p.policies)
            ),
            Layer::Boundary => format!("the permissions boundary ({}) does not allow it", names(&p.boundaries)),
            Layer::Scp => format!("the SCPs ({}) do not allow it", names(&g.scps)),
            Layer::Session => "the session policy does not allow it".to_string(),
            Layer::Resource => "the resource's policy does not allow this cross-account request".to_string(),
        });
    }
    if parts.is_empty() {
        parts.push(format!("no Allow statement reaches {action} on this resource"));
    }
    parts.join("; ")
}

/// The request resource of a requirement when it is one known text.
fn request_resource(g: &Graph, on: Option<On>, target: Option<&Target>) -> Option<Template> {
    match (on?, target) {
        (On::Any, _) => Some(Template::lit("*")),
        (On::Slr, _) => Some(slr_arn()),
        (On::Table, Some(Target::Table(t))) => g.tables.get(*t).map(|t| t.table.arn.clone()),
        (On::Stream, Some(Target::Table(t))) => g.tables.get(*t).and_then(|t| t.stream_arn.clone()),
        _ => None,
    }
}

fn statement_out(a: &Analysis, p: &PrincipalNode, b: &Because, resource: Option<&Template>) -> StatementOut {
    let g = &a.graph;
    let src = &a.sources;
    let found = find_policy(g, p, b);
    let statement = found.and_then(|k| {
        g.policies[k]
            .policy
            .document
            .statements
            .iter()
            .find(|s| s.span == b.statement)
    });
    let policy = match found {
        Some(k) => {
            let node = &g.policies[k];
            let builtin = node.span.is_builtin();
            PolicyOut {
                address: node.policy.address.to_string(),
                kind: policy_kind(node.kind, node.input.is_none()),
                file: (!builtin).then(|| src.path(node.span)),
                line: (!builtin).then(|| src.start(node.span).map(|lc| lc.line)).flatten(),
            }
        }
        None => PolicyOut {
            address: b.policy.to_string(),
            kind: match b.layer {
                Layer::Scp => "scp",
                Layer::Resource => "resource",
                _ => "managed",
            },
            file: None,
            line: None,
        },
    };
    let routes = match (found, b.layer) {
        (_, Layer::Scp) => vec![RouteOut {
            kind: "scp",
            group: None,
            membership: None,
            attachment: None,
        }],
        (_, Layer::Resource) => vec![RouteOut {
            kind: "resource-policy",
            group: None,
            membership: None,
            attachment: None,
        }],
        (Some(k), layer) => routes(a, p, k, layer == Layer::Boundary),
        (None, _) => Vec::new(),
    };
    let at = located(src, b.statement);
    StatementOut {
        effect: b.effect.as_str(),
        layer: b.layer.as_str(),
        certain: b.certain,
        policy,
        routes,
        sid: b.sid.clone(),
        file: at.file,
        line: at.line,
        column: at.column,
        action: match b.action.filter(|s| !s.is_builtin()) {
            Some(span) => Some(located(src, span)),
            // A bundled AWS managed document has no source text: name its patterns.
            None => statement.and_then(action_patterns).map(|text| TextOut {
                text,
                file: BUILTIN.to_string(),
                line: 0,
                column: 0,
            }),
        },
        resources: statement.map(|s| resources_of(s, resource)).unwrap_or_default(),
        conditions: statement.map(conditions_of).unwrap_or_default(),
    }
}

/// The graph policy a deciding statement belongs to: among the principal's own policies
/// of that layer, the one with that address holding that statement.
fn find_policy(g: &Graph, p: &PrincipalNode, b: &Because) -> Option<usize> {
    let candidates: Vec<usize> = match b.layer {
        Layer::Identity => p.policies.clone(),
        Layer::Boundary => p.boundaries.clone(),
        Layer::Scp => g.scps.clone(),
        Layer::Resource => (0..g.policies.len())
            .filter(|&k| g.policies[k].kind == PolicyKind::Resource)
            .collect(),
        Layer::Session => Vec::new(),
    };
    let named = |k: &usize| g.policies[*k].policy.address == b.policy;
    candidates
        .iter()
        .copied()
        .filter(named)
        .find(|&k| {
            g.policies[k]
                .policy
                .document
                .statements
                .iter()
                .any(|s| s.span == b.statement)
        })
        .or_else(|| candidates.iter().copied().find(named))
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

/// How policy `k` reaches the principal (each attachment, directly or through a group).
fn routes(a: &Analysis, p: &PrincipalNode, k: usize, boundary: bool) -> Vec<RouteOut> {
    let g = &a.graph;
    let src = &a.sources;
    let inline = g.policies.get(k).is_some_and(|n| n.kind == PolicyKind::Inline);
    p.via
        .iter()
        .filter(|v| v.policy == k && v.boundary == boundary)
        .map(|v| RouteOut {
            kind: match (&v.group, inline) {
                _ if boundary => "boundary",
                (Some(_), _) => "group",
                (None, true) => "inline",
                (None, false) => "attachment",
            },
            group: v.group.clone(),
            membership: v
                .group
                .as_ref()
                .and_then(|gr| membership(g, p, gr))
                .map(|s| located(src, s)),
            attachment: (!v.attachment.is_builtin()).then(|| located(src, v.attachment)),
        })
        .collect()
}

/// Where the user is made a member of the group with this address.
fn membership(g: &Graph, p: &PrincipalNode, group: &str) -> Option<Span> {
    let input = g.inputs.get(p.input)?;
    let gr = input.groups.iter().find(|x| x.address == group)?;
    input
        .memberships
        .iter()
        .find(|m| m.group == gr.name && m.user == p.name)
        .map(|m| m.span)
}

/// The action patterns a statement lists (for statements without source text).
fn action_patterns(s: &Statement) -> Option<String> {
    match &s.actions {
        Which::Listed(pats) => Some(pats.iter().map(|p| p.text.to_string()).collect::<Vec<_>>().join(", ")),
        Which::Not(pats, _) => Some(format!(
            "NotAction {}",
            pats.iter().map(|p| p.text.to_string()).collect::<Vec<_>>().join(", ")
        )),
        Which::Unknown(..) | Which::Absent => None,
    }
}

/// The statement's resource patterns that cover the request (all when none can be picked).
fn resources_of(s: &Statement, resource: Option<&Template>) -> Vec<String> {
    match &s.resources {
        Which::Listed(pats) => {
            let all: Vec<String> = pats.iter().map(|p| p.text.to_string()).collect();
            let Some(r) = resource else {
                return all;
            };
            let toks = text_tokens(r);
            let matching: Vec<String> = pats
                .iter()
                .filter(|p| match_resource(&p.text, &toks) != Tri::No)
                .map(|p| p.text.to_string())
                .collect();
            if matching.is_empty() { all } else { matching }
        }
        Which::Not(pats, _) => pats.iter().map(|p| format!("not {}", p.text)).collect(),
        Which::Unknown(what, _) => vec![format!("unresolved: {what}")],
        Which::Absent => Vec::new(),
    }
}

fn conditions_of(s: &Statement) -> Vec<String> {
    s.conditions
        .iter()
        .map(|c| {
            let values: Vec<String> = c.values.iter().map(|v| v.text.to_string()).collect();
            match &c.unknown {
                Some(u) => format!("{} {} (unresolved: {u})", c.operator, c.key),
                None => format!("{} {} {:?}", c.operator, c.key, values),
            }
        })
        .collect()
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

/// The Deny, boundary and SCP checks of one decision.
fn checks(a: &Analysis, principal: usize, target: Option<&Target>, reqs: &[RequirementDecision]) -> Vec<CheckOut> {
    vec![
        explicit_deny_check(&a.graph, principal, target, reqs),
        boundary_check(a, principal, reqs),
        scp_check(&a.graph, reqs),
    ]
}

/// The statements of the requirements' proofs.
fn proof_statements(reqs: &[RequirementDecision]) -> impl Iterator<Item = &Because> {
    reqs.iter().flat_map(|r| r.decision.because.iter())
}

/// How many Deny statements of the proofs in `layers` apply: (for certain, possibly).
fn denials(reqs: &[RequirementDecision], layers: &[Layer]) -> (usize, usize) {
    let certain = proof_statements(reqs)
        .filter(|b| b.effect == Effect::Deny && layers.contains(&b.layer) && b.certain)
        .count();
    let maybe = proof_statements(reqs)
        .filter(|b| b.effect == Effect::Deny && layers.contains(&b.layer) && !b.certain)
        .count();
    (certain, maybe)
}

/// How many Deny statements policies `ks` hold.
fn deny_statements(g: &Graph, ks: &[usize]) -> usize {
    ks.iter()
        .map(|&k| {
            g.policies[k]
                .policy
                .document
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Deny)
                .count()
        })
        .sum()
}

/// The addresses of policies `ks`.
fn policy_names(g: &Graph, ks: &[usize]) -> Vec<String> {
    ks.iter().map(|&k| g.policies[k].policy.address.to_string()).collect()
}

/// The `explicit-deny` check: the Denies of the principal's own policies (boundary
/// included) and of the target table's resource policy.
fn explicit_deny_check(g: &Graph, principal: usize, target: Option<&Target>, reqs: &[RequirementDecision]) -> CheckOut {
    let p = &g.principals[principal];
    let mut own: Vec<usize> = p.policies.iter().chain(&p.boundaries).copied().collect();
    if let Some(Target::Table(t)) = target
        && let Some(rp) = g.tables.get(*t).and_then(|t| g.resource_policies.get(&t.table.arn))
    {
        own.extend(rp);
    }
    own.sort_unstable();
    own.dedup();
    let considered = deny_statements(g, &own);
    let (certain, maybe) = denials(reqs, &[Layer::Identity, Layer::Boundary, Layer::Resource]);
    CheckOut {
        check: "explicit-deny",
        status: status(certain, maybe),
        detail: if certain > 0 {
            format!("{certain} Deny statement(s) apply; {considered} considered")
        } else if maybe > 0 {
            format!(
                "{maybe} Deny statement(s) might apply (under an undecided condition or value); {considered} considered"
            )
        } else {
            format!(
                "{considered} Deny statement(s) in the identity, boundary and resource policies considered; none matched"
            )
        },
        policies: policy_names(g, &own),
    }
}

/// The `permissions-boundary` check: whether the principal's boundary blocks a
/// requirement, and the boundary statements that allow them.
fn boundary_check(a: &Analysis, principal: usize, reqs: &[RequirementDecision]) -> CheckOut {
    let p = &a.graph.principals[principal];
    if p.boundaries.is_empty() {
        return CheckOut {
            check: "permissions-boundary",
            status: "not-set",
            detail: "no permissions boundary is set".to_string(),
            policies: Vec::new(),
        };
    }
    let denied = reqs.iter().any(|r| r.decision.outcome == Outcome::Denied);
    let blocked: Vec<&str> = reqs
        .iter()
        .filter(|r| r.decision.lacking.contains(&Layer::Boundary))
        .map(|r| r.action.as_str())
        .collect();
    let allowing: Vec<String> = proof_statements(reqs)
        .filter(|b| b.layer == Layer::Boundary && b.effect == Effect::Allow)
        .map(|b| {
            let at = a.sources.describe(b.statement);
            match &b.sid {
                Some(sid) => format!("{} `{sid}` ({at})", b.policy),
                None => format!("{} ({at})", b.policy),
            }
        })
        .fold(Vec::new(), |mut acc, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        });
    let (status, detail) = if denied {
        ("not-reached", "an explicit Deny decided first".to_string())
    } else if !blocked.is_empty() {
        ("blocked", format!("does not allow {}", blocked.join(", ")))
    } else if allowing.is_empty() {
        ("passed", "does not block any requirement".to_string())
    } else {
        ("passed", format!("allowed by {}", allowing.join("; ")))
    };
    CheckOut {
        check: "permissions-boundary",
        status,
        detail,
        policies: policy_names(&a.graph, &p.boundaries),
    }
}

/// The `scp` check: the SCPs' Denies and the requirements no SCP level allows, on top of
/// `FullAWSAccess`.
fn scp_check(g: &Graph, reqs: &[RequirementDecision]) -> CheckOut {
    let (certain, maybe) = denials(reqs, &[Layer::Scp]);
    let scp_lacking: Vec<&str> = reqs
        .iter()
        .filter(|r| r.decision.lacking.contains(&Layer::Scp))
        .map(|r| r.action.as_str())
        .collect();
    let certain = certain + scp_lacking.len();
    let considered = deny_statements(g, &g.scps);
    CheckOut {
        check: "scp",
        status: status(certain, maybe),
        detail: if g.scps.is_empty() {
            "no SCP is declared; FullAWSAccess assumed at every level".to_string()
        } else if !scp_lacking.is_empty() {
            format!("the SCPs do not allow {}", scp_lacking.join(", "))
        } else if certain > 0 {
            format!("{certain} SCP Deny statement(s) apply")
        } else if maybe > 0 {
            format!("{maybe} SCP Deny statement(s) might apply (under an undecided condition or value)")
        } else {
            format!("{considered} SCP Deny statement(s) considered, none matched; FullAWSAccess assumed at every level")
        },
        policies: policy_names(g, &g.scps),
    }
}

fn status(certain: usize, maybe: usize) -> &'static str {
    if certain > 0 {
        "blocked"
    } else if maybe > 0 {
        "might-block"
    } else {
        "passed"
    }
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

fn entry_tree(e: &Entry, full: bool) -> Tree {
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
    use crate::catalog;

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

    #[test]
    fn unknown_arguments_list_the_valid_choices() {
        let g = Graph::default();
        let caps = catalog::capabilities().unwrap_or_else(|e| unreachable!("{e}"));
        let err = find_capability(&caps.capabilities, "nope").err().unwrap_or_default();
        assert!(err.contains("enable") && err.contains("delete-slr"), "{err}");
        let err = find_principal(&g, "alice").err().unwrap_or_default();
        assert!(err.contains("alice"), "{err}");
        let Some(disable) = caps.capabilities.iter().find(|c| c.id == "disable") else {
            unreachable!("disable is a capability")
        };
        let err = find_targets(&g, disable, "Orders").err().unwrap_or_default();
        assert!(
            err.contains("`Orders`") && err.contains("`*` names every table"),
            "{err}"
        );
        assert_eq!(find_targets(&g, disable, "*"), Ok(vec![Target::AllTables]));
    }

    #[test]
    fn suggestions_name_the_closest_and_never_the_whole_list() {
        let names = ["tbl-00001", "tbl-00002", "orders", "aws_dynamodb_table.orders"].map(String::from);
        let ids: Vec<String> = (0..9).map(|k| format!("id{k}")).collect();
        let s = suggest("ordrs", names.iter().cloned(), ids.clone(), "tables");
        assert!(s.contains("`orders`") && !s.contains("tbl-"), "{s}");
        let s = suggest("zzzzzzzz", names.iter().cloned(), ids, "tables");
        assert!(s.starts_with("no close name among the 9 declared tables"), "{s}");
        assert!(s.contains("id4, …") && !s.contains("id5"), "{s}");
    }
}
