//! Capability decisions: every principal × capability × resource, computed once and shared
//! by rules, queries and reports.
//!
//! A capability's requirements are evaluated with [`crate::iam::eval::decide`] and combined
//! with the precedence denied > not_allowed > conditional > allowed. Table capabilities are
//! evaluated on every declared table and once more on `*` (every table the inputs do not
//! declare); SLR capabilities on the service-linked role.

use rayon::prelude::*;

use crate::Config;
use crate::catalog::{Capabilities, Capability, On, Requirement, TargetKind};
use crate::config::glob_matches;
use crate::graph::{Graph, PrincipalClass, PrincipalNode, slr_arn};
use crate::iam::condition::Context;
use crate::iam::eval::{Because, Decision, Layers, Open, Outcome, Policy, Request, decide, full_aws_access};
use crate::iam::pattern::{Tok, text_tokens};
use crate::value::{Pins, Symbol, Template};

/// What a capability was evaluated on.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Target {
    /// A declared table (index into [`Graph::tables`]).
    Table(usize),
    /// Every table the inputs do not declare.
    AllTables,
    /// The service-linked role (index into [`Graph::slrs`]).
    Slr(usize),
}

/// One requirement's decision.
#[derive(Clone, Debug)]
pub struct RequirementDecision {
    pub action: String,
    pub primary: bool,
    pub decision: Decision,
}

/// The decision for one (principal, capability, target).
#[derive(Clone, Debug)]
pub struct Access {
    pub principal: usize,
    pub capability: String,
    pub target: Target,
    pub outcome: Outcome,
    pub requirements: Vec<RequirementDecision>,
    /// A probe for a rule, not listed in reports.
    pub internal: bool,
}

impl Access {
    /// Actions of the requirements that no Allow reaches.
    pub fn missing(&self) -> Vec<String> {
        self.requirements
            .iter()
            .filter(|r| r.decision.outcome == Outcome::NotAllowed)
            .map(|r| r.action.clone())
            .collect()
    }

    /// Whether the capability's primary action is allowed or conditional.
    pub fn primary_granted(&self) -> bool {
        self.requirements.iter().any(|r| r.primary && r.decision.outcome.can())
    }

    /// Whether the report lists it: any decision but `not_allowed`, or a partial grant.
    pub fn reported(&self) -> bool {
        !self.internal && (self.outcome != Outcome::NotAllowed || self.primary_granted())
    }

    /// The deciding statements of every requirement, de-duplicated, in requirement order.
    pub fn because(&self) -> Vec<(&str, &Because)> {
        let mut out: Vec<(&str, &Because)> = Vec::new();
        for r in &self.requirements {
            let relevant = match self.outcome {
                Outcome::Denied => r.decision.outcome == Outcome::Denied,
                _ => true,
            };
            if !relevant {
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
}

/// Evaluates every capability for every principal. Deterministic: the result is ordered by
/// principal, capability order in the catalogue, then target.
/// **Invariant:** ordered by principal index (rules look a principal's decisions up by
/// binary search).
pub fn evaluate(graph: &Graph, caps: &Capabilities, config: &Config) -> Vec<Access> {
    let resources = Resources::prepare(graph, &config.pins);
    let per_principal: Vec<Vec<Access>> = (0..graph.principals.len())
        .into_par_iter()
        .map(|p| evaluate_principal(graph, caps, config, &resources, p))
        .collect();
    per_principal.into_iter().flatten().collect()
}

/// A request resource as tokens, and the ARN whose resource policies govern it.
type Resource = (Vec<Tok>, Option<Template>);

/// Every request resource of the run, built once and shared by all principals.
struct Resources {
    /// Per declared table: its ARN, and its destination stream (`None`: some stream).
    tables: Vec<(Resource, Option<Resource>)>,
    every_table: Resource,
    some_stream: Resource,
    any: Resource,
    slr: Resource,
    other_slr: Resource,
}

impl Resources {
    fn prepare(graph: &Graph, pins: &Pins) -> Resources {
        let exact = |arn: &Template| (text_tokens(&arn.pin(pins)), Some(arn.clone()));
        Resources {
            tables: graph
                .tables
                .iter()
                .map(|t| (exact(&t.table.arn), t.stream_arn.as_ref().map(exact)))
                .collect(),
            every_table: (quantified("dynamodb", "table/", pins, Tok::Every), None),
            some_stream: (quantified("kinesis", "stream/", pins, Tok::Some), None),
            any: (text_tokens(&Template::lit("*")), None),
            slr: (text_tokens(&slr_arn().pin(pins)), None),
            other_slr: (text_tokens(&other_slr_arn().pin(pins)), None),
        }
    }

    /// The resource a requirement is evaluated on for a target, and whether that resource
    /// is the same for every target (so its decision can be shared).
    fn for_target(&self, target: &Target, on: On) -> (&Resource, bool) {
        match (on, target) {
            (On::Any, _) => (&self.any, true),
            (On::Slr, _) => (&self.slr, true),
            (On::OtherSlr, _) => (&self.other_slr, true),
            (On::Table, Target::Table(t)) => (&self.tables[*t].0, false),
            (On::Table, _) => (&self.every_table, false),
            (On::Stream, Target::Table(t)) => match &self.tables[*t].1 {
                Some(stream) => (stream, false),
                None => (&self.some_stream, true),
            },
            (On::Stream, _) => (&self.some_stream, true),
        }
    }
}

/// Whether the declared SCPs apply to this principal (config `scps.apply-to`; default all).
fn scps_apply(principal: &PrincipalNode, config: &Config) -> bool {
    config.scp_apply_to.as_ref().is_none_or(|globs| {
        globs.iter().any(|g| {
            glob_matches(g, &principal.address)
                || glob_matches(g, &principal.name.to_string())
                || glob_matches(g, &principal.id)
        })
    })
}

fn evaluate_principal(
    graph: &Graph,
    caps: &Capabilities,
    config: &Config,
    resources: &Resources,
    p: usize,
) -> Vec<Access> {
    let principal = &graph.principals[p];
    let layers = Layers {
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
    };
    let principal_arn = principal.arn.pin(&config.pins);
    let base_context = principal_context(principal, &principal_arn);
    let eval = Evaluation {
        graph,
        layers: &layers,
        principal_arn: &principal_arn,
        base_context: &base_context,
        resources,
    };
    let mut out = Vec::new();
    for cap in &caps.capabilities {
        let targets: Vec<Target> = match cap.target {
            TargetKind::Table => (0..graph.tables.len())
                .map(Target::Table)
                .chain(std::iter::once(Target::AllTables))
                .collect(),
            TargetKind::Slr => (0..graph.slrs.len()).map(Target::Slr).collect(),
        };
        // Requests that do not depend on the target are decided once per capability.
        let mut shared: Vec<Option<Decision>> = vec![None; cap.requirements.len()];
        for target in targets {
            out.push(eval.one(p, cap, target, &mut shared));
        }
    }
    out
}

/// What one principal's requests share.
struct Evaluation<'a> {
    graph: &'a Graph,
    layers: &'a Layers<'a>,
    principal_arn: &'a Template,
    base_context: &'a Context,
    resources: &'a Resources,
}

impl Evaluation<'_> {
    fn one(&self, p: usize, cap: &Capability, target: Target, shared: &mut [Option<Decision>]) -> Access {
        let mut requirements = Vec::new();
        for (k, req) in cap.requirements.iter().enumerate() {
            let ((resource, governed_by), same_for_all) = self.resources.for_target(&target, req.on);
            let decision = match shared.get(k).and_then(Option::as_ref) {
                Some(d) if same_for_all => d.clone(),
                _ => {
                    let d = self.decide(req, resource, governed_by.as_ref());
                    if same_for_all && let Some(slot) = shared.get_mut(k) {
                        *slot = Some(d.clone());
                    }
                    d
                }
            };
            requirements.push(RequirementDecision {
                action: req.action.clone(),
                primary: req.primary,
                decision,
            });
        }
        let outcome = requirements
            .iter()
            .map(|r| r.decision.outcome)
            .max_by_key(|o| o.rank())
            .unwrap_or(Outcome::NotAllowed);
        Access {
            principal: p,
            capability: cap.id.clone(),
            target,
            outcome,
            requirements,
            internal: cap.internal,
        }
    }

    fn decide(&self, req: &Requirement, resource: &[Tok], governed_by: Option<&Template>) -> Decision {
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
        let request = Request::new(&req.action, resource.to_vec(), Some(self.principal_arn), ctx);
        decide(self.layers, &resource_policies, &request)
    }
}

/// Another service's service-linked role (EMR's), for the KDS003 probe.
fn other_slr_arn() -> Template {
    let mut t = Template::lit("arn:");
    t.push_sym(Symbol::Partition);
    t.push_str(":iam::");
    t.push_sym(Symbol::Account);
    t.push_str(":role/aws-service-role/elasticmapreduce.amazonaws.com/AWSServiceRoleForEMRCleanup");
    t
}

/// `arn:<partition>:<service>:<region>:<account>:<prefix>` followed by a quantified name.
fn quantified(service: &str, prefix: &str, pins: &Pins, tok: Tok) -> Vec<Tok> {
    let mut t = Template::lit("arn:");
    t.push_sym(Symbol::Partition);
    t.push_str(&format!(":{service}:"));
    t.push_sym(Symbol::Region);
    t.push_str(":");
    t.push_sym(Symbol::Account);
    t.push_str(&format!(":{prefix}"));
    let mut toks = text_tokens(&t.pin(pins));
    toks.push(tok);
    toks
}

/// The principal-derived condition keys the templates determine.
fn principal_context(p: &PrincipalNode, arn: &Template) -> Context {
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
