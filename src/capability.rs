//! Capability decisions over sets of tables, computed once and shared by rules, queries
//! and reports.
//!
//! A capability's requirements are evaluated with [`crate::iam::eval::decide`] and combined
//! with the precedence denied > not_allowed > conditional > allowed. For one principal and
//! table capability, the tables that none of its relevant statements tell apart (no
//! resource pattern of its identity policies, boundary or SCPs matches one and not the
//! other, no resource policy governs either, and both have the same ARN shape) share one
//! decision, computed once on a representative; only tables some statement distinguishes
//! are evaluated apart. Tables are told apart through a [`PatternIndex`] built once per run.
//! Equal decisions are then grouped canonically (report-json.md, Access in v2) into
//! [`Access`] entries over [`TableSet`]s, with the decision itself in an arena.
//!
//! **Invariant:** cost and memory grow with the input and the number of distinct
//! decisions, never with principals × tables; entries are ordered by principal, capability
//! (catalogue order), then the smallest table of the set.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::catalog::{Capabilities, Capability, On, Requirement, TargetKind};
use crate::graph::{Graph, PrincipalClass, PrincipalNode, slr_arn};
use crate::iam::PolicyId;
use crate::iam::condition::Context;
use crate::iam::eval::{
    Because, Decision, Layer, Layers, Open, Outcome, Policy, Request, allow_patterns, decide, full_aws_access,
    statement_concerns, statement_has_variables,
};
use crate::iam::index::{Hits, PatternIndex, TargetIndex};
use crate::iam::pattern::{Tok, Tri, arn_head, text_tokens, witness};
use crate::iam::policy::{Effect, Which};
use crate::settings::Config;
use crate::source::FileId;
use crate::value::{Pins, Template};

pub use crate::catalog::CapId;

/// A set of declared tables (indexes into [`Graph::tables`]), plus whether it also covers
/// every table the inputs do not declare (`*`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TableSet {
    /// `true`: every declared table except `ids`; `false`: exactly `ids`.
    except: bool,
    /// Sorted, distinct.
    ids: Vec<usize>,
    pub undeclared: bool,
}

/// How a writer names a set's declared tables (report-json.md: `"all"`, a list, or
/// `{"except": [...]}`, whichever names fewer ids).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Declared<'a> {
    All,
    List(std::borrow::Cow<'a, [usize]>),
    Except(std::borrow::Cow<'a, [usize]>),
}

impl TableSet {
    pub fn only(mut ids: Vec<usize>) -> TableSet {
        ids.sort_unstable();
        ids.dedup();
        TableSet {
            except: false,
            ids,
            undeclared: false,
        }
    }

    pub(crate) fn all_except(mut ids: Vec<usize>) -> TableSet {
        ids.sort_unstable();
        ids.dedup();
        TableSet {
            except: true,
            ids,
            undeclared: false,
        }
    }

    /// Only `*`: the tables the inputs do not declare.
    pub(crate) fn undeclared_only() -> TableSet {
        TableSet {
            undeclared: true,
            ..TableSet::default()
        }
    }

    /// The tables of a set written as a list (`None` for an "every table except" set).
    pub fn listed(&self) -> Option<&[usize]> {
        (!self.except).then_some(self.ids.as_slice())
    }

    pub fn contains(&self, table: usize) -> bool {
        self.ids.binary_search(&table).is_ok() != self.except
    }

    /// How many declared tables it covers, of `total`.
    pub fn count(&self, total: usize) -> usize {
        if self.except {
            total.saturating_sub(self.ids.len())
        } else {
            self.ids.len()
        }
    }

    /// Whether it covers no table at all, declared or not.
    pub fn is_empty(&self, total: usize) -> bool {
        self.count(total) == 0 && !self.undeclared
    }

    /// The writer's form: `All`, else whichever of the list and `except` forms names fewer
    /// ids (the list on a tie). Costs O(total) only when it turns one form into the other.
    pub fn declared(&self, total: usize) -> Declared<'_> {
        let count = self.count(total);
        if count == total && total > 0 {
            return Declared::All;
        }
        let list_is_shorter = count <= total - count;
        match (self.except, list_is_shorter) {
            (false, true) => Declared::List(self.ids.as_slice().into()),
            (true, false) => Declared::Except(self.ids.as_slice().into()),
            (false, false) => Declared::Except(complement(&self.ids, total).into()),
            (true, true) => Declared::List(complement(&self.ids, total).into()),
        }
    }

    /// The declared tables it covers, in index order (an expansion: O(total) for an
    /// `except` set; only for callers that asked for one table at a time).
    pub fn iter(&self, total: usize) -> Box<dyn Iterator<Item = usize> + '_> {
        if self.except {
            Box::new((0..total).filter(move |t| self.ids.binary_search(t).is_err()))
        } else {
            Box::new(self.ids.iter().copied())
        }
    }

    /// The smallest declared table it covers.
    pub fn first(&self, total: usize) -> Option<usize> {
        self.first_unbounded().filter(|&t| t < total)
    }

    /// The smallest table index it covers, ignoring how many tables there are.
    fn first_unbounded(&self) -> Option<usize> {
        if self.except {
            (0..).find(|t| self.ids.binary_search(t).is_err())
        } else {
            self.ids.first().copied()
        }
    }

    /// Union of two sets, in time linear in their id lists.
    pub(crate) fn union(&self, other: &TableSet) -> TableSet {
        let (except, ids) = match (self.except, other.except) {
            (false, false) => (false, merge(&self.ids, &other.ids)),
            (true, true) => (true, intersect(&self.ids, &other.ids)),
            (true, false) => (true, subtract(&self.ids, &other.ids)),
            (false, true) => (true, subtract(&other.ids, &self.ids)),
        };
        TableSet {
            except,
            ids,
            undeclared: self.undeclared || other.undeclared,
        }
    }

    /// The tables both sets cover.
    pub(crate) fn intersection(&self, other: &TableSet) -> TableSet {
        let (except, ids) = match (self.except, other.except) {
            (false, false) => (false, intersect(&self.ids, &other.ids)),
            (true, true) => (true, merge(&self.ids, &other.ids)),
            (true, false) => (false, subtract(&other.ids, &self.ids)),
            (false, true) => (false, subtract(&self.ids, &other.ids)),
        };
        TableSet {
            except,
            ids,
            undeclared: self.undeclared && other.undeclared,
        }
    }

    /// The tables `self` covers and `other` does not.
    pub(crate) fn minus(&self, other: &TableSet) -> TableSet {
        let rest = TableSet {
            except: !other.except,
            ids: other.ids.clone(),
            undeclared: !other.undeclared,
        };
        self.intersection(&rest)
    }

    /// Removes tables (sorted) from the set.
    fn without(&self, remove: &[usize]) -> TableSet {
        let ids = if self.except {
            merge(&self.ids, remove)
        } else {
            subtract(&self.ids, remove)
        };
        TableSet {
            except: self.except,
            ids,
            undeclared: self.undeclared,
        }
    }
}

fn complement(ids: &[usize], total: usize) -> Vec<usize> {
    (0..total).filter(|t| ids.binary_search(t).is_err()).collect()
}

fn merge(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
                *x
            }
            (Some(x), Some(y)) if x < y => {
                i += 1;
                *x
            }
            (Some(_), Some(y)) | (None, Some(y)) => {
                j += 1;
                *y
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (None, None) => break,
        };
        out.push(next);
    }
    out
}

fn intersect(a: &[usize], b: &[usize]) -> Vec<usize> {
    a.iter().filter(|x| b.binary_search(x).is_ok()).copied().collect()
}

fn subtract(a: &[usize], b: &[usize]) -> Vec<usize> {
    a.iter().filter(|x| b.binary_search(x).is_err()).copied().collect()
}

/// Table names for phrases: distinct names in order, each with its tables.
#[derive(Debug, Default)]
struct TableNames {
    groups: Vec<(String, Vec<usize>)>,
    group_of: Vec<usize>,
}

/// How many names a phrase spells out.
const SHOWN: usize = 5;

impl TableNames {
    fn new(graph: &Graph) -> TableNames {
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (k, t) in graph.tables.iter().enumerate() {
            by_name.entry(format!("table {}", t.table.name)).or_default().push(k);
        }
        let groups: Vec<(String, Vec<usize>)> = by_name.into_iter().collect();
        let mut group_of = vec![0; graph.tables.len()];
        for (g, (_, members)) in groups.iter().enumerate() {
            for &t in members {
                group_of[t] = g;
            }
        }
        TableNames { groups, group_of }
    }

    fn phrase(&self, set: &TableSet) -> String {
        let (shown, total): (Vec<&str>, usize) = if set.except {
            let mut excluded: HashMap<usize, usize> = HashMap::new();
            for &t in &set.ids {
                if let Some(&g) = self.group_of.get(t) {
                    *excluded.entry(g).or_default() += 1;
                }
            }
            let gone = |g: usize| excluded.get(&g).is_some_and(|&n| n == self.groups[g].1.len());
            let fully = excluded.keys().filter(|&&g| gone(g)).count();
            let shown = (0..self.groups.len())
                .filter(|&g| !gone(g))
                .take(SHOWN)
                .map(|g| self.groups[g].0.as_str())
                .collect();
            (shown, self.groups.len() - fully)
        } else {
            let mut gs: Vec<usize> = set.ids.iter().filter_map(|&t| self.group_of.get(t).copied()).collect();
            gs.sort_unstable();
            gs.dedup();
            let total = gs.len();
            (
                gs.into_iter().take(SHOWN).map(|g| self.groups[g].0.as_str()).collect(),
                total,
            )
        };
        let mut names: Vec<&str> = Vec::new();
        let mut total = total;
        if set.undeclared {
            names.push("every undeclared table (*)");
            total += 1;
        }
        names.extend(shown);
        names.truncate(SHOWN);
        let more = total.saturating_sub(names.len());
        let mut out = names.join(", ");
        if more > 0 {
            out.push_str(&format!(" and {more} more"));
        }
        out
    }
}

/// What an entry covers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Covers {
    Tables(TableSet),
    /// The service-linked role (index into [`Graph::slrs`]).
    Slr(usize),
}

/// What a capability is decided on, and what a query asks about: one target of a
/// capability's requirements.
///
/// The SLR keeps its index into [`Graph::slrs`] so that a query names which declared role
/// it means; the decision engine reads no more than "the SLR", since every declared SLR has
/// the same ARN ([`slr_arn`]) and so one request resource.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    /// A declared table (index into [`Graph::tables`]).
    Table(usize),
    /// Every table the inputs do not declare.
    AllTables,
    /// A service-linked role (index into [`Graph::slrs`]).
    Slr(usize),
}

/// The resource a request for one requirement names: the one mapping from a requirement's
/// [`On`] and a [`Target`] to a request, read by the decisions and by queries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RequestResource {
    /// `*` (a requirement on `any`).
    Any,
    /// The service-linked role's ARN.
    Slr,
    /// Another service's service-linked role (KDS003's probe).
    OtherSlr,
    /// A declared table's ARN (index into [`Graph::tables`]).
    Table(usize),
    /// Some table the inputs do not declare.
    EveryTable,
    /// The declared destination stream of a table (index into [`Graph::tables`]).
    Stream(usize),
    /// Some stream in the account and region (no destination is declared).
    SomeStream,
    /// Each table of a set of several (a query's grouped entry: no one table is asked).
    EachTable,
}

impl RequestResource {
    /// The request a requirement on `on` makes for `target`; `None` stands for a set of
    /// several tables none of which is asked about alone (the decisions always name one).
    pub fn of(g: &Graph, on: On, target: Option<Target>) -> RequestResource {
        match (on, target) {
            (On::Any, _) => RequestResource::Any,
            (On::Slr, _) => RequestResource::Slr,
            (On::OtherSlr, _) => RequestResource::OtherSlr,
            (On::Table, Some(Target::Table(t))) => RequestResource::Table(t),
            (On::Table, None) => RequestResource::EachTable,
            (On::Table, Some(_)) => RequestResource::EveryTable,
            (On::Stream, Some(Target::Table(t))) if g.tables.get(t).is_some_and(|t| t.stream_arn.is_some()) => {
                RequestResource::Stream(t)
            }
            (On::Stream, _) => RequestResource::SomeStream,
        }
    }

    /// Whether the resource is the same for every target of the run (so one decision of
    /// the requirement serves them all).
    pub(crate) fn same_for_all(self) -> bool {
        matches!(
            self,
            RequestResource::Any | RequestResource::Slr | RequestResource::OtherSlr | RequestResource::SomeStream
        )
    }

    /// The request's resource when it is one known ARN (or `*`).
    pub fn arn(self, g: &Graph) -> Option<Template> {
        match self {
            RequestResource::Any => Some(Template::lit("*")),
            RequestResource::Slr => Some(slr_arn()),
            RequestResource::Table(t) => g.tables.get(t).map(|t| t.table.arn.clone()),
            RequestResource::Stream(t) => g.tables.get(t).and_then(|t| t.stream_arn.clone()),
            RequestResource::OtherSlr
            | RequestResource::EveryTable
            | RequestResource::SomeStream
            | RequestResource::EachTable => None,
        }
    }
}

/// One requirement's decision.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct RequirementDecision {
    pub action: String,
    pub primary: bool,
    pub decision: Decision,
}

/// A capability's decision: its outcome and each requirement's decision with its proof.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct CapDecision {
    pub outcome: Outcome,
    pub requirements: Vec<RequirementDecision>,
}

impl CapDecision {
    /// Actions of the requirements that no Allow reaches.
    pub fn missing(&self) -> Vec<String> {
        self.missing_actions().map(str::to_string).collect()
    }

    /// [`CapDecision::missing`], borrowed.
    fn missing_actions(&self) -> impl Iterator<Item = &str> {
        self.requirements
            .iter()
            .filter(|r| r.decision.outcome == Outcome::NotAllowed)
            .map(|r| r.action.as_str())
    }

    /// Whether the capability's primary action is allowed or conditional.
    pub(crate) fn primary_granted(&self) -> bool {
        self.requirements.iter().any(|r| r.primary && r.decision.outcome.can())
    }

    /// The deciding statements of every requirement, de-duplicated, in requirement order.
    pub fn because(&self) -> Vec<(&str, &Because)> {
        let mut out: Vec<(&str, &Because)> = Vec::new();
        for r in &self.requirements {
            if self.outcome == Outcome::Denied && r.decision.outcome != Outcome::Denied {
                continue;
            }
            for b in &r.decision.because {
                if !out.iter().any(|(a, x)| *a == r.action && *x == b) {
                    out.push((r.action.as_str(), b));
                }
            }
        }
        out
    }

    /// What left the decision open.
    pub fn open(&self) -> Vec<&Open> {
        let mut out: Vec<&Open> = Vec::new();
        for r in &self.requirements {
            for o in &r.decision.open {
                if !out.contains(&o) {
                    out.push(o);
                }
            }
        }
        out
    }

    /// `missing` as the report lists it (only for `not_allowed` and `denied`).
    pub(crate) fn reported_missing(&self) -> Vec<String> {
        self.reported_missing_actions().map(str::to_string).collect()
    }

    /// [`CapDecision::reported_missing`], borrowed.
    fn reported_missing_actions(&self) -> impl Iterator<Item = &str> {
        let reported = matches!(self.outcome, Outcome::NotAllowed | Outcome::Denied);
        self.missing_actions().filter(move |_| reported)
    }

    /// What the report shows of a decision (report-json.md's `decision`, `missing`,
    /// `conditions`, `because`): two decisions with equal keys share an entry.
    fn report_key(&self) -> ReportKey<'_> {
        let because = self
            .because()
            .into_iter()
            .map(|(action, b)| {
                let at = b.action.filter(|s| !s.is_builtin()).unwrap_or(b.statement);
                (action, b.effect, b.policy_id, b.layer, at.file, at.start)
            })
            .collect();
        let missing = self.reported_missing_actions().collect();
        (self.outcome, missing, self.open(), because)
    }
}

/// A `because` entry as printed: action, effect, policy (printed by its address), layer,
/// and where it points.
type PrintedBecause<'a> = (&'a str, Effect, Option<PolicyId>, Layer, FileId, u32);
type ReportKey<'a> = (Outcome, Vec<&'a str>, Vec<&'a Open>, Vec<PrintedBecause<'a>>);

/// The index of a decision in [`Decisions::arena`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct DecisionId(pub u32);

/// One entry: a principal's decision for a capability over a set of tables (or the SLR).
#[derive(Clone, Debug)]
pub struct Access {
    pub principal: usize,
    pub cap: CapId,
    pub covers: Covers,
    pub decision: DecisionId,
}

/// What the decisions cost, counted (a test compares N with 2N).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Requests given to the IAM evaluator.
    pub requests: u64,
    /// Pattern matches run to build the pattern index.
    pub index_matches: u64,
    /// Table classes evaluated (one representative each).
    pub classes: u64,
}

/// Every decision of a run.
#[derive(Debug, Default)]
pub struct Decisions {
    pub capabilities: Vec<Capability>,
    /// Ordered by principal, capability, then the smallest table of the set.
    pub entries: Vec<Access>,
    pub arena: Vec<CapDecision>,
    pub work: Work,
    tables: usize,
    names: TableNames,
    /// `starts[p * caps + c]`: the first entry of (p, c); one more slot closes the last.
    starts: Vec<usize>,
    /// The run's request resources and pattern index, kept for the changed principals that
    /// reach decides later (built once per run, not again).
    setting: Option<std::sync::Arc<Setting>>,
}

impl Decisions {
    pub fn cap(&self, id: &str) -> Option<CapId> {
        crate::catalog::id_in(&self.capabilities, id)
    }

    pub fn capability(&self, cap: CapId) -> &Capability {
        &self.capabilities[usize::from(cap.0)]
    }

    pub fn cap_name(&self, cap: CapId) -> &str {
        &self.capability(cap).id
    }

    /// The capability named `id` (a finding's or a change's), with its facts.
    pub fn named(&self, id: &str) -> Option<&Capability> {
        self.cap(id).map(|c| self.capability(c))
    }

    /// Every capability with its id, in catalogue order.
    pub fn caps(&self) -> impl Iterator<Item = (CapId, &Capability)> {
        self.capabilities.iter().enumerate().map(|(k, c)| (CapId(k as u16), c))
    }

    /// The number of declared tables.
    pub fn table_count(&self) -> usize {
        self.tables
    }

    pub fn decision(&self, a: &Access) -> &CapDecision {
        &self.arena[a.decision.0 as usize]
    }

    /// The entries of one principal and capability (a lookup, not a scan).
    pub fn of(&self, principal: usize, cap: CapId) -> &[Access] {
        let n = self.capabilities.len();
        let k = principal * n + usize::from(cap.0);
        match (self.starts.get(k), self.starts.get(k + 1)) {
            (Some(&s), Some(&e)) => &self.entries[s..e],
            _ => &[],
        }
    }

    /// The entries of one principal.
    pub(crate) fn of_principal(&self, principal: usize) -> &[Access] {
        let n = self.capabilities.len();
        match (self.starts.get(principal * n), self.starts.get((principal + 1) * n)) {
            (Some(&s), Some(&e)) => &self.entries[s..e],
            _ => &[],
        }
    }

    /// The entry that decides (principal, capability) on one declared table (`None`: on
    /// the undeclared tables, `*`).
    pub(crate) fn on_table(&self, principal: usize, cap: CapId, table: Option<usize>) -> Option<&Access> {
        self.of(principal, cap).iter().find(|a| match (&a.covers, table) {
            (Covers::Tables(s), Some(t)) => s.contains(t),
            (Covers::Tables(s), None) => s.undeclared,
            (Covers::Slr(_), _) => false,
        })
    }

    /// The entry that decides (principal, capability) on one service-linked role.
    pub(crate) fn on_slr(&self, principal: usize, cap: CapId, slr: usize) -> Option<&Access> {
        self.of(principal, cap).iter().find(|a| a.covers == Covers::Slr(slr))
    }

    /// A short phrase naming a set's tables: `table Music, table Orders and 3 more`
    /// (distinct names in name order, at most five spelled out; `every undeclared table (*)`
    /// first when the set covers them). Linear in the set's id list, not in the tables.
    pub(crate) fn phrase(&self, set: &TableSet) -> String {
        self.names.phrase(set)
    }

    /// Whether the report lists it: any decision but `not_allowed`, or a partial grant,
    /// of a capability that is not an internal probe.
    pub fn reported(&self, a: &Access) -> bool {
        let d = self.decision(a);
        !self.capability(a.cap).internal && (d.outcome != Outcome::NotAllowed || d.primary_granted())
    }
}

/// Evaluates every capability for every principal.
pub fn evaluate(graph: &Graph, caps: &Capabilities, config: &Config) -> Decisions {
    let setting = std::sync::Arc::new(Setting::prepare(graph, caps, &config.pins));
    let nodes: Vec<&PrincipalNode> = graph.principals.iter().collect();
    let class_of = classes(graph, caps, config, &nodes);
    let decided: Vec<Option<PrincipalDecisions>> = (0..graph.principals.len())
        .into_par_iter()
        .map(|p| (class_of[p] == p).then(|| evaluate_principal(graph, caps, config, &setting, p)))
        .collect();
    let mut out = Decisions {
        capabilities: caps.capabilities.clone(),
        tables: graph.tables.len(),
        names: TableNames::new(graph),
        work: Work {
            index_matches: setting.index.matches,
            ..Work::default()
        },
        ..Decisions::default()
    };
    let n_caps = caps.capabilities.len();
    for (p, pd) in decided.into_iter().enumerate() {
        let Some(pd) = pd else {
            // A principal of a class decided before: its representative's entries, with the
            // same decisions (by id).
            let rep = class_of[p] * n_caps;
            let ranges: Vec<(usize, usize)> = (0..n_caps)
                .map(|c| {
                    let end = out.starts.get(rep + c + 1).copied().unwrap_or(out.entries.len());
                    (out.starts[rep + c], end)
                })
                .collect();
            for (a, b) in ranges {
                out.starts.push(out.entries.len());
                for k in a..b {
                    let mut e = out.entries[k].clone();
                    e.principal = p;
                    out.entries.push(e);
                }
            }
            continue;
        };
        out.work.requests += pd.requests;
        out.work.classes += pd.classes;
        for per_cap in pd.caps {
            out.starts.push(out.entries.len());
            let mut previous: Option<DecisionId> = None;
            for (p, cap, covers, decision) in per_cap {
                // The SLR entries of one principal share their decision: store it once.
                let id = match previous {
                    Some(id) if out.arena[id.0 as usize] == decision => id,
                    _ => {
                        out.arena.push(decision);
                        DecisionId(out.arena.len() as u32 - 1)
                    }
                };
                previous = Some(id);
                out.entries.push(Access {
                    principal: p,
                    cap,
                    covers,
                    decision: id,
                });
            }
        }
    }
    out.starts.push(out.entries.len());
    out.setting = Some(setting);
    out
}

/// Per node, the index of the first node of its principal class (itself when first): nodes
/// whose layers hold the same statements that can match a capability's actions, under the
/// same boundary and SCPs, get the same decisions, so only the first is decided. The
/// caller's ARN joins the key where a resource policy could tell callers apart.
fn classes(graph: &Graph, caps: &Capabilities, config: &Config, nodes: &[&PrincipalNode]) -> Vec<usize> {
    let actions = capability_actions(caps);
    let caller_matters = caller_matters(graph);
    let keys: Vec<_> = nodes
        .par_iter()
        .map(|node| {
            let l = layers(graph, node, config);
            let arn = node.arn.pin(&config.pins);
            (
                crate::iam::class::class_key(&l, &actions, &arn, caller_matters),
                node.class,
            )
        })
        .collect();
    crate::iam::class::representatives(keys)
}

/// Every action any capability's requirements ask for.
fn capability_actions(caps: &Capabilities) -> Vec<&str> {
    let mut out: Vec<&str> = caps
        .capabilities
        .iter()
        .flat_map(|c| c.requirements.iter())
        .map(|r| r.action.as_str())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A request resource as tokens, and the ARN whose resource policies govern it.
type Resource = (Vec<Tok>, Option<Template>);

/// Everything the run's principals share: request resources, the pattern index, and how
/// tables group before any statement is read.
#[derive(Debug)]
struct Setting {
    /// Per declared table: its ARN, and its destination stream (`None`: some stream).
    tables: Vec<(Resource, Option<Resource>)>,
    every_table: Resource,
    some_stream: Resource,
    /// A stream name no policy names: "a stream none of the patterns singles out".
    fresh_stream: Vec<Tok>,
    any: Resource,
    slr: Resource,
    other_slr: Resource,
    index: PatternIndex,
    table_index: TargetIndex,
    stream_index: TargetIndex,
    /// Tables grouped by shape (the ARN and stream ARN before their resource segments, and
    /// whether a destination is declared): tables of different shapes never share a class.
    shapes: Vec<Vec<usize>>,
    /// Per shape, the set of its tables.
    shape_sets: Vec<TableSet>,
    /// Per table, its shape.
    shape_of: Vec<usize>,
    /// Tables governed by a resource policy (their own or their stream's): always apart.
    governed: Vec<usize>,
    /// Each policy's statements matched against an action once for the run.
    views: crate::iam::eval::ViewMemo,
}

impl Setting {
    fn prepare(graph: &Graph, caps: &Capabilities, pins: &Pins) -> Setting {
        let exact = |arn: &Template| (text_tokens(&arn.pin(pins)), Some(arn.clone()));
        let tables: Vec<(Resource, Option<Resource>)> = graph
            .tables
            .par_iter()
            .map(|t| (exact(&t.table.arn), t.stream_arn.as_ref().map(exact)))
            .collect();
        let (shapes, shape_of) = shapes(&tables);
        let n = tables.len();
        let shape_sets = shapes
            .iter()
            .map(|members| {
                if members.len() * 2 <= n {
                    TableSet::only(members.clone())
                } else {
                    TableSet::all_except(complement(members, n))
                }
            })
            .collect();
        let governed = tables
            .iter()
            .enumerate()
            .filter(|(_, (t, s))| {
                let has = |r: &Resource| {
                    r.1.as_ref()
                        .is_some_and(|arn| graph.resource_policies.contains_key(arn))
                };
                has(t) || s.as_ref().is_some_and(has)
            })
            .map(|(k, _)| k)
            .collect();
        let table_index = TargetIndex::new(
            tables
                .iter()
                .enumerate()
                .map(|(k, (t, _))| (k as u32, t.0.clone()))
                .collect(),
        );
        let stream_index = TargetIndex::new(
            tables
                .iter()
                .enumerate()
                .filter_map(|(k, (_, s))| s.as_ref().map(|s| (k as u32, s.0.clone())))
                .collect(),
        );
        let index = PatternIndex::build(indexed_patterns(graph, caps), &table_index, &stream_index);
        let mut fresh_stream = quantified("kinesis", "stream/", pins, Tok::Some);
        fresh_stream.pop();
        fresh_stream.push(Tok::Char('\u{1}'));
        Setting {
            tables,
            every_table: (quantified("dynamodb", "table/", pins, Tok::Every), None),
            some_stream: (quantified("kinesis", "stream/", pins, Tok::Some), None),
            fresh_stream,
            any: (text_tokens(&Template::lit("*")), None),
            slr: (text_tokens(&slr_arn().pin(pins)), None),
            other_slr: (text_tokens(&other_slr_arn().pin(pins)), None),
            index,
            table_index,
            stream_index,
            shapes,
            shape_sets,
            shape_of,
            governed,
            views: shared_policies(graph),
        }
    }
}

/// A view memo for the policies more than one principal reads (as identity policy or
/// boundary), the declared SCPs and AWS's default SCP: each is matched against an action
/// once per run. A policy one principal reads is matched for that principal alone.
fn shared_policies(graph: &Graph) -> crate::iam::eval::ViewMemo {
    let mut readers = vec![0u32; graph.policies.len()];
    for p in &graph.principals {
        for &k in p.policies.iter().chain(&p.boundaries) {
            if let Some(n) = readers.get_mut(k) {
                *n = n.saturating_add(1);
            }
        }
    }
    let shared = readers
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .chain(graph.scps.iter().copied())
        .map(|k| &graph.policies[k].policy);
    crate::iam::eval::ViewMemo::for_policies(shared.chain([full_aws_access()]))
}

/// Groups tables by shape; a table whose ARN is not a well-formed ARN is a shape of its own.
fn shapes(tables: &[(Resource, Option<Resource>)]) -> (Vec<Vec<usize>>, Vec<usize>) {
    type Shape = (Option<Vec<Tok>>, bool, Option<Vec<Tok>>, usize);
    let mut by_shape: HashMap<Shape, usize> = HashMap::new();
    let mut shapes: Vec<Vec<usize>> = Vec::new();
    let mut shape_of = Vec::with_capacity(tables.len());
    for (k, (t, s)) in tables.iter().enumerate() {
        let head = arn_head(&t.0);
        let stream_head = s.as_ref().and_then(|s| arn_head(&s.0));
        let regular = head.is_some() && (s.is_none() || stream_head.is_some());
        let key = (head, s.is_some(), stream_head, if regular { usize::MAX } else { k });
        let next = shapes.len();
        let id = *by_shape.entry(key).or_insert(next);
        if id == next {
            shapes.push(Vec::new());
        }
        shapes[id].push(k);
        shape_of.push(id);
    }
    (shapes, shape_of)
}

/// Every distinct resource pattern of a statement that concerns a table capability, except
/// those rewritten per request by policy variables.
fn indexed_patterns(graph: &Graph, caps: &Capabilities) -> Vec<Template> {
    let actions = table_actions(caps);
    // Each policy's statements are read in parallel; the patterns are kept in policy order.
    let per_policy: Vec<Vec<&Template>> = graph
        .policies
        .par_iter()
        .map(|policy| {
            let doc = &policy.policy.document;
            let mut texts = Vec::new();
            for s in &doc.statements {
                if !statement_concerns(s, &actions) || statement_has_variables(s, doc) {
                    continue;
                }
                if let Which::Listed(pats) | Which::Not(pats, _) = &s.resources {
                    texts.extend(pats.iter().map(|p| &p.text));
                }
            }
            texts
        })
        .collect();
    let mut seen: std::collections::HashSet<&Template> = std::collections::HashSet::new();
    let mut out = Vec::new();
    for text in per_policy.into_iter().flatten() {
        if seen.insert(text) {
            out.push(text.clone());
        }
    }
    out
}

/// The actions of every table capability's table and stream requirements.
fn table_actions(caps: &Capabilities) -> Vec<&str> {
    let mut out: Vec<&str> = caps
        .capabilities
        .iter()
        .filter(|c| c.target == TargetKind::Table)
        .flat_map(|c| c.requirements.iter())
        .filter(|r| matches!(r.on, On::Table | On::Stream))
        .map(|r| r.action.as_str())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether the declared SCPs apply to this principal (config `scps.apply-to`; default all).
fn scps_apply(principal: &PrincipalNode, config: &Config) -> bool {
    config
        .scp_apply_to
        .as_ref()
        .is_none_or(|globs| globs.iter().any(|g| principal.matches_glob(g)))
}

/// One principal's entries, per capability in catalogue order.
struct PrincipalDecisions {
    caps: Vec<Vec<(usize, CapId, Covers, CapDecision)>>,
    requests: u64,
    classes: u64,
}

fn evaluate_principal(
    graph: &Graph,
    caps: &Capabilities,
    config: &Config,
    setting: &Setting,
    p: usize,
) -> PrincipalDecisions {
    evaluate_node(graph, caps, config, setting, &graph.principals[p], p)
}

/// One changed principal's entries: per capability in catalogue order, its table sets or SLRs.
pub(crate) type ChangedEntries = Vec<(CapId, Covers, CapDecision)>;

/// The decisions of principals that exist only as a reach target (a principal with changed
/// permissions, `reach.rs`).
#[derive(Debug, Default)]
pub struct Changed {
    /// Per class, its entries: per capability in catalogue order, its table sets or SLRs.
    pub entries: Vec<ChangedEntries>,
    /// Per variant, the index of its class's entries.
    pub slot: Vec<usize>,
    /// Per variant, whether its class's entries cite its own statements. Where not, they
    /// are those of a variant whose outcomes come out alike (`iam::class::outcome_key`):
    /// the outcome on every table is the variant's own, but the proofs, and so the table
    /// sets they group, are the other's; [`evaluate_changed`] gives its own.
    pub exact: Vec<bool>,
}

/// Decides the variants (each a principal index and the node it stands for). Variants of one
/// principal class are decided once, and classes whose outcomes come out alike share the
/// entries of the first ([`Changed::exact`]); the work is added to `work`.
pub(crate) fn evaluate_variants(
    graph: &Graph,
    caps: &Capabilities,
    config: &Config,
    variants: &[(usize, PrincipalNode)],
    decisions: &Decisions,
    work: &mut Work,
) -> Changed {
    if variants.is_empty() {
        return Changed::default();
    }
    let setting = prepared(graph, caps, config, decisions, work);
    let nodes: Vec<&PrincipalNode> = variants.iter().map(|(_, node)| node).collect();
    let class_of = classes(graph, caps, config, &nodes);
    // Classes whose decisions come out alike (`iam::class::outcome_key`): one decides for all.
    let actions = capability_actions(caps);
    let caller_matters = caller_matters(graph);
    let mut first: foldhash::HashMap<crate::iam::class::OutcomeKey, usize> = foldhash::HashMap::default();
    let mut same_as = vec![usize::MAX; variants.len()];
    for v in 0..variants.len() {
        if class_of[v] != v {
            continue;
        }
        let node = &variants[v].1;
        let key = crate::iam::class::outcome_key(
            &layers(graph, node, config),
            &actions,
            |_| true,
            &node.arn.pin(&config.pins),
            caller_matters,
        );
        same_as[v] = *first.entry(key).or_insert(v);
    }
    let reps: Vec<usize> = (0..variants.len()).filter(|&v| same_as[v] == v).collect();
    let decided: Vec<PrincipalDecisions> = reps
        .par_iter()
        .map(|&v| evaluate_node(graph, caps, config, &setting, &variants[v].1, variants[v].0))
        .collect();
    let mut slot_of = vec![0; variants.len()];
    for (k, &v) in reps.iter().enumerate() {
        slot_of[v] = k;
    }
    let rep_of = |v: usize| same_as[class_of[v]];
    Changed {
        slot: (0..variants.len()).map(|v| slot_of[rep_of(v)]).collect(),
        exact: (0..variants.len()).map(|v| rep_of(v) == class_of[v]).collect(),
        entries: decided.into_iter().map(|pd| changed_entries(pd, work)).collect(),
    }
}

/// The variants `which` decided each on its own (their proofs cite their own statements).
pub(crate) fn evaluate_changed(
    graph: &Graph,
    caps: &Capabilities,
    config: &Config,
    variants: &[(usize, PrincipalNode)],
    which: &[usize],
    decisions: &Decisions,
    work: &mut Work,
) -> Vec<ChangedEntries> {
    let setting = prepared(graph, caps, config, decisions, work);
    let decided: Vec<PrincipalDecisions> = which
        .par_iter()
        .map(|&v| evaluate_node(graph, caps, config, &setting, &variants[v].1, variants[v].0))
        .collect();
    decided.into_iter().map(|pd| changed_entries(pd, work)).collect()
}

fn changed_entries(pd: PrincipalDecisions, work: &mut Work) -> ChangedEntries {
    work.requests += pd.requests;
    work.classes += pd.classes;
    pd.caps
        .into_iter()
        .flatten()
        .map(|(_, cap, covers, d)| (cap, covers, d))
        .collect()
}

/// The run's request resources and pattern index, as [`evaluate`] prepared them.
fn prepared(
    graph: &Graph,
    caps: &Capabilities,
    config: &Config,
    decisions: &Decisions,
    work: &mut Work,
) -> std::sync::Arc<Setting> {
    match &decisions.setting {
        Some(prepared) => std::sync::Arc::clone(prepared),
        None => {
            let prepared = Setting::prepare(graph, caps, &config.pins);
            work.index_matches += prepared.index.matches;
            std::sync::Arc::new(prepared)
        }
    }
}

/// Whether a resource policy could tell callers apart (then the caller's ARN joins every
/// class key).
fn caller_matters(graph: &Graph) -> bool {
    graph
        .resource_policies
        .values()
        .flatten()
        .any(|&k| crate::iam::class::policy_reads_caller(&graph.policies[k].policy))
}

/// The policies that apply to a principal's requests (identity, boundary, declared SCPs).
pub fn layers<'a>(graph: &'a Graph, principal: &'a PrincipalNode, config: &Config) -> Layers<'a> {
    Layers {
        identity: principal.policies.iter().map(|&k| &graph.policies[k].policy).collect(),
        unknown_identity: principal.unknown_policies.iter().collect(),
        boundary: principal
            .boundaries
            .iter()
            .map(|&k| &graph.policies[k].policy)
            .collect(),
        // Declared SCPs sit on top of AWS's default FullAWSAccess (semantics.md, SCPs): one
        // level, so that only their Denies bite, unless the config says it was removed.
        scps: if graph.scps.is_empty() || !scps_apply(principal, config) {
            Vec::new()
        } else {
            let full = config.full_aws_access.then(full_aws_access);
            vec![
                full.into_iter()
                    .chain(graph.scps.iter().map(|&k| &graph.policies[k].policy))
                    .collect(),
            ]
        },
        session: Vec::new(),
    }
}

fn evaluate_node(
    graph: &Graph,
    caps: &Capabilities,
    config: &Config,
    setting: &Setting,
    principal: &PrincipalNode,
    p: usize,
) -> PrincipalDecisions {
    let layers = layers(graph, principal, config);
    let principal_arn = principal.arn.pin(&config.pins);
    let base_context = principal_context(principal, &principal_arn);
    let caller = crate::iam::principal::Caller::parse(&principal_arn);
    let eval = Evaluation {
        graph,
        layers: &layers,
        principal_arn: &principal_arn,
        caller: &caller,
        base_context: &base_context,
        setting,
        requests: std::cell::Cell::new(0),
        views: std::cell::RefCell::default(),
    };
    let mut out = PrincipalDecisions {
        caps: Vec::with_capacity(caps.capabilities.len()),
        requests: 0,
        classes: 0,
    };
    for (k, cap) in caps.capabilities.iter().enumerate() {
        let id = CapId(k as u16);
        let mut shared: Vec<Option<Decision>> = vec![None; cap.requirements.len()];
        let entries = match cap.target {
            TargetKind::Slr => (0..graph.slrs.len())
                .map(|s| (p, id, Covers::Slr(s), eval.one(cap, Target::Slr(s), &mut shared)))
                .collect(),
            TargetKind::Table => {
                let classes = eval.classes(cap);
                out.classes += classes.len() as u64;
                let mut decided: Vec<(TableSet, CapDecision)> = classes
                    .into_iter()
                    .map(|(set, rep)| (set, eval.one(cap, Target::Table(rep), &mut shared)))
                    .collect();
                decided.push((
                    TableSet::undeclared_only(),
                    eval.one(cap, Target::AllTables, &mut shared),
                ));
                group(decided)
                    .into_iter()
                    .map(|(set, d)| (p, id, Covers::Tables(set), d))
                    .collect()
            }
        };
        out.caps.push(entries);
    }
    out.requests = eval.requests.get();
    out
}

/// Canonical grouping: decisions the report shows alike share one entry; entries ordered by
/// their smallest declared table, entries covering only undeclared tables last.
fn group(decided: Vec<(TableSet, CapDecision)>) -> Vec<(TableSet, CapDecision)> {
    let mut leader: Vec<usize> = Vec::with_capacity(decided.len());
    {
        let mut first_of: foldhash::HashMap<ReportKey<'_>, usize> = foldhash::HashMap::default();
        for (k, (_, d)) in decided.iter().enumerate() {
            leader.push(*first_of.entry(d.report_key()).or_insert(k));
        }
    }
    let mut parts: Vec<Vec<TableSet>> = vec![Vec::new(); decided.len()];
    let mut decisions: Vec<Option<CapDecision>> = Vec::with_capacity(decided.len());
    for (k, (set, d)) in decided.into_iter().enumerate() {
        parts[leader[k]].push(set);
        decisions.push((leader[k] == k).then_some(d));
    }
    let mut out: Vec<(TableSet, CapDecision)> = parts
        .into_iter()
        .zip(decisions)
        .filter_map(|(sets, d)| Some((union_all(sets), d?)))
        .collect();
    out.sort_by_key(|(set, _)| set.first_unbounded().unwrap_or(usize::MAX));
    out
}

/// The union of many sets at once (linear in their id lists, not quadratic).
pub(crate) fn union_all(sets: Vec<TableSet>) -> TableSet {
    let undeclared = sets.iter().any(|s| s.undeclared);
    let mut listed: Vec<usize> = Vec::new();
    let mut excepted: Option<Vec<usize>> = None;
    for s in sets {
        if s.except {
            excepted = Some(match excepted {
                None => s.ids,
                Some(e) => intersect(&e, &s.ids),
            });
        } else {
            listed.extend(s.ids);
        }
    }
    let mut set = match excepted {
        None => TableSet::only(listed),
        Some(e) => {
            listed.sort_unstable();
            listed.dedup();
            TableSet::all_except(subtract(&e, &listed))
        }
    };
    set.undeclared = undeclared;
    set
}

/// What one principal's requests share.
struct Evaluation<'a> {
    graph: &'a Graph,
    layers: &'a Layers<'a>,
    principal_arn: &'a Template,
    caller: &'a crate::iam::principal::Caller,
    base_context: &'a Context,
    setting: &'a Setting,
    requests: std::cell::Cell<u64>,
    /// Per action asked, how this principal's statements match it (found once).
    views: std::cell::RefCell<foldhash::HashMap<String, std::rc::Rc<crate::iam::eval::ActionView>>>,
}

/// One table's signature: the (pattern, on streams?, match) hits of the statements read.
type Signature = Vec<(u32, bool, Tri)>;

impl Evaluation<'_> {
    /// The classes of tables this principal's statements cannot tell apart for `cap`, each
    /// with a representative. Cost: the hits of the principal's relevant patterns.
    fn classes(&self, cap: &Capability) -> Vec<(TableSet, usize)> {
        let s = self.setting;
        let n = s.tables.len();
        if n == 0 {
            return Vec::new();
        }
        let actions: Vec<&str> = cap
            .requirements
            .iter()
            .filter(|r| matches!(r.on, On::Table | On::Stream))
            .map(|r| r.action.as_str())
            .collect();
        let Some(signatures) = self.signatures(&actions) else {
            // Some pattern depends on the request (policy variables): every table apart.
            return (0..n).map(|t| (TableSet::only(vec![t]), t)).collect();
        };
        let mut distinguished: Vec<usize> = signatures.keys().copied().collect();
        distinguished.sort_unstable();
        let mut by_signature: BTreeMap<(usize, &Signature), Vec<usize>> = BTreeMap::new();
        for (t, sig) in &signatures {
            by_signature.entry((s.shape_of[*t], sig)).or_default().push(*t);
        }
        let mut out: Vec<(TableSet, usize)> = Vec::new();
        for (shape, members) in s.shapes.iter().enumerate() {
            let rest = s.shape_sets[shape].without(&distinguished);
            if let Some(rep) = members.iter().find(|t| !signatures.contains_key(t)) {
                out.push((rest, *rep));
            }
        }
        for (_, tables) in by_signature {
            let rep = tables[0];
            out.push((TableSet::only(tables), rep));
        }
        out
    }

    /// Per table that some relevant pattern tells apart, its signature; `None` when a
    /// relevant statement's patterns cannot be indexed.
    fn signatures(&self, actions: &[&str]) -> Option<foldhash::HashMap<usize, Signature>> {
        let s = self.setting;
        let mut out: foldhash::HashMap<usize, Signature> = foldhash::HashMap::default();
        let mut local = 0u32;
        let layers = self.layers;
        let policies = layers
            .identity
            .iter()
            .chain(layers.boundary.iter())
            .chain(layers.scps.iter().flatten())
            .chain(layers.session.iter());
        for policy in policies {
            let doc = &policy.document;
            for st in doc.statements.iter().filter(|st| statement_concerns(st, actions)) {
                let pats = match &st.resources {
                    Which::Listed(p) | Which::Not(p, _) => p,
                    _ => continue,
                };
                if statement_has_variables(st, doc) {
                    return None;
                }
                for pat in pats {
                    local += 1;
                    match s.index.get(&pat.text) {
                        Some((tables, streams)) => {
                            mark(&mut out, local, false, tables);
                            mark(&mut out, local, true, streams);
                        }
                        None => {
                            // A policy the graph does not hold (the built-in FullAWSAccess).
                            let mut n = 0;
                            mark(&mut out, local, false, &s.table_index.hits(&pat.text, &mut n));
                            mark(&mut out, local, true, &s.stream_index.hits(&pat.text, &mut n));
                        }
                    }
                }
            }
        }
        for &t in &s.governed {
            local += 1;
            out.entry(t).or_default().push((local, false, Tri::Yes));
        }
        Some(out)
    }

    fn one(&self, cap: &Capability, target: Target, shared: &mut [Option<Decision>]) -> CapDecision {
        let mut decisions: Vec<Option<Decision>> = vec![None; cap.requirements.len()];
        // A table target without a declared destination: its stream requirements are asked
        // of "some stream", jointly.
        let some_stream = !matches!(target, Target::Slr(_))
            && RequestResource::of(self.graph, On::Stream, Some(target)) == RequestResource::SomeStream;
        if some_stream {
            self.same_stream(cap, shared, &mut decisions);
        }
        for (k, req) in cap.requirements.iter().enumerate() {
            if decisions[k].is_some() {
                continue;
            }
            let ((resource, governed_by), same_for_all) = self.for_target(target, req.on);
            let d = match shared.get(k).and_then(Option::as_ref) {
                Some(d) if same_for_all => d.clone(),
                _ => {
                    let d = self.decide(req, resource, governed_by.as_ref());
                    if same_for_all && let Some(slot) = shared.get_mut(k) {
                        *slot = Some(d.clone());
                    }
                    d
                }
            };
            decisions[k] = Some(d);
        }
        let requirements: Vec<RequirementDecision> = cap
            .requirements
            .iter()
            .zip(decisions)
            .filter_map(|(req, d)| {
                d.map(|decision| RequirementDecision {
                    action: req.action.clone(),
                    primary: req.primary,
                    decision,
                })
            })
            .collect();
        let outcome = requirements
            .iter()
            .map(|r| r.decision.outcome)
            .max_by_key(|o| o.rank())
            .unwrap_or(Outcome::NotAllowed);
        CapDecision { outcome, requirements }
    }

    /// The stream requirements of one capability on "some stream" must hold on the same
    /// stream (semantics.md). Each is first decided on its own; when two or more are and the
    /// patterns that grant them have no stream in common, the decisions come from the best
    /// stream they do share (a pattern of one grant, or a stream none of them names).
    /// Decided once per capability (the same for every table without a destination).
    fn same_stream(&self, cap: &Capability, shared: &mut [Option<Decision>], out: &mut [Option<Decision>]) {
        let stream_reqs: Vec<usize> = (0..cap.requirements.len())
            .filter(|&k| cap.requirements[k].on == On::Stream)
            .collect();
        let mut alone = Vec::with_capacity(stream_reqs.len());
        for &k in &stream_reqs {
            let d = match shared.get(k).and_then(Option::as_ref) {
                Some(d) => d.clone(),
                None => {
                    let d = self.decide(&cap.requirements[k], &self.setting.some_stream.0, None);
                    if let Some(slot) = shared.get_mut(k) {
                        *slot = Some(d.clone());
                    }
                    d
                }
            };
            alone.push(d);
        }
        let worst = |ds: &[Decision]| ds.iter().map(|d| d.outcome.rank()).max().unwrap_or(0);
        let best_alone = worst(&alone);
        if stream_reqs.len() < 2 || best_alone >= Outcome::NotAllowed.rank() {
            for (&k, d) in stream_reqs.iter().zip(alone) {
                out[k] = Some(d);
            }
            return;
        }
        // Candidate streams: each granting pattern's witness, then a stream none names.
        let ctx = self.base_context;
        let mut witnesses: Vec<Vec<Tok>> = Vec::new();
        for &k in &stream_reqs {
            let req = &cap.requirements[k];
            let request = Request::new(
                &req.action,
                self.setting.some_stream.0.clone(),
                Some(self.principal_arn),
                ctx,
            )
            .with_caller(self.caller);
            for pattern in allow_patterns(self.layers, &request) {
                if let Some(w) = witness(pattern)
                    && !witnesses.contains(&w)
                {
                    witnesses.push(w);
                }
            }
        }
        witnesses.push(self.setting.fresh_stream.clone());
        let mut best: Option<(u8, Vec<Decision>)> = None;
        for w in &witnesses {
            let ds: Vec<Decision> = stream_reqs
                .iter()
                .map(|&k| self.decide(&cap.requirements[k], w, None))
                .collect();
            let rank = worst(&ds);
            if rank == best_alone {
                // A common stream gives what each requirement gives alone: keep those
                // decisions (their proofs name every statement that may grant).
                for (&k, d) in stream_reqs.iter().zip(alone.iter()) {
                    out[k] = Some(d.clone());
                }
                return;
            }
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, ds));
            }
        }
        let chosen = best.map(|(_, ds)| ds).unwrap_or(alone);
        for (&k, d) in stream_reqs.iter().zip(chosen) {
            out[k] = Some(d);
        }
    }

    /// The resource a requirement is evaluated on for a target, and whether that resource
    /// is the same for every target (so its decision can be shared).
    fn for_target(&self, target: Target, on: On) -> (&Resource, bool) {
        let s = self.setting;
        let request = RequestResource::of(self.graph, on, Some(target));
        let resource = match request {
            RequestResource::Any => &s.any,
            RequestResource::Slr => &s.slr,
            RequestResource::OtherSlr => &s.other_slr,
            RequestResource::Table(t) => &s.tables[t].0,
            RequestResource::Stream(t) => s.tables[t].1.as_ref().unwrap_or(&s.some_stream),
            RequestResource::EveryTable | RequestResource::EachTable => &s.every_table,
            RequestResource::SomeStream => &s.some_stream,
        };
        (resource, request.same_for_all())
    }

    /// How this principal's statements match `action`, found on the first request for it.
    fn view(&self, action: &str) -> std::rc::Rc<crate::iam::eval::ActionView> {
        if let Some(view) = self.views.borrow().get(action) {
            return std::rc::Rc::clone(view);
        }
        let view = std::rc::Rc::new(crate::iam::eval::ActionView::with_memo(
            self.layers,
            action,
            Some(&self.setting.views),
        ));
        self.views
            .borrow_mut()
            .insert(action.to_string(), std::rc::Rc::clone(&view));
        view
    }

    fn decide(&self, req: &Requirement, resource: &[Tok], governed_by: Option<&Template>) -> Decision {
        self.requests.set(self.requests.get() + 1);
        let extra;
        let ctx = if req.context.is_empty() {
            self.base_context
        } else {
            let mut c = self.base_context.clone();
            for (k, v) in &req.context {
                c.set(k, vec![Template::lit(v.clone())]);
            }
            extra = c;
            &extra
        };
        let resource_policies: Vec<&Policy> = governed_by
            .and_then(|arn| self.graph.resource_policies.get(arn))
            .into_iter()
            .flatten()
            .map(|&k| &self.graph.policies[k].policy)
            .collect();
        let view = self.view(&req.action);
        let request = Request::over(&req.action, resource.into(), Some(self.principal_arn), ctx)
            .with_caller(self.caller)
            .with_view(&view);
        decide(self.layers, &resource_policies, &request)
    }
}

/// Adds a pattern's non-uniform hits to the tables' signatures.
fn mark(out: &mut foldhash::HashMap<usize, Signature>, pattern: u32, streams: bool, hits: &Hits) {
    if hits.uniform.is_some() {
        return;
    }
    for &(t, tri) in &hits.targets {
        out.entry(t as usize).or_default().push((pattern, streams, tri));
    }
}

/// Another service's service-linked role (EMR's), for the KDS003 probe.
fn other_slr_arn() -> Template {
    crate::iam::arn::iam(
        "role/aws-service-role/elasticmapreduce.amazonaws.com/",
        &Template::lit("AWSServiceRoleForEMRCleanup"),
    )
}

/// `arn:<partition>:<service>:<region>:<account>:<prefix>` followed by a quantified name.
fn quantified(service: &str, prefix: &str, pins: &Pins, tok: Tok) -> Vec<Tok> {
    use crate::iam::arn::{Segment, head};
    let mut t = head(Segment::Run, service, Segment::Run, Segment::Run);
    t.push_str(prefix);
    let mut toks = text_tokens(&t.pin(pins));
    toks.push(tok);
    toks
}

/// The principal-derived condition keys the templates determine.
/// The request context AWS derives from the caller.
pub(crate) fn principal_context(p: &PrincipalNode, arn: &Template) -> Context {
    let mut ctx = Context::new();
    ctx.set("aws:PrincipalArn", vec![arn.clone()]);
    match p.class {
        PrincipalClass::User | PrincipalClass::ExternalUser => {
            ctx.set("aws:username", vec![p.name.clone()]);
            ctx.set("aws:PrincipalType", vec![Template::lit("User")]);
        }
        PrincipalClass::Role | PrincipalClass::ExternalRole => {
            ctx.set("aws:PrincipalType", vec![Template::lit("AssumedRole")]);
            ctx.set_absent("aws:username");
        }
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph with two tables, the first streaming to a declared destination.
    fn two_tables() -> Graph {
        let table = |name: &str, stream: Option<&str>| crate::graph::TableNode {
            id: format!("t-{name}"),
            input: 0,
            table: crate::model::Table {
                address: format!("aws_dynamodb_table.{name}"),
                name: Template::lit(name),
                arn: Template::lit(format!("arn:aws:dynamodb:us-east-1:111122223333:table/{name}")),
                span: crate::source::Span::default(),
            },
            stream_arn: stream.map(Template::lit),
            stream: None,
            destination_span: None,
        };
        let mut g = Graph::default();
        g.tables = vec![
            table("orders", Some("arn:aws:kinesis:us-east-1:111122223333:stream/orders")),
            table("users", None),
        ];
        g
    }

    /// One mapping from (requirement, target) to the request resource serves the decisions
    /// and the queries: a table's own ARN, its declared stream or "some stream", and the
    /// resources that are the same whatever the target.
    #[test]
    fn a_requirement_names_one_request_resource_per_target() {
        let g = two_tables();
        let of = |on, t| RequestResource::of(&g, on, t);
        assert_eq!(of(On::Table, Some(Target::Table(1))), RequestResource::Table(1));
        assert_eq!(of(On::Table, Some(Target::AllTables)), RequestResource::EveryTable);
        assert_eq!(of(On::Table, None), RequestResource::EachTable);
        assert_eq!(of(On::Stream, Some(Target::Table(0))), RequestResource::Stream(0));
        assert_eq!(of(On::Stream, Some(Target::Table(1))), RequestResource::SomeStream);
        assert_eq!(of(On::Stream, Some(Target::AllTables)), RequestResource::SomeStream);
        assert_eq!(of(On::Stream, Some(Target::Table(7))), RequestResource::SomeStream);
        for t in [
            Some(Target::Table(0)),
            Some(Target::AllTables),
            Some(Target::Slr(0)),
            None,
        ] {
            assert_eq!(of(On::Any, t), RequestResource::Any);
            assert_eq!(of(On::Slr, t), RequestResource::Slr);
            assert_eq!(of(On::OtherSlr, t), RequestResource::OtherSlr);
        }
        let shared: Vec<bool> = [
            RequestResource::Any,
            RequestResource::Slr,
            RequestResource::OtherSlr,
            RequestResource::SomeStream,
            RequestResource::Table(0),
            RequestResource::EveryTable,
            RequestResource::Stream(0),
        ]
        .map(RequestResource::same_for_all)
        .to_vec();
        assert_eq!(shared, [true, true, true, true, false, false, false]);
    }

    #[test]
    fn a_request_resource_is_an_arn_only_when_one_is_known() {
        let g = two_tables();
        let text = |r: RequestResource| r.arn(&g).map(|t| t.to_string());
        assert_eq!(text(RequestResource::Any).as_deref(), Some("*"));
        assert_eq!(text(RequestResource::Slr), Some(slr_arn().to_string()));
        assert_eq!(
            text(RequestResource::Table(1)).as_deref(),
            Some("arn:aws:dynamodb:us-east-1:111122223333:table/users")
        );
        assert_eq!(
            text(RequestResource::Stream(0)).as_deref(),
            Some("arn:aws:kinesis:us-east-1:111122223333:stream/orders")
        );
        for r in [
            RequestResource::OtherSlr,
            RequestResource::EveryTable,
            RequestResource::SomeStream,
            RequestResource::EachTable,
            RequestResource::Table(9),
        ] {
            assert_eq!(text(r), None, "{r:?}");
        }
    }

    /// The view memo keeps the policies two principals read, the SCPs' default, and not a
    /// policy one principal reads alone.
    #[test]
    fn the_view_memo_keeps_shared_policies_only() {
        let dir = tempfile::tempdir().unwrap();
        let doc = r#"jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "dynamodb:DescribeKinesisStreamingDestination", Resource = "*"}]})"#;
        let trust = r#"jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "sts:AssumeRole", Principal = {Service = "lambda.amazonaws.com"}}]})"#;
        let text = format!(
            r#"
resource "aws_iam_policy" "shared" {{
  name   = "shared"
  policy = {doc}
}}
resource "aws_iam_role" "a" {{
  name               = "a"
  assume_role_policy = {trust}
}}
resource "aws_iam_role" "b" {{
  name               = "b"
  assume_role_policy = {trust}
}}
resource "aws_iam_role_policy_attachment" "a" {{
  role       = aws_iam_role.a.name
  policy_arn = aws_iam_policy.shared.arn
}}
resource "aws_iam_role_policy_attachment" "b" {{
  role       = aws_iam_role.b.name
  policy_arn = aws_iam_policy.shared.arn
}}
resource "aws_iam_role_policy" "own" {{
  name   = "own"
  role   = aws_iam_role.a.id
  policy = {doc}
}}
"#
        );
        std::fs::write(dir.path().join("main.tf"), text).unwrap();
        let config = crate::Config {
            paths: vec![dir.path().to_path_buf()],
            ..crate::Config::default()
        };
        let analysis = crate::analyze(&config, dir.path()).unwrap();
        let g = &analysis.graph;
        let memo = shared_policies(g);
        let policy = |name: &str| {
            g.policies
                .iter()
                .find(|p| p.policy.address.contains(name))
                .map(|p| &p.policy)
                .unwrap_or_else(|| panic!("no policy {name}"))
        };
        assert!(memo.keeps(policy("aws_iam_policy.shared")));
        assert!(!memo.keeps(policy("aws_iam_role_policy.own")));
        assert!(memo.keeps(full_aws_access()));
    }

    #[test]
    fn sets_union_and_writer_forms() {
        let a = TableSet::only(vec![3, 1]);
        let b = TableSet::all_except(vec![1, 2]);
        let u = a.union(&b);
        assert!(u.contains(1) && u.contains(3) && !u.contains(2) && u.contains(0));
        assert_eq!(u.declared(4), Declared::Except(vec![2].into()));
        assert_eq!(TableSet::all_except(vec![]).declared(4), Declared::All);
        // Three of four tables: `except` names fewer ids.
        assert_eq!(
            TableSet::only(vec![0, 1, 3]).declared(4),
            Declared::Except(vec![2].into())
        );
        // Two of four: a tie, so the list.
        assert_eq!(
            TableSet::all_except(vec![0, 1]).declared(4),
            Declared::List(vec![2, 3].into())
        );
        assert_eq!(TableSet::only(vec![0, 2]).without(&[2]), TableSet::only(vec![0]));
        assert_eq!(
            TableSet::all_except(vec![0]).without(&[2]),
            TableSet::all_except(vec![0, 2])
        );
        assert_eq!(u.first(4), Some(0));
        assert_eq!(TableSet::all_except(vec![0, 1]).iter(3).collect::<Vec<_>>(), vec![2]);
    }

    /// Eight tables, two of them both named `dup` (two inputs may declare the same name).
    fn names() -> TableNames {
        let list = ["a", "b", "c", "d", "dup", "e", "f", "dup"];
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (k, n) in list.iter().enumerate() {
            by_name.entry(format!("table {n}")).or_default().push(k);
        }
        let groups: Vec<(String, Vec<usize>)> = by_name.into_iter().collect();
        let mut group_of = vec![0; list.len()];
        for (g, (_, members)) in groups.iter().enumerate() {
            for &t in members {
                group_of[t] = g;
            }
        }
        TableNames { groups, group_of }
    }

    #[test]
    fn phrases_name_distinct_tables_in_name_order_in_both_forms() {
        let n = names();
        assert_eq!(n.phrase(&TableSet::only(vec![2, 0])), "table a, table c");
        // Both `dup` tables read as one name.
        assert_eq!(n.phrase(&TableSet::only(vec![4, 7, 1])), "table b, table dup");
        // Seven distinct names; all but `a`: six, five shown.
        assert_eq!(
            n.phrase(&TableSet::all_except(vec![0])),
            "table b, table c, table d, table dup, table e and 1 more"
        );
        // Excluding one `dup` leaves the name covered; excluding both removes it.
        assert_eq!(
            n.phrase(&TableSet::all_except(vec![0, 1, 2, 4])),
            "table d, table dup, table e, table f"
        );
        assert_eq!(
            n.phrase(&TableSet::all_except(vec![0, 1, 2, 4, 7])),
            "table d, table e, table f"
        );
        let mut with_star = TableSet::only(vec![0]);
        with_star.undeclared = true;
        assert_eq!(n.phrase(&with_star), "every undeclared table (*), table a");
        assert_eq!(n.phrase(&TableSet::undeclared_only()), "every undeclared table (*)");
    }

    fn requirement(action: &str, outcome: Outcome) -> RequirementDecision {
        RequirementDecision {
            action: action.to_string(),
            primary: action.ends_with("Enable"),
            decision: Decision {
                outcome,
                because: Vec::new(),
                open: Vec::new(),
                lacking: Vec::new(),
            },
        }
    }

    fn lacking(actions: &[&str]) -> CapDecision {
        CapDecision {
            outcome: Outcome::NotAllowed,
            requirements: ["x:Enable", "x:Describe", "x:Put"]
                .iter()
                .map(|a| {
                    let outcome = if actions.contains(a) {
                        Outcome::NotAllowed
                    } else {
                        Outcome::Allowed
                    };
                    requirement(a, outcome)
                })
                .collect(),
        }
    }

    #[test]
    fn decisions_missing_different_actions_stay_apart_and_alike_ones_share_an_entry() {
        let grouped = group(vec![
            (TableSet::only(vec![0]), lacking(&["x:Enable"])),
            (TableSet::only(vec![1]), lacking(&["x:Put"])),
            (TableSet::only(vec![2]), lacking(&["x:Enable"])),
        ]);
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].0, TableSet::only(vec![0, 2]));
        assert_eq!(grouped[0].1.reported_missing(), vec!["x:Enable".to_string()]);
        assert_eq!(grouped[1].0, TableSet::only(vec![1]));
        assert_eq!(grouped[1].1.reported_missing(), vec!["x:Put".to_string()]);
    }
}
