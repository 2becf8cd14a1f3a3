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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::Config;
use crate::capability::{self, CapDecision, CapId, Covers, Decisions, TableSet, Work};
use crate::catalog::Capabilities;
use crate::graph::{Graph, PrincipalClass, PrincipalNode};
use crate::iam::eval::{Decision, Layers, Outcome, UnknownPolicy};
use crate::iam::reach::{self as steps, Entity};
use crate::model::PolicyKind;
use crate::value::{Symbol, Template};

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
    pub held: Held,
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
    /// Sorted by principal, capability, smallest table (entries covering only undeclared
    /// tables last), then SLR.
    pub indirect: Vec<Indirect>,
    /// Per principal, the start of its entries in `indirect` (and one past the end).
    starts: Vec<usize>,
    /// (principal, action): grants of ways of acting as another principal not followed.
    pub not_followed: Vec<(usize, &'static str)>,
    /// Time per part of the computation, in order (`check --timings`).
    pub phases: Vec<(&'static str, std::time::Duration)>,
}

impl Reach {
    /// The indirect entries of one principal.
    pub fn of(&self, principal: usize) -> &[Indirect] {
        match (self.starts.get(principal), self.starts.get(principal + 1)) {
            (Some(&a), Some(&b)) => &self.indirect[a..b],
            _ => &[],
        }
    }

    /// The holder's decision of an entry.
    pub fn held<'a>(&'a self, decisions: &'a Decisions, x: &Indirect) -> &'a CapDecision {
        match x.held {
            Held::Direct(id) => &decisions.arena[id.0 as usize],
            Held::Changed(n, k) => &self.changed[self.changed_class[n]][k].2,
        }
    }

    /// The node's principal.
    pub fn principal_of(&self, node: usize) -> usize {
        self.nodes[node].principal
    }

    /// The indirect entry deciding (principal, capability) on the SLR `slr`.
    pub fn on_slr(&self, principal: usize, cap: CapId, slr: usize) -> Option<&Indirect> {
        self.of(principal)
            .iter()
            .find(|x| x.cap == cap && x.covers == Covers::Slr(slr))
    }
}

/// Computes reach once for the run (empty when `config.reach` is off).
pub fn compute(graph: &Graph, caps: &Capabilities, config: &Config, decisions: &mut Decisions) -> Reach {
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
    let outside: Vec<UnknownPolicy> = graph
        .principals
        .iter()
        .map(|p| UnknownPolicy {
            what: format!("the identity policies of {}, which the inputs do not declare", p.arn),
            span: crate::source::Span::builtin(),
        })
        .collect();
    let layers: Vec<Layers<'_>> = graph
        .principals
        .iter()
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
        .iter()
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
    (reach.changed, reach.changed_class) = capability::evaluate_variants(graph, caps, config, &variants, &mut work);
    split(&mut reach, "reach: changed principals");
    for (p, l) in layers.iter().enumerate() {
        for action in steps::NOT_FOLLOWED {
            let p_node = &graph.principals[p];
            if !p_node.trusted_only && p_node.unknown_policies.is_empty() && steps::may_allow(l, &[action]) {
                reach.not_followed.push((p, action));
            }
        }
    }
    indirect(graph, decisions, &mut reach);
    exact_proofs(graph, config, &layers, &callers, &mut reach, &mut work);
    split(&mut reach, "reach: indirect entries");
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
    let mut by_name: HashMap<(bool, String), Vec<usize>> = HashMap::new();
    for (k, p) in graph.principals.iter().enumerate() {
        let role = matches!(p.class, PrincipalClass::Role | PrincipalClass::ExternalRole);
        if let Some(name) = steps::arn_name(&p.arn).or_else(|| p.name.as_literal().map(str::to_string)) {
            by_name.entry((role, name)).or_default().push(k);
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
    if !delegating.is_empty() {
        let mut matched: HashMap<Template, Vec<usize>> = HashMap::new();
        for (a, l) in layers.iter().enumerate() {
            if !steps::may_allow(l, &[steps::ASSUME_ROLE]) {
                continue;
            }
            for pattern in steps::allow_resource_patterns(l, steps::ASSUME_ROLE)
                .into_iter()
                .filter(steps::may_name_iam)
            {
                let hits = matched.entry(pattern.clone()).or_insert_with(|| {
                    work.index_matches += delegating.len() as u64;
                    delegating
                        .iter()
                        .filter(|&&r| steps::pattern_may_match(&pattern, &roles[r].2))
                        .map(|&r| roles[r].0)
                        .collect()
                });
                pairs.extend(hits.iter().map(|&b| (a, b)));
            }
        }
    }
    // A caller's decision on two roles is the same when their trust policies say the same
    // thing, their ARNs are in one account, and the caller's statements match the two ARNs
    // alike: decided once per such class of roles (per caller), with the first role's proof;
    // [`exact_proofs`] decides the steps a report shows again, on their own role.
    let role_class: HashMap<usize, RoleClass> = roles
        .iter()
        .map(|(k, t, arn)| {
            let policy = &graph.policies[*t].policy;
            let has_resources = policy
                .document
                .statements
                .iter()
                .any(|s| !matches!(s.resources, crate::iam::policy::Which::Absent));
            let content = crate::iam::class::content_text(policy);
            // A trust that cannot be read, or reads resources, is a class of its own role.
            let own = if content.is_none() || has_resources {
                *k
            } else {
                usize::MAX
            };
            let account = crate::iam::principal::Caller::parse(arn).account;
            let key = (content.map(|c| format!("{c}@{account:?}")), own);
            (*k, (*t, arn.clone(), crate::iam::pattern::text_tokens(arn), key))
        })
        .collect();
    let mut memo: HashMap<(usize, &TrustKey, Vec<crate::iam::pattern::Tri>), Option<usize>> = HashMap::new();
    let mut decided: Vec<Arc<Decision>> = Vec::new();
    let mut patterns: Option<(usize, Vec<&crate::iam::policy::Pat>)> = None;
    for (a, b) in pairs {
        if a == b {
            continue;
        }
        let Some((trust, role_arn, tokens, key)) = role_class.get(&b) else {
            continue;
        };
        if patterns.as_ref().is_none_or(|(x, _)| *x != a) {
            patterns = Some((a, steps::layer_patterns(&layers[a], steps::ASSUME_ROLE)));
        }
        let sig = steps::signature(patterns.as_ref().map(|(_, p)| p.as_slice()).unwrap_or_default(), tokens);
        let slot = memo.entry((a, key, sig)).or_insert_with(|| {
            work.requests += 1;
            let d = steps::assume_role(
                &layers[a],
                &graph.policies[*trust].policy,
                role_arn,
                &callers[a].0,
                &callers[a].1,
            );
            d.outcome.can().then(|| {
                decided.push(Arc::new(d));
                decided.len() - 1
            })
        });
        if let Some(k) = *slot {
            reach.steps.push(Step {
                from: a,
                to: b,
                kind: StepKind::AssumeRole,
                decision: Arc::clone(&decided[k]),
                actions: vec![steps::ASSUME_ROLE.to_string()],
                prefix: Vec::new(),
                exact: false,
            });
        }
    }
}

/// What a trust policy says with the role's account (`None`: a class of its own), and the
/// role itself where its trust reads the resource.
type TrustKey = (Option<String>, usize);
/// A role's trust policy, ARN (as text and tokens) and [`TrustKey`].
type RoleClass = (usize, Template, Vec<crate::iam::pattern::Tok>, TrustKey);

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
    let mut shown: Vec<usize> = reach.indirect.iter().flat_map(|x| x.path.iter().copied()).collect();
    shown.sort_unstable();
    shown.dedup();
    for k in shown {
        let step = &reach.steps[k];
        if step.exact || step.kind != StepKind::AssumeRole {
            continue;
        }
        let (a, b) = (step.from, step.to);
        let Some(trust) = graph.principals[b].trust else {
            continue;
        };
        work.requests += 1;
        let d = steps::assume_role(
            &layers[a],
            &graph.policies[trust].policy,
            &graph.principals[b].arn.pin(&config.pins),
            &callers[a].0,
            &callers[a].1,
        );
        debug_assert_eq!(d.outcome, step.decision.outcome, "a class of roles decided alike");
        let step = &mut reach.steps[k];
        step.decision = Arc::new(d);
        step.exact = true;
    }
}

/// The ARN of a declared group (its path is not modelled: `/`).
fn group_arn(name: &Template) -> Template {
    let mut t = Template::lit("arn:");
    t.push_sym(Symbol::Partition);
    t.push_str(":iam::");
    t.push_sym(Symbol::Account);
    t.push_str(":group/");
    t.push_template(name);
    t
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

/// The decision of the first alternative that can, else none. Alternatives no identity
/// Allow may grant are refused without asking.
fn first_can(
    layers: &Layers<'_>,
    caller: &(Template, crate::iam::condition::Context),
    asks: &[Ask],
    work: &mut Work,
) -> Option<(Decision, &'static str)> {
    let mut found: Vec<(Decision, &'static str)> = Vec::new();
    for a in asks {
        if !steps::may_be_allowed(layers, a.action, &a.tokens) {
            continue;
        }
        work.requests += 1;
        let d = steps::request(layers, a.action, &a.resource, &caller.0, &caller.1);
        if d.outcome.can() {
            found.push((d, a.action));
        }
    }
    let best = steps::best(found.iter().map(|(d, _)| d.clone()).collect())?;
    found.into_iter().find(|(d, _)| *d == best)
}

/// The requests that add permissions to principal `b` (any one suffices): on its ARN, on
/// a customer managed policy attached to it, on a group it is in.
fn adding_asks(graph: &Graph, config: &Config, b: usize) -> Vec<Ask> {
    let target = &graph.principals[b];
    let role = matches!(target.class, PrincipalClass::Role | PrincipalClass::ExternalRole);
    let arn = target.arn.pin(&config.pins);
    let entity = if role { Entity::Role } else { Entity::User };
    let mut asks: Vec<Ask> = steps::adding(entity).iter().map(|a| ask(a, arn.clone())).collect();
    for &k in &target.policies {
        let p = &graph.policies[k];
        if p.kind == PolicyKind::Managed && p.input.is_some() {
            let input = &graph.inputs[p.input.unwrap_or_default()];
            if let Some(policy_arn) = input
                .policies
                .iter()
                .find(|q| *q.address == *p.policy.address)
                .and_then(|q| q.arn.clone())
            {
                let pinned = policy_arn.pin(&config.pins);
                asks.extend(
                    steps::adding(Entity::ManagedPolicy)
                        .iter()
                        .map(|a| ask(a, pinned.clone())),
                );
            }
        }
    }
    for &(u, i, gi) in &graph.memberships {
        if u == b {
            let g = group_arn(&graph.inputs[i].groups[gi].name).pin(&config.pins);
            asks.extend(steps::adding(Entity::Group).iter().map(|a| ask(a, g.clone())));
        }
    }
    asks
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
    let assume_adj = adjacency(reach, graph.principals.len(), |_| true);
    let mut asks_of: HashMap<usize, Vec<Ask>> = HashMap::new();
    for x in 0..graph.principals.len() {
        if !steps::may_allow(&layers[x], steps::CHANGE_ACTIONS) {
            continue;
        }
        // A principal that can change its own permissions is taken to gain nothing more by
        // changing those of the roles it reaches (docs/spec-notes.md: this bounds the changed
        // principals to decide by the principals), so those are searched only otherwise.
        let own = change_to(graph, config, &layers[x], &callers[x], x, added, &mut asks_of, work);
        let mut targets: Vec<(usize, Vec<usize>)> = vec![(x, Vec::new())];
        if own.is_none() {
            targets.extend(paths_from(x, &assume_adj, reach));
        }
        let mut own = Some(own);
        for (b, prefix) in targets {
            let change = match own.take() {
                Some(decided) => decided,
                None => change_to(graph, config, &layers[x], &callers[x], b, added, &mut asks_of, work),
            };
            let Some(change) = change else {
                continue;
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
        if graph.principals[x].class == PrincipalClass::User {
            group_steps(graph, layers, callers, x, reach, &mut variants, &mut node_of, work);
        }
    }
    variants
}

type Change = (Decision, Vec<String>, PrincipalNode, String);

/// How `x` can add permissions to `b`, and `b` as it would be after.
#[allow(clippy::too_many_arguments)]
fn change_to(
    graph: &Graph,
    config: &Config,
    layers: &Layers<'_>,
    caller: &(Template, crate::iam::condition::Context),
    b: usize,
    added: usize,
    asks_of: &mut HashMap<usize, Vec<Ask>>,
    work: &mut Work,
) -> Option<Change> {
    let target = &graph.principals[b];
    let role = matches!(target.class, PrincipalClass::Role | PrincipalClass::ExternalRole);
    let asks = asks_of.entry(b).or_insert_with(|| adding_asks(graph, config, b));
    let (mut decision, action) = first_can(layers, caller, asks, work)?;
    let arn = asks[0].resource.clone();
    let mut actions = vec![action.to_string()];
    let mut node = target.clone();
    let mut label = String::from("+*");
    // The boundary bites unless it can be removed too.
    if !node.boundaries.is_empty()
        && let Some((d, a)) = first_can(layers, caller, &[ask(steps::boundary_removal(role), arn.clone())], work)
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
            if let Some((d, a)) = first_can(layers, caller, &[ask(removal, arn.clone())], work) {
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

/// A user adding itself to a declared group it is not in.
#[allow(clippy::too_many_arguments)]
fn group_steps(
    graph: &Graph,
    layers: &[Layers<'_>],
    callers: &[(Template, crate::iam::condition::Context)],
    x: usize,
    reach: &mut Reach,
    variants: &mut Vec<(usize, PrincipalNode)>,
    node_of: &mut BTreeMap<(usize, String), usize>,
    work: &mut Work,
) {
    for (&(i, gi), policies) in &graph.group_policies {
        if graph
            .memberships
            .iter()
            .any(|&(u, mi, mg)| u == x && mi == i && mg == gi)
        {
            continue;
        }
        let group = &graph.inputs[i].groups[gi];
        let arn = group_arn(&group.name).pin(&graph.pins);
        let Some((decision, action)) = first_can(&layers[x], &callers[x], &[ask(steps::ADD_USER_TO_GROUP, arn)], work)
        else {
            continue;
        };
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

/// Per node, its outgoing steps (step indexes) ordered by the target's principal id.
fn adjacency(reach: &Reach, nodes: usize, keep: impl Fn(&Step) -> bool) -> Vec<Vec<usize>> {
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); nodes.max(reach.nodes.len())];
    for (k, s) in reach.steps.iter().enumerate() {
        if keep(s) && s.from < adj.len() {
            adj[s.from].push(k);
        }
    }
    adj
}

/// Breadth-first from `start`: each node reached (not `start`) with its shortest path of
/// steps, neighbours in the order of `adj`.
fn paths_from(start: usize, adj: &[Vec<usize>], reach: &Reach) -> Vec<(usize, Vec<usize>)> {
    const UNSEEN: usize = usize::MAX;
    const START: usize = usize::MAX - 1;
    // Per node, the step that first reached it (nodes are dense indexes: no hashing).
    let mut parent: Vec<usize> = vec![UNSEEN; adj.len().max(reach.nodes.len())];
    if start >= parent.len() {
        return Vec::new();
    }
    parent[start] = START;
    let mut order = Vec::new();
    let mut head = 0;
    let mut queue = vec![start];
    while let Some(&u) = queue.get(head) {
        head += 1;
        for &k in adj.get(u).map(Vec::as_slice).unwrap_or_default() {
            let v = reach.steps[k].to;
            if parent[v] == UNSEEN {
                parent[v] = k;
                order.push(v);
                queue.push(v);
            }
        }
    }
    order
        .into_iter()
        .map(|v| {
            let mut path = Vec::new();
            let mut at = v;
            while parent[at] != START {
                let k = parent[at];
                path.push(k);
                at = reach.steps[k].from;
            }
            path.reverse();
            (v, path)
        })
        .collect()
}

/// A path with changes to other principals expanded into the steps that reach them.
fn expand(reach: &Reach, path: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    for &k in path {
        out.extend(reach.steps[k].prefix.iter().copied());
        out.push(k);
    }
    out
}

/// The combined outcome of a path's steps.
fn path_outcome(reach: &Reach, path: &[usize]) -> Outcome {
    path.iter()
        .map(|&k| reach.steps[k].decision.outcome)
        .fold(Outcome::Allowed, steps::worse)
}

/// One candidate holder of a principal: node, path, and the path's outcome.
struct Reached {
    node: usize,
    path: Vec<usize>,
    outcome: Outcome,
}

/// The indirect entries: per principal with steps, the best over what it reaches.
fn indirect(graph: &Graph, decisions: &Decisions, reach: &mut Reach) {
    let n = graph.principals.len();
    let id_of = |node: usize, reach: &Reach| graph.principals[reach.nodes[node].principal].id.as_str();
    // Nodes ranked by their principal's id (ties: node order), to order without comparing ids.
    let mut by_id: Vec<usize> = (0..reach.nodes.len()).collect();
    by_id.sort_by(|&x, &y| id_of(x, reach).cmp(id_of(y, reach)).then(x.cmp(&y)));
    let mut rank = vec![0usize; reach.nodes.len()];
    for (r, &node) in by_id.iter().enumerate() {
        rank[node] = r;
    }
    let mut order: Vec<usize> = (0..reach.steps.len()).collect();
    order.sort_by_key(|&k| rank[reach.steps[k].to]);
    let mut all_adj: Vec<Vec<usize>> = vec![Vec::new(); reach.nodes.len()];
    let mut allowed_adj: Vec<Vec<usize>> = vec![Vec::new(); reach.nodes.len()];
    for k in order {
        let s = &reach.steps[k];
        all_adj[s.from].push(k);
        if s.decision.outcome == Outcome::Allowed {
            allowed_adj[s.from].push(k);
        }
    }
    let mut out = Vec::new();
    let mut starts = Vec::with_capacity(n + 1);
    for a in 0..n {
        starts.push(out.len());
        if all_adj[a].is_empty() {
            continue;
        }
        let mut reached: Vec<Reached> = Vec::new();
        // The allowed-only search's path to each node, to skip the same path found again.
        let mut first_path: HashMap<usize, usize> = HashMap::new();
        for (pass, adj) in [&allowed_adj, &all_adj].into_iter().enumerate() {
            for (node, path) in paths_from(a, adj, reach) {
                let path = expand(reach, &path);
                if pass == 1 && first_path.get(&node).is_some_and(|&k| reached[k].path == path) {
                    continue;
                }
                if pass == 0 {
                    first_path.insert(node, reached.len());
                }
                let outcome = path_outcome(reach, &path);
                reached.push(Reached { node, path, outcome });
            }
        }
        reached.sort_by_key(|r| (r.path.len(), rank[r.node], r.node));
        out.extend(best_for(graph, decisions, reach, a, &reached));
    }
    starts.push(out.len());
    reach.indirect = out;
    reach.starts = starts;
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

/// A part of a principal's table partition: its best so far, and where it comes from.
struct Part {
    set: TableSet,
    goodness: u8,
    source: Option<(usize, Held, Outcome)>,
}

/// Per capability, the best over the reached holders where it beats the direct decision.
fn best_for(graph: &Graph, decisions: &Decisions, reach: &Reach, a: usize, reached: &[Reached]) -> Vec<Indirect> {
    let mut out = Vec::new();
    for c in 0..decisions.capabilities.len() {
        let cap = CapId(c as u16);
        if decisions.capability(cap).internal {
            continue;
        }
        if decisions.capability(cap).target == crate::catalog::TargetKind::Table {
            out.extend(best_on_tables(graph, decisions, reach, a, cap, reached));
        } else {
            out.extend(best_on_slrs(graph, decisions, reach, a, cap, reached));
        }
    }
    out
}

/// SLR capabilities: per SLR, the best reached holder that beats the direct decision (the
/// first in path order among the best).
fn best_on_slrs(
    graph: &Graph,
    decisions: &Decisions,
    reach: &Reach,
    a: usize,
    cap: CapId,
    reached: &[Reached],
) -> Vec<Indirect> {
    let mut best: Vec<u8> = (0..graph.slrs.len())
        .map(|s| {
            decisions
                .on_slr(a, cap, s)
                .map(|x| steps::goodness(decisions.decision(x).outcome))
                .unwrap_or(0)
        })
        .collect();
    if best.iter().all(|&g| g >= steps::goodness(Outcome::Allowed)) {
        return Vec::new();
    }
    let mut chosen: Vec<Option<Indirect>> = vec![None; graph.slrs.len()];
    for r in reached {
        for (covers, o, held) in held_entries(decisions, reach, r.node, cap) {
            let Covers::Slr(s) = *covers else { continue };
            let eff = steps::worse(r.outcome, o);
            if s < best.len() && steps::goodness(eff) > best[s] {
                best[s] = steps::goodness(eff);
                chosen[s] = Some(entry(a, cap, covers.clone(), eff, r, held));
            }
        }
    }
    chosen.into_iter().flatten().collect()
}

/// Where each part of a principal's partition of the tables got its best decision.
type Sources = BTreeMap<(usize, u32, usize, usize), (Vec<TableSet>, Held, Outcome)>;

/// Table capabilities: the principal's tables partitioned by their best decision so far
/// (direct first), improved by each reached holder in path order; the improved parts, merged
/// per holder entry, are the indirect entries.
fn best_on_tables(
    graph: &Graph,
    decisions: &Decisions,
    reach: &Reach,
    a: usize,
    cap: CapId,
    reached: &[Reached],
) -> Vec<Indirect> {
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
    let mut by_source: Sources = BTreeMap::new();
    for part in parts {
        let Some((r_index, held, eff)) = part.source else {
            continue;
        };
        let key = match held {
            Held::Direct(id) => (r_index, id.0, usize::MAX, 0),
            Held::Changed(v, k) => (r_index, u32::MAX, v, k),
        };
        by_source
            .entry(key)
            .or_insert_with(|| (Vec::new(), held, eff))
            .0
            .push(part.set);
    }
    let mut entries: Vec<Indirect> = by_source
        .into_iter()
        .map(|((r_index, ..), (sets, held, eff))| {
            entry(
                a,
                cap,
                Covers::Tables(capability::union_all(sets)),
                eff,
                &reached[r_index],
                held,
            )
        })
        .collect();
    entries.sort_by_key(|x| match &x.covers {
        Covers::Tables(set) => set.first(total).unwrap_or(usize::MAX),
        Covers::Slr(_) => usize::MAX,
    });
    entries
}

/// Splits the parts a holder's set improves on: inside it, the holder's decision.
fn improve(parts: Vec<Part>, set: &TableSet, g: u8, source: (usize, Held, Outcome), total: usize) -> Vec<Part> {
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

fn entry(a: usize, cap: CapId, covers: Covers, outcome: Outcome, r: &Reached, held: Held) -> Indirect {
    Indirect {
        principal: a,
        cap,
        covers,
        outcome,
        path: r.path.clone(),
        holder: r.node,
        held,
    }
}

/// The path of an indirect entry in words: "`dev` → assumes `ops` (aws_iam_role.ops
/// (trust policy) at iam.tf:8) → `ops` can disable". Shared by rules and reports.
pub fn path_words(graph: &Graph, sources: &crate::source::SourceMap, reach: &Reach, cap: &str, x: &Indirect) -> String {
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
pub fn first_step_span(reach: &Reach, x: &Indirect) -> Option<crate::source::Span> {
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
