//! Queries over the decisions: who-can, can, why — each answer with its proof path.
//!
//! Queries never evaluate IAM: they read the capability decisions of
//! [`crate::capability`] and explain them with what the graph knows of each deciding
//! statement (the policy, how it reaches the principal, where it is written). An answer is
//! in this module's own types (principals by index, outcomes, layers and spans); the reports
//! render it (`report::query`).

use crate::analysis::Analysis;
use crate::capability::{Access, CapId, Covers, RequestResource, RequirementDecision, Target};
use crate::catalog::{Capability, On, TargetKind};
use crate::graph::{Graph, PrincipalNode};
use crate::iam::PolicyId;
use crate::iam::eval::{Because, Layer, Open, Outcome};
use crate::iam::pattern::{Tri, match_resource, text_tokens};
use crate::iam::policy::{Effect, Statement, Which};
use crate::model::PolicyKind;
use crate::reach::Indirect;
use crate::source::{SourceMap, Span};
use crate::value::Dialect;
use crate::value::Template;

/// A query's answer.
#[derive(Debug)]
pub struct Answer {
    pub ask: Ask,
    pub capability: CapId,
    /// The principal asked about (`can`, `why`; index into [`Graph::principals`]).
    pub principal: Option<usize>,
    /// The resource asked about (`--on` or `why`'s resource) as given; absent: every one.
    pub on: Option<String>,
    /// One entry per (principal, resource), sorted by principal id then resource id.
    pub results: Vec<Entry>,
}

/// One decision with its proof.
#[derive(Debug)]
pub struct Entry {
    /// The principal the entry is about (index into [`Graph::principals`]).
    pub principal: usize,
    /// The resource id (`*` for every undeclared table).
    pub resource: String,
    /// A short human name of the resource (`table Orders`).
    pub resource_name: String,
    pub decision: Outcome,
    /// Requirements no Allow reaches (for `not_allowed` and `denied`).
    pub missing: Vec<String>,
    pub requirements: Vec<RequirementProof>,
    /// The checks that could have blocked the decision: explicit Denies, the permissions
    /// boundary, the SCPs.
    pub checks: Vec<Check>,
    /// For access held through other principals: the reach entry, whose last step's
    /// principal holds the capability (whose proof `requirements` and `checks` give).
    pub via: Option<Indirect>,
    /// The path in words.
    pub path: Option<String>,
}

/// One requirement of the capability and how it was decided.
#[derive(Debug)]
pub struct RequirementProof {
    pub action: String,
    /// What it is evaluated on (`None`: the catalogue does not say).
    pub on: Option<On>,
    /// The resource of the request, as text.
    pub resource: String,
    pub primary: bool,
    pub decision: Outcome,
    /// The Allow statements that grant it (identity and resource policies).
    pub grants: Vec<StatementProof>,
    /// The permissions-boundary (or session-policy) statements that allow it.
    pub boundary: Vec<StatementProof>,
    /// Declared SCP Allow statements that let it through (besides the assumed FullAWSAccess).
    pub scps: Vec<StatementProof>,
    /// The Deny statements that apply (`certain`) or might apply.
    pub denies: Vec<StatementProof>,
    /// Undecided conditions and unresolved values.
    pub open: Vec<Open>,
    /// For a requirement that is not granted: why not.
    pub reason: Option<String>,
}

/// A statement that took part in a decision, with the route from the principal to it.
#[derive(Debug)]
pub struct StatementProof {
    pub effect: Effect,
    pub layer: Layer,
    /// `false`: it applies only under an undecided condition or unresolved value.
    pub certain: bool,
    pub policy: PolicyProof,
    /// How the policy reaches the principal.
    pub routes: Vec<Route>,
    pub sid: Option<String>,
    /// Where the statement is written.
    pub statement: Span,
    /// The action string that matched (or the `NotAction` key).
    pub action: Option<ActionProof>,
    /// The statement's resource patterns that cover the request (all of them when that
    /// cannot be narrowed down); `NotResource` patterns are prefixed with `not `.
    pub resources: Vec<String>,
    /// The statement's conditions, as `Operator key [values]`.
    pub conditions: Vec<String>,
}

/// The policy a deciding statement belongs to.
#[derive(Debug)]
pub struct PolicyProof {
    pub address: String,
    pub kind: PolicyKind,
    /// Whether it is from the bundled AWS managed catalogue.
    pub aws_managed: bool,
    /// Where it is declared (`None`: bundled, or not in the graph).
    pub span: Option<Span>,
}

/// How a policy reaches the principal.
#[derive(Debug)]
pub struct Route {
    pub kind: RouteKind,
    /// The group's address, for [`RouteKind::Group`].
    pub group: Option<String>,
    /// Where the user is made a member of the group, for [`RouteKind::Group`].
    pub membership: Option<Span>,
    /// Where the policy is attached (the attachment, or the inline policy).
    pub attachment: Option<Span>,
}

/// The ways a policy reaches a principal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RouteKind {
    /// Declared on the principal.
    Inline,
    /// An attachment resource or a managed-policy list entry.
    Attachment,
    /// Through a group the user is in.
    Group,
    /// Set as the principal's permissions boundary.
    Boundary,
    /// An SCP: applies to every analysed principal.
    Scp,
    /// The resource's own policy.
    ResourcePolicy,
}

/// The action of a statement that matched.
#[derive(Debug)]
pub enum ActionProof {
    /// The action string (or `NotAction` key) in the source.
    At(Span),
    /// A bundled AWS managed document has no source text: its action patterns.
    Bundled(String),
}

/// A check that could have blocked the decision.
#[derive(Debug)]
pub struct Check {
    pub check: CheckKind,
    pub status: CheckStatus,
    pub(crate) detail: String,
    /// The policies the check read (addresses).
    pub policies: Vec<String>,
}

/// The checks of a decision besides the Allows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CheckKind {
    ExplicitDeny,
    PermissionsBoundary,
    Scp,
}

/// What a check found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CheckStatus {
    Passed,
    MightBlock,
    Blocked,
    NotSet,
    NotReached,
}

/// Why a query cannot be answered: what was not found, with the closest names or the valid
/// choices.
#[derive(thiserror::Error, Clone, PartialEq, Eq, Debug)]
pub enum QueryError {
    #[error("unknown capability `{id}`; valid capabilities: {}", .valid.join(", "))]
    UnknownCapability { id: String, valid: Vec<String> },
    #[error("capability `{0}` was not evaluated")]
    NotEvaluated(String),
    #[error("unknown principal `{0}`: the inputs declare no principal")]
    NoPrincipal(String),
    #[error("unknown principal `{arg}`; {suggestion}")]
    UnknownPrincipal { arg: String, suggestion: String },
    #[error("principal `{arg}` is ambiguous; use one of these ids:\n  {}", .ids.join("\n  "))]
    AmbiguousPrincipal { arg: String, ids: Vec<String> },
    /// `slr_for`: the capability, when `slr` was given for a table capability.
    #[error(
        "unknown table `{arg}`{}; {suggestion}; `*` names every table the inputs do not declare",
        .slr_for.as_ref().map(|c| format!(" (`slr` is for create-slr and delete-slr, not {c})")).unwrap_or_default()
    )]
    UnknownTable {
        arg: String,
        slr_for: Option<String>,
        suggestion: String,
    },
    #[error("table `{arg}` is ambiguous; use one of these ids:\n  {}", .ids.join("\n  "))]
    AmbiguousTable { arg: String, ids: Vec<String> },
    #[error(
        "`{arg}` is not the service-linked role; {capability} applies to the service-linked role: give `slr` or one of:\n  {}",
        .valid.join("\n  ")
    )]
    NotSlr {
        arg: String,
        capability: String,
        valid: Vec<String>,
    },
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
pub fn answer(a: &Analysis, q: &Question<'_>) -> Result<Answer, QueryError> {
    let (principal, capability, on) = (q.principal, q.capability, q.on);
    let cap = find_capability(&a.decisions.capabilities, capability)?;
    let who = principal.map(|p| find_principal(&a.graph, p)).transpose()?;
    let targets = on.map(|on| find_targets(&a.graph, cap, on)).transpose()?;
    let dec = &a.decisions;
    let cap_id = dec
        .cap(&cap.id)
        .ok_or_else(|| QueryError::NotEvaluated(cap.id.clone()))?;
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
                for &t in targets {
                    let x = match t {
                        Target::Table(k) => dec.on_table(p, cap_id, Some(k)),
                        Target::AllTables => dec.on_table(p, cap_id, None),
                        Target::Slr(s) => dec.on_slr(p, cap_id, s),
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
                    for &t in targets.iter().filter(|t| covers_target(&x.covers, t)) {
                        results.retain(|e| !(e.via.is_none() && e.principal == p && on_target(a, e, t)));
                        results.push(indirect_entry(a, cap, x, Some(t)));
                    }
                }
                None => results.push(indirect_entry(a, cap, x, None)),
            }
        }
    }
    let principal_id = |e: &Entry| &a.graph.principals[e.principal].id;
    results.sort_by(|x, y| (principal_id(x), &x.resource).cmp(&(principal_id(y), &y.resource)));
    Ok(Answer {
        ask: q.ask,
        capability: cap_id,
        principal: who,
        on: on.map(str::to_string),
        results,
    })
}

impl Answer {
    /// Whether the answer is yes: some result is allowed or conditional (`query can`'s
    /// exit status).
    pub fn yes(&self) -> bool {
        self.results
            .iter()
            .any(|e| matches!(e.decision, Outcome::Allowed | Outcome::Conditional))
    }
}

impl Ask {
    /// The question's name on the command line (`who-can`, `can`, `why`).
    pub fn as_str(self) -> &'static str {
        match self {
            Ask::WhoCan => "who-can",
            Ask::Can => "can",
            Ask::Why => "why",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Resolving the arguments.

fn find_capability<'c>(caps: &'c [Capability], id: &str) -> Result<&'c Capability, QueryError> {
    let public = || caps.iter().filter(|c| !c.internal);
    public()
        .find(|c| c.id == id)
        .ok_or_else(|| QueryError::UnknownCapability {
            id: id.to_string(),
            valid: public().map(|c| c.id.clone()).collect(),
        })
}

/// A principal by id, address or IAM name.
fn find_principal(g: &Graph, arg: &str) -> Result<usize, QueryError> {
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
                return Err(QueryError::NoPrincipal(arg.to_string()));
            }
            let names = g
                .principals
                .iter()
                .flat_map(|p| [p.id.clone(), p.address.clone(), p.name.to_string()]);
            Err(QueryError::UnknownPrincipal {
                arg: arg.to_string(),
                suggestion: suggest(
                    arg,
                    names,
                    g.principals.iter().map(|p| p.id.clone()).collect(),
                    "principals",
                ),
            })
        }
        many => {
            let mut ids: Vec<String> = many.iter().map(|&k| g.principals[k].id.clone()).collect();
            ids.sort_unstable();
            Err(QueryError::AmbiguousPrincipal {
                arg: arg.to_string(),
                ids,
            })
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
fn on_target(a: &Analysis, e: &Entry, t: Target) -> bool {
    match t {
        Target::Table(k) => e.resource == a.graph.tables[k].id,
        Target::AllTables => e.resource == "*",
        Target::Slr(s) => e.resource == a.graph.slrs[s].id,
    }
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
fn find_targets(g: &Graph, cap: &Capability, arg: &str) -> Result<Vec<Target>, QueryError> {
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
                    let names = g
                        .tables
                        .iter()
                        .flat_map(|t| [t.id.clone(), t.table.address.clone(), t.table.name.to_string()]);
                    Err(QueryError::UnknownTable {
                        arg: arg.to_string(),
                        slr_for: (arg == "slr").then(|| cap.id.clone()),
                        suggestion: suggest(arg, names, g.tables.iter().map(|t| t.id.clone()).collect(), "tables"),
                    })
                }
                many => {
                    let mut ids: Vec<String> = many.iter().map(|&k| g.tables[k].id.clone()).collect();
                    ids.sort_unstable();
                    Err(QueryError::AmbiguousTable {
                        arg: arg.to_string(),
                        ids,
                    })
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
                let mut valid: Vec<String> = g.slrs.iter().map(|s| s.id.clone()).collect();
                valid.sort_unstable();
                Err(QueryError::NotSlr {
                    arg: arg.to_string(),
                    capability: cap.id.clone(),
                    valid,
                })
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
fn entry(a: &Analysis, cap: &Capability, x: &Access, asked: Option<Target>) -> Entry {
    entry_of(a, cap, x.principal, &x.covers, a.decisions.decision(x), asked)
}

/// An entry for what `x`'s principal holds through other principals: the holder's proof,
/// with the path before it.
fn indirect_entry(a: &Analysis, cap: &Capability, x: &Indirect, asked: Option<Target>) -> Entry {
    let holder = a.reach.principal_of(x.holder);
    let held = a.reach.held(&a.decisions, x);
    let mut e = entry_of(a, cap, holder, &x.covers, held, asked);
    e.principal = x.principal;
    e.decision = x.outcome;
    e.via = Some(x.clone());
    e.path = Some(crate::reach::path_words(&a.graph, &a.sources, &a.reach, &cap.id, x));
    e
}

/// Whether a set of tables (or the SLR) covers the target asked about.
fn covers_target(covers: &Covers, t: &Target) -> bool {
    match (covers, *t) {
        (Covers::Tables(set), Target::Table(k)) => set.contains(k),
        (Covers::Tables(set), Target::AllTables) => set.undeclared,
        (Covers::Slr(s), Target::Slr(k)) => *s == k,
        _ => false,
    }
}

fn entry_of(
    a: &Analysis,
    cap: &Capability,
    principal: usize,
    covers: &Covers,
    d: &crate::capability::CapDecision,
    asked: Option<Target>,
) -> Entry {
    let g = &a.graph;
    let dec = &a.decisions;
    let p = &g.principals[principal];
    // The one target the entry is about, when it is one.
    let one: Option<Target> = match (asked, covers) {
        (Some(t), _) => Some(t),
        (None, Covers::Slr(s)) => Some(Target::Slr(*s)),
        (None, Covers::Tables(set)) => match (set.count(dec.table_count()), set.undeclared) {
            (1, false) => set.first(dec.table_count()).map(Target::Table),
            (0, true) => Some(Target::AllTables),
            _ => None,
        },
    };
    let (resource, resource_name) = match (one, covers) {
        (Some(Target::Table(t)), _) => (g.tables[t].id.clone(), format!("table {}", g.tables[t].table.name)),
        (Some(Target::AllTables), _) => ("*".to_string(), "every undeclared table (*)".to_string()),
        (Some(Target::Slr(s)), _) => (g.slrs[s].id.clone(), crate::slr::short_words(g, s)),
        (None, Covers::Tables(set)) => (
            set.first(dec.table_count())
                .map(|t| g.tables[t].id.clone())
                .unwrap_or_else(|| "*".to_string()),
            dec.phrase(set),
        ),
        (None, Covers::Slr(s)) => (g.slrs[*s].id.clone(), crate::slr::short_words(g, *s)),
    };
    let requirements: Vec<RequirementProof> = d
        .requirements
        .iter()
        .enumerate()
        .map(|(k, r)| requirement(a, p, cap.requirements.get(k).map(|q| q.on), one, r))
        .collect();
    let checks = checks(a, principal, one, &d.requirements);
    Entry {
        principal,
        resource,
        resource_name,
        decision: d.outcome,
        missing: if d.outcome.can() { Vec::new() } else { d.missing() },
        requirements,
        checks,
        via: None,
        path: None,
    }
}

fn requirement(
    a: &Analysis,
    p: &PrincipalNode,
    on: Option<On>,
    target: Option<Target>,
    r: &RequirementDecision,
) -> RequirementProof {
    let request = on.map(|on| RequestResource::of(&a.graph, on, target));
    let resource = request.and_then(|r| r.arn(&a.graph));
    let mut grants = Vec::new();
    let mut boundary = Vec::new();
    let mut scps = Vec::new();
    let mut denies = Vec::new();
    for b in &r.decision.because {
        let s = statement_proof(a, p, b, resource.as_ref());
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
                    "{} statement{} at {}",
                    d.policy.address,
                    d.sid.as_ref().map(|s| format!(" `{s}`")).unwrap_or_default(),
                    place(&a.sources, d.statement)
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        _ => None,
    };
    RequirementProof {
        action: r.action.clone(),
        on,
        resource: match (&resource, request) {
            (Some(t), _) => t.shown_in(Dialect::of(a.graph.inputs[p.input].kind)),
            (None, Some(RequestResource::SomeStream)) => "some stream in the account and region".to_string(),
            (None, Some(RequestResource::EveryTable)) => "every table the inputs do not declare".to_string(),
            (None, Some(RequestResource::EachTable)) => "each table of the set".to_string(),
            (None, _) => "unknown".to_string(),
        },
        primary: r.primary,
        decision: r.decision.outcome,
        grants,
        boundary,
        scps,
        denies,
        open: r.decision.open.clone(),
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

fn statement_proof(a: &Analysis, p: &PrincipalNode, b: &Because, resource: Option<&Template>) -> StatementProof {
    let g = &a.graph;
    let found = find_policy(g, p, b);
    let statement = found.and_then(|k| g.policies[k].policy.document.statements.get(b.statement_index as usize));
    let policy = match found {
        Some(k) => {
            let node = &g.policies[k];
            PolicyProof {
                address: node.policy.address.to_string(),
                kind: node.kind,
                aws_managed: node.input.is_none(),
                span: (!node.span.is_builtin()).then_some(node.span),
            }
        }
        None => PolicyProof {
            address: b.policy.to_string(),
            kind: match b.layer {
                Layer::Scp => PolicyKind::Scp,
                Layer::Resource => PolicyKind::Resource,
                _ => PolicyKind::Managed,
            },
            aws_managed: false,
            span: None,
        },
    };
    let outer = |kind| Route {
        kind,
        group: None,
        membership: None,
        attachment: None,
    };
    let routes = match (found, b.layer) {
        (_, Layer::Scp) => vec![outer(RouteKind::Scp)],
        (_, Layer::Resource) => vec![outer(RouteKind::ResourcePolicy)],
        (Some(k), layer) => routes(a, p, k, layer == Layer::Boundary),
        (None, _) => Vec::new(),
    };
    StatementProof {
        effect: b.effect,
        layer: b.layer,
        certain: b.certain,
        policy,
        routes,
        sid: b.sid.clone(),
        statement: b.statement,
        action: match b.action.filter(|s| !s.is_builtin()) {
            Some(span) => Some(ActionProof::At(span)),
            // A bundled AWS managed document has no source text: name its patterns.
            None => statement.and_then(action_patterns).map(ActionProof::Bundled),
        },
        resources: statement.map(|s| resources_of(s, resource)).unwrap_or_default(),
        conditions: statement.map(conditions_of).unwrap_or_default(),
    }
}

/// The policy a proof's statement is in, when the principal holds it on the proof's layer
/// (attached, its boundary, an SCP over it, a resource's policy). None for a document it
/// does not hold: the policy a permission change stands for, a bundled or simulated one.
fn find_policy(g: &Graph, p: &PrincipalNode, b: &Because) -> Option<usize> {
    let k = b.policy_id.filter(|&id| g.policy(id).is_some()).map(PolicyId::index)?;
    let held = match b.layer {
        Layer::Identity => p.policies.contains(&k),
        Layer::Boundary => p.boundaries.contains(&k),
        Layer::Scp => g.scps.contains(&k),
        Layer::Resource => g.policies[k].kind == PolicyKind::Resource,
        Layer::Session => false,
    };
    held.then_some(k)
}

/// How policy `k` reaches the principal (each attachment, directly or through a group).
fn routes(a: &Analysis, p: &PrincipalNode, k: usize, boundary: bool) -> Vec<Route> {
    let g = &a.graph;
    let inline = g.policies.get(k).is_some_and(|n| n.kind == PolicyKind::Inline);
    p.via
        .iter()
        .filter(|v| v.policy == k && v.boundary == boundary)
        .map(|v| Route {
            kind: match (&v.group, inline) {
                _ if boundary => RouteKind::Boundary,
                (Some(_), _) => RouteKind::Group,
                (None, true) => RouteKind::Inline,
                (None, false) => RouteKind::Attachment,
            },
            group: v.group.clone(),
            membership: v.group.as_ref().and_then(|gr| membership(g, p, gr)),
            attachment: (!v.attachment.is_builtin()).then_some(v.attachment),
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

/// Where a statement is written, as `file:line:column`.
fn place(src: &SourceMap, span: Span) -> String {
    let lc = src.start(span);
    format!(
        "{}:{}:{}",
        src.path(span),
        lc.map(|l| l.line).unwrap_or(0),
        lc.map(|l| l.column).unwrap_or(0)
    )
}

/// The Deny, boundary and SCP checks of one decision.
fn checks(a: &Analysis, principal: usize, target: Option<Target>, reqs: &[RequirementDecision]) -> Vec<Check> {
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
fn explicit_deny_check(g: &Graph, principal: usize, target: Option<Target>, reqs: &[RequirementDecision]) -> Check {
    let p = &g.principals[principal];
    let mut own: Vec<usize> = p.policies.iter().chain(&p.boundaries).copied().collect();
    if let Some(Target::Table(t)) = target
        && let Some(rp) = g.tables.get(t).and_then(|t| g.resource_policies.get(&t.table.arn))
    {
        own.extend(rp);
    }
    own.sort_unstable();
    own.dedup();
    let considered = deny_statements(g, &own);
    let (certain, maybe) = denials(reqs, &[Layer::Identity, Layer::Boundary, Layer::Resource]);
    Check {
        check: CheckKind::ExplicitDeny,
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
fn boundary_check(a: &Analysis, principal: usize, reqs: &[RequirementDecision]) -> Check {
    let p = &a.graph.principals[principal];
    if p.boundaries.is_empty() {
        return Check {
            check: CheckKind::PermissionsBoundary,
            status: CheckStatus::NotSet,
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
        (CheckStatus::NotReached, "an explicit Deny decided first".to_string())
    } else if !blocked.is_empty() {
        (CheckStatus::Blocked, format!("does not allow {}", blocked.join(", ")))
    } else if allowing.is_empty() {
        (CheckStatus::Passed, "does not block any requirement".to_string())
    } else {
        (CheckStatus::Passed, format!("allowed by {}", allowing.join("; ")))
    };
    Check {
        check: CheckKind::PermissionsBoundary,
        status,
        detail,
        policies: policy_names(&a.graph, &p.boundaries),
    }
}

/// The `scp` check: the SCPs' Denies and the requirements no SCP level allows, on top of
/// `FullAWSAccess`.
fn scp_check(g: &Graph, reqs: &[RequirementDecision]) -> Check {
    let (certain, maybe) = denials(reqs, &[Layer::Scp]);
    let scp_lacking: Vec<&str> = reqs
        .iter()
        .filter(|r| r.decision.lacking.contains(&Layer::Scp))
        .map(|r| r.action.as_str())
        .collect();
    let certain = certain + scp_lacking.len();
    let considered = deny_statements(g, &g.scps);
    Check {
        check: CheckKind::Scp,
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

fn status(certain: usize, maybe: usize) -> CheckStatus {
    if certain > 0 {
        CheckStatus::Blocked
    } else if maybe > 0 {
        CheckStatus::MightBlock
    } else {
        CheckStatus::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    #[test]
    fn unknown_arguments_list_the_valid_choices() {
        let g = Graph::default();
        let caps = catalog::capabilities().unwrap_or_else(|e| unreachable!("{e}"));
        let text = |e: QueryError| e.to_string();
        let err = find_capability(&caps.capabilities, "nope")
            .err()
            .map(text)
            .unwrap_or_default();
        assert!(err.contains("enable") && err.contains("delete-slr"), "{err}");
        let err = find_principal(&g, "alice").err().map(text).unwrap_or_default();
        assert_eq!(err, "unknown principal `alice`: the inputs declare no principal");
        let Some(disable) = caps.capabilities.iter().find(|c| c.id == "disable") else {
            unreachable!("disable is a capability")
        };
        let err = find_targets(&g, disable, "Orders").err().map(text).unwrap_or_default();
        assert!(
            err.contains("`Orders`") && err.contains("`*` names every table"),
            "{err}"
        );
        assert_eq!(find_targets(&g, disable, "*"), Ok(vec![Target::AllTables]));
    }

    /// The errors' text is what `kdsguard query` prints; these are its exact words.
    #[test]
    fn errors_say_what_was_not_found_in_the_command_lines_words() {
        let ids = || vec!["a".to_string(), "b".to_string()];
        let cases = [
            (
                QueryError::UnknownCapability {
                    id: "x".into(),
                    valid: ids(),
                },
                "unknown capability `x`; valid capabilities: a, b",
            ),
            (QueryError::NotEvaluated("x".into()), "capability `x` was not evaluated"),
            (
                QueryError::UnknownPrincipal {
                    arg: "x".into(),
                    suggestion: "did you mean `y`?".into(),
                },
                "unknown principal `x`; did you mean `y`?",
            ),
            (
                QueryError::AmbiguousPrincipal {
                    arg: "x".into(),
                    ids: ids(),
                },
                "principal `x` is ambiguous; use one of these ids:\n  a\n  b",
            ),
            (
                QueryError::UnknownTable {
                    arg: "slr".into(),
                    slr_for: Some("disable".into()),
                    suggestion: "no close name".into(),
                },
                "unknown table `slr` (`slr` is for create-slr and delete-slr, not disable); no close name; `*` names every table the inputs do not declare",
            ),
            (
                QueryError::UnknownTable {
                    arg: "t".into(),
                    slr_for: None,
                    suggestion: "no close name".into(),
                },
                "unknown table `t`; no close name; `*` names every table the inputs do not declare",
            ),
            (
                QueryError::AmbiguousTable {
                    arg: "t".into(),
                    ids: ids(),
                },
                "table `t` is ambiguous; use one of these ids:\n  a\n  b",
            ),
            (
                QueryError::NotSlr {
                    arg: "t".into(),
                    capability: "delete-slr".into(),
                    valid: ids(),
                },
                "`t` is not the service-linked role; delete-slr applies to the service-linked role: give `slr` or one of:\n  a\n  b",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
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
