//! Links the loaded inputs into one resource graph (petgraph) with lookup indexes.
//!
//! Nodes are principals (declared or only referenced), groups, policies, tables, streams,
//! destinations, keys and the service-linked role; edges say how they relate (a policy
//! grants to a principal, bounds it, a user is in a group, a table streams to a stream, a
//! resource policy governs a resource). Linking resolves the names and ARNs the templates
//! used; what names nothing declared becomes an external principal or an unknown policy,
//! never a dropped edge. Policies are parsed once here.

use std::collections::{BTreeMap, HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};
use rayon::prelude::*;

use crate::catalog;
use crate::iam::PolicyId;
use crate::iam::eval::{Policy as EvalPolicy, UnknownPolicy};
use crate::iam::policy;
use crate::model::{
    Diagnostic, Input, PolicyKind, PolicyRef, PrincipalKind, Protection, Stream, Table, TableRef, Target,
};
use crate::source::Span;
use crate::value::{Pins, Template, Value, ValueKind};

/// The fixed service name of Kinesis Data Streams for DynamoDB's service-linked role.
pub(crate) const SLR_SERVICE: &str = "kinesisreplication.dynamodb.amazonaws.com";
/// The role's fixed name.
pub(crate) const SLR_NAME: &str = "AWSServiceRoleForDynamoDBKinesisDataStreamsReplication";
/// The id of the role when no input declares it.
pub(crate) const SLR_VIRTUAL_ID: &str = "slr:kinesisreplication.dynamodb.amazonaws.com";

/// The name of the policy a permission change is taken to add.
pub(crate) const ADDED_POLICY: &str = "a policy it can add (Allow * on *)";

/// The ARN of the service-linked role in the current account.
pub(crate) fn slr_arn() -> Template {
    crate::iam::arn::iam(
        &format!("role/aws-service-role/{SLR_SERVICE}/"),
        &Template::lit(SLR_NAME),
    )
}

/// Report kind of a principal.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum PrincipalClass {
    Role,
    User,
    ExternalRole,
    ExternalUser,
}

impl PrincipalClass {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalClass::Role => "role",
            PrincipalClass::User => "user",
            PrincipalClass::ExternalRole => "external-role",
            PrincipalClass::ExternalUser => "external-user",
        }
    }
}

/// A principal of the run (declared or only referenced).
#[derive(Clone, Debug)]
pub struct PrincipalNode {
    pub id: String,
    pub input: usize,
    pub address: String,
    pub class: PrincipalClass,
    pub name: Template,
    pub arn: Template,
    pub span: Option<Span>,
    /// Identity policies (indexes into [`Graph::policies`]) in attachment order.
    pub policies: Vec<usize>,
    pub(crate) unknown_policies: Vec<UnknownPolicy>,
    pub(crate) boundaries: Vec<usize>,
    /// How each policy reaches the principal (for proofs), in attachment order.
    pub via: Vec<Via>,
    /// A role's trust policy (index into [`Graph::policies`]).
    pub trust: Option<usize>,
    /// Whether the principal is only named by a trust policy (its own policies are outside
    /// the inputs).
    pub(crate) trusted_only: bool,
}

impl PrincipalNode {
    /// Whether a config glob (guardrail `only`, `scps.apply-to`) names this principal: by
    /// address, IAM name or id.
    pub(crate) fn matches_glob(&self, glob: &str) -> bool {
        crate::paths::glob_matches(glob, &self.address)
            || crate::paths::glob_matches(glob, &self.name.to_string())
            || crate::paths::glob_matches(glob, &self.id)
    }
}

/// One route from a policy to a principal.
#[derive(Clone, Debug, PartialEq)]
pub struct Via {
    /// Index into [`Graph::policies`].
    pub policy: usize,
    /// The group it reaches the principal through, if any (its address).
    pub group: Option<String>,
    /// The attachment (inline policy, attachment resource, `ManagedPolicyArns` entry, ...).
    pub attachment: Span,
    pub boundary: bool,
}

/// A policy of the run, parsed.
#[derive(Clone, Debug)]
pub struct PolicyNode {
    pub input: Option<usize>,
    /// For a policy the input declares: its index in that input's `policies` (derived
    /// policies — conditional copies, unknown boundaries, bundled AWS ones — have none).
    pub declared: Option<usize>,
    pub kind: PolicyKind,
    pub policy: EvalPolicy,
    pub resource: Option<Template>,
    pub span: Span,
}

/// A table with its resolved destination stream.
#[derive(Clone, Debug)]
pub struct TableNode {
    pub id: String,
    pub input: usize,
    pub table: Table,
    /// The destination stream ARN (first destination in address order), if any.
    pub stream_arn: Option<Template>,
    /// The id of the declared stream it streams to, if declared.
    pub stream: Option<String>,
    pub(crate) destination_span: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct StreamNode {
    pub id: String,
    pub input: usize,
    pub stream: Stream,
}

/// The service-linked role of one account (capabilities.md, "One per account"): every
/// declaration of it in inputs that deploy to that account, or none (the role the account
/// has or will have). Its id is the first declaration's (inputs in sorted order), else
/// [`SLR_VIRTUAL_ID`].
#[derive(Clone, Debug)]
pub struct SlrNode {
    pub id: String,
    pub address: String,
    /// The account, when pinned (`--account`, config); `None`: the one analysed account.
    pub account: Option<String>,
    /// The declaring places, in input order then source order.
    pub declarations: Vec<SlrDeclaration>,
}

impl SlrNode {
    /// Whether some input declares it.
    pub fn declared(&self) -> bool {
        !self.declarations.is_empty()
    }

    /// The first declaration (whose id the SLR carries), if declared.
    pub fn first(&self) -> Option<&SlrDeclaration> {
        self.declarations.first()
    }
}

/// One place an input declares the service-linked role (a resource its tool can delete).
#[derive(Clone, Debug)]
pub struct SlrDeclaration {
    pub id: String,
    pub address: String,
    pub input: usize,
    pub protection: Protection,
    pub span: Span,
}

/// Typed graph nodes (indexes into the [`Graph`]'s vectors).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Node {
    Principal(usize),
    Group(usize, usize),
    Policy(usize),
    Table(usize),
    Stream(usize),
    Key(usize, usize),
    Slr(usize),
}

/// Typed graph edges.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Edge {
    /// policy → principal or group: grants.
    Grants,
    /// policy → principal: permissions boundary.
    Bounds,
    /// user → group.
    MemberOf,
    /// table → stream.
    StreamsTo,
    /// resource policy → resource.
    Governs,
    /// SCP → principal.
    Restricts,
    /// trust policy → role: who may assume it.
    Trusts,
}

/// The linked run.
#[derive(Debug, Default)]
pub struct Graph {
    pub inputs: Vec<Input>,
    pub principals: Vec<PrincipalNode>,
    pub policies: Vec<PolicyNode>,
    pub tables: Vec<TableNode>,
    pub streams: Vec<StreamNode>,
    /// The service-linked roles, one per account the inputs deploy to (today: one).
    pub slrs: Vec<SlrNode>,
    /// The declarations seen while linking inputs, before [`Graph::slrs`] groups them.
    slr_declarations: Vec<SlrDeclaration>,
    /// Indexes of SCPs (apply to every principal).
    pub scps: Vec<usize>,
    /// Resource policies by the ARN of the resource they govern.
    pub(crate) resource_policies: BTreeMap<Template, Vec<usize>>,
    pub diagnostics: Vec<Diagnostic>,
    /// (user principal, input, group index in that input).
    pub memberships: Vec<(usize, usize, usize)>,
    /// Identity policies attached to each group, by (input, group index in that input).
    pub(crate) group_policies: BTreeMap<(usize, usize), Vec<usize>>,
    /// The run's pinned account/region/partition (for linking literal ARNs).
    pub pins: Pins,
    pub graph: DiGraph<Node, Edge>,
    /// The policy a permission change adds (`Allow *` on `*`), present when some policy
    /// grants a permission-change action (capabilities.md, Access through other principals).
    pub(crate) added_policy: Option<usize>,
    /// Bundled AWS managed policies already added, by address.
    builtin: std::collections::HashMap<String, usize>,
}

/// The principals declared in one input, looked up by address and by name (the first of
/// each, as a scan in declaration order finds it), and the principals made for names that
/// no declaration carries.
struct Lookup {
    first_by_address: HashMap<String, usize>,
    by_address: HashMap<(PrincipalClass, String), usize>,
    by_name: HashMap<(PrincipalClass, Template), usize>,
    external: HashMap<(PrincipalClass, Template), usize>,
}

impl Lookup {
    fn new(declared: &[PrincipalNode], base: usize) -> Lookup {
        let mut out = Lookup {
            first_by_address: HashMap::new(),
            by_address: HashMap::new(),
            by_name: HashMap::new(),
            external: HashMap::new(),
        };
        for (k, p) in declared.iter().enumerate() {
            out.first_by_address.entry(p.address.clone()).or_insert(base + k);
            out.by_address.entry((p.class, p.address.clone())).or_insert(base + k);
            out.by_name.entry((p.class, p.name.clone())).or_insert(base + k);
        }
        out
    }
}

impl Graph {
    /// Links the inputs (already sorted by path).
    pub fn build(inputs: Vec<Input>, pins: &Pins) -> Graph {
        let mut g = Graph {
            inputs,
            pins: pins.clone(),
            ..Graph::default()
        };
        for i in 0..g.inputs.len() {
            g.link_input(i);
        }
        g.link_slr();
        g.link_trusted();
        g.add_change_policy();
        g.build_petgraph();
        g
    }

    /// The policies the inputs declare, parsed once, each with its declaration.
    pub fn declared_policies(&self) -> impl Iterator<Item = (&PolicyNode, &crate::model::Policy)> {
        self.policies.iter().filter_map(|p| {
            let declared = self.inputs.get(p.input?)?.policies.get(p.declared?)?;
            Some((p, declared))
        })
    }

    /// The policy a proof names ([`crate::iam::eval::Because::policy_id`]).
    pub fn policy(&self, id: PolicyId) -> Option<&PolicyNode> {
        self.policies.get(id.index())
    }

    /// Adds a policy, giving it its id (its index in [`Graph::policies`]); returns the index.
    fn add_policy(&mut self, node: PolicyNode) -> usize {
        push_policy(&mut self.policies, node)
    }

    /// Links input `i`: its policies, principals, group memberships and attachments, its
    /// tables with their streams and destinations, and its declarations of the SLR.
    fn link_input(&mut self, i: usize) {
        let mut diags = Vec::new();
        let declared = self.link_policies(i, &mut diags);
        let principal_base = self.link_principals(i);
        let mut lookup = Lookup::new(&self.principals[principal_base..], principal_base);

        // The groups and attachments are taken out of the input while it is linked (the
        // links below change `self`), and put back after.
        let attachments = std::mem::take(&mut self.inputs[i].attachments);
        let groups = std::mem::take(&mut self.inputs[i].groups);
        let index = GroupIndex::new(&groups);
        let members = group_members(&self.inputs[i], &index, &lookup, &mut diags);
        let in_groups = Groups {
            list: &groups,
            index: &index,
            members: &members,
        };
        for a in &attachments {
            self.link_attachment(i, a, &in_groups, &mut lookup, &declared, &mut diags);
        }
        self.inputs[i].attachments = attachments;
        self.inputs[i].groups = groups;
        for p in &mut self.principals[principal_base..] {
            p.policies.sort_unstable();
            p.policies.dedup();
        }

        self.link_tables(i, &mut diags);
        self.link_slr_declarations(i);
        for (gi, members) in members {
            self.memberships.extend(members.into_iter().map(|u| (u, i, gi)));
        }
        self.diagnostics.extend(diags);
    }

    /// Parses input `i`'s policies (each document on its own, in parallel) and adds them in
    /// declaration order; returns how its attachments find them.
    fn link_policies(&mut self, i: usize, diags: &mut Vec<Diagnostic>) -> DeclaredPolicies {
        let input = &self.inputs[i];
        let mut declared = DeclaredPolicies::default();
        let compiled: Vec<_> = input.policies.par_iter().map(|p| policy::parse(&p.document)).collect();
        for ((j, p), (document, d)) in input.policies.iter().enumerate().zip(compiled) {
            if p.kind == PolicyKind::Managed
                && let Some(arn) = &p.arn
            {
                declared.by_arn.entry(arn.clone()).or_insert(self.policies.len());
            }
            diags.extend(d);
            declared.by_address.insert(p.address.clone(), self.policies.len());
            if p.kind == PolicyKind::Scp {
                self.scps.push(self.policies.len());
            }
            if p.kind == PolicyKind::Resource
                && let Some(r) = &p.resource
            {
                self.resource_policies
                    .entry(r.clone())
                    .or_default()
                    .push(self.policies.len());
            }
            push_policy(
                &mut self.policies,
                PolicyNode {
                    input: Some(i),
                    declared: Some(j),
                    kind: p.kind,
                    policy: EvalPolicy::new(p.address.as_str(), document),
                    resource: p.resource.clone(),
                    span: p.span,
                },
            );
        }
        declared
    }

    /// Adds the principals input `i` declares (their nodes made in parallel, kept in
    /// order); returns the index of the first.
    fn link_principals(&mut self, i: usize) -> usize {
        let input = &self.inputs[i];
        let prefix = &input.path;
        let base = self.principals.len();
        let declared: Vec<PrincipalNode> = input
            .principals
            .par_iter()
            .map(|p| PrincipalNode {
                id: format!("{prefix}#{}", p.address),
                input: i,
                address: p.address.clone(),
                class: match p.kind {
                    PrincipalKind::Role => PrincipalClass::Role,
                    PrincipalKind::User => PrincipalClass::User,
                },
                name: p.name.clone(),
                arn: p.arn.clone(),
                span: Some(p.span),
                policies: Vec::new(),
                unknown_policies: Vec::new(),
                boundaries: Vec::new(),
                via: Vec::new(),
                trust: None,
                trusted_only: false,
            })
            .collect();
        self.principals.extend(declared);
        base
    }

    /// Links one attachment of input `i`: the policy it names reaches each principal it
    /// targets (a group's members through the group) as an identity policy, a boundary or
    /// the trust policy; what it names that is not known reaches them as an unknown policy.
    fn link_attachment(
        &mut self,
        i: usize,
        a: &crate::model::Attachment,
        groups: &Groups,
        lookup: &mut Lookup,
        declared: &DeclaredPolicies,
        diags: &mut Vec<Diagnostic>,
    ) {
        let targets = self.attachment_targets(i, a, groups, lookup, diags);
        let resolved = self.attachment_policy(i, a, declared);
        if let Ok(k) = resolved
            && self.policies[k].kind == PolicyKind::Trust
        {
            for (t, _) in targets {
                self.principals[t].trust = Some(k);
            }
            return;
        }
        let group_target = match &a.target {
            Target::Address(addr) => groups.index.by_address.get(addr.as_str()).copied(),
            Target::GroupName(n) => groups.index.by_name.get(n).copied(),
            _ => None,
        };
        if let (Some(gi), Ok(k), false) = (group_target, &resolved, a.boundary) {
            let list = self.group_policies.entry((i, gi)).or_default();
            if !list.contains(k) {
                list.push(*k);
            }
        }
        for (t, group) in targets {
            if let Ok(k) = &resolved {
                self.principals[t].via.push(Via {
                    policy: *k,
                    group,
                    attachment: a.span,
                    boundary: a.boundary,
                });
            }
            match &resolved {
                Ok(k) if a.boundary => self.principals[t].boundaries.push(*k),
                Ok(k) => self.principals[t].policies.push(*k),
                Err(what) => self.principals[t].unknown_policies.push(UnknownPolicy {
                    what: format!("policy {what} (neither declared nor a known AWS managed policy)"),
                    span: a.span,
                }),
            }
        }
    }

    /// The principals an attachment of input `i` reaches, each with the group it reaches
    /// them through; a target that names nothing declared is a note (a role or user
    /// named so becomes an external principal).
    fn attachment_targets(
        &mut self,
        i: usize,
        a: &crate::model::Attachment,
        groups: &Groups,
        lookup: &mut Lookup,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<(usize, Option<String>)> {
        match &a.target {
            Target::Address(addr) => {
                if let Some(&k) = lookup.first_by_address.get(addr.as_str()) {
                    vec![(k, None)]
                } else if let Some(&gi) = groups.index.by_address.get(addr.as_str()) {
                    groups.members_of(gi)
                } else {
                    diags.push(Diagnostic::note(
                        format!("attachment target `{addr}` is not declared"),
                        a.span,
                    ));
                    Vec::new()
                }
            }
            Target::RoleName(n) => vec![(self.principal_by_name(i, lookup, PrincipalClass::Role, n), None)],
            Target::UserName(n) => vec![(self.principal_by_name(i, lookup, PrincipalClass::User, n), None)],
            Target::GroupName(n) => match groups.index.by_name.get(n).copied() {
                Some(gi) => groups.members_of(gi),
                None => {
                    diags.push(Diagnostic::note(
                        format!("group `{n}` is not declared in the inputs; the policy reaches no analysed user"),
                        a.span,
                    ));
                    Vec::new()
                }
            },
            Target::Organization(_) => Vec::new(),
        }
    }

    /// The policy an attachment of input `i` names, or what it names when that is not
    /// known. An attachment that exists only under an undecided condition grants only
    /// conditionally: it reaches the principal as a copy of the policy whose every
    /// statement carries that condition. A boundary that cannot be read still only
    /// restricts: it is a boundary whose document is unknown (it may or may not allow a
    /// request), never an identity policy that might grant.
    fn attachment_policy(
        &mut self,
        i: usize,
        a: &crate::model::Attachment,
        declared: &DeclaredPolicies,
    ) -> Result<usize, Unresolved> {
        let resolved = match &a.policy {
            PolicyRef::Address(addr) => match declared.by_address.get(addr) {
                Some(k) => Ok(*k),
                None => Err(Unresolved::Address(addr.to_string())),
            },
            PolicyRef::Arn(arn) => match declared.by_arn.get(arn) {
                Some(k) => Ok(*k),
                None => self.aws_managed(arn).ok_or_else(|| Unresolved::Arn(arn.to_string())),
            },
            PolicyRef::Unknown(v) => Err(Unresolved::Unknown(describe_unknown(v))),
        };
        match (resolved, &a.condition) {
            (Ok(k), Some(cond)) if !a.boundary => Ok(self.conditional_copy(k, cond)),
            (Err(what), _) if a.boundary => Ok(self.unknown_boundary(i, &what.to_string(), a.span)),
            (other, _) => other,
        }
    }

    /// Adds input `i`'s streams and tables, each table with the stream its first streaming
    /// destination (in address order) names; a destination whose table the input does not
    /// declare is a note.
    fn link_tables(&mut self, i: usize, diags: &mut Vec<Diagnostic>) {
        let input = &self.inputs[i];
        let prefix = &input.path;
        let streams: Vec<StreamNode> = input
            .streams
            .par_iter()
            .map(|s| StreamNode {
                id: format!("{prefix}#{}", s.address),
                input: i,
                stream: s.clone(),
            })
            .collect();
        let mut destinations = input.destinations.clone();
        destinations.sort_by(|a, b| a.address.cmp(&b.address));
        let dest_index = DestinationIndex::new(&destinations);
        let stream_by_address: std::collections::HashMap<&str, usize> = streams
            .iter()
            .enumerate()
            .map(|(k, s)| (s.stream.address.as_str(), k))
            .collect();
        let pins = &self.pins;
        let table_nodes: Vec<TableNode> = input
            .tables
            .par_iter()
            .map(|t| {
                // The first destination (in address order) that names the table.
                let dest = [
                    dest_index.by_address.get(t.address.as_str()),
                    dest_index.by_name.get(&t.name),
                    dest_index.by_arn.get(&t.arn),
                ]
                .into_iter()
                .flatten()
                .min()
                .map(|&k| &destinations[k]);
                let stream_arn = dest.map(|d| stream_template(&d.stream_arn));
                // The stream the ARN was read from by reference, else one it names.
                let by_reference = dest
                    .and_then(|d| d.stream_arn.origin_address("aws_kinesis_stream", &["arn", "id"]))
                    .and_then(|address| stream_by_address.get(address).map(|&k| &streams[k]));
                let stream = by_reference
                    .or_else(|| {
                        stream_arn
                            .as_ref()
                            .and_then(|arn| streams.iter().find(|s| same_stream(arn, &s.stream, pins)))
                    })
                    .map(|s| s.id.clone());
                TableNode {
                    id: format!("{prefix}#{}", t.address),
                    input: i,
                    table: t.clone(),
                    stream_arn,
                    stream,
                    destination_span: dest.map(|d| d.span),
                }
            })
            .collect();
        self.tables.extend(table_nodes);
        let addresses: HashSet<&str> = input.tables.iter().map(|t| t.address.as_str()).collect();
        let names: HashSet<&Template> = input.tables.iter().map(|t| &t.name).collect();
        let arns: HashSet<&Template> = input.tables.iter().map(|t| &t.arn).collect();
        for d in &destinations {
            let found = match &d.table {
                TableRef::Address(a) => addresses.contains(a.as_str()),
                TableRef::Name(n) => names.contains(n),
                TableRef::Arn(a) => arns.contains(a),
            };
            if !found {
                diags.push(Diagnostic::note(
                    "this streaming destination's table is not declared in the same input; it is not analysed",
                    d.span,
                ));
            }
        }
        self.streams.extend(streams);
    }

    /// Input `i`'s declarations of our service's role (`link_slr` makes the account's one
    /// role of them).
    fn link_slr_declarations(&mut self, i: usize) {
        let input = &self.inputs[i];
        let prefix = &input.path;
        for s in input
            .slrs
            .iter()
            .filter(|s| s.service.as_literal().is_none_or(|v| v == SLR_SERVICE))
        {
            self.slr_declarations.push(SlrDeclaration {
                id: format!("{prefix}#{}", s.address),
                address: s.address.clone(),
                input: i,
                protection: s.protected.clone(),
                span: s.span,
            });
        }
    }

    /// The roles and users that trust policies name by ARN but no input declares become
    /// external principals (of the trusting role's input), so that their reach is reported.
    fn link_trusted(&mut self) {
        use crate::iam::reach::{arn_name, trusted_arns};
        let mut known: std::collections::HashMap<(bool, String), Vec<usize>> = std::collections::HashMap::new();
        for (k, p) in self.principals.iter().enumerate() {
            let role = matches!(p.class, PrincipalClass::Role | PrincipalClass::ExternalRole);
            if let Some(name) = arn_name(&p.arn).or_else(|| p.name.as_literal().map(str::to_string)) {
                known.entry((role, name)).or_default().push(k);
            }
        }
        let mut wanted: BTreeMap<Template, (usize, bool, String)> = BTreeMap::new();
        for p in &self.principals {
            let Some(t) = p.trust else { continue };
            for (arn, role) in trusted_arns(&self.policies[t].policy) {
                let Some(name) = arn_name(arn) else { continue };
                let declared = known.get(&(role, name.clone())).is_some_and(|ks| {
                    ks.iter().any(|&k| {
                        let other = &self.principals[k].arn;
                        crate::iam::reach::pattern_may_match(arn, &other.pin(&self.pins))
                    })
                });
                if !declared {
                    wanted.entry(arn.clone()).or_insert((p.input, role, name));
                }
            }
        }
        for (arn, (input, role, name)) in wanted {
            let (class, kind) = if role {
                (PrincipalClass::ExternalRole, "role")
            } else {
                (PrincipalClass::ExternalUser, "user")
            };
            let address = format!("{kind}/{arn}");
            self.principals.push(PrincipalNode {
                id: format!("{}#{address}", self.inputs[input].path),
                input,
                address,
                class,
                name: Template::lit(name),
                arn,
                span: None,
                policies: Vec::new(),
                unknown_policies: Vec::new(),
                boundaries: Vec::new(),
                via: Vec::new(),
                trust: None,
                trusted_only: true,
            });
        }
    }

    /// Adds the policy a permission change stands for when some statement grants a
    /// permission-change action (so the decision index knows its pattern).
    fn add_change_policy(&mut self) {
        use crate::iam::reach::CHANGE_ACTIONS;
        let grants = self.policies.iter().any(|p| {
            p.kind != PolicyKind::Trust
                && p.policy.document.statements.iter().any(|s| {
                    s.effect == crate::iam::policy::Effect::Allow
                        && crate::iam::eval::statement_concerns(s, CHANGE_ACTIONS)
                })
        });
        let Some(admin) = catalog::aws_managed_document("AdministratorAccess") else {
            return;
        };
        if grants {
            self.added_policy = Some(self.policies.len());
            self.add_policy(PolicyNode {
                input: None,
                declared: None,
                kind: PolicyKind::Inline,
                policy: EvalPolicy::new(ADDED_POLICY, admin.document.clone()),
                resource: None,
                span: Span::builtin(),
            });
        }
    }

    /// The principal with this name in input `i`, or a new external one.
    fn principal_by_name(&mut self, i: usize, lookup: &mut Lookup, class: PrincipalClass, name: &Template) -> usize {
        if let Some(&k) = lookup.by_name.get(&(class, name.clone())) {
            return k;
        }
        let (ext, kind) = match class {
            PrincipalClass::User | PrincipalClass::ExternalUser => (PrincipalClass::ExternalUser, "user"),
            _ => (PrincipalClass::ExternalRole, "role"),
        };
        if let Some(&k) = lookup.external.get(&(ext, name.clone())) {
            return k;
        }
        let prefix = self.inputs[i].path.clone();
        let address = format!("{kind}/{name}");
        let arn = crate::iam::arn::iam(&format!("{kind}/"), name);
        self.principals.push(PrincipalNode {
            id: format!("{prefix}#{address}"),
            input: i,
            address,
            class: ext,
            name: name.clone(),
            arn,
            span: None,
            policies: Vec::new(),
            unknown_policies: Vec::new(),
            boundaries: Vec::new(),
            via: Vec::new(),
            trust: None,
            trusted_only: false,
        });
        lookup.external.insert((ext, name.clone()), self.principals.len() - 1);
        self.principals.len() - 1
    }

    /// A permissions boundary of input `i` that names `what`, which is neither declared nor
    /// catalogued: a policy whose document is unknown, so that as a boundary it caps an
    /// identity grant to `conditional` and grants nothing by itself.
    fn unknown_boundary(&mut self, i: usize, what: &str, span: Span) -> usize {
        let what = format!("permissions boundary {what} (neither declared nor a known AWS managed policy)");
        self.add_policy(PolicyNode {
            input: Some(i),
            declared: None,
            kind: PolicyKind::Managed,
            policy: EvalPolicy::new(
                what.clone(),
                crate::iam::policy::Document {
                    unknown: Some((what, span)),
                    ..crate::iam::policy::Document::default()
                },
            ),
            resource: None,
            span,
        });
        self.policies.len() - 1
    }

    /// A copy of policy `k` whose statements apply only under the undecided `cond` (made
    /// once per policy and condition).
    fn conditional_copy(&mut self, k: usize, cond: &Value) -> usize {
        let (expr, reason) = match &cond.kind {
            ValueKind::Unknown(u) => (u.expr.clone(), u.reason.clone()),
            _ => ("condition".to_string(), "undecided".to_string()),
        };
        let address = format!("{} (if {expr})", self.policies[k].policy.address);
        if let Some(existing) = self.policies.iter().position(|p| *p.policy.address == *address) {
            return existing;
        }
        let mut copy = self.policies[k].clone();
        copy.declared = None;
        copy.policy.address = address.as_str().into();
        for st in &mut copy.policy.document.statements {
            st.conditions.push(crate::iam::policy::Condition {
                operator: String::new(),
                key: expr.clone(),
                key_span: cond.span,
                values: Vec::new(),
                unknown: Some(format!("{expr} ({reason})")),
            });
        }
        self.add_policy(copy);
        self.policies.len() - 1
    }

    /// The bundled document of an AWS managed policy, added to the run once.
    fn aws_managed(&mut self, arn: &Template) -> Option<usize> {
        let name = crate::iam::arn::aws_managed_policy_name(arn)?;
        let Some(doc) = catalog::aws_managed_document(&name) else {
            // Known to hold nothing replication needs: attached, visible, and inert.
            let address = crate::catalog::aws_managed_without_access().get(&name)?;
            if let Some(&k) = self.builtin.get(address.as_str()) {
                return Some(k);
            }
            self.builtin.insert(address.to_string(), self.policies.len());
            self.add_policy(PolicyNode {
                input: None,
                declared: None,
                kind: PolicyKind::Managed,
                policy: EvalPolicy::new(address.as_str(), crate::iam::policy::Document::default()),
                resource: None,
                span: Span::builtin(),
            });
            return Some(self.policies.len() - 1);
        };
        if let Some(&k) = self.builtin.get(&*doc.address) {
            return Some(k);
        }
        self.builtin.insert(doc.address.to_string(), self.policies.len());
        self.add_policy(PolicyNode {
            input: None,
            declared: None,
            kind: PolicyKind::Managed,
            policy: doc.clone(),
            resource: None,
            span: Span::builtin(),
        });
        Some(self.policies.len() - 1)
    }

    /// One SLR per account: the declarations of our service's role (gathered in
    /// `link_input`) are the declaring places of the run's account's SLR. Inputs carry no
    /// account of their own, so every input deploys to the run's one (pinned or symbolic)
    /// account; with none declared, the account's role is still there, with a virtual id.
    fn link_slr(&mut self) {
        let declarations = std::mem::take(&mut self.slr_declarations);
        let (id, address) = match declarations.first() {
            Some(d) => (d.id.clone(), d.address.clone()),
            None => (SLR_VIRTUAL_ID.to_string(), SLR_VIRTUAL_ID.to_string()),
        };
        self.slrs = vec![SlrNode {
            id,
            address,
            account: self.pins.account.clone(),
            declarations,
        }];
    }

    fn build_petgraph(&mut self) {
        let mut g = DiGraph::new();
        let mut group_nodes: std::collections::HashMap<(usize, usize), NodeIndex> = std::collections::HashMap::new();
        let stream_index: std::collections::HashMap<&str, usize> = self
            .streams
            .iter()
            .enumerate()
            .map(|(k, s)| (s.id.as_str(), k))
            .collect();
        let principals: Vec<NodeIndex> = (0..self.principals.len())
            .map(|k| g.add_node(Node::Principal(k)))
            .collect();
        let policies: Vec<NodeIndex> = (0..self.policies.len()).map(|k| g.add_node(Node::Policy(k))).collect();
        let tables: Vec<NodeIndex> = (0..self.tables.len()).map(|k| g.add_node(Node::Table(k))).collect();
        let streams: Vec<NodeIndex> = (0..self.streams.len()).map(|k| g.add_node(Node::Stream(k))).collect();
        for k in 0..self.slrs.len() {
            g.add_node(Node::Slr(k));
        }
        for (i, input) in self.inputs.iter().enumerate() {
            for k in 0..input.groups.len() {
                group_nodes.insert((i, k), g.add_node(Node::Group(i, k)));
            }
            for k in 0..input.keys.len() {
                g.add_node(Node::Key(i, k));
            }
        }
        for (k, p) in self.principals.iter().enumerate() {
            for &pol in &p.policies {
                g.add_edge(policies[pol], principals[k], Edge::Grants);
            }
            if let Some(t) = p.trust {
                g.add_edge(policies[t], principals[k], Edge::Trusts);
            }
            for &pol in &p.boundaries {
                g.add_edge(policies[pol], principals[k], Edge::Bounds);
            }
            for &scp in &self.scps {
                g.add_edge(policies[scp], principals[k], Edge::Restricts);
            }
        }
        for (k, t) in self.tables.iter().enumerate() {
            if let Some(sid) = &t.stream
                && let Some(&s) = stream_index.get(sid.as_str())
            {
                g.add_edge(tables[k], streams[s], Edge::StreamsTo);
            }
            for &rp in self.resource_policies.get(&t.table.arn).into_iter().flatten() {
                g.add_edge(policies[rp], tables[k], Edge::Governs);
            }
        }
        for &(u, i, gi) in &self.memberships {
            if let Some(&gn) = group_nodes.get(&(i, gi)) {
                g.add_edge(principals[u], gn, Edge::MemberOf);
            }
        }
        self.graph = g;
    }
}

/// How input `i`'s policies are found by attachments: by address, and managed policies
/// by ARN (the first declared of each).
#[derive(Default)]
struct DeclaredPolicies {
    by_address: BTreeMap<String, usize>,
    by_arn: BTreeMap<Template, usize>,
}

/// An input's groups while its attachments are linked: the groups, their index, and the
/// member principals of each (by group index).
struct Groups<'a> {
    list: &'a [crate::model::Group],
    index: &'a GroupIndex<'a>,
    members: &'a BTreeMap<usize, Vec<usize>>,
}

impl Groups<'_> {
    /// The members of group `gi`, each with the group's address as the route.
    fn members_of(&self, gi: usize) -> Vec<(usize, Option<String>)> {
        let address = self.list.get(gi).map(|g| g.address.clone());
        self.members
            .get(&gi)
            .into_iter()
            .flatten()
            .map(|&u| (u, address.clone()))
            .collect()
    }
}

/// The member principals of each group of `input`: a membership names its group and user
/// by the declared resource where it refers to one, else by name; one that names a group
/// or user the input does not declare is a note.
fn group_members(
    input: &Input,
    index: &GroupIndex,
    lookup: &Lookup,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<usize, Vec<usize>> {
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for m in &input.memberships {
        let group = match &m.group_address {
            Some(address) => index.by_address.get(address.as_str()).copied(),
            None => index.by_name.get(&m.group).copied(),
        };
        let Some(gi) = group else {
            diags.push(Diagnostic::note(
                format!(
                    "group `{}` is not declared in this input; its policies are not known",
                    m.group
                ),
                m.span,
            ));
            continue;
        };
        let user = match &m.user_address {
            Some(address) => lookup.by_address.get(&(PrincipalClass::User, address.clone())),
            None => lookup.by_name.get(&(PrincipalClass::User, m.user.clone())),
        }
        .copied();
        match user {
            Some(u) => members.entry(gi).or_default().push(u),
            None => diags.push(Diagnostic::note(
                format!("user `{}` is not declared in this input", m.user),
                m.span,
            )),
        }
    }
    members
}

/// An input's groups by address and by name (the first of each, as a scan in declaration
/// order finds it).
struct GroupIndex<'a> {
    by_address: HashMap<&'a str, usize>,
    by_name: HashMap<&'a Template, usize>,
}

impl<'a> GroupIndex<'a> {
    fn new(groups: &'a [crate::model::Group]) -> GroupIndex<'a> {
        let mut out = GroupIndex {
            by_address: HashMap::new(),
            by_name: HashMap::new(),
        };
        for (k, g) in groups.iter().enumerate() {
            out.by_address.entry(g.address.as_str()).or_insert(k);
            out.by_name.entry(&g.name).or_insert(k);
        }
        out
    }
}

/// Streaming destinations by the table they name, each key to its first destination.
struct DestinationIndex<'a> {
    by_address: std::collections::HashMap<&'a str, usize>,
    by_name: std::collections::HashMap<&'a Template, usize>,
    by_arn: std::collections::HashMap<&'a Template, usize>,
}

impl<'a> DestinationIndex<'a> {
    fn new(destinations: &'a [crate::model::Destination]) -> DestinationIndex<'a> {
        let mut out = DestinationIndex {
            by_address: std::collections::HashMap::new(),
            by_name: std::collections::HashMap::new(),
            by_arn: std::collections::HashMap::new(),
        };
        for (k, d) in destinations.iter().enumerate() {
            match &d.table {
                TableRef::Address(a) => out.by_address.entry(a.as_str()).or_insert(k),
                TableRef::Name(n) => out.by_name.entry(n).or_insert(k),
                TableRef::Arn(a) => out.by_arn.entry(a).or_insert(k),
            };
        }
        out
    }
}

/// Whether a destination's stream ARN names this declared stream: the same template, its
/// name, or a literal ARN that equals the stream's once the run's account, region and
/// partition stand for whatever the literal names (or for their pinned values).
fn same_stream(arn: &Template, stream: &Stream, pins: &Pins) -> bool {
    if &stream.arn == arn || &stream.name == arn {
        return true;
    }
    let Some(literal) = arn.as_literal() else {
        return false;
    };
    if literal.contains(['*', '?']) {
        return false;
    }
    let declared = crate::iam::pattern::text_tokens(&stream.arn.pin(pins));
    crate::iam::pattern::match_resource(&Template::lit(literal), &declared) == crate::iam::pattern::Tri::Yes
}

/// Adds a policy to the graph's list, giving it its id (its index there); returns the index.
/// Every policy of the graph is added through here.
fn push_policy(policies: &mut Vec<PolicyNode>, mut node: PolicyNode) -> usize {
    let k = policies.len();
    node.policy.id = Some(PolicyId::at(k));
    policies.push(node);
    k
}

/// The stream ARN a destination names, as a template (unknown → opaque).
fn stream_template(v: &Value) -> Template {
    match &v.kind {
        ValueKind::Str(t) => t.clone(),
        ValueKind::Unknown(u) => Template::opaque(u.expr.clone(), u.reason.clone(), v.span),
        _ => Template::opaque(format!("a {}", v.type_name()), "not a stream ARN", v.span),
    }
}

/// What an attachment names when it is neither a declared policy nor a catalogued AWS
/// managed one, in the words of the unknown policy it becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Unresolved {
    /// A declared policy's address that names none.
    Address(String),
    /// An ARN no policy has.
    Arn(String),
    /// A value that is not a policy reference (an unknown, in words).
    Unknown(String),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Address(addr) => write!(f, "policy `{addr}`"),
            Unresolved::Arn(arn) | Unresolved::Unknown(arn) => f.write_str(arn),
        }
    }
}

fn describe_unknown(v: &Value) -> String {
    match &v.kind {
        ValueKind::Unknown(u) => format!("`{}`", u.expr),
        _ => format!("a {}", v.type_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, InputKind, Principal};

    #[test]
    fn an_unresolved_policy_is_named_as_it_was_written() {
        assert_eq!(
            Unresolved::Address("aws_iam_policy.p".into()).to_string(),
            "policy `aws_iam_policy.p`"
        );
        assert_eq!(
            Unresolved::Arn("arn:aws:iam::aws:policy/Nope".into()).to_string(),
            "arn:aws:iam::aws:policy/Nope"
        );
    }

    fn role(input: &mut Input, address: &str, name: &str) {
        input.principals.push(Principal {
            address: address.into(),
            kind: PrincipalKind::Role,
            name: Template::lit(name),
            arn: Template::lit(format!("arn:aws:iam::111122223333:role/{name}")),
            span: Span::builtin(),
        });
    }

    fn attach(input: &mut Input, policy: PolicyRef, target: Target, boundary: bool) {
        input.attachments.push(Attachment {
            policy,
            target,
            boundary,
            span: Span::builtin(),
            condition: None,
        });
    }

    #[test]
    fn identities_carried_by_references_win_over_equal_names() {
        use crate::model::{Destination, Group, Membership};
        use crate::value::Origin;
        let mut input = Input::new("in", InputKind::Terraform);
        for m in ["a", "b"] {
            input.principals.push(Principal {
                address: format!("module.{m}.aws_iam_user.u"),
                kind: PrincipalKind::User,
                name: Template::lit("same"),
                arn: Template::lit("arn:aws:iam::111122223333:user/same"),
                span: Span::builtin(),
            });
            input.groups.push(Group {
                address: format!("module.{m}.aws_iam_group.g"),
                name: Template::lit("same"),
                span: Span::builtin(),
            });
            input.tables.push(Table {
                address: format!("module.{m}.aws_dynamodb_table.t"),
                name: Template::lit("same"),
                arn: Template::lit("arn:aws:dynamodb:eu-west-1:111122223333:table/same"),
                span: Span::builtin(),
            });
            input.streams.push(Stream {
                address: format!("module.{m}.aws_kinesis_stream.s"),
                name: Template::lit("same"),
                arn: Template::lit("arn:aws:kinesis:eu-west-1:111122223333:stream/same"),
                kms_key: None,
                span: Span::builtin(),
            });
        }
        // Instance b's membership and destination, named by reference.
        input.memberships.push(Membership {
            user: Template::lit("same"),
            group: Template::lit("same"),
            user_address: Some("module.b.aws_iam_user.u".into()),
            group_address: Some("module.b.aws_iam_group.g".into()),
            span: Span::builtin(),
        });
        let mut stream_arn = Value::new(
            ValueKind::Str(Template::lit("arn:aws:kinesis:eu-west-1:111122223333:stream/same")),
            Span::builtin(),
        );
        stream_arn.origin = Some(std::sync::Arc::new(Origin {
            address: "module.b.aws_kinesis_stream.s".into(),
            rtype: "aws_kinesis_stream".into(),
            attribute: "arn".into(),
        }));
        input.destinations.push(Destination {
            address: "module.b.aws_dynamodb_kinesis_streaming_destination.d".into(),
            table: TableRef::Address("module.b.aws_dynamodb_table.t".into()),
            stream_arn,
            span: Span::builtin(),
        });
        let g = Graph::build(vec![input], &Pins::default());
        assert_eq!(g.memberships, [(1, 0, 1)]);
        let b = g
            .tables
            .iter()
            .find(|t| t.table.address == "module.b.aws_dynamodb_table.t");
        assert_eq!(
            b.and_then(|t| t.stream.clone()).as_deref(),
            Some("in#module.b.aws_kinesis_stream.s")
        );
    }

    #[test]
    fn groups_and_destination_tables_are_found_by_address_name_or_arn_the_first_declared_winning() {
        use crate::model::{Destination, Group, Membership};
        let mut input = Input::new("in", InputKind::Terraform);
        input.principals.push(Principal {
            address: "aws_iam_user.u".into(),
            kind: PrincipalKind::User,
            name: Template::lit("u"),
            arn: Template::lit("arn:aws:iam::111122223333:user/u"),
            span: Span::builtin(),
        });
        for g in ["g1", "g2"] {
            input.groups.push(Group {
                address: format!("aws_iam_group.{g}"),
                name: Template::lit("dup"),
                span: Span::builtin(),
            });
        }
        for (group, group_address) in [("dup", None), ("dup", Some("aws_iam_group.g2")), ("missing", None)] {
            input.memberships.push(Membership {
                user: Template::lit("u"),
                group: Template::lit(group),
                user_address: None,
                group_address: group_address.map(str::to_string),
                span: Span::builtin(),
            });
        }
        let admin = || PolicyRef::Arn(Template::lit("arn:aws:iam::aws:policy/AdministratorAccess"));
        attach(&mut input, admin(), Target::GroupName(Template::lit("dup")), false);
        attach(&mut input, admin(), Target::Address("aws_iam_group.g2".into()), false);
        let arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/t";
        input.tables.push(Table {
            address: "aws_dynamodb_table.t".into(),
            name: Template::lit("t"),
            arn: Template::lit(arn),
            span: Span::builtin(),
        });
        let stream = Value::new(
            ValueKind::Str(Template::lit("arn:aws:kinesis:eu-west-1:111122223333:stream/s")),
            Span::builtin(),
        );
        for (k, table) in [
            TableRef::Address("aws_dynamodb_table.t".into()),
            TableRef::Name(Template::lit("t")),
            TableRef::Arn(Template::lit(arn)),
            TableRef::Address("aws_dynamodb_table.other".into()),
        ]
        .into_iter()
        .enumerate()
        {
            input.destinations.push(Destination {
                address: format!("aws_dynamodb_kinesis_streaming_destination.d{k}"),
                table,
                stream_arn: stream.clone(),
                span: Span::builtin(),
            });
        }
        let g = Graph::build(vec![input], &Pins::default());
        // By name, the first group of that name; by address, the one named.
        assert_eq!(g.memberships, [(0, 0, 0), (0, 0, 1)]);
        let mut grouped: Vec<_> = g.group_policies.keys().copied().collect();
        grouped.sort_unstable();
        assert_eq!(grouped, [(0, 0), (0, 1)]);
        let notes: Vec<&str> = g.diagnostics.iter().map(|d| d.message.as_str()).collect();
        let count = |text: &str| notes.iter().filter(|n| n.contains(text)).count();
        assert_eq!(count("group `missing` is not declared in this input"), 1, "{notes:?}");
        assert_eq!(count("streaming destination's table is not declared"), 1, "{notes:?}");
        // The AWS managed policy is compiled from the catalogue and added once.
        let admins = g
            .policies
            .iter()
            .filter(|p| &*p.policy.address == "arn:aws:iam::aws:policy/AdministratorAccess")
            .count();
        assert_eq!(admins, 1);
    }

    #[test]
    fn an_unresolved_boundary_is_a_boundary_not_an_identity_policy() {
        let mut input = Input::new("in", InputKind::Terraform);
        role(&mut input, "aws_iam_role.r", "r");
        let unknown = Value::unknown("var.b", "variable b has no value", Span::builtin());
        attach(
            &mut input,
            PolicyRef::Unknown(unknown),
            Target::Address("aws_iam_role.r".into()),
            true,
        );
        attach(
            &mut input,
            PolicyRef::Arn(Template::lit("arn:aws:iam::111122223333:policy/undeclared")),
            Target::Address("aws_iam_role.r".into()),
            true,
        );
        let g = Graph::build(vec![input], &Pins::default());
        let p = &g.principals[0];
        assert!(p.unknown_policies.is_empty(), "{:?}", p.unknown_policies);
        assert!(p.policies.is_empty());
        assert_eq!(p.boundaries.len(), 2);
        for &b in &p.boundaries {
            let doc = &g.policies[b].policy.document;
            assert!(doc.statements.is_empty());
            assert!(
                doc.unknown
                    .as_ref()
                    .is_some_and(|(what, _)| what.starts_with("permissions boundary")),
                "{doc:?}"
            );
        }
        assert!(p.via.iter().all(|v| v.boundary));
    }

    #[test]
    fn every_policy_is_named_by_its_index() {
        let mut input = Input::new("in", InputKind::Terraform);
        role(&mut input, "aws_iam_role.r", "r");
        for arn in [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::111122223333:policy/undeclared",
        ] {
            attach(
                &mut input,
                PolicyRef::Arn(Template::lit(arn)),
                Target::Address("aws_iam_role.r".into()),
                true,
            );
        }
        let g = Graph::build(vec![input], &Pins::default());
        assert!(g.policies.len() >= 2, "{:?}", g.policies);
        for (k, p) in g.policies.iter().enumerate() {
            assert_eq!(p.policy.id, Some(PolicyId::at(k)), "{}", p.policy.address);
            assert!(g.policy(PolicyId::at(k)).is_some_and(|q| std::ptr::eq(q, p)));
        }
        assert!(g.policy(PolicyId::at(g.policies.len())).is_none());
        // The bundled document as the catalogue holds it has no id; the graph's copy has.
        let bundled = catalog::aws_managed_document("AdministratorAccess").map(|p| p.id);
        assert_eq!(bundled, Some(None));
    }

    #[test]
    fn aws_managed_names_are_read_from_their_arns() {
        let name = crate::iam::arn::aws_managed_policy_name;
        assert_eq!(
            name(&Template::lit(
                "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"
            ))
            .as_deref(),
            Some("AWSLambdaKinesisExecutionRole")
        );
        assert_eq!(
            name(&crate::iam::arn::aws_managed_policy("/AdministratorAccess")).as_deref(),
            Some("AdministratorAccess")
        );
        assert_eq!(name(&Template::lit("arn:aws:iam::111122223333:policy/mine")), None);
        assert_eq!(name(&Template::lit("AdministratorAccess")), None);
    }
}
