//! Access through other principals (capabilities.md): the steps by which one principal
//! acts as another (assuming a role, changing a principal's permissions), reachability
//! over them, and the indirect decisions that follow, with the shortest path as proof.
//!
//! Nodes are the graph's principals and, after them, *changed* principals: a principal as
//! it would be after a permission change (with an added `Allow *` on `*`, or a group's
//! policies), decided once by the capability engine like any principal. Steps are edges
//! with the decision of the requests that make them. Each principal with steps is searched
//! breadth-first twice (over allowed steps, then over allowed or conditional ones), so a
//! run costs the principals plus the steps they reach, not principals squared; the
//! candidate steps come from the callers' own `sts:AssumeRole` and IAM-write grants.

use std::collections::{BTreeMap, BTreeSet};
// foldhash, not SipHash: reach's maps are keyed by indexes and class keys its own code
// makes, and hashing was about 4 % of a reach-heavy run (docs/performance.md).
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

use rayon::prelude::*;

use crate::capability::{self, CapDecision, CapId, Covers, Decisions, TableSet, Work};
use crate::catalog::Capabilities;
use crate::graph::{Graph, PrincipalClass, PrincipalNode};
use crate::iam::eval::{Decision, Layers, Outcome, UnknownPolicy};
use crate::iam::index::ArnTargets;
use crate::iam::reach::{self as steps, Entity};
use crate::model::PolicyKind;
use crate::settings::Config;
use crate::value::Template;

/// How one principal acts as another.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum StepKind {
    AssumeRole,
    ChangePermissions,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::AssumeRole => "assume-role",
            StepKind::ChangePermissions => "change-permissions",
        }
    }
}

/// One step: `from` can act as `to` (node indexes), decided by `decision`.
#[derive(Clone, Debug)]
pub struct Step {
    pub from: usize,
    pub to: usize,
    pub kind: StepKind,
    /// The requests that make the step, combined (statements, conditions); shared by the
    /// steps of callers of one class.
    pub decision: Arc<Decision>,
    /// The actions the decision is about, in words (`sts:AssumeRole`, `iam:PutRolePolicy`).
    pub actions: Vec<String>,
    /// For a change to another principal: the steps by which the changer reaches it.
    pub prefix: Vec<usize>,
    /// Whether `decision`'s proof is this step's own (an assume-role step may carry the
    /// proof of another role of its class until [`compute`] decides it again).
    pub exact: bool,
}

/// A node: a principal as declared, or as a permission change would leave it.
#[derive(Clone, Debug)]
pub struct Node {
    pub principal: usize,
    /// What the change adds (`None`: the principal as declared).
    pub change: Option<String>,
}

/// Whose decision an indirect entry carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Held {
    /// A decision of [`Decisions::arena`].
    Direct(capability::DecisionId),
    /// Entry `k` of changed node `n`'s decisions ([`Reach::changed`]).
    Changed(usize, usize),
}

/// A capability a principal holds only through other principals.
#[derive(Clone, Debug)]
pub struct Indirect {
    pub principal: usize,
    pub cap: CapId,
    pub covers: Covers,
    /// The path's steps combined with the holder's decision.
    pub outcome: Outcome,
    /// Step indexes in order (a change to another principal expanded into its prefix).
    pub path: Vec<usize>,
    /// The node that holds the capability.
    pub holder: usize,
    pub(crate) held: Held,
}

/// Reach over the run: steps, changed nodes and their decisions, indirect entries.
#[derive(Debug, Default)]
pub struct Reach {
    pub nodes: Vec<Node>,
    pub steps: Vec<Step>,
    /// Per class of changed nodes, its entries (changed nodes that no statement tells
    /// apart share them).
    pub changed: Vec<Vec<(CapId, Covers, CapDecision)>>,
    /// Per changed node (node index − principals), the index of its entries in `changed`.
    pub changed_class: Vec<usize>,
    /// How many of `changed` were decided again on their own, for the proofs an indirect
    /// entry shows (their class decided alike, citing another node's statements).
    pub changed_again: usize,
    /// Sorted by principal, capability, smallest table (entries covering only undeclared
    /// tables last), then SLR.
    pub indirect: Vec<Indirect>,
    /// Per principal, the start of its entries in `indirect` (and one past the end).
    starts: Vec<usize>,
    /// (principal, action): grants of ways of acting as another principal not followed.
    pub(crate) not_followed: Vec<(usize, &'static str)>,
    /// Time per part of the computation, in order (`check --timings`).
    pub phases: Vec<(&'static str, std::time::Duration)>,
    /// Assume-role hubs: callers whose decisions on roles that delegate to the account come
    /// out alike (`iam::class::outcome_key`) share one list of the roles they may assume,
    /// instead of one step per (caller, role). Per hub, its edges: lists of roles decided
    /// alike, each list stored once in `role_lists` for every hub that reaches it.
    pub hubs: Vec<Vec<HubEdge>>,
    /// The roles of hub edges, in node order: the delegating roles whose trust policies
    /// say the same thing and that a hub's patterns match alike.
    pub(crate) role_lists: Vec<Vec<usize>>,
    /// Per principal, its hub (empty for principals with no such candidates).
    pub(crate) hub_of: Vec<Option<usize>>,
    /// Hub edges turned into steps (for a path a report shows): (from, to) → step.
    hub_steps: HashMap<(usize, usize), usize>,
    /// How many steps there were before hub edges became steps (`None`: not yet).
    plain_steps: Option<usize>,
}

/// Roles a hub's callers may assume (`Reach::role_lists[list]`), with the decision they
/// share (its proof is the hub's first caller's on the list's first role, until a shown
/// path decides it again: [`Step::exact`]).
#[derive(Clone, Debug)]
pub struct HubEdge {
    pub list: usize,
    /// Roles of the list this edge leaves out (sorted): other edges of the hub decide them.
    pub except: Vec<usize>,
    pub decision: Arc<Decision>,
}

impl Reach {
    /// Every assume-role step as (from, to): the steps, and each hub edge for each caller
    /// of the hub (not to itself).
    pub(crate) fn assume_edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let own = self
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::AssumeRole)
            .map(|s| (s.from, s.to));
        let hubs = self.hub_of.iter().enumerate().flat_map(move |(a, h)| {
            h.iter()
                .flat_map(move |h| {
                    self.hubs[*h].iter().flat_map(|e| {
                        self.role_lists[e.list]
                            .iter()
                            .copied()
                            .filter(|b| e.except.binary_search(b).is_err())
                    })
                })
                .filter(move |&to| to != a)
                .map(move |to| (a, to))
        });
        own.chain(hubs)
    }

    /// What the hubs store: their edges, the roles on the lists they read and the roles
    /// their edges leave out (`check --timings` counts it; `tests/scaling.rs` reads it).
    pub fn hub_size(&self) -> usize {
        self.role_lists.iter().map(Vec::len).sum::<usize>()
            + self.hubs.iter().flatten().map(|e| 1 + e.except.len()).sum::<usize>()
    }

    /// How many hub edges became steps because a path shows them.
    pub fn hub_steps_shown(&self) -> usize {
        self.hub_steps.len()
    }

    /// The step for hub edge `edge` from `from` to `to` (made the first time it is asked
    /// for).
    fn hub_step(&mut self, from: usize, hub: usize, edge: usize, to: usize) -> usize {
        let e = &self.hubs[hub][edge];
        let key = (from, to);
        if let Some(&k) = self.hub_steps.get(&key) {
            return k;
        }
        let step = Step {
            from,
            to,
            kind: StepKind::AssumeRole,
            decision: Arc::clone(&e.decision),
            actions: vec![steps::ASSUME_ROLE.to_string()],
            prefix: Vec::new(),
            exact: false,
        };
        self.steps.push(step);
        self.hub_steps.insert(key, self.steps.len() - 1);
        self.steps.len() - 1
    }

    /// The indirect entries of one principal.
    pub fn of(&self, principal: usize) -> &[Indirect] {
        match (self.starts.get(principal), self.starts.get(principal + 1)) {
            (Some(&a), Some(&b)) => &self.indirect[a..b],
            _ => &[],
        }
    }

    /// The holder's decision of an entry.
    pub(crate) fn held<'a>(&'a self, decisions: &'a Decisions, x: &Indirect) -> &'a CapDecision {
        match x.held {
            Held::Direct(id) => &decisions.arena[id.0 as usize],
            Held::Changed(n, k) => &self.changed[self.changed_class[n]][k].2,
        }
    }

    /// The node's principal.
    pub(crate) fn principal_of(&self, node: usize) -> usize {
        self.nodes[node].principal
    }

    /// The indirect entry deciding (principal, capability) on the SLR `slr`.
    pub(crate) fn on_slr(&self, principal: usize, cap: CapId, slr: usize) -> Option<&Indirect> {
        self.of(principal)
            .iter()
            .find(|x| x.cap == cap && x.covers == Covers::Slr(slr))
    }
}

/// Computes reach once for the run (empty when `config.reach` is off).
pub(crate) fn compute(graph: &Graph, caps: &Capabilities, config: &Config, decisions: &mut Decisions) -> Reach {
    let n = graph.principals.len();
    let mut reach = Reach {
        nodes: (0..n)
            .map(|p| Node {
                principal: p,
                change: None,
            })
            .collect(),
        ..Reach::default()
    };
    if !config.reach {
        reach.starts = vec![0; n + 1];
        return reach;
    }
    reach.hub_of = vec![None; n];
    let outside: Vec<UnknownPolicy> = graph
        .principals
        .par_iter()
        .map(|p| UnknownPolicy {
            what: format!("the identity policies of {}, which the inputs do not declare", p.arn),
            span: crate::source::Span::builtin(),
        })
        .collect();
    let layers: Vec<Layers<'_>> = graph
        .principals
        .par_iter()
        .enumerate()
        .map(|(k, p)| {
            let mut l = capability::layers(graph, p, config);
            if p.trusted_only {
                l.unknown_identity.push(&outside[k]);
            }
            l
        })
        .collect();
    let callers: Vec<(Template, crate::iam::condition::Context)> = graph
        .principals
        .par_iter()
        .map(|p| {
            let arn = p.arn.pin(&config.pins);
            let ctx = capability::principal_context(p, &arn);
            (arn, ctx)
        })
        .collect();
    let mut work = decisions.work;
    let mut last = std::time::Instant::now();
    let mut split = |reach: &mut Reach, phase: &'static str| {
        let now = std::time::Instant::now();
        reach.phases.push((phase, now - last));
        last = now;
    };
    assume_steps(graph, config, &layers, &callers, &mut reach, &mut work);
    split(&mut reach, "reach: assume-role steps");
    let variants = change_steps(graph, config, &layers, &callers, &mut reach, &mut work);
    split(&mut reach, "reach: permission-change steps");
    let changed = capability::evaluate_variants(graph, caps, config, &variants, decisions, &mut work);
    (reach.changed, reach.changed_class) = (changed.entries, changed.slot);
    split(&mut reach, "reach: changed principals");
    // Read per principal in parallel, listed in principal order.
    let not_followed: Vec<Vec<(usize, &'static str)>> = layers
        .par_iter()
        .enumerate()
        .map(|(p, l)| {
            let p_node = &graph.principals[p];
            if p_node.trusted_only || !p_node.unknown_policies.is_empty() {
                return Vec::new();
            }
            steps::NOT_FOLLOWED
                .iter()
                .filter(|&&action| steps::may_allow(l, &[action]))
                .map(|&action| (p, action))
                .collect()
        })
        .collect();
    reach.not_followed.extend(not_followed.into_iter().flatten());
    reach.plain_steps = Some(reach.steps.len());
    indirect(graph, decisions, &mut reach, None);
    let mut exact = changed.exact;
    loop {
        let again = exact_holders(
            graph, caps, config, decisions, &variants, &mut exact, &mut reach, &mut work,
        );
        if again.is_empty() {
            break;
        }
        indirect(graph, decisions, &mut reach, Some(&again));
    }
    split(&mut reach, "reach: indirect entries");
    exact_proofs(graph, config, &layers, &callers, &mut reach, &mut work);
    split(&mut reach, "reach: proofs of the steps shown");
    decisions.work = work;
    reach
}

/// Candidate role assumptions: callers a trust policy names by ARN, and, for trust
/// policies that delegate to identity policies, callers whose `sts:AssumeRole` patterns
/// might match the role (each distinct pattern matched once against the roles).
fn assume_steps(
    graph: &Graph,
    config: &Config,
    layers: &[Layers<'_>],
    callers: &[(Template, crate::iam::condition::Context)],
    reach: &mut Reach,
    work: &mut Work,
) {
    let roles: Vec<(usize, usize, Template)> = graph
        .principals
        .iter()
        .enumerate()
        .filter_map(|(k, p)| p.trust.map(|t| (k, t, p.arn.pin(&config.pins))))
        .collect();
    if roles.is_empty() {
        return;
    }
    let (mut pairs, delegating) = named_in_trust(graph, &roles);
    let cx = AssumeCx {
        graph,
        layers,
        callers,
        varies: layers
            .par_iter()
            .map(|l| steps::varies_by_caller(l, steps::ASSUME_ROLE))
            .collect(),
    };
    let mut role_targets = ArnTargets::new(delegating.iter().map(|&r| &roles[r].2));
    let reads: HashMap<usize, bool> = delegating
        .iter()
        .map(|&r| {
            let (k, t, _) = &roles[r];
            (*k, crate::iam::class::policy_reads_caller(&graph.policies[*t].policy))
        })
        .collect();
    // Per hub: its first caller and that caller's patterns for the roles it may assume.
    let hub_first = if delegating.is_empty() {
        Vec::new()
    } else {
        let delegated = Delegated {
            roles: &roles,
            delegating: &delegating,
            reads: &reads,
            targets: &mut role_targets,
        };
        assign_hubs(&cx, delegated, &mut pairs, reach, work)
    };
    // A caller's decision on two roles is the same when their trust policies say the same
    // thing, their ARNs are in one account, and the caller's statements match the two ARNs
    // alike: decided once per such class of roles (per caller), with the first role's proof;
    // [`exact_proofs`] decides the steps a report shows again, on their own role.
    let role_class = role_classes(graph, &roles);
    let mut lists = HubLists {
        plain: delegating.iter().map(|&r| roles[r].0).filter(|b| !reads[b]).collect(),
        of_target: delegating.iter().map(|&r| roles[r].0).collect(),
        role_class: &role_class,
        trust_lists: None,
        list_of: HashMap::new(),
        grouped: HashMap::new(),
    };
    let hub_groups: Vec<Vec<Group>> = hub_first
        .iter()
        .map(|(a, targets)| {
            let patterns = steps::layer_patterns(&layers[*a], steps::ASSUME_ROLE);
            lists.groups(reach, &mut role_targets, targets, &patterns, work)
        })
        .collect();
    let mut decider = AssumeDecider {
        cx: &cx,
        memo: HashMap::new(),
    };
    pair_steps(&mut decider, pairs, &role_class, reach, work);
    hub_edges(&mut decider, &hub_first, hub_groups, &role_class, reach, work);
}

/// What the parts of [`assume_steps`] read: the graph, each caller's layers and (ARN,
/// request context), and per caller whether its `sts:AssumeRole` patterns hold a policy
/// variable (`iam::reach::varies_by_caller`).
struct AssumeCx<'a, 'l> {
    graph: &'a Graph,
    layers: &'a [Layers<'l>],
    callers: &'a [(Template, crate::iam::condition::Context)],
    varies: Vec<bool>,
}

/// The roles whose trust policies delegate to the account, which callers reach through
/// their own `sts:AssumeRole` patterns.
struct Delegated<'r> {
    /// Every role with a trust policy: (node, trust policy, pinned ARN).
    roles: &'r [(usize, usize, Template)],
    /// The positions in `roles` of the delegating roles.
    delegating: &'r [usize],
    /// Per delegating role (node), whether its trust policy reads the caller (so can tell
    /// callers apart).
    reads: &'r HashMap<usize, bool>,
    /// The delegating roles' ARNs, in `delegating` order, to match patterns against.
    targets: &'r mut ArnTargets,
}

/// The callers a trust policy names by ARN, matched by name and kind (role or not), as
/// (caller, role) pairs, and the positions in `roles` of the roles whose trust delegates
/// to the account (`roles`: node, trust policy, ARN).
fn named_in_trust(graph: &Graph, roles: &[(usize, usize, Template)]) -> (BTreeSet<(usize, usize)>, Vec<usize>) {
    let names: Vec<Option<(bool, String)>> = graph
        .principals
        .par_iter()
        .map(|p| {
            let role = matches!(p.class, PrincipalClass::Role | PrincipalClass::ExternalRole);
            let name = steps::arn_name(&p.arn).or_else(|| p.name.as_literal().map(str::to_string))?;
            Some((role, name))
        })
        .collect();
    let mut by_name: HashMap<(bool, String), Vec<usize>> = HashMap::new();
    for (k, name) in names.into_iter().enumerate() {
        if let Some(name) = name {
            by_name.entry(name).or_default().push(k);
        }
    }
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut delegating: Vec<usize> = Vec::new();
    for (r, (role, trust, _)) in roles.iter().enumerate() {
        let policy = &graph.policies[*trust].policy;
        for (arn, is_role) in steps::trusted_arns(policy) {
            if let Some(name) = steps::arn_name(arn) {
                for &a in by_name.get(&(is_role, name)).into_iter().flatten() {
                    pairs.insert((a, *role));
                }
            }
        }
        if steps::trust_delegates(policy) {
            delegating.push(r);
        }
    }
    (pairs, delegating)
}

/// Puts each caller whose statements may allow `sts:AssumeRole` in a hub (`Reach::hub_of`:
/// callers whose outcomes on the delegating roles come out alike, numbered in caller
/// order), and adds to `pairs` the delegating roles that must be decided per caller: those
/// whose trust can tell callers apart that its patterns may match, and every one for a
/// caller whose patterns hold a policy variable (which has no hub). Returns per hub its
/// first caller and that caller's patterns that may name an IAM role.
fn assign_hubs(
    cx: &AssumeCx<'_, '_>,
    delegated: Delegated<'_>,
    pairs: &mut BTreeSet<(usize, usize)>,
    reach: &mut Reach,
    work: &mut Work,
) -> Vec<(usize, Vec<Template>)> {
    let mut hub_first: Vec<(usize, Vec<Template>)> = Vec::new();
    let mut hub_keys: HashMap<crate::iam::class::OutcomeKey, usize> = HashMap::new();
    // Per pattern, the roles it may match whose trust can tell callers apart.
    let mut reading: HashMap<Template, Vec<usize>> = HashMap::new();
    // Each caller is read in parallel; hubs are numbered in order.
    let callers_read: Vec<CallerRead> = cx
        .layers
        .par_iter()
        .enumerate()
        .map(|(a, l)| {
            if !steps::may_allow(l, &[steps::ASSUME_ROLE]) {
                return CallerRead::Cannot;
            }
            if cx.varies[a] {
                return CallerRead::Varies;
            }
            let key = crate::iam::class::outcome_key(
                l,
                &[steps::ASSUME_ROLE],
                steps::statement_may_name_iam,
                &cx.callers[a].0,
                false,
            );
            let patterns: Vec<Template> = steps::allow_resource_patterns(l, steps::ASSUME_ROLE)
                .into_iter()
                .filter(steps::may_name_iam)
                .collect();
            CallerRead::Hub(key, patterns)
        })
        .collect();
    let Delegated {
        roles,
        delegating,
        reads,
        targets,
    } = delegated;
    for (a, read) in callers_read.into_iter().enumerate() {
        let (key, patterns) = match read {
            CallerRead::Cannot => continue,
            // Patterns that hold a policy variable land where the caller's values put
            // them: every delegating role is a candidate, decided on its own (no hub).
            CallerRead::Varies => {
                pairs.extend(delegating.iter().map(|&r| (a, roles[r].0)));
                continue;
            }
            CallerRead::Hub(key, patterns) => (key, patterns),
        };
        let next = hub_keys.len();
        let hub = *hub_keys.entry(key).or_insert(next);
        reach.hub_of[a] = Some(hub);
        // A trust that can tell callers apart is decided per caller; the rest once per
        // hub (its callers' patterns are the same, so are their roles).
        for pattern in &patterns {
            let hits = reading.entry(pattern.clone()).or_insert_with(|| {
                targets
                    .hits(pattern, &mut work.index_matches)
                    .iter()
                    .map(|&k| roles[delegating[k]].0)
                    .filter(|b| reads[b])
                    .collect()
            });
            pairs.extend(hits.iter().map(|&b| (a, b)));
        }
        if hub == hub_first.len() {
            hub_first.push((a, patterns));
        }
    }
    hub_first
}

/// Each role's [`RoleClass`], by node: roles whose trust policies say the same thing in
/// one account share a trust class; a trust that cannot be read, or reads resources, is a
/// class of its own role.
fn role_classes(graph: &Graph, roles: &[(usize, usize, Template)]) -> HashMap<usize, RoleClass> {
    let mut trust_ids: HashMap<TrustKey, usize> = HashMap::new();
    let trust_texts: Vec<(Option<String>, bool)> = roles
        .par_iter()
        .map(|(_, t, arn)| trust_key_text(&graph.policies[*t].policy, arn))
        .collect();
    roles
        .iter()
        .zip(trust_texts)
        .map(|((k, t, arn), (text, has_resources))| {
            // A trust that cannot be read, or reads resources, is a class of its own role.
            let own = if text.is_none() || has_resources {
                *k
            } else {
                usize::MAX
            };
            let key: TrustKey = (text, own);
            let next = trust_ids.len();
            let id = *trust_ids.entry(key).or_insert(next);
            (*k, (*t, arn.clone(), crate::iam::pattern::text_tokens(arn), id))
        })
        .collect()
}

/// Assume-role requests, each decided once per (owner, trust class, signature of the
/// caller's patterns on the role): the owner is the caller itself, or its hub
/// (`usize::MAX - hub`), whose callers decide alike.
struct AssumeDecider<'c, 'a, 'l> {
    cx: &'c AssumeCx<'a, 'l>,
    memo: HashMap<(usize, usize, Vec<crate::iam::pattern::Tri>), Option<Arc<Decision>>>,
}

impl AssumeDecider<'_, '_, '_> {
    /// Caller `a` (for `owner`: itself, or its hub) assumes a role of the class, once: the
    /// decision where it can, else `None`.
    fn decide(
        &mut self,
        owner: usize,
        a: usize,
        (trust, role_arn, key): (usize, &Template, usize),
        sig: Vec<crate::iam::pattern::Tri>,
        work: &mut Work,
    ) -> Option<Arc<Decision>> {
        let cx = self.cx;
        self.memo
            .entry((owner, key, sig))
            .or_insert_with(|| {
                work.requests += 1;
                let d = steps::assume_role(
                    &cx.layers[a],
                    &cx.graph.policies[trust].policy,
                    role_arn,
                    &cx.callers[a].0,
                    &cx.callers[a].1,
                );
                d.outcome.can().then(|| Arc::new(d))
            })
            .clone()
    }
}

/// The assume-role steps of the (caller, role) pairs decided per caller: once per class
/// of roles and signature of the caller's patterns on the role (per role where the
/// patterns hold a policy variable), each step that can with its class's decision.
fn pair_steps(
    decider: &mut AssumeDecider<'_, '_, '_>,
    pairs: BTreeSet<(usize, usize)>,
    role_class: &HashMap<usize, RoleClass>,
    reach: &mut Reach,
    work: &mut Work,
) {
    let cx = decider.cx;
    let mut patterns: Option<(usize, Vec<&crate::iam::policy::Pat>)> = None;
    for (a, b) in pairs {
        if a == b {
            continue;
        }
        let Some((trust, role_arn, tokens, key)) = role_class.get(&b) else {
            continue;
        };
        if patterns.as_ref().is_none_or(|(x, _)| *x != a) {
            patterns = Some((a, steps::layer_patterns(&cx.layers[a], steps::ASSUME_ROLE)));
        }
        let sig = steps::signature(patterns.as_ref().map(|(_, p)| p.as_slice()).unwrap_or_default(), tokens);
        // A caller whose patterns hold a policy variable decides each role on its own (the
        // signature reads the variable as text, so it cannot tell those roles apart).
        let class = if cx.varies[a] { usize::MAX - b } else { *key };
        if let Some(decision) = decider.decide(a, a, (*trust, role_arn, class), sig, work) {
            reach.steps.push(Step {
                from: a,
                to: b,
                kind: StepKind::AssumeRole,
                decision,
                actions: vec![steps::ASSUME_ROLE.to_string()],
                prefix: Vec::new(),
                exact: false,
            });
        }
    }
}

/// Each hub's edges (`Reach::hubs`, in hub order): its groups of roles, each decided once
/// on the group's first role by the hub's first caller, those that can.
fn hub_edges(
    decider: &mut AssumeDecider<'_, '_, '_>,
    hub_first: &[(usize, Vec<Template>)],
    hub_groups: Vec<Vec<Group>>,
    role_class: &HashMap<usize, RoleClass>,
    reach: &mut Reach,
    work: &mut Work,
) {
    for (hub, ((a, _), groups)) in hub_first.iter().zip(hub_groups).enumerate() {
        let mut edges = Vec::new();
        for group in groups {
            let Some((trust, role_arn, _, key)) = role_class.get(&group.first) else {
                continue;
            };
            if let Some(decision) = decider.decide(usize::MAX - hub, *a, (*trust, role_arn, *key), group.sig, work) {
                edges.push(HubEdge {
                    list: group.list,
                    except: group.except,
                    decision,
                });
            }
        }
        reach.hubs.push(edges);
    }
}

/// What a caller's identity layers say of `sts:AssumeRole` on the delegating roles.
enum CallerRead {
    /// No statement may allow it.
    Cannot,
    /// Its patterns hold a policy variable: each role is decided on its own.
    Varies,
    /// Its hub's key and the patterns that may name an IAM role.
    Hub(crate::iam::class::OutcomeKey, Vec<Template>),
}

/// Delegating roles a hub's callers assume alike: the list (`Reach::role_lists`) less the
/// roles in `except` (sorted), its first role, and the signature of the hub's patterns on
/// its roles.
#[derive(Clone)]
struct Group {
    list: usize,
    except: Vec<usize>,
    first: usize,
    sig: Vec<crate::iam::pattern::Tri>,
}

/// The role lists of hubs. A hub's roles are grouped by trust class and by how its first
/// caller's patterns match them (each group decided once). A pattern that matches every
/// role alike (`*`, most often) tells none apart, and one that matches some roles tells
/// only those apart from the rest (which it does not match): so a hub that may assume
/// every role has one group per trust class, over the class's list that all hubs share,
/// less the roles its patterns match in part, which form groups of their own. A hub
/// that may assume only some roles groups those, once per set of patterns.
struct HubLists<'r> {
    /// The delegating roles whose trust policies do not tell callers apart, in node order.
    plain: Vec<usize>,
    /// Per position in the role [`ArnTargets`], the role's node.
    of_target: Vec<usize>,
    role_class: &'r HashMap<usize, RoleClass>,
    /// The trust classes' lists, as (trust class, list), made on first use.
    trust_lists: Option<Vec<(usize, usize)>>,
    /// Per trust class, its position in `trust_lists`.
    list_of: HashMap<usize, usize>,
    grouped: HashMap<(Vec<Template>, Vec<Template>), Vec<Group>>,
}

impl HubLists<'_> {
    fn groups(
        &mut self,
        reach: &mut Reach,
        targets_of: &mut ArnTargets,
        targets: &[Template],
        patterns: &[&crate::iam::policy::Pat],
        work: &mut Work,
    ) -> Vec<Group> {
        let all = targets.iter().any(|t| {
            matches!(
                targets_of.matched(t, &mut work.index_matches).0,
                Some(crate::iam::pattern::Tri::Yes | crate::iam::pattern::Tri::Maybe)
            )
        });
        if !all {
            let key = (targets.to_vec(), patterns.iter().map(|p| p.text.clone()).collect());
            if let Some(groups) = self.grouped.get(&key) {
                return groups.clone();
            }
            let mut some: BTreeSet<usize> = BTreeSet::new();
            for t in targets {
                let hits = targets_of.hits(t, &mut work.index_matches);
                some.extend(hits.iter().map(|&k| self.of_target[k]).filter(|b| self.is_plain(*b)));
            }
            let groups = self.split(reach, some, patterns);
            self.grouped.insert(key, groups.clone());
            return groups;
        }
        // Every role: the roles some pattern matches in part are told apart. The work is
        // in the patterns and the roles they tell apart, not in the lists.
        let mut base = Vec::with_capacity(patterns.len());
        let mut apart: BTreeSet<usize> = BTreeSet::new();
        for p in patterns {
            match targets_of.matched(&p.text, &mut work.index_matches) {
                (Some(tri), _) => base.push(*tri),
                (None, hits) => {
                    base.push(crate::iam::pattern::Tri::No);
                    apart.extend(hits.iter().map(|&k| self.of_target[k]).filter(|b| self.is_plain(*b)));
                }
            }
        }
        let trust_lists = self.trust_lists(reach);
        let mut except: Vec<Vec<usize>> = vec![Vec::new(); trust_lists.len()];
        for &b in &apart {
            if let Some(&at) = self.role_class.get(&b).and_then(|c| self.list_of.get(&c.3)) {
                except[at].push(b);
            }
        }
        let mut groups: Vec<Group> = Vec::new();
        for (&(_, list), except) in trust_lists.iter().zip(except) {
            // Its first role the patterns do not tell apart: found after at most as many
            // roles as the group leaves out.
            let roles = &reach.role_lists[list];
            if let Some(&first) = roles.iter().find(|b| except.binary_search(b).is_err()) {
                groups.push(Group {
                    list,
                    except,
                    first,
                    sig: base.clone(),
                });
            }
        }
        groups.extend(self.split(reach, apart, patterns));
        groups.sort_by_key(|g| g.first);
        groups
    }

    /// Whether a hub may list role `b` (its trust does not tell callers apart).
    fn is_plain(&self, b: usize) -> bool {
        self.plain.binary_search(&b).is_ok()
    }

    /// Roles grouped by trust class and signature, each group a new list.
    fn split(&self, reach: &mut Reach, roles: BTreeSet<usize>, patterns: &[&crate::iam::policy::Pat]) -> Vec<Group> {
        let mut by_class: BTreeMap<(usize, Vec<crate::iam::pattern::Tri>), Vec<usize>> = BTreeMap::new();
        for b in roles {
            if let Some((_, _, tokens, key)) = self.role_class.get(&b) {
                by_class
                    .entry((*key, steps::signature(patterns, tokens)))
                    .or_default()
                    .push(b);
            }
        }
        let mut groups: Vec<Group> = by_class
            .into_iter()
            .map(|((_, sig), list)| {
                let first = list[0];
                reach.role_lists.push(list);
                Group {
                    list: reach.role_lists.len() - 1,
                    except: Vec::new(),
                    first,
                    sig,
                }
            })
            .collect();
        groups.sort_by_key(|g| g.first);
        groups
    }

    /// Per trust class, the list of its roles (made once).
    fn trust_lists(&mut self, reach: &mut Reach) -> Vec<(usize, usize)> {
        if let Some(lists) = &self.trust_lists {
            return lists.clone();
        }
        let mut by_trust: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &b in &self.plain {
            if let Some((_, _, _, key)) = self.role_class.get(&b) {
                by_trust.entry(*key).or_default().push(b);
            }
        }
        let lists: Vec<(usize, usize)> = by_trust
            .into_iter()
            .map(|(key, list)| {
                reach.role_lists.push(list);
                (key, reach.role_lists.len() - 1)
            })
            .collect();
        self.list_of = lists.iter().enumerate().map(|(at, &(key, _))| (key, at)).collect();
        self.trust_lists = Some(lists.clone());
        lists
    }
}

/// What a trust policy says with the role's account (`None`: a class of its own), and the
/// role itself where its trust reads the resource.
type TrustKey = (Option<String>, usize);
/// A role's trust policy, ARN (as text and tokens) and the id of its [`TrustKey`].
type RoleClass = (usize, Template, Vec<crate::iam::pattern::Tok>, usize);

/// Decides again, on its own role, each assume-role step that an indirect entry's path
/// shows (the others keep their class's decision, whose outcome is theirs too): proofs
/// name each role's own trust statements. Costs the steps the report shows.
fn exact_proofs(
    graph: &Graph,
    config: &Config,
    layers: &[Layers<'_>],
    callers: &[(Template, crate::iam::condition::Context)],
    reach: &mut Reach,
    work: &mut Work,
) {
    let cx = ProofCx {
        graph,
        config,
        layers,
        callers,
    };
    let (requests, assigned) = shown_requests(&cx, reach);
    let based = rebase_plan(graph, config, layers, &requests);
    let mut by_request = decide_unrebased(&cx, &requests, &based, work);
    // The others take their base's decision with their own role's trust statements (a
    // request whose trust does not line up with its base's is decided after all).
    for (r, d, asked) in rebased_decisions(&cx, &requests, &based, &by_request) {
        work.requests += u64::from(asked);
        by_request[r] = Some(d);
    }
    for (k, r) in assigned {
        let Some(d) = &by_request[r] else { continue };
        let step = &mut reach.steps[k];
        debug_assert_eq!(d.outcome, step.decision.outcome, "a class of roles decided alike");
        step.decision = Arc::clone(d);
        step.exact = true;
    }
}

/// What the parts of [`exact_proofs`] read: the graph, the run's pins, and each caller's
/// layers and (ARN, request context).
struct ProofCx<'a, 'l> {
    graph: &'a Graph,
    config: &'a Config,
    layers: &'a [Layers<'l>],
    callers: &'a [(Template, crate::iam::condition::Context)],
}

/// The requests that decide the assume-role steps an indirect entry's path shows and that
/// are not exact yet: one per (caller class, role), asked by the first caller of the class
/// that shows it. Returns the requests, and per such step (step, its request).
fn shown_requests(cx: &ProofCx<'_, '_>, reach: &Reach) -> (Vec<Proof>, Vec<(usize, usize)>) {
    let (graph, layers, callers) = (cx.graph, cx.layers, cx.callers);
    let mut shown: Vec<usize> = reach.indirect.iter().flat_map(|x| x.path.iter().copied()).collect();
    shown.sort_unstable();
    shown.dedup();
    // Callers whose statements that can match `sts:AssumeRole` are the same ones (a
    // principal class, `iam::class::class_key`, naming the caller where the trust reads
    // it) get the same decision on one role, proofs included: decided once.
    let mut reads: HashMap<usize, bool> = HashMap::new();
    // Per (caller, whether the trust reads the caller), its class, numbered.
    let mut class_of: HashMap<(usize, bool), usize> = HashMap::new();
    let mut class_ids: HashMap<crate::iam::class::ClassKey, usize> = HashMap::new();
    // Per step shown, the request that decides it: one per (class, role), asked by the
    // first caller of the class that shows it.
    let mut request_of: HashMap<(usize, usize), usize> = HashMap::new();
    let mut requests: Vec<Proof> = Vec::new();
    let mut assigned: Vec<(usize, usize)> = Vec::new();
    for k in shown {
        let step = &reach.steps[k];
        if step.exact || step.kind != StepKind::AssumeRole {
            continue;
        }
        let (a, b) = (step.from, step.to);
        let Some(trust) = graph.principals[b].trust else {
            continue;
        };
        let trust_reads = *reads
            .entry(trust)
            .or_insert_with(|| crate::iam::class::policy_reads_caller(&graph.policies[trust].policy));
        let class = *class_of.entry((a, trust_reads)).or_insert_with(|| {
            let key = crate::iam::class::class_key(&layers[a], &[steps::ASSUME_ROLE], &callers[a].0, trust_reads);
            let next = class_ids.len();
            *class_ids.entry(key).or_insert(next)
        });
        let next = requests.len();
        let r = *request_of.entry((class, b)).or_insert(next);
        if r == next {
            requests.push((a, b, trust, class));
        }
        assigned.push((k, r));
    }
    (requests, assigned)
}

/// Decides the requests that take no base's decision (`based[r]` is `None`), in parallel,
/// each caller's through one view of its statements on `sts:AssumeRole` (the callers in
/// order, so the same input gives the same work). Returns per request its decision (`None`
/// for the others, still to be rebased).
fn decide_unrebased(
    cx: &ProofCx<'_, '_>,
    requests: &[Proof],
    based: &[Option<usize>],
    work: &mut Work,
) -> Vec<Option<Arc<Decision>>> {
    let (graph, config, layers, callers) = (cx.graph, cx.config, cx.layers, cx.callers);
    let mut by_caller: Vec<usize> = (0..requests.len()).filter(|&r| based[r].is_none()).collect();
    work.requests += by_caller.len() as u64;
    by_caller.sort_by_key(|&r| (requests[r].0, r));
    let runs: Vec<&[usize]> = by_caller.chunk_by(|&x, &y| requests[x].0 == requests[y].0).collect();
    let decided: Vec<Vec<(usize, Arc<Decision>)>> = runs
        .par_iter()
        .map(|run| {
            let a = requests[run[0]].0;
            let view = crate::iam::eval::ActionView::new(&layers[a], steps::ASSUME_ROLE);
            let caller = crate::iam::principal::Caller::parse(&callers[a].0);
            run.iter()
                .map(|&r| {
                    let (_, b, trust, _) = requests[r];
                    let d = steps::assume_role_viewed(
                        &layers[a],
                        &view,
                        &graph.policies[trust].policy,
                        &graph.principals[b].arn.pin(&config.pins),
                        &caller,
                        &callers[a].1,
                    );
                    (r, Arc::new(d))
                })
                .collect()
        })
        .collect();
    let mut by_request: Vec<Option<Arc<Decision>>> = vec![None; requests.len()];
    for (r, d) in decided.into_iter().flatten() {
        by_request[r] = Some(d);
    }
    by_request
}

/// The decisions of the requests that have a base (`based`): the base's decision (in
/// `by_request`) with the request's own role's trust statements, or, where the two trust
/// policies do not line up, its own. Each as (request, decision, whether it was asked).
fn rebased_decisions(
    cx: &ProofCx<'_, '_>,
    requests: &[Proof],
    based: &[Option<usize>],
    by_request: &[Option<Arc<Decision>>],
) -> Vec<(usize, Arc<Decision>, bool)> {
    let (graph, config, layers, callers) = (cx.graph, cx.config, cx.layers, cx.callers);
    let mut positions: HashMap<usize, Vec<crate::source::Span>> = HashMap::new();
    for (r, base) in based.iter().enumerate() {
        if let Some(base) = base {
            for t in [requests[*base].2, requests[r].2] {
                positions
                    .entry(t)
                    .or_insert_with(|| steps::positions(&graph.policies[t].policy));
            }
        }
    }
    (0..requests.len())
        .into_par_iter()
        .filter_map(|r| {
            let base = based[r]?;
            let (from, to) = (requests[base].2, requests[r].2);
            let d = by_request[base].as_deref().and_then(|d| {
                steps::rebase_trust(
                    d,
                    (&graph.policies[from].policy, &positions[&from]),
                    (&graph.policies[to].policy, &positions[&to]),
                )
            });
            Some(match d {
                Some(d) => (r, Arc::new(d), false),
                None => {
                    let (a, b, trust, _) = requests[r];
                    let d = steps::assume_role(
                        &layers[a],
                        &graph.policies[trust].policy,
                        &graph.principals[b].arn.pin(&config.pins),
                        &callers[a].0,
                        &callers[a].1,
                    );
                    (r, Arc::new(d), true)
                }
            })
        })
        .collect()
}

/// A request [`exact_proofs`] asks: caller, role, the role's trust policy, and the number
/// of the caller's class.
type Proof = (usize, usize, usize, usize);

/// Per request of [`exact_proofs`], the earlier request whose decision it can take with its
/// own role's trust statements: the same class of callers, a role whose trust policy says
/// the same thing in the same account (and reads no resource), and the class's statements
/// on `sts:AssumeRole` matching both roles alike (none of them holding a policy variable,
/// whose value could tell the roles apart).
fn rebase_plan(graph: &Graph, config: &Config, layers: &[Layers<'_>], requests: &[Proof]) -> Vec<Option<usize>> {
    // Per role, the number of what its trust policy says (`None`: not shared) and its ARN's
    // tokens, worked out once.
    let mut texts: HashMap<String, usize> = HashMap::new();
    let mut trust_of: HashMap<usize, Option<(usize, Vec<crate::iam::pattern::Tok>)>> = HashMap::new();
    // Per caller, the distinct patterns that may tell roles apart (`*` tells none apart).
    let mut patterns_of: HashMap<usize, Option<Vec<&crate::iam::policy::Pat>>> = HashMap::new();
    for &(a, b, trust, _) in requests {
        trust_of.entry(b).or_insert_with(|| {
            let arn = graph.principals[b].arn.pin(&config.pins);
            let (text, reads_resource) = trust_key_text(&graph.policies[trust].policy, &arn);
            let text = text.filter(|_| !reads_resource)?;
            let next = texts.len();
            Some((
                *texts.entry(text).or_insert(next),
                crate::iam::pattern::text_tokens(&arn),
            ))
        });
        patterns_of.entry(a).or_insert_with(|| {
            if steps::varies_by_caller(&layers[a], steps::ASSUME_ROLE) {
                return None;
            }
            let mut patterns = steps::layer_patterns(&layers[a], steps::ASSUME_ROLE);
            patterns.retain(|p| p.text.as_literal() != Some("*"));
            patterns.sort_by(|x, y| x.text.cmp(&y.text));
            patterns.dedup_by(|x, y| x.text == y.text);
            Some(patterns)
        });
    }
    let keys: Vec<Option<(usize, usize, Vec<crate::iam::pattern::Tri>)>> = requests
        .par_iter()
        .map(|&(a, b, _, class)| {
            let (text, tokens) = trust_of[&b].as_ref()?;
            let patterns = patterns_of[&a].as_ref()?;
            Some((class, *text, steps::signature(patterns, tokens)))
        })
        .collect();
    let mut base_of: HashMap<(usize, usize, Vec<crate::iam::pattern::Tri>), usize> = HashMap::new();
    let mut based = vec![None; requests.len()];
    for (r, key) in keys.into_iter().enumerate() {
        let Some(key) = key else { continue };
        match base_of.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => based[r] = Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(r);
            }
        }
    }
    based
}

/// What a role's trust policy says, with the role's account (`None` for a document that
/// cannot be read), and whether the policy reads the resource (a `Resource` element).
fn trust_key_text(policy: &crate::iam::eval::Policy, role_arn: &Template) -> (Option<String>, bool) {
    let reads_resource = policy
        .document
        .statements
        .iter()
        .any(|s| !matches!(s.resources, crate::iam::policy::Which::Absent));
    let account = crate::iam::principal::Caller::parse(role_arn).account;
    let text = crate::iam::class::content_text(policy).map(|c| format!("{c}@{account:?}"));
    (text, reads_resource)
}

/// Changed nodes that indirect entries hold, decided again on their own where they carry
/// the decisions of a node whose outcomes come out alike ([`capability::Changed::exact`]).
/// The choice of holders reads outcomes only, so it stays; the tables of the holder's
/// entries may group otherwise (by its own proofs), so the caller chooses again (until no
/// entry holds a shared decision). Returns the principals whose entries hold a node decided
/// again.
#[allow(clippy::too_many_arguments)]
fn exact_holders(
    graph: &Graph,
    caps: &Capabilities,
    config: &Config,
    decisions: &Decisions,
    variants: &[(usize, PrincipalNode)],
    exact: &mut [bool],
    reach: &mut Reach,
    work: &mut Work,
) -> BTreeSet<usize> {
    let mut shown: Vec<usize> = reach
        .indirect
        .iter()
        .filter_map(|x| match x.held {
            Held::Changed(v, _) if !exact[v] => Some(v),
            _ => None,
        })
        .collect();
    shown.sort_unstable();
    shown.dedup();
    let own = capability::evaluate_changed(graph, caps, config, variants, &shown, decisions, work);
    for (&v, entries) in shown.iter().zip(own) {
        reach.changed.push(entries);
        reach.changed_class[v] = reach.changed.len() - 1;
        reach.changed_again += 1;
        exact[v] = true;
    }
    reach
        .indirect
        .iter()
        .filter(|x| matches!(x.held, Held::Changed(v, _) if shown.binary_search(&v).is_ok()))
        .map(|x| x.principal)
        .collect()
}

/// The ARN of declared group `gi` of input `i` (its path is not modelled: `/`), pinned.
fn group_arn(graph: &Graph, config: &Config, (i, gi): (usize, usize)) -> Template {
    crate::iam::arn::iam("group/", &graph.inputs[i].groups[gi].name).pin(&config.pins)
}

/// One alternative request of a permission change: an action on an IAM resource.
#[derive(Clone)]
struct Ask {
    action: &'static str,
    resource: Template,
    tokens: Vec<crate::iam::pattern::Tok>,
}

fn ask(action: &'static str, resource: Template) -> Ask {
    let tokens = crate::iam::pattern::text_tokens(&resource);
    Ask {
        action,
        resource,
        tokens,
    }
}

/// A caller asking for permission changes: its layers and ARN, and per action where its
/// identity Allows may land (`iam::reach::allow_landing`, worked out on first use).
struct Asker<'a> {
    layers: &'a Layers<'a>,
    caller: &'a (Template, crate::iam::condition::Context),
    landing: HashMap<&'static str, Option<Vec<&'a crate::iam::policy::Pat>>>,
}

impl<'a> Asker<'a> {
    fn new(layers: &'a Layers<'a>, caller: &'a (Template, crate::iam::condition::Context)) -> Asker<'a> {
        Asker {
            layers,
            caller,
            landing: HashMap::new(),
        }
    }

    /// Where the caller's identity Allows of `action` may land (`None`: anywhere).
    fn landing(&mut self, action: &'static str) -> Option<&[&'a crate::iam::policy::Pat]> {
        let layers = self.layers;
        self.landing
            .entry(action)
            .or_insert_with(|| steps::allow_landing(layers, action))
            .as_deref()
    }

    /// The decision of the first alternative that can, else none. Alternatives no identity
    /// Allow may grant are refused without asking.
    fn first_can(&mut self, asks: &[Ask], work: &mut Work) -> Option<(Decision, &'static str)> {
        let mut found: Vec<(Decision, &'static str)> = Vec::new();
        for a in asks {
            if !steps::may_land(self.landing(a.action), &a.tokens) {
                continue;
            }
            work.requests += 1;
            let d = steps::request(self.layers, a.action, &a.resource, &self.caller.0, &self.caller.1);
            if d.outcome.can() {
                found.push((d, a.action));
            }
        }
        let best = steps::best(found.iter().map(|(d, _)| d.clone()).collect())?;
        found.into_iter().find(|(d, _)| *d == best)
    }
}

/// The IAM resources a change that adds permissions to principal `b` may write to, each
/// with what it is: its ARN first, then the customer managed policies attached to it and
/// the groups it is in.
fn adding_resources(graph: &Graph, config: &Config, groups_of: &GroupsOf, b: usize) -> Vec<(Entity, Template)> {
    let target = &graph.principals[b];
    let role = matches!(target.class, PrincipalClass::Role | PrincipalClass::ExternalRole);
    let entity = if role { Entity::Role } else { Entity::User };
    let mut out = vec![(entity, target.arn.pin(&config.pins))];
    for &k in &target.policies {
        let p = &graph.policies[k];
        if p.kind == PolicyKind::Managed
            && let (Some(i), Some(j)) = (p.input, p.declared)
            && let Some(policy_arn) = graph.inputs[i].policies.get(j).and_then(|q| q.arn.as_ref())
        {
            out.push((Entity::ManagedPolicy, policy_arn.pin(&config.pins)));
        }
    }
    for &(i, gi) in groups_of.get(&b).into_iter().flatten() {
        out.push((Entity::Group, group_arn(graph, config, (i, gi))));
    }
    out
}

/// The requests that add permissions to principal `b` (any one suffices), in the order of
/// [`adding_resources`].
fn adding_asks(graph: &Graph, config: &Config, groups_of: &GroupsOf, b: usize) -> Vec<Ask> {
    adding_resources(graph, config, groups_of, b)
        .into_iter()
        .flat_map(|(entity, resource)| steps::adding(entity).iter().map(move |a| ask(a, resource.clone())))
        .collect()
}

/// Per user, the declared groups it is in (input, group), in membership order.
type GroupsOf = HashMap<usize, Vec<(usize, usize)>>;

fn groups_of(graph: &Graph) -> GroupsOf {
    let mut out = GroupsOf::new();
    for &(u, i, gi) in &graph.memberships {
        out.entry(u).or_default().push((i, gi));
    }
    out
}

/// The requests that add permissions to each principal, built on first use.
struct Asks {
    of: HashMap<usize, Vec<Ask>>,
    groups_of: GroupsOf,
}

impl Asks {
    fn get(&mut self, graph: &Graph, config: &Config, b: usize) -> &[Ask] {
        let groups_of = &self.groups_of;
        self.of
            .entry(b)
            .or_insert_with(|| adding_asks(graph, config, groups_of, b))
    }
}

/// Permission-change steps: for each caller with an IAM-write grant, changes to itself and
/// to the roles it reaches by assumption, and users adding themselves to groups. Returns
/// the changed principals to decide (principal index, changed node).
fn change_steps(
    graph: &Graph,
    config: &Config,
    layers: &[Layers<'_>],
    callers: &[(Template, crate::iam::condition::Context)],
    reach: &mut Reach,
    work: &mut Work,
) -> Vec<(usize, PrincipalNode)> {
    let mut variants: Vec<(usize, PrincipalNode)> = Vec::new();
    let Some(added) = graph.added_policy else {
        return variants;
    };
    let mut node_of: BTreeMap<(usize, String), usize> = BTreeMap::new();
    let mut searches = AssumeSearches::new(reach, graph.principals.len());
    let mut asks_of = Asks {
        of: HashMap::new(),
        groups_of: groups_of(graph),
    };
    let mut groups: Option<GroupTargets> = None;
    let mut ask_targets: Option<AskTargets> = None;
    // Who may change permissions at all, read per principal in parallel.
    let writers: Vec<usize> = layers
        .par_iter()
        .enumerate()
        .filter(|(_, l)| steps::may_allow(l, steps::CHANGE_ACTIONS))
        .map(|(x, _)| x)
        .collect();
    for x in writers {
        // A principal that can change its own permissions is taken to gain nothing more by
        // changing those of the roles it reaches (docs/spec-notes.md: this bounds the changed
        // principals to decide by the principals), so those are searched only otherwise.
        let mut asker = Asker::new(&layers[x], &callers[x]);
        let own = change_to(graph, config, &mut asker, x, added, &mut asks_of, work);
        let own_outcome = own.as_ref().map(|c| c.0.outcome);
        let found: Option<&Search> = if own.is_some() {
            None
        } else {
            Some(searches.from(reach, x))
        };
        let mut targets: Vec<usize> = vec![x];
        if let Some(f) = found {
            // Only principals some of the caller's Allows may land on can be changed.
            let ask_targets = ask_targets.get_or_insert_with(|| AskTargets::new(graph, config, &asks_of.groups_of));
            let reached = f.order.iter().copied().filter(|&b| b != x);
            match ask_targets.candidates(&mut asker, work) {
                None => targets.extend(reached),
                Some(may) => targets.extend(reached.filter(|b| may.contains(b))),
            }
        }
        let mut own = Some(own);
        for b in targets {
            let change = match own.take() {
                Some(decided) => decided,
                None => change_to(graph, config, &mut asker, b, added, &mut asks_of, work),
            };
            let Some(change) = change else {
                continue;
            };
            let prefix = match found {
                Some(f) if b != x => path_to(reach, f, b, x),
                _ => Vec::new(),
            };
            let (decision, actions, node, label) = change;
            let next = graph.principals.len() + variants.len();
            let to = *node_of.entry((b, label.clone())).or_insert(next);
            if to == next {
                variants.push((b, node));
                reach.nodes.push(Node {
                    principal: b,
                    change: Some(label),
                });
            }
            reach.steps.push(Step {
                from: x,
                to,
                kind: StepKind::ChangePermissions,
                decision: Arc::new(decision),
                actions,
                prefix,
                exact: true,
            });
        }
        // Joining a group adds its policies, Denies included, and keeps the boundary, so
        // the user as it would be after joining holds no more than after changing its own
        // permissions (`Allow *`, removable Denies and boundary gone). A join is followed
        // only where its step can be better than the change's (docs/spec-notes.md).
        let joins_needed = match own_outcome {
            None => Some(Outcome::Conditional),
            Some(Outcome::Conditional) => Some(Outcome::Allowed),
            Some(_) => None,
        };
        if let Some(at_least) = joins_needed
            && graph.principals[x].class == PrincipalClass::User
        {
            let targets = groups.get_or_insert_with(|| GroupTargets::new(graph, config));
            let join = Join { x, at_least };
            group_steps(
                graph,
                &mut asker,
                join,
                targets,
                &asks_of.groups_of,
                reach,
                &mut variants,
                &mut node_of,
                work,
            );
        }
    }
    variants
}

/// The searches of what writers reach by assuming roles ([`change_steps`]): over the
/// assume-role steps as they were before any change, one search per hub kept for all its
/// callers, and one storage that each other writer's search reuses.
struct AssumeSearches {
    assume: Edges,
    costs: Vec<(u32, Outcome)>,
    hubs: HashMap<usize, Search>,
    node: Search,
}

impl AssumeSearches {
    fn new(reach: &Reach, principals: usize) -> AssumeSearches {
        AssumeSearches {
            assume: Edges::new(reach, principals, (0..reach.nodes.len()).collect(), false),
            costs: step_costs(reach),
            hubs: HashMap::new(),
            // One writer's search after another in the same storage.
            node: Search::new(reach.nodes.len()),
        }
    }

    /// What writer `x` reaches by assuming roles. A caller whose only ways to other
    /// principals are its hub's reaches what the hub reaches (itself aside), in the same
    /// order: one search per hub serves them all.
    fn from(&mut self, reach: &Reach, x: usize) -> &Search {
        let AssumeSearches {
            assume,
            costs,
            hubs,
            node,
        } = self;
        match reach.hub_of.get(x).copied().flatten() {
            Some(h) if assume.adj[x].is_empty() => hubs.entry(h).or_insert_with(|| {
                node.reset();
                search_into(node, reach, assume, costs, Origin::Hub(h));
                node.kept()
            }),
            _ => {
                node.reset();
                search_into(node, reach, assume, costs, Origin::Node(x));
                node
            }
        }
    }
}

type Change = (Decision, Vec<String>, PrincipalNode, String);

/// How `x` can add permissions to `b`, and `b` as it would be after.
#[allow(clippy::too_many_arguments)]
fn change_to(
    graph: &Graph,
    config: &Config,
    asker: &mut Asker<'_>,
    b: usize,
    added: usize,
    asks_of: &mut Asks,
    work: &mut Work,
) -> Option<Change> {
    let target = &graph.principals[b];
    let role = matches!(target.class, PrincipalClass::Role | PrincipalClass::ExternalRole);
    let asks = asks_of.get(graph, config, b);
    let (mut decision, action) = asker.first_can(asks, work)?;
    let arn = asks[0].resource.clone();
    let mut actions = vec![action.to_string()];
    let mut node = target.clone();
    let mut label = String::from("+*");
    // The boundary bites unless it can be removed too.
    if !node.boundaries.is_empty()
        && let Some((d, a)) = asker.first_can(&[ask(steps::boundary_removal(role), arn.clone())], work)
    {
        join(&mut decision, d);
        actions.push(a.to_string());
        node.boundaries.clear();
        label.push_str("-boundary");
    }
    // Policies holding a Deny bite unless they can be deleted or detached (not through a group).
    let mut kept = Vec::new();
    for &k in &target.policies {
        let p = &graph.policies[k];
        // A document that cannot be read may hold a Deny.
        let denies = p.policy.document.unknown.is_some()
            || p.policy
                .document
                .statements
                .iter()
                .any(|s| s.effect == crate::iam::policy::Effect::Deny);
        let direct = target
            .via
            .iter()
            .any(|v| v.policy == k && v.group.is_none() && !v.boundary);
        if denies && direct {
            let removal = steps::policy_removal(role, p.kind == PolicyKind::Inline);
            if let Some((d, a)) = asker.first_can(&[ask(removal, arn.clone())], work) {
                join(&mut decision, d);
                actions.push(a.to_string());
                label.push_str(&format!("-{k}"));
                continue;
            }
        }
        // With `Allow *` added, only a policy's Denies can still change a decision.
        if denies {
            kept.push(k);
        }
    }
    kept.push(added);
    node.policies = kept;
    Some((decision, actions, node, label))
}

/// The IAM resources permission changes ask about (each principal's ARN, the customer
/// managed policies attached to it, the groups it is in), indexed to find whose requests
/// a caller's identity Allows may land on ([`Asker::landing`]) with each of its patterns
/// matched once, instead of matching its patterns against each principal it reaches.
struct AskTargets {
    targets: ArnTargets,
    /// Per resource, the principals whose changes ask about it.
    owners: Vec<Vec<usize>>,
}

impl AskTargets {
    fn new(graph: &Graph, config: &Config, groups_of: &GroupsOf) -> AskTargets {
        let mut at: HashMap<Template, usize> = HashMap::new();
        let mut resources: Vec<Template> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        for b in 0..graph.principals.len() {
            for (_, resource) in adding_resources(graph, config, groups_of, b) {
                let k = *at.entry(resource.clone()).or_insert_with(|| {
                    resources.push(resource);
                    owners.push(Vec::new());
                    resources.len() - 1
                });
                if owners[k].last() != Some(&b) {
                    owners[k].push(b);
                }
            }
        }
        AskTargets {
            targets: ArnTargets::new(resources.iter()),
            owners,
        }
    }

    /// The principals whose permissions some of the caller's Allows of an adding action
    /// may land on (`None`: any, as an Allow may land anywhere). A principal left out would
    /// have every request refused without asking ([`Asker::first_can`]).
    fn candidates(&mut self, asker: &mut Asker<'_>, work: &mut Work) -> Option<BTreeSet<usize>> {
        let mut out = BTreeSet::new();
        for entity in [Entity::Role, Entity::User, Entity::Group, Entity::ManagedPolicy] {
            for &action in steps::adding(entity) {
                for p in asker.landing(action)? {
                    // A policy variable puts the pattern where the caller's values do.
                    if p.has_variables() {
                        return None;
                    }
                    match self.targets.matched(&p.text, &mut work.index_matches) {
                        (Some(crate::iam::pattern::Tri::No), _) => {}
                        // It may land on every one of them.
                        (Some(_), _) => return None,
                        (None, hits) => out.extend(hits.iter().flat_map(|&k| self.owners[k].iter().copied())),
                    }
                }
            }
        }
        Some(out)
    }
}

/// The declared groups with policies, as targets of `iam:AddUserToGroup`: each group's
/// (input, group) in `Graph::group_policies` order, and the request to join it.
struct GroupTargets {
    groups: Vec<(usize, usize)>,
    joins: Vec<Ask>,
    targets: ArnTargets,
    /// Callers' classes on `iam:AddUserToGroup` (`iam::class::class_key`), numbered.
    classes: HashMap<crate::iam::class::ClassKey, usize>,
    /// Per (class, signature of its patterns on a group's ARN), the join's decision: a
    /// request on an IAM resource has no resource policy, so callers of one class decide
    /// alike, proofs included, on groups their statements match alike.
    decided: HashMap<(usize, Vec<crate::iam::pattern::Tri>), Option<Joined>>,
}

/// A join's decision and the action that gets it.
type Joined = (Decision, &'static str);

impl GroupTargets {
    fn new(graph: &Graph, config: &Config) -> GroupTargets {
        let groups: Vec<(usize, usize)> = graph.group_policies.keys().copied().collect();
        let joins: Vec<Ask> = groups
            .iter()
            .map(|&g| ask(steps::ADD_USER_TO_GROUP, group_arn(graph, config, g)))
            .collect();
        GroupTargets {
            targets: ArnTargets::new(joins.iter().map(|a| &a.resource)),
            groups,
            joins,
            classes: HashMap::new(),
            decided: HashMap::new(),
        }
    }

    /// The groups (positions, in order) the caller's identity Allows of
    /// `iam:AddUserToGroup` may land on (`iam::reach::allow_landing`): all of them where
    /// one may land anywhere.
    fn candidates(&mut self, asker: &mut Asker<'_>, work: &mut Work) -> Vec<usize> {
        let Some(patterns) = asker
            .landing(steps::ADD_USER_TO_GROUP)
            .filter(|patterns| !patterns.iter().any(|p| p.has_variables()))
        else {
            return (0..self.groups.len()).collect();
        };
        let mut out: Vec<usize> = Vec::new();
        for p in patterns {
            out.extend_from_slice(self.targets.hits(&p.text, &mut work.index_matches));
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A user `x` adding itself to groups, with the least outcome a join's step must have to
/// be followed.
#[derive(Clone, Copy)]
struct Join {
    x: usize,
    at_least: Outcome,
}

/// A user adding itself to a declared group it is not in.
#[allow(clippy::too_many_arguments)]
fn group_steps(
    graph: &Graph,
    asker: &mut Asker<'_>,
    Join { x, at_least }: Join,
    targets: &mut GroupTargets,
    groups_of: &GroupsOf,
    reach: &mut Reach,
    variants: &mut Vec<(usize, PrincipalNode)>,
    node_of: &mut BTreeMap<(usize, String), usize>,
    work: &mut Work,
) {
    // The caller's class, unless a pattern holds a policy variable (whose value could tell
    // groups apart that the signature does not).
    let patterns = steps::layer_patterns(asker.layers, steps::ADD_USER_TO_GROUP);
    let class = (!steps::varies_by_caller(asker.layers, steps::ADD_USER_TO_GROUP)).then(|| {
        let key = crate::iam::class::class_key(asker.layers, &[steps::ADD_USER_TO_GROUP], &asker.caller.0, false);
        let next = targets.classes.len();
        *targets.classes.entry(key).or_insert(next)
    });
    for g in targets.candidates(asker, work) {
        let (i, gi) = targets.groups[g];
        if groups_of.get(&x).is_some_and(|of| of.contains(&(i, gi))) {
            continue;
        }
        let policies = &graph.group_policies[&(i, gi)];
        let group = &graph.inputs[i].groups[gi];
        let join = std::slice::from_ref(&targets.joins[g]);
        let decided = match class {
            Some(c) => targets
                .decided
                .entry((c, steps::signature(&patterns, &join[0].tokens)))
                .or_insert_with(|| asker.first_can(join, work))
                .clone(),
            None => asker.first_can(join, work),
        };
        let Some((decision, action)) = decided else {
            continue;
        };
        if steps::goodness(decision.outcome) < steps::goodness(at_least) {
            continue;
        }
        let action = action.to_string();
        let mut node = graph.principals[x].clone();
        node.policies.extend(policies.iter().copied());
        node.policies.sort_unstable();
        node.policies.dedup();
        for &k in policies {
            node.via.push(crate::graph::Via {
                policy: k,
                group: Some(group.address.clone()),
                attachment: group.span,
                boundary: false,
            });
        }
        let label = format!("+group {}", group.address);
        let next = graph.principals.len() + variants.len();
        let to = *node_of.entry((x, label.clone())).or_insert(next);
        if to == next {
            variants.push((x, node));
            reach.nodes.push(Node {
                principal: x,
                change: Some(format!("in group `{}`", group.address)),
            });
        }
        reach.steps.push(Step {
            from: x,
            to,
            kind: StepKind::ChangePermissions,
            decision: Arc::new(decision),
            actions: vec![action],
            prefix: Vec::new(),
            exact: true,
        });
    }
}

/// Adds a further requirement's decision to a step's: the worse outcome, both proofs.
fn join(into: &mut Decision, d: Decision) {
    into.outcome = steps::worse(into.outcome, d.outcome);
    into.because.extend(d.because);
    for o in d.open {
        if !into.open.contains(&o) {
            into.open.push(o);
        }
    }
}

/// How a search first reached a node.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Via {
    Unseen,
    Start,
    Step(usize),
    /// Edge `edge` of hub `hub` (one of its role lists), taken from node `from`
    /// ([`MEMBER`]: from the hub's caller the search is for).
    Hub {
        from: usize,
        hub: usize,
        edge: usize,
    },
}

/// The caller a search from a hub stands for.
const MEMBER: usize = usize::MAX;

/// Where a search starts: a node, or any caller of a hub with no steps of its own.
#[derive(Clone, Copy)]
enum Origin {
    Node(usize),
    Hub(usize),
}

/// The steps a search may take: per node its steps, ordered by the `key` of their target
/// (ties in step order); per hub its edges (edge indexes); and each role list ordered by
/// the key of its roles.
struct Edges {
    adj: Vec<Vec<usize>>,
    hub: Vec<Vec<usize>>,
    lists: Vec<Vec<usize>>,
    key: Vec<usize>,
    principals: usize,
}

impl Edges {
    fn new(reach: &Reach, principals: usize, key: Vec<usize>, allowed_only: bool) -> Edges {
        let keep = |o: Outcome| !allowed_only || o == Outcome::Allowed;
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); reach.nodes.len()];
        // Hub edges made steps for a shown path stay hub edges to a search.
        let plain = reach.plain_steps.unwrap_or(reach.steps.len());
        for (k, s) in reach.steps[..plain].iter().enumerate() {
            if keep(s.decision.outcome) && s.from < adj.len() {
                adj[s.from].push(k);
            }
        }
        for list in &mut adj {
            list.sort_by_key(|&k| key[reach.steps[k].to]);
        }
        let hub = reach
            .hubs
            .iter()
            .map(|edges| (0..edges.len()).filter(|&j| keep(edges[j].decision.outcome)).collect())
            .collect();
        let lists = reach
            .role_lists
            .iter()
            .map(|roles| {
                let mut roles = roles.clone();
                roles.sort_by_key(|&b| key[b]);
                roles
            })
            .collect();
        Edges {
            adj,
            hub,
            lists,
            key,
            principals,
        }
    }
}

/// A breadth-first search: how each node was first reached, the nodes in that order (the
/// start left out), and per node its path's length and outcome (changes to other principals
/// counted with the steps that reach them).
struct Search {
    marks: Marks,
    order: Vec<usize>,
    /// The principal the search started from (not in `order`).
    start: Option<usize>,
}

/// How a search keeps what it reached.
enum Marks {
    /// One mark per node: storage that searches run in, one after the other.
    Dense {
        via: Vec<Via>,
        len: Vec<u32>,
        outcome: Vec<Outcome>,
    },
    /// The nodes reached only: a search kept after it ran (a hub's, read by its callers),
    /// so that keeping one per hub costs what it reached, not every node.
    Sparse(HashMap<usize, (Via, u32, Outcome)>),
}

impl Search {
    /// Storage for a search over `n` nodes, none reached.
    fn new(n: usize) -> Search {
        Search {
            marks: Marks::Dense {
                via: vec![Via::Unseen; n],
                len: vec![0; n],
                outcome: vec![Outcome::Allowed; n],
            },
            order: Vec::new(),
            start: None,
        }
    }

    /// Forgets what the search reached, touching only those nodes.
    fn reset(&mut self) {
        match &mut self.marks {
            Marks::Dense { via, len, outcome } => {
                for v in self.order.drain(..).chain(self.start.take()) {
                    via[v] = Via::Unseen;
                    len[v] = 0;
                    outcome[v] = Outcome::Allowed;
                }
            }
            Marks::Sparse(marks) => {
                marks.clear();
                self.order.clear();
                self.start = None;
            }
        }
    }

    /// How the search first reached `v` ([`Via::Unseen`]: not at all).
    fn via(&self, v: usize) -> Via {
        match &self.marks {
            Marks::Dense { via, .. } => via[v],
            Marks::Sparse(marks) => marks.get(&v).map_or(Via::Unseen, |m| m.0),
        }
    }

    /// The length and outcome of the path to `v` (a node the search reached).
    fn cost(&self, v: usize) -> (u32, Outcome) {
        match &self.marks {
            Marks::Dense { len, outcome, .. } => (len[v], outcome[v]),
            Marks::Sparse(marks) => marks.get(&v).map_or((0, Outcome::Allowed), |m| (m.1, m.2)),
        }
    }

    /// Records how `v` was first reached.
    fn mark(&mut self, v: usize, how: Via, cost: (u32, Outcome)) {
        match &mut self.marks {
            Marks::Dense { via, len, outcome } => {
                via[v] = how;
                len[v] = cost.0;
                outcome[v] = cost.1;
            }
            Marks::Sparse(marks) => {
                marks.insert(v, (how, cost.0, cost.1));
            }
        }
    }

    /// What the search reached, kept on its own (the storage can then search again).
    fn kept(&self) -> Search {
        let marks = self
            .order
            .iter()
            .chain(self.start.iter())
            .map(|&v| {
                let (len, outcome) = self.cost(v);
                (v, (self.via(v), len, outcome))
            })
            .collect();
        Search {
            marks: Marks::Sparse(marks),
            order: self.order.clone(),
            start: self.start,
        }
    }
}

/// Per step: the length and outcome it adds to a path (with its prefix).
fn step_costs(reach: &Reach) -> Vec<(u32, Outcome)> {
    reach
        .steps
        .iter()
        .map(|s| {
            let outcome = s
                .prefix
                .iter()
                .map(|&k| reach.steps[k].decision.outcome)
                .fold(s.decision.outcome, steps::worse);
            (s.prefix.len() as u32 + 1, outcome)
        })
        .collect()
}

/// Breadth-first from `origin` over `edges` (a node's steps and its hub's edges, merged by
/// the key of their targets), into a search's storage, which must be new or
/// [`Search::reset`]: a caller that searches from many principals in turn pays for what
/// each reaches, not for every node each time ([`Search::kept`] keeps a result).
fn search_into(out: &mut Search, reach: &Reach, edges: &Edges, costs: &[(u32, Outcome)], origin: Origin) {
    let mut queue: Vec<usize> = Vec::new();
    let visit = |out: &mut Search, queue: &mut Vec<usize>, from: usize, v: usize, via: Via, cost: (u32, Outcome)| {
        if out.via(v) != Via::Unseen {
            return;
        }
        let (len, outcome) = if from == MEMBER {
            (0, Outcome::Allowed)
        } else {
            out.cost(from)
        };
        out.mark(v, via, (len + cost.0, steps::worse(outcome, cost.1)));
        out.order.push(v);
        queue.push(v);
    };
    // A hub's edges are taken once per search, and a role list once: once expanded, every
    // role on it (every one the edge does not leave out) has been reached, so a later
    // expansion (no nearer to the start, in breadth-first order) would find each seen.
    let mut hub_done = vec![false; edges.hub.len()];
    let mut list_done = vec![false; edges.lists.len()];
    // Node `u` (or the hub's caller, [`MEMBER`]): its own steps and the roles of its hub's
    // lists not yet taken, merged by the key of their targets.
    let mut expand = |out: &mut Search, queue: &mut Vec<usize>, u: usize, hub: Option<usize>, own: &[usize]| {
        let hub = hub.filter(|&h| !std::mem::replace(&mut hub_done[h], true));
        let h = hub.unwrap_or_default();
        // Per list still to take: (edge, position in the list).
        let mut heads: Vec<(usize, usize)> = Vec::new();
        for &e in hub.map(|h| edges.hub[h].as_slice()).unwrap_or_default() {
            let edge = &reach.hubs[h][e];
            if !list_done[edge.list] {
                list_done[edge.list] = edge.except.is_empty();
                heads.push((e, 0));
            }
        }
        let mut i = 0;
        loop {
            let mut least: Option<(usize, usize)> = None;
            for (x, (e, at)) in heads.iter_mut().enumerate() {
                let edge = &reach.hubs[h][*e];
                let list = &edges.lists[edge.list];
                while list.get(*at).is_some_and(|b| edge.except.binary_search(b).is_ok()) {
                    *at += 1;
                }
                if let Some(&b) = list.get(*at)
                    && least.is_none_or(|(key, _)| edges.key[b] < key)
                {
                    least = Some((edges.key[b], x));
                }
            }
            let own_key = own.get(i).map(|&k| edges.key[reach.steps[k].to]);
            match (own_key, least) {
                (Some(key), least) if least.is_none_or(|(hub_key, _)| key <= hub_key) => {
                    let k = own[i];
                    i += 1;
                    visit(out, queue, u, reach.steps[k].to, Via::Step(k), costs[k]);
                }
                (_, Some((_, x))) => {
                    let (e, at) = heads[x];
                    heads[x].1 += 1;
                    let edge = &reach.hubs[h][e];
                    let via = Via::Hub {
                        from: u,
                        hub: h,
                        edge: e,
                    };
                    visit(
                        out,
                        queue,
                        u,
                        edges.lists[edge.list][at],
                        via,
                        (1, edge.decision.outcome),
                    );
                }
                _ => break,
            }
        }
    };
    match origin {
        Origin::Node(a) => {
            out.mark(a, Via::Start, (0, Outcome::Allowed));
            out.start = Some(a);
            queue.push(a);
        }
        Origin::Hub(h) => expand(out, &mut queue, MEMBER, Some(h), &[]),
    }
    let mut head = 0;
    while let Some(&u) = queue.get(head) {
        head += 1;
        let hub = if u < edges.principals {
            reach.hub_of.get(u).copied().flatten()
        } else {
            None
        };
        let own = edges.adj.get(u).map(Vec::as_slice).unwrap_or_default();
        expand(out, &mut queue, u, hub, own);
    }
}

/// Whether two searches reached `v` by the same path.
fn same_path(a: &Search, b: &Search, reach: &Reach, v: usize) -> bool {
    let mut at = v;
    loop {
        if a.via(at) != b.via(at) {
            return false;
        }
        match a.via(at) {
            Via::Step(k) => at = reach.steps[k].from,
            Via::Hub { from, .. } if from != MEMBER => at = from,
            _ => return true,
        }
    }
}

/// The path a search found to `v`, hub edges made steps (from `member` for a hub search),
/// and changes to other principals expanded into the steps that reach them.
fn path_to(reach: &mut Reach, found: &Search, v: usize, member: usize) -> Vec<usize> {
    let walk = walk_to(reach, found, v, member);
    make_path(reach, walk)
}

/// The links a search found to `v`, walked back from `v` to the start (hub edges not yet
/// made steps: the walk only reads).
fn walk_to(reach: &Reach, found: &Search, v: usize, member: usize) -> Vec<Walked> {
    let mut walk = Vec::new();
    let mut at = v;
    loop {
        match found.via(at) {
            Via::Step(k) => {
                walk.push(Walked::Step(k));
                at = reach.steps[k].from;
            }
            Via::Hub { from, hub, edge } => {
                let f = if from == MEMBER { member } else { from };
                walk.push(Walked::Hub {
                    from: f,
                    hub,
                    edge,
                    to: at,
                });
                if from == MEMBER {
                    break;
                }
                at = from;
            }
            Via::Start | Via::Unseen => break,
        }
    }
    walk
}

/// A walked path made steps: hub edges become steps in the order the walk met them, then
/// the path runs from the start, each change to another principal expanded into its prefix.
fn make_path(reach: &mut Reach, walk: Vec<Walked>) -> Vec<usize> {
    let mut path: Vec<usize> = walk
        .into_iter()
        .map(|w| match w {
            Walked::Step(k) => k,
            Walked::Hub { from, hub, edge, to } => reach.hub_step(from, hub, edge, to),
        })
        .collect();
    path.reverse();
    let mut out = Vec::new();
    for k in path {
        out.extend(reach.steps[k].prefix.iter().copied());
        out.push(k);
    }
    out
}

/// One candidate holder: node, which search found it (0: allowed steps only, 1: all), and
/// its path's length and outcome.
#[derive(Clone, Copy)]
struct Reached {
    node: usize,
    pass: usize,
    len: u32,
    outcome: Outcome,
}

/// The holders two searches (allowed steps, then all) find, each path once, ordered by path
/// length, then principal id.
fn reached_by(reach: &Reach, searches: &[Search; 2], rank: &[usize]) -> Vec<Reached> {
    let mut out = Vec::new();
    for (pass, found) in searches.iter().enumerate() {
        for &v in &found.order {
            if pass == 1 && searches[0].via(v) != Via::Unseen && same_path(&searches[0], found, reach, v) {
                continue;
            }
            let (len, outcome) = found.cost(v);
            out.push(Reached {
                node: v,
                pass,
                len,
                outcome,
            });
        }
    }
    out.sort_by_key(|r| (r.len, rank[r.node], r.node));
    out
}

/// What a hub's callers reach, shared by those with no steps of their own: the searches,
/// the holders, and per capability the best holder of each part of the tables (first in
/// order among the best) and of each SLR.
struct HubReach {
    searches: [Search; 2],
    reached: Vec<Reached>,
    tables: Vec<Vec<Part>>,
    slrs: Vec<Vec<SlrBest>>,
}

/// The indirect entries: per principal with steps, the best over what it reaches. With
/// `only`, those principals' entries are chosen again and the others' kept.
fn indirect(graph: &Graph, decisions: &Decisions, reach: &mut Reach, only: Option<&BTreeSet<usize>>) {
    let n = graph.principals.len();
    let id_of = |node: usize, reach: &Reach| graph.principals[reach.nodes[node].principal].id.as_str();
    // Nodes ranked by their principal's id (ties: node order), to order without comparing ids.
    let mut by_id: Vec<usize> = (0..reach.nodes.len()).collect();
    by_id.sort_by(|&x, &y| id_of(x, reach).cmp(id_of(y, reach)).then(x.cmp(&y)));
    let mut rank = vec![0usize; reach.nodes.len()];
    for (r, &node) in by_id.iter().enumerate() {
        rank[node] = r;
    }
    let costs = step_costs(reach);
    let allowed = Edges::new(reach, n, rank.clone(), true);
    let all = Edges::new(reach, n, rank.clone(), false);
    // The hubs whose callers read them (members, and principals whose own steps end at
    // changed nodes), each searched once, in parallel.
    let hub_of = |a: usize| {
        reach
            .hub_of
            .get(a)
            .copied()
            .flatten()
            .filter(|&h| !all.hub[h].is_empty())
    };
    // How each principal chooses (`None`: its entries are kept), read once, in parallel.
    let plans: Vec<Option<Plan>> = (0..n)
        .into_par_iter()
        .map(|a| {
            if only.is_some_and(|only| !only.contains(&a)) {
                return None;
            }
            let own = !all.adj[a].is_empty();
            let leaves = if own { own_leaves(reach, &all, &costs, a) } else { None };
            let hub = hub_of(a).filter(|_| !own || leaves.is_some());
            Some(Plan { own, leaves, hub })
        })
        .collect();
    let needed: BTreeSet<usize> = plans.iter().flatten().filter_map(|p| p.hub).collect();
    let nodes = reach.nodes.len();
    let walks = Walks {
        allowed: &allowed,
        all: &all,
        costs: &costs,
        rank: &rank,
    };
    let hub_reach: HashMap<usize, HubReach> = needed
        .into_par_iter()
        .map_init(
            || [Search::new(nodes), Search::new(nodes)],
            |storage, h| (h, hub_search(graph, decisions, reach, walks, storage, h)),
        )
        .collect();
    // Each principal's entries are chosen on their own, in parallel (searches of
    // principals with steps of their own reuse one storage per task); their paths are
    // kept as the searches found them and made steps afterwards, in principal order, so
    // that hub edges become steps in the same order as one principal after the other.
    let chosen_all: Vec<Vec<(Indirect, PathFound)>> = {
        let reach: &Reach = reach;
        (0..n)
            .into_par_iter()
            .map_init(
                || [Search::new(nodes), Search::new(nodes)],
                |own_searches, a| {
                    let sh = Shared {
                        walks,
                        hub_reach: &hub_reach,
                    };
                    entries_of(graph, decisions, reach, sh, own_searches, a, plans[a].as_ref())
                },
            )
            .collect()
    };
    drop(hub_reach);
    let mut out = Vec::new();
    let mut starts = Vec::with_capacity(n + 1);
    for entries in chosen_all {
        starts.push(out.len());
        for (mut x, found) in entries {
            match found {
                PathFound::Made(path) => x.path = path,
                PathFound::Walked(walk) => x.path = make_path(reach, walk),
            }
            out.push(x);
        }
    }
    starts.push(out.len());
    reach.indirect = out;
    reach.starts = starts;
}

/// What the searches of the indirect entries read: the edges (allowed steps only, then
/// all), each step's cost, and each node's rank by principal id.
#[derive(Clone, Copy)]
struct Walks<'s> {
    allowed: &'s Edges,
    all: &'s Edges,
    costs: &'s [(u32, Outcome)],
    rank: &'s [usize],
}

/// What every principal's choice reads.
#[derive(Clone, Copy)]
struct Shared<'s> {
    walks: Walks<'s>,
    hub_reach: &'s HashMap<usize, HubReach>,
}

/// How a principal's entries are chosen: whether it has steps of its own, the changed
/// nodes they reach when they reach only such nodes, and the hub it reads (searched once
/// for all its readers).
struct Plan {
    own: bool,
    leaves: Option<Vec<Leaf>>,
    hub: Option<usize>,
}

/// An entry's path: made already, or as a search walked it back from the holder.
enum PathFound {
    Made(Vec<usize>),
    Walked(Vec<Walked>),
}

/// One link of a path as a search found it, from the holder back to the start.
enum Walked {
    Step(usize),
    /// A hub edge from `from` to `to`, made a step when the path is made.
    Hub {
        from: usize,
        hub: usize,
        edge: usize,
        to: usize,
    },
}

/// Principal `a`'s indirect entries, each with its path as found (`plan` `None`: the
/// entries it has, kept).
fn entries_of(
    graph: &Graph,
    decisions: &Decisions,
    reach: &Reach,
    sh: Shared<'_>,
    own_searches: &mut [Search; 2],
    a: usize,
    plan: Option<&Plan>,
) -> Vec<(Indirect, PathFound)> {
    let Some(plan) = plan else {
        return reach
            .of(a)
            .iter()
            .map(|x| (x.clone(), PathFound::Made(x.path.clone())))
            .collect();
    };
    // The plan's hub was searched for it (`indirect` searches every plan's hub).
    let hub_reach: Option<&HubReach> = plan.hub.and_then(|h| sh.hub_reach.get(&h));
    let leaves_of_own = plan.leaves.as_deref();
    let (chosen, searches_owned, leaves): (Vec<Chosen>, bool, &[Leaf]) = match (plan.own, hub_reach) {
        (false, None) => return Vec::new(),
        (false, Some(hr)) => (member_entries(graph, decisions, a, hr), false, &[]),
        (true, _) => {
            // A principal whose own steps all end at changed nodes (which have no steps
            // of their own) reaches what its hub reaches and those nodes: chosen from
            // the hub's bests and theirs, unless the hub's searches pass through it or
            // them (then they would be reached otherwise).
            let fast = match (hub_reach, leaves_of_own) {
                (Some(hr), Some(leaves)) => {
                    own_over_hub(graph, decisions, reach, sh.walks.rank, a, leaves, hr).map(|chosen| (chosen, leaves))
                }
                _ => None,
            };
            match fast {
                Some((chosen, leaves)) => (chosen, false, leaves),
                None => {
                    for (found, edges) in own_searches.iter_mut().zip([sh.walks.allowed, sh.walks.all]) {
                        found.reset();
                        search_into(found, reach, edges, sh.walks.costs, Origin::Node(a));
                    }
                    let reached = reached_by(reach, own_searches, sh.walks.rank);
                    (best_for(graph, decisions, reach, a, &reached), true, &[])
                }
            }
        }
    };
    let mut out = Vec::with_capacity(chosen.len());
    for (x, pass, node) in chosen {
        if let Some(leaf) = leaves.iter().find(|l| l.reached.node == node) {
            let step = &reach.steps[leaf.step];
            let path = step.prefix.iter().copied().chain([leaf.step]).collect();
            out.push((x, PathFound::Made(path)));
            continue;
        }
        let found = match (searches_owned, hub_reach) {
            (true, _) => &own_searches[pass],
            (false, Some(hr)) => &hr.searches[pass],
            (false, None) => continue,
        };
        let walk = walk_to(reach, found, node, a);
        out.push((x, PathFound::Walked(walk)));
    }
    out
}

/// What hub `h` reaches, for its callers: its searches (allowed steps, then all), the
/// holders, and their bests.
fn hub_search(
    graph: &Graph,
    decisions: &Decisions,
    reach: &Reach,
    walks: Walks<'_>,
    storage: &mut [Search; 2],
    h: usize,
) -> HubReach {
    let searches = [(0, walks.allowed), (1, walks.all)].map(|(k, edges)| {
        storage[k].reset();
        search_into(&mut storage[k], reach, edges, walks.costs, Origin::Hub(h));
        storage[k].kept()
    });
    let reached = reached_by(reach, &searches, walks.rank);
    let (tables, slrs) = hub_bests(graph, decisions, reach, &reached);
    HubReach {
        searches,
        reached,
        tables,
        slrs,
    }
}

/// A changed node a principal's own step reaches, as the principal's searches would have
/// it ([`reached_by`]: in the first search if the step is allowed, else in the second).
struct Leaf {
    step: usize,
    reached: Reached,
}

/// The changed nodes `a`'s own steps reach, each once (`None` when a step reaches a
/// principal, or two reach one node: the principal is then searched on its own).
fn own_leaves(reach: &Reach, all: &Edges, costs: &[(u32, Outcome)], a: usize) -> Option<Vec<Leaf>> {
    let mut leaves: Vec<Leaf> = Vec::new();
    for &k in &all.adj[a] {
        let step = &reach.steps[k];
        if reach.nodes[step.to].change.is_none() || leaves.iter().any(|l| l.reached.node == step.to) {
            return None;
        }
        let (len, outcome) = costs[k];
        let pass = usize::from(step.decision.outcome != Outcome::Allowed);
        leaves.push(Leaf {
            step: k,
            reached: Reached {
                node: step.to,
                pass,
                len,
                outcome,
            },
        });
    }
    Some(leaves)
}

/// The entries of `a`, whose own steps reach only `leaves`, from its hub's bests and the
/// leaves' (each table and SLR to the first in search order of the best, as [`best_for`]
/// over `a`'s own searches would choose). `None` when the hub's searches reach `a` or a
/// leaf (its own searches would reach those otherwise).
fn own_over_hub(
    graph: &Graph,
    decisions: &Decisions,
    reach: &Reach,
    rank: &[usize],
    a: usize,
    leaves: &[Leaf],
    hub: &HubReach,
) -> Option<Vec<Chosen>> {
    let seen = |v: usize| hub.searches.iter().any(|s| s.via(v) != Via::Unseen);
    if seen(a) || leaves.iter().any(|l| seen(l.reached.node)) {
        return None;
    }
    let total = graph.tables.len();
    let h = hub.reached.len();
    let mut leaf_reached: Vec<Reached> = leaves.iter().map(|l| l.reached).collect();
    leaf_reached.sort_by_key(|r| (r.len, rank[r.node], r.node));
    // Holders numbered over the hub's then the leaves'.
    let at = |r: usize| if r < h { hub.reached[r] } else { leaf_reached[r - h] };
    let order = |r: usize| {
        let x = at(r);
        (x.len, rank[x.node], x.node)
    };
    // The better of two bests (goodness, then the first in search order).
    let better = |x: Option<(u8, usize)>, y: Option<(u8, usize)>| match (x, y) {
        (Some(p), Some(q)) => Some(if q.0 > p.0 || (q.0 == p.0 && order(q.1) < order(p.1)) {
            q
        } else {
            p
        }),
        (p, q) => p.or(q),
    };
    let mut out = Vec::new();
    for c in 0..decisions.capabilities.len() {
        let cap = CapId(c as u16);
        let capability = decisions.capability(cap);
        if capability.internal {
            continue;
        }
        if capability.target == crate::catalog::TargetKind::Table {
            let leaf_parts = best_parts(graph, decisions, reach, cap, &leaf_reached, unimproved());
            let direct = direct_parts(graph, decisions, a, cap);
            let mut sources: Vec<(TableSet, (usize, Held, Outcome))> = Vec::new();
            for hp in &hub.tables[c] {
                for lp in &leaf_parts {
                    let hub_best = hp.source.map(|(r, ..)| (hp.goodness, r));
                    let leaf_best = lp.source.map(|(r, ..)| (lp.goodness, h + r));
                    let Some((g, r)) = better(hub_best, leaf_best) else {
                        continue;
                    };
                    let both = hp.set.intersection(&lp.set);
                    if both.is_empty(total) {
                        continue;
                    }
                    let (_, held, eff) = if r < h { hp.source? } else { lp.source? };
                    for d in direct.iter().filter(|d| g > d.goodness) {
                        let inside = both.intersection(&d.set);
                        if !inside.is_empty(total) {
                            sources.push((inside, (r, held, eff)));
                        }
                    }
                }
            }
            out.extend(table_entries(graph, a, cap, &at, sources.into_iter()));
        } else {
            let leaf_best = best_slrs(decisions, reach, cap, &leaf_reached, vec![0; graph.slrs.len()]);
            let best: Vec<SlrBest> = (0..graph.slrs.len())
                .map(|s| {
                    let x = hub.slrs[c].get(s).copied().flatten();
                    let y = leaf_best[s].map(|(g, r, held, eff)| (g, h + r, held, eff));
                    let (g, r) = better(x.map(|p| (p.0, p.1)), y.map(|q| (q.0, q.1)))?;
                    let (_, _, held, eff) = if r < h { x? } else { y? };
                    Some((g, r, held, eff))
                })
                .collect();
            out.extend(slr_entries(a, cap, &at, &best, |s| direct_on_slr(decisions, a, cap, s)));
        }
    }
    Some(out)
}

/// The entries a node holds for a capability, with where their decisions are.
fn held_entries<'a>(
    decisions: &'a Decisions,
    reach: &'a Reach,
    node: usize,
    cap: CapId,
) -> impl Iterator<Item = (&'a Covers, Outcome, Held)> + 'a {
    let n = reach.nodes.len() - reach.changed_class.len();
    let direct = (node < n).then(|| {
        decisions
            .of(node, cap)
            .iter()
            .map(|x| (&x.covers, decisions.decision(x).outcome, Held::Direct(x.decision)))
    });
    let changed = node.checked_sub(n).map(|v| {
        reach.changed[reach.changed_class[v]]
            .iter()
            .enumerate()
            .filter(move |(_, (c, _, _))| *c == cap)
            .map(move |(k, (_, covers, d))| (covers, d.outcome, Held::Changed(v, k)))
    });
    direct.into_iter().flatten().chain(changed.into_iter().flatten())
}

/// A part of a principal's table partition: its best so far, and where it comes from
/// (the index of the holder among the reached, the entry it holds, the outcome).
struct Part {
    set: TableSet,
    goodness: u8,
    source: Option<(usize, Held, Outcome)>,
}

/// An entry chosen for a principal, with the search (pass) and node its path comes from
/// (the path is filled in after).
type Chosen = (Indirect, usize, usize);

/// The best a holder offers on one SLR: goodness, holder index, entry held, outcome.
type SlrBest = Option<(u8, usize, Held, Outcome)>;

/// Per capability, the best over the reached holders where it beats the direct decision.
fn best_for(graph: &Graph, decisions: &Decisions, reach: &Reach, a: usize, reached: &[Reached]) -> Vec<Chosen> {
    let mut out = Vec::new();
    for c in 0..decisions.capabilities.len() {
        let cap = CapId(c as u16);
        if decisions.capability(cap).internal {
            continue;
        }
        if decisions.capability(cap).target == crate::catalog::TargetKind::Table {
            let parts = best_parts(
                graph,
                decisions,
                reach,
                cap,
                reached,
                direct_parts(graph, decisions, a, cap),
            );
            let sources = parts.into_iter().filter_map(|p| Some((p.set, p.source?)));
            out.extend(table_entries(graph, a, cap, &|r| reached[r], sources));
        } else {
            let direct: Vec<u8> = (0..graph.slrs.len())
                .map(|s| direct_on_slr(decisions, a, cap, s))
                .collect();
            let best = best_slrs(decisions, reach, cap, reached, direct);
            out.extend(slr_entries(a, cap, &|r| reached[r], &best, |_| 0));
        }
    }
    out
}

/// The entries of a hub's caller with no steps of its own, from what its hub reaches.
fn member_entries(graph: &Graph, decisions: &Decisions, a: usize, hub: &HubReach) -> Vec<Chosen> {
    let mut out = Vec::new();
    let total = graph.tables.len();
    for c in 0..decisions.capabilities.len() {
        let cap = CapId(c as u16);
        if decisions.capability(cap).internal {
            continue;
        }
        if decisions.capability(cap).target == crate::catalog::TargetKind::Table {
            // Where the hub's best beats the principal's own decision, the hub's holder.
            let direct = direct_parts(graph, decisions, a, cap);
            let mut sources: Vec<(TableSet, (usize, Held, Outcome))> = Vec::new();
            for part in &hub.tables[c] {
                let Some(source) = part.source else { continue };
                for d in direct.iter().filter(|d| part.goodness > d.goodness) {
                    let inside = part.set.intersection(&d.set);
                    if !inside.is_empty(total) {
                        sources.push((inside, source));
                    }
                }
            }
            out.extend(table_entries(graph, a, cap, &|r| hub.reached[r], sources.into_iter()));
        } else {
            out.extend(slr_entries(a, cap, &|r| hub.reached[r], &hub.slrs[c], |s| {
                direct_on_slr(decisions, a, cap, s)
            }));
        }
    }
    out
}

/// Per capability, the best holder of each part of the tables and of each SLR among what a
/// hub reaches (for its callers with no steps of their own).
fn hub_bests(
    graph: &Graph,
    decisions: &Decisions,
    reach: &Reach,
    reached: &[Reached],
) -> (Vec<Vec<Part>>, Vec<Vec<SlrBest>>) {
    let mut tables = Vec::new();
    let mut slrs = Vec::new();
    for c in 0..decisions.capabilities.len() {
        let cap = CapId(c as u16);
        let capability = decisions.capability(cap);
        if capability.internal {
            tables.push(Vec::new());
            slrs.push(Vec::new());
        } else if capability.target == crate::catalog::TargetKind::Table {
            tables.push(best_parts(graph, decisions, reach, cap, reached, unimproved()));
            slrs.push(Vec::new());
        } else {
            tables.push(Vec::new());
            slrs.push(best_slrs(decisions, reach, cap, reached, vec![0; graph.slrs.len()]));
        }
    }
    (tables, slrs)
}

/// One part, every table (declared or not) at goodness 0: where a partition of the holders'
/// bests starts.
fn unimproved() -> Vec<Part> {
    let mut everything = TableSet::all_except(Vec::new());
    everything.undeclared = true;
    vec![Part {
        set: everything,
        goodness: 0,
        source: None,
    }]
}

/// How good the principal's own decision on SLR `s` is.
fn direct_on_slr(decisions: &Decisions, a: usize, cap: CapId, s: usize) -> u8 {
    decisions
        .on_slr(a, cap, s)
        .map(|x| steps::goodness(decisions.decision(x).outcome))
        .unwrap_or(0)
}

/// Per SLR, the first reached holder with the best outcome above `floor`.
fn best_slrs(decisions: &Decisions, reach: &Reach, cap: CapId, reached: &[Reached], floor: Vec<u8>) -> Vec<SlrBest> {
    let mut best = floor;
    let mut chosen: Vec<SlrBest> = vec![None; best.len()];
    if best.iter().all(|&g| g >= steps::goodness(Outcome::Allowed)) {
        return chosen;
    }
    for (r_index, r) in reached.iter().enumerate() {
        for (covers, o, held) in held_entries(decisions, reach, r.node, cap) {
            let Covers::Slr(s) = *covers else { continue };
            let eff = steps::worse(r.outcome, o);
            if s < best.len() && steps::goodness(eff) > best[s] {
                best[s] = steps::goodness(eff);
                chosen[s] = Some((best[s], r_index, held, eff));
            }
        }
    }
    chosen
}

/// The SLR entries whose best beats the principal's own decision (`direct`).
fn slr_entries(
    a: usize,
    cap: CapId,
    reached: &dyn Fn(usize) -> Reached,
    best: &[SlrBest],
    direct: impl Fn(usize) -> u8,
) -> Vec<Chosen> {
    best.iter()
        .enumerate()
        .filter_map(|(s, b)| {
            let (g, r_index, held, eff) = (*b)?;
            (g > direct(s)).then(|| entry(a, cap, Covers::Slr(s), eff, &reached(r_index), held))
        })
        .collect()
}

/// The principal's tables partitioned by its own decisions (the rest at goodness 0).
fn direct_parts(graph: &Graph, decisions: &Decisions, a: usize, cap: CapId) -> Vec<Part> {
    let total = graph.tables.len();
    let mut parts: Vec<Part> = Vec::new();
    let mut covered = TableSet::only(Vec::new());
    for x in decisions.of(a, cap) {
        if let Covers::Tables(set) = &x.covers {
            covered = covered.union(set);
            parts.push(Part {
                set: set.clone(),
                goodness: steps::goodness(decisions.decision(x).outcome),
                source: None,
            });
        }
    }
    let mut everything = TableSet::all_except(Vec::new());
    everything.undeclared = true;
    let rest = everything.minus(&covered);
    if !rest.is_empty(total) {
        parts.push(Part {
            set: rest,
            goodness: 0,
            source: None,
        });
    }
    parts
}

/// A partition improved by each reached holder in order: a part gets a holder's decision
/// where it is better (so each table ends with the first of the best).
fn best_parts(
    graph: &Graph,
    decisions: &Decisions,
    reach: &Reach,
    cap: CapId,
    reached: &[Reached],
    mut parts: Vec<Part>,
) -> Vec<Part> {
    let total = graph.tables.len();
    let top = steps::goodness(Outcome::Allowed);
    for (r_index, r) in reached.iter().enumerate() {
        if parts.iter().all(|p| p.goodness >= top) {
            break;
        }
        for (covers, o, held) in held_entries(decisions, reach, r.node, cap) {
            let Covers::Tables(set) = covers else { continue };
            let eff = steps::worse(r.outcome, o);
            if steps::goodness(eff) > 0 {
                parts = improve(parts, set, steps::goodness(eff), (r_index, held, eff), total);
            }
        }
    }
    parts
}

/// Where each part of a principal's partition of the tables got its best decision.
type Sources = BTreeMap<(usize, u32, usize, usize), (Vec<TableSet>, Held, Outcome)>;

/// Table entries: the improved parts merged per holder entry, ordered by smallest table.
fn table_entries(
    graph: &Graph,
    a: usize,
    cap: CapId,
    reached: &dyn Fn(usize) -> Reached,
    sources: impl Iterator<Item = (TableSet, (usize, Held, Outcome))>,
) -> Vec<Chosen> {
    let total = graph.tables.len();
    let mut by_source: Sources = BTreeMap::new();
    for (set, (r_index, held, eff)) in sources {
        let key = match held {
            Held::Direct(id) => (r_index, id.0, usize::MAX, 0),
            Held::Changed(v, k) => (r_index, u32::MAX, v, k),
        };
        by_source
            .entry(key)
            .or_insert_with(|| (Vec::new(), held, eff))
            .0
            .push(set);
    }
    let mut entries: Vec<Chosen> = by_source
        .into_iter()
        .map(|((r_index, ..), (sets, held, eff))| {
            let covers = Covers::Tables(capability::union_all(sets));
            entry(a, cap, covers, eff, &reached(r_index), held)
        })
        .collect();
    // Each entry's smallest table computed once (an `except` set finds it by a walk).
    entries.sort_by_cached_key(|(x, ..)| match &x.covers {
        Covers::Tables(set) => set.first(total).unwrap_or(usize::MAX),
        Covers::Slr(_) => usize::MAX,
    });
    entries
}

/// Splits the parts a holder's set improves on: inside it, the holder's decision.
fn improve(parts: Vec<Part>, set: &TableSet, g: u8, source: (usize, Held, Outcome), total: usize) -> Vec<Part> {
    // Nothing to improve where every part is at least as good: no set arithmetic, no copy.
    if parts.iter().all(|p| g <= p.goodness) {
        return parts;
    }
    let mut next = Vec::with_capacity(parts.len() + 1);
    for part in parts {
        if g <= part.goodness {
            next.push(part);
            continue;
        }
        let inside = part.set.intersection(set);
        if inside.is_empty(total) {
            next.push(part);
            continue;
        }
        let outside = part.set.minus(set);
        if !outside.is_empty(total) {
            next.push(Part {
                set: outside,
                goodness: part.goodness,
                source: part.source,
            });
        }
        next.push(Part {
            set: inside,
            goodness: g,
            source: Some(source),
        });
    }
    next
}

fn entry(a: usize, cap: CapId, covers: Covers, outcome: Outcome, r: &Reached, held: Held) -> Chosen {
    let x = Indirect {
        principal: a,
        cap,
        covers,
        outcome,
        path: Vec::new(),
        holder: r.node,
        held,
    };
    (x, r.pass, r.node)
}

/// The path of an indirect entry in words: "`dev` → assumes `ops` (aws_iam_role.ops
/// (trust policy) at iam.tf:8) → `ops` can disable". Shared by rules and reports.
pub(crate) fn path_words(
    graph: &Graph,
    sources: &crate::source::SourceMap,
    reach: &Reach,
    cap: &str,
    x: &Indirect,
) -> String {
    let name = |p: usize| format!("`{}`", graph.principals[p].address);
    let mut out = name(x.principal);
    for &k in &x.path {
        let step = &reach.steps[k];
        let to = &reach.nodes[step.to];
        let verb = match (step.kind, &to.change) {
            (StepKind::AssumeRole, _) => format!("assumes {}", name(to.principal)),
            (StepKind::ChangePermissions, Some(c)) if c.starts_with("in group") => {
                format!("adds itself to {}", c.trim_start_matches("in "))
            }
            (StepKind::ChangePermissions, _) if to.principal == step.from => {
                format!("changes its own permissions ({})", step.actions.join(", "))
            }
            (StepKind::ChangePermissions, _) => {
                format!(
                    "changes the permissions of {} ({})",
                    name(to.principal),
                    step.actions.join(", ")
                )
            }
        };
        let at: Vec<String> = step
            .decision
            .because
            .iter()
            .filter(|b| !b.statement.is_builtin())
            .map(|b| {
                let line = sources.start(b.statement).map(|l| l.line).unwrap_or(0);
                format!("{} at {}:{line}", b.policy, sources.path(b.statement))
            })
            .collect();
        out.push_str(" → ");
        out.push_str(&verb);
        if !at.is_empty() {
            out.push_str(&format!(" ({})", at.join(", ")));
        }
        if step.decision.outcome == Outcome::Conditional {
            out.push_str(" [conditional]");
        }
    }
    out.push_str(&format!(" → {} can {cap}", name(reach.principal_of(x.holder))));
    out
}

/// Where an indirect entry's first step is made: the trust policy statement of an
/// assumption, or the statement granting the IAM write.
pub(crate) fn first_step_span(reach: &Reach, x: &Indirect) -> Option<crate::source::Span> {
    let step = &reach.steps[*x.path.first()?];
    let allows = || {
        step.decision
            .because
            .iter()
            .filter(|b| b.effect == crate::iam::policy::Effect::Allow && !b.statement.is_builtin())
    };
    let preferred = match step.kind {
        StepKind::AssumeRole => allows().find(|b| b.layer == crate::iam::eval::Layer::Resource),
        StepKind::ChangePermissions => allows().find(|b| b.layer == crate::iam::eval::Layer::Identity),
    };
    preferred.or_else(|| allows().next()).map(|b| b.statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_search_reads_as_the_search_it_was_kept_from() {
        let mut dense = Search::new(6);
        dense.mark(2, Via::Start, (0, Outcome::Allowed));
        dense.start = Some(2);
        dense.mark(4, Via::Step(7), (1, Outcome::Conditional));
        dense.order.push(4);
        dense.mark(
            1,
            Via::Hub {
                from: 4,
                hub: 0,
                edge: 3,
            },
            (2, Outcome::Conditional),
        );
        dense.order.push(1);
        let mut kept = dense.kept();
        for v in 0..6 {
            assert_eq!(kept.via(v), dense.via(v), "node {v}");
            if dense.via(v) != Via::Unseen {
                assert_eq!(kept.cost(v), dense.cost(v), "node {v}");
            }
        }
        assert_eq!((kept.order.clone(), kept.start), (vec![4, 1], Some(2)));
        // Both kinds forget what they reached.
        dense.reset();
        kept.reset();
        for v in 0..6 {
            assert_eq!((dense.via(v), kept.via(v)), (Via::Unseen, Via::Unseen));
        }
        assert!(kept.order.is_empty() && kept.start.is_none());
    }
}
