//! One request against the layers of policies that apply to it, in AWS's order, giving a
//! [`Decision`] with its proof.
//!
//! The order follows AWS's "Policy evaluation logic" pages ("How AWS enforcement code logic
//! evaluates requests", "Cross-account policy evaluation logic"):
//! 1. an explicit Deny in any applicable policy (identity, boundary, SCPs, session, resource)
//!    wins;
//! 2. every SCP level (root first) must have an Allow — SCPs never apply to service-linked
//!    roles;
//! 3. same account: an identity Allow capped by the permissions boundary and the session
//!    policy, or a resource-policy Allow naming the principal. A resource-policy Allow naming
//!    an IAM user or a role *session* directly is not capped by the boundary or session
//!    policy; one naming the role ARN is ("Permissions boundaries for IAM entities",
//!    evaluating effective permissions with resource-based policies);
//! 4. cross account: both the identity side (capped) and the resource policy must allow.
//!
//! A KMS action on a KMS key is the exception to 3: the key policy is the key's primary
//! access control, so an identity Allow counts only where the key policy delegates to IAM
//! (names the account or its root) or names the caller ("Key policies in AWS KMS": "Unless
//! the key policy explicitly allows it, you cannot use IAM policies to allow access to a
//! KMS key"). With no key policy given, such a request is `not_allowed`, lacking the
//! resource layer. (`check` never decides key requests; a declared key without a policy
//! has AWS's default key policy, which delegates to IAM.)
//!
//! An Allow that only might match makes the answer `conditional`; a Deny that only might
//! match never denies, it makes an otherwise allowed answer `conditional`. A policy whose
//! document cannot be read (in any layer, or an unknown identity policy) is such a Deny: it
//! may deny anything, so an answer it applies to is at best `conditional`, naming it.
//!
//! Layers that only restrict (permissions boundary, SCPs, session policy) are caps: a
//! request passes when the identity side allows it *and* each cap allows it. A cap whose
//! document is unknown ([`Document::unknown`]) is a "maybe" cap: it turns an identity
//! `allowed` into `conditional` and leaves an identity `not_allowed` as it is. It never
//! grants by itself, and as none of its statements is known it never denies.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::iam::condition::{self, Context};
use crate::iam::pattern::{ArnSplit, Tok, Tri, match_resource_with, text_tokens};
use crate::iam::policy::{Document, Effect, Pat, Principals, Statement, Which};
use crate::iam::principal::{Caller, CallerKind, PrincipalMatch};
use crate::source::Span;
use crate::value::Template;

/// Which layer a policy belongs to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum Layer {
    Identity,
    Boundary,
    Scp,
    Resource,
    Session,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Identity => "identity",
            Layer::Boundary => "boundary",
            Layer::Scp => "scp",
            Layer::Resource => "resource",
            Layer::Session => "session",
        }
    }
}

/// A parsed policy and where it came from: proofs name it by its id, and show its address.
#[derive(Clone, Debug)]
pub struct Policy {
    /// What reports call it. Shared, so that proofs show it without copying.
    pub address: Arc<str>,
    /// Its id in the run's graph, set where the graph adds it (see [`PolicyId`]); `None`
    /// for a policy no graph holds.
    pub id: Option<PolicyId>,
    pub document: Document,
}

impl Policy {
    /// A policy outside any graph (no id yet).
    pub fn new(address: impl Into<Arc<str>>, document: Document) -> Policy {
        Policy {
            address: address.into(),
            id: None,
            document,
        }
    }
}

/// A policy of the run: its index in the graph's list of policies (`Graph::policies`),
/// which the graph gives each policy as it adds it, so that a proof ([`Because::policy_id`])
/// names its policy without a look-up by address. Policies no graph holds have none: the
/// simulator's documents, the bundled AWS managed documents as the catalogue compiles them
/// (the graph's copy of one, once attached, has its own id), AWS's `FullAWSAccess` SCP
/// (never in a proof), and the documents of tests.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct PolicyId(pub u32);

impl PolicyId {
    /// The id of the policy at `index` of the graph's list (saturating: a run holds far
    /// fewer than 2^32 policies).
    pub fn at(index: usize) -> PolicyId {
        PolicyId(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// Its index in the graph's list of policies.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The address of the built-in `FullAWSAccess` SCP.
pub(crate) const FULL_AWS_ACCESS: &str = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess";

/// AWS's default SCP, attached at every level unless removed: allows everything. Declared
/// SCPs are evaluated in one level with it, so that only their Denies bite.
pub fn full_aws_access() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let star = || Which::Listed(vec![Pat::new(Template::lit("*"), Span::builtin())]);
        Policy {
            address: FULL_AWS_ACCESS.into(),
            id: None,
            document: Document {
                version: Some("2012-10-17".to_string()),
                statements: vec![Statement {
                    sid: Some("FullAWSAccess".to_string()),
                    effect: Effect::Allow,
                    actions: star(),
                    resources: star(),
                    principal: None,
                    not_principal: false,
                    conditions: Vec::new(),
                    span: Span::builtin(),
                    effect_unknown: None,
                    action_lookup: Default::default(),
                }],
                unknown: None,
            },
        }
    })
}

/// A policy that could not be read (an unknown managed ARN, an unresolved reference):
/// it may allow or deny anything, so it never allows, denies, or leaves a decision
/// `allowed` for certain.
#[derive(Clone, Debug)]
pub(crate) struct UnknownPolicy {
    pub what: String,
    pub span: Span,
}

/// The policies that apply to one principal's requests (the resource layer is per request).
#[derive(Clone, Debug, Default)]
pub struct Layers<'a> {
    pub identity: Vec<&'a Policy>,
    pub(crate) unknown_identity: Vec<&'a UnknownPolicy>,
    /// The permissions boundary (empty: none). Several documents are read as one policy.
    pub boundary: Vec<&'a Policy>,
    /// SCP levels, root first; each level is the documents attached there and must allow.
    /// Empty: no SCPs. See [`full_aws_access`] for declared-SCPs-only evaluation.
    pub scps: Vec<Vec<&'a Policy>>,
    /// The session policy of an assumed-role session (empty: none).
    pub session: Vec<&'a Policy>,
}

/// One request.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub action: &'a str,
    /// The resource as an Allow must cover it (may end in [`Tok::Some`]).
    pub resource: Cow<'a, [Tok]>,
    /// The resource as a Deny must cover it to deny for certain ([`Tok::Some`] → [`Tok::Every`]).
    pub(crate) deny_resource: Cow<'a, [Tok]>,
    /// The caller's ARN (for resource policies' `Principal`).
    pub(crate) principal_arn: Option<&'a Template>,
    /// `principal_arn` parsed, where the asker parsed it once for many requests
    /// ([`Request::with_caller`]); else [`decide`] parses it.
    pub caller: Option<&'a Caller>,
    /// The account that owns the resource; default: the resource ARN's, else the caller's.
    pub(crate) resource_account: Option<&'a Template>,
    pub context: &'a Context,
    /// The resource policy is a role's trust policy (`sts:AssumeRole` on the role): AWS's
    /// role-trust rules apply (see [`decide`]).
    pub trust: bool,
    /// How the layers' statements match this action, found once for many requests
    /// ([`Request::with_view`]).
    pub view: Option<&'a ActionView>,
    /// Where the ARN segments of `resource` (and of `deny_resource`, which differs from it
    /// in wildcards only) are: found on the first statement that needs them (most
    /// statements end in another name and never do), then read by the others.
    split: std::cell::OnceCell<Option<ArnSplit>>,
}

impl<'a> Request<'a> {
    pub fn new(action: &'a str, resource: Vec<Tok>, principal_arn: Option<&'a Template>, context: &'a Context) -> Self {
        Request::over(action, Cow::Owned(resource), principal_arn, context)
    }

    /// A request on a resource the asker keeps (not copied unless a Deny must read it
    /// otherwise).
    pub fn over(
        action: &'a str,
        resource: Cow<'a, [Tok]>,
        principal_arn: Option<&'a Template>,
        context: &'a Context,
    ) -> Self {
        // `matches!`, not `==`: a derived comparison per token was 2 % of a large run.
        let deny_resource = if resource.iter().any(|t| matches!(t, Tok::Some)) {
            Cow::Owned(
                resource
                    .iter()
                    .map(|t| if matches!(t, Tok::Some) { Tok::Every } else { t.clone() })
                    .collect(),
            )
        } else {
            resource.clone()
        };
        Request {
            action,
            split: std::cell::OnceCell::new(),
            resource,
            deny_resource,
            principal_arn,
            caller: None,
            resource_account: None,
            context,
            trust: false,
            view: None,
        }
    }

    /// The request read through a view of the layers it is decided against, built for its
    /// action ([`ActionView::new`]); a view of other layers or another action is not used.
    pub(crate) fn with_view(mut self, view: &'a ActionView) -> Self {
        debug_assert_eq!(view.action, self.action, "the view is for the request's action");
        self.view = Some(view);
        self
    }

    /// The request with its caller parsed already (`caller` must be `principal_arn` parsed).
    pub(crate) fn with_caller(mut self, caller: &'a Caller) -> Self {
        debug_assert_eq!(
            self.principal_arn,
            Some(&caller.arn),
            "the caller parsed is the request's"
        );
        self.caller = Some(caller);
        self
    }

    /// A request on a resource given as a template.
    pub fn on(action: &'a str, resource: &Template, principal_arn: Option<&'a Template>, context: &'a Context) -> Self {
        Request::new(action, text_tokens(resource), principal_arn, context)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum Outcome {
    Allowed,
    Conditional,
    NotAllowed,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Conditional => "conditional",
            Outcome::NotAllowed => "not_allowed",
            Outcome::Denied => "denied",
        }
    }

    /// Precedence when several requirements combine: denied > not_allowed > conditional > allowed.
    pub fn rank(self) -> u8 {
        match self {
            Outcome::Allowed => 0,
            Outcome::Conditional => 1,
            Outcome::NotAllowed => 2,
            Outcome::Denied => 3,
        }
    }

    /// "Can" in the rules' sense.
    pub fn can(self) -> bool {
        matches!(self, Outcome::Allowed | Outcome::Conditional)
    }
}

/// A statement that took part in a decision.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Because {
    pub effect: Effect,
    pub layer: Layer,
    /// The policy's address, as reports show it.
    pub policy: Arc<str>,
    /// The policy ([`Policy::id`]): what readers resolve it by.
    pub(crate) policy_id: Option<PolicyId>,
    pub sid: Option<String>,
    /// The statement.
    pub statement: Span,
    /// The statement's position among its policy's statements.
    pub(crate) statement_index: u32,
    /// The action string that matched (or the `NotAction` key).
    pub action: Option<Span>,
    /// Whether it applies for certain (`false`: only under an undecided condition or value).
    pub certain: bool,
    /// Whether the statement names the action exactly (not through a wildcard or
    /// `NotAction`): a property of the match, read by KDS006.
    pub named: bool,
}

/// Something that left a decision open.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Open {
    Condition {
        key: String,
        operator: String,
        values: Vec<String>,
        span: Span,
    },
    Unknown {
        expr: String,
        span: Span,
    },
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Decision {
    pub outcome: Outcome,
    pub because: Vec<Because>,
    pub open: Vec<Open>,
    /// For `not_allowed`: the layers in which no Allow applies.
    pub(crate) lacking: Vec<Layer>,
}

/// How a statement relates to a request.
struct StatementMatch {
    tri: Tri,
    action: Option<Span>,
    /// Whether the action matched by its exact name (not a wildcard, not `NotAction`).
    named: bool,
    open: Vec<Open>,
}

/// The Allows of one layer: how well they match, their statements, and what is open.
#[derive(Default)]
struct Allows {
    tri: Tri,
    because: Vec<Because>,
    open: Vec<Open>,
}

impl Allows {
    fn absent() -> Allows {
        Allows {
            tri: Tri::Yes,
            ..Allows::default()
        }
    }
}

/// A policy parsed from JSON text, for tests (a text that does not parse is an unknown
/// document).
#[cfg(test)]
pub(crate) fn policy_from_json(json: &str) -> Policy {
    let file = crate::source::FileId::for_path("p.json");
    let v = crate::json::parse(json, file, 0)
        .unwrap_or_else(|e| crate::value::Value::unknown("", e.message, Span::builtin()));
    Policy::new("p", crate::iam::policy::parse(&v).0)
}

/// Decides one request.
pub fn decide(layers: &Layers<'_>, resource_policies: &[&Policy], req: &Request<'_>) -> Decision {
    let parsed;
    let caller: Option<&Caller> = match req.caller {
        Some(c) => Some(c),
        None => {
            parsed = req.principal_arn.map(Caller::parse);
            parsed.as_ref()
        }
    };
    let scps_apply = !caller.is_some_and(Caller::is_service_linked_role);
    let view = req.view.filter(|v| v.fits(layers, req.action));

    // 1. Explicit Deny anywhere.
    let Denies {
        mut because,
        open: deny_open,
        denied,
        maybe: maybe_denied,
    } = explicit_denies(layers, resource_policies, req, caller, view, scps_apply);
    if denied {
        because.retain(|b| b.effect == Effect::Deny && b.certain);
        return Decision {
            outcome: Outcome::Denied,
            because,
            open: Vec::new(),
            lacking: Vec::new(),
        };
    }

    // 2. Every SCP level must allow.
    let scp = if scps_apply {
        scp_allows(layers, view, req)
    } else {
        Allows::absent()
    };

    // 3. Boundary and session policy cap the identity side.
    let IdentitySide {
        boundary,
        session,
        identity,
    } = identity_side(layers, view, req);
    let resource = resource_allows(resource_policies, req, caller);

    // 4. Same account: union; cross account: both sides. A key request needs the key
    //    policy in the same account too (see the module docs).
    let key_request = key_policy_required(req);
    let same = same_account(req, caller);
    let capped = boundary.tri.and(session.tri);
    let grant = grant(req, caller, same, key_request, identity.tri, capped, &resource);
    let total = scp.tri.and(grant);

    let outcome = match total {
        Tri::No => Outcome::NotAllowed,
        Tri::Maybe => Outcome::Conditional,
        Tri::Yes if maybe_denied => Outcome::Conditional,
        Tri::Yes => Outcome::Allowed,
    };
    if outcome == Outcome::NotAllowed {
        let lacking_resource = resource.any.tri == Tri::No && (same != Tri::Yes || key_request || req.trust);
        return Decision {
            outcome,
            because: Vec::new(),
            open: Vec::new(),
            lacking: lacking(scp.tri, boundary.tri, session.tri, identity.tri, lacking_resource),
        };
    }
    let mut open = deny_open;
    for layer in [scp, boundary, session, identity, resource.any] {
        if layer.tri == Tri::No {
            continue;
        }
        if total == Tri::Yes {
            because.extend(layer.because.into_iter().filter(|b| b.certain));
        } else {
            because.extend(layer.because);
            open.extend(layer.open);
        }
    }
    dedup(&mut open);
    Decision {
        outcome,
        because,
        open,
        lacking: Vec::new(),
    }
}

/// The explicit Denies of step 1, in the order of the layers.
struct Denies {
    /// The Deny statements that may apply, certain or not.
    because: Vec<Because>,
    /// What leaves the possible Denies open.
    open: Vec<Open>,
    /// Some Deny applies for certain.
    denied: bool,
    /// Some Deny may apply, or a policy that cannot be read may hold one.
    maybe: bool,
}

/// Step 1 of [`decide`]: the Deny statements of every policy the request is decided
/// against (the SCPs where they apply) that may match it, and the policies that cannot be
/// read, which may hold one.
fn explicit_denies(
    layers: &Layers<'_>,
    resource_policies: &[&Policy],
    req: &Request<'_>,
    caller: Option<&Caller>,
    view: Option<&ActionView>,
    scps_apply: bool,
) -> Denies {
    let has_boundary = !layers.boundary.is_empty();
    let mut because = Vec::new();
    let mut deny_open = Vec::new();
    let mut denied = false;
    let mut maybe_denied = false;
    for (layer, policy, view) in layered(layers, view, scps_apply, resource_policies) {
        // A statement whose `Effect` is unknown may be a Deny (only ever a possible one).
        let denies =
            |((_, s), _): &(At<'_>, Option<&ActionMatch>)| s.effect == Effect::Deny || s.effect_unknown.is_some();
        for ((k, s), given) in candidates(policy, view).filter(denies) {
            let mut m = statement_match_with(s, &policy.document, req, true, given);
            if m.tri != Tri::No && layer == Layer::Resource {
                m.tri = m.tri.and(deny_principal(s, caller, has_boundary));
            }
            if m.tri == Tri::No {
                continue;
            }
            let certain = m.tri == Tri::Yes;
            denied |= certain;
            maybe_denied |= !certain;
            let mut b = because_of((k, s), policy, layer, &m, certain);
            b.effect = Effect::Deny;
            because.push(b);
            if !certain {
                deny_open.extend(m.open);
            }
        }
        if let Some((what, span)) = &policy.document.unknown {
            // A document that cannot be read may hold a Deny of anything: it keeps the
            // decision open, and as it may as well hold none, it never denies.
            maybe_denied = true;
            deny_open.push(Open::Unknown {
                expr: what.clone(),
                span: *span,
            });
        }
    }
    for u in &layers.unknown_identity {
        maybe_denied = true;
        deny_open.push(Open::Unknown {
            expr: u.what.clone(),
            span: u.span,
        });
    }
    Denies {
        because,
        open: deny_open,
        denied,
        maybe: maybe_denied,
    }
}

/// The view's entries for the `n` policies from position `at` ([`ActionView::at`]).
fn view_part(view: Option<&ActionView>, at: usize, n: usize) -> Option<&[Arc<Viewed>]> {
    view.map(|v| &v.per_policy[at..at + n])
}

/// Step 2 of [`decide`]: every SCP level must allow. The Allows of all levels, the levels'
/// `tri` combined (AWS's default `FullAWSAccess` is left out of the proof).
fn scp_allows(layers: &Layers<'_>, view: Option<&ActionView>, req: &Request<'_>) -> Allows {
    let mut scp = Allows::absent();
    for (l, level) in layers.scps.iter().enumerate() {
        let a = best_allow(
            level,
            view_part(view, ActionView::at(layers, Layer::Scp, l), level.len()),
            Layer::Scp,
            req,
        );
        scp.tri = scp.tri.and(a.tri);
        scp.because
            .extend(a.because.into_iter().filter(|b| &*b.policy != FULL_AWS_ACCESS));
        scp.open.extend(a.open);
    }
    scp
}

/// The identity side of step 3: the identity policies' Allows and the caps on them.
struct IdentitySide {
    /// The permissions boundary's Allows (absent: no cap).
    boundary: Allows,
    /// The session policy's Allows (absent: no cap).
    session: Allows,
    /// The identity policies' Allows, an unknown identity policy making one possible.
    identity: Allows,
}

/// Step 3 of [`decide`]: the Allows of the identity policies and of the boundary and
/// session policy that cap them (`Tri::and`: an unknown cap is Maybe, so it can lower Yes
/// to Maybe but never raise No).
fn identity_side(layers: &Layers<'_>, view: Option<&ActionView>, req: &Request<'_>) -> IdentitySide {
    let part = |at: usize, n: usize| view_part(view, at, n);
    let boundary = if !layers.boundary.is_empty() {
        let at = ActionView::at(layers, Layer::Boundary, 0);
        best_allow(&layers.boundary, part(at, layers.boundary.len()), Layer::Boundary, req)
    } else {
        Allows::absent()
    };
    let session = if !layers.session.is_empty() {
        let at = ActionView::at(layers, Layer::Session, 0);
        best_allow(&layers.session, part(at, layers.session.len()), Layer::Session, req)
    } else {
        Allows::absent()
    };
    let mut identity = best_allow(&layers.identity, part(0, layers.identity.len()), Layer::Identity, req);
    if identity.tri < Tri::Yes {
        for u in &layers.unknown_identity {
            identity.tri = identity.tri.or(Tri::Maybe);
            identity.open.push(Open::Unknown {
                expr: u.what.clone(),
                span: u.span,
            });
        }
    }
    IdentitySide {
        boundary,
        session,
        identity,
    }
}

/// Step 4 of [`decide`]: how far the identity side (`identity`, capped by `capped`, the
/// boundary and session policy together) and the resource policies grant the request,
/// before the SCPs. `same`: whether the caller and the resource are in one account;
/// `key_request`: a KMS request that needs the key policy in the same account too.
fn grant(
    req: &Request<'_>,
    caller: Option<&Caller>,
    same: Tri,
    key_request: bool,
    identity: Tri,
    capped: Tri,
    resource: &ResourceAllows,
) -> Tri {
    let via_identity = identity.and(capped);
    let cross_grant = via_identity.and(resource.any.tri);
    let from_resource = resource.uncapped.or(resource.capped.and(capped));
    let same_grant = if req.trust {
        // Role trust ("How IAM roles differ from resource-based policies"): the trust
        // policy must allow the caller; in the same account naming the caller's own ARN is
        // enough, naming its account root, `*` or a pattern needs an identity Allow too.
        let named = if caller.is_some_and(|c| c.kind == CallerKind::Role) {
            resource.named.and(capped)
        } else {
            resource.named
        };
        named.or(cross_grant)
    } else if key_request {
        from_resource.or(cross_grant)
    } else {
        via_identity.or(from_resource)
    };
    match same {
        Tri::Yes => same_grant,
        Tri::No => cross_grant,
        Tri::Maybe if cross_grant == Tri::Yes => Tri::Yes,
        Tri::Maybe if same_grant == Tri::No => Tri::No,
        Tri::Maybe => Tri::Maybe,
    }
}

/// The layers a `not_allowed` answer lacks an Allow in, in AWS's order: those whose Allows
/// certainly do not match (`resource`: the resource layer had to allow and does not).
fn lacking(scp: Tri, boundary: Tri, session: Tri, identity: Tri, resource: bool) -> Vec<Layer> {
    let mut lacking = Vec::new();
    if scp == Tri::No {
        lacking.push(Layer::Scp);
    }
    if boundary == Tri::No {
        lacking.push(Layer::Boundary);
    }
    if session == Tri::No {
        lacking.push(Layer::Session);
    }
    if identity == Tri::No {
        lacking.push(Layer::Identity);
    }
    if resource {
        lacking.push(Layer::Resource);
    }
    lacking
}

/// Whether a statement's action element could cover one of `actions` (so its resource
/// patterns can matter to a request for it).
pub(crate) fn statement_concerns(s: &Statement, actions: &[&str]) -> bool {
    match &s.actions {
        Which::Listed(pats) => actions.iter().any(|a| s.match_action_list(pats, a).0 != Tri::No),
        // A `NotAction` covers an action unless a listed pattern certainly names it.
        Which::Not(pats, _) => actions.iter().any(|a| s.match_action_list(pats, a).0 != Tri::Yes),
        Which::Unknown(..) => true,
        Which::Absent => false,
    }
}

/// Whether a statement's resource patterns are rewritten per request by policy variables
/// (so no index of patterns can answer for it).
pub(crate) fn statement_has_variables(s: &Statement, doc: &Document) -> bool {
    let vars = |w: &Which| match w {
        Which::Listed(pats) | Which::Not(pats, _) => pats.iter().any(Pat::has_variables),
        _ => false,
    };
    doc.has_policy_variables() && vars(&s.resources)
}

/// The resource patterns of the identity-layer Allow statements that may grant `req`: the
/// resources a grant of it can be about.
pub(crate) fn allow_patterns<'a>(layers: &Layers<'a>, req: &Request<'_>) -> Vec<&'a Template> {
    let mut out = Vec::new();
    for policy in &layers.identity {
        for s in policy.document.statements.iter().filter(|s| s.effect == Effect::Allow) {
            if statement_match(s, &policy.document, req, false).tri == Tri::No {
                continue;
            }
            if let Which::Listed(pats) = &s.resources {
                out.extend(pats.iter().map(|p| &p.text));
            }
        }
    }
    out
}

/// A resource pattern matched with its compiled form, unless policy variables rewrite it.
/// `resource` is the request's `resource` or `deny_resource` (both split as `req.split`).
fn match_resource_pat(p: &Pat, req: &Request<'_>, resource: &[Tok], vars: Option<&Context>) -> (Tri, Vec<String>) {
    if vars.is_some() && p.has_variables() {
        return match_resource_with(&p.text, resource, vars);
    }
    let split = || *req.split.get_or_init(|| ArnSplit::of(&req.resource));
    (p.compiled().matches_split(resource, split), Vec::new())
}

/// Whether the request is a KMS action on a KMS key (`arn:<partition>:kms:<region>:
/// <account>:key/<id>`), which only the key policy can open (directly, or by delegating to
/// the account's IAM policies).
pub(crate) fn key_policy_required(req: &Request<'_>) -> bool {
    if !req
        .action
        .get(..4)
        .is_some_and(|service| service.eq_ignore_ascii_case("kms:"))
    {
        return false;
    }
    // The literal text of segments 0 (`arn`), 2 (the service) and the start of 5.
    let (mut seg, mut arn, mut service, mut resource) = (0, String::new(), String::new(), String::new());
    for t in req.resource.iter() {
        match (seg, t) {
            (0..=4, Tok::Char(':')) => seg += 1,
            (0, Tok::Char(c)) => arn.push(*c),
            (2, Tok::Char(c)) => service.push(*c),
            (5, Tok::Char(c)) if resource.len() < 4 => resource.push(*c),
            (5, _) => break,
            _ => {}
        }
    }
    seg == 5 && arn == "arn" && service == "kms" && resource == "key/"
}

fn dedup<T: PartialEq>(v: &mut Vec<T>) {
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    for x in v.drain(..) {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    *v = out;
}

/// Whether the resource's account is the caller's.
fn same_account(req: &Request<'_>, caller: Option<&Caller>) -> Tri {
    let Some(caller) = caller else {
        return Tri::Yes;
    };
    let from_arn;
    let account = match req.resource_account {
        Some(a) => a,
        None => match account_of_resource(&req.resource) {
            Some(a) => {
                from_arn = a;
                &from_arn
            }
            None => return Tri::Yes,
        },
    };
    caller.same_account(account)
}

/// The account segment of an ARN-shaped resource, when it has one.
fn account_of_resource(toks: &[Tok]) -> Option<Template> {
    let mut seg = 0;
    let mut out = Template::default();
    let mut first = String::new();
    for t in toks {
        if matches!(t, Tok::Char(':')) {
            seg += 1;
            if seg == 5 {
                break;
            }
            continue;
        }
        match (seg, t) {
            (0, Tok::Char(c)) => first.push(*c),
            (4, Tok::Char(c)) => out.push_str(c.encode_utf8(&mut [0; 4])),
            (4, Tok::Pseudo(s)) => out.push_sym(s.clone()),
            (4, Tok::Opaque(id)) => {
                out.push_template(&Template::opaque(id.clone(), "unresolved account", Span::builtin()))
            }
            (4, Tok::Every | Tok::Some) => return None,
            _ => {}
        }
    }
    (seg == 5 && first == "arn" && !out.parts().is_empty()).then_some(out)
}

/// The resource layer's Allows, by how they name the caller.
struct ResourceAllows {
    /// Any Allow reaching the caller (incl. naming its account), with proofs.
    any: Allows,
    /// Allows naming the caller itself (an IAM user or a role session): not capped.
    uncapped: Tri,
    /// Allows naming the caller's role: capped by boundary and session policy.
    capped: Tri,
    /// Allows naming the caller by its ARN (not its account, not `*`): what a trust policy
    /// needs to grant on its own.
    named: Tri,
}

fn resource_allows(policies: &[&Policy], req: &Request<'_>, caller: Option<&Caller>) -> ResourceAllows {
    let mut out = ResourceAllows {
        any: Allows::default(),
        uncapped: Tri::No,
        capped: Tri::No,
        named: Tri::No,
    };
    for policy in policies {
        if let Some((what, span)) = &policy.document.unknown {
            // It may allow the caller's account (or the caller) too: where the resource
            // layer is needed beside an identity Allow (role trust, cross account, key
            // policies), the grant stays possible. Alone it grants nobody in the account.
            out.any.tri = out.any.tri.or(Tri::Maybe);
            out.any.open.push(Open::Unknown {
                expr: what.clone(),
                span: *span,
            });
        }
        let allows = policy.document.statements.iter().enumerate();
        for (k, s) in allows.filter(|(_, s)| s.effect == Effect::Allow) {
            let m = statement_match(s, &policy.document, req, false);
            if m.tri == Tri::No {
                continue;
            }
            let pm = allow_principal(s, caller);
            let direct = m.tri.and(pm.direct);
            let role = m.tri.and(pm.role);
            let any = m.tri.and(pm.any());
            if any == Tri::No {
                continue;
            }
            out.uncapped = out.uncapped.or(direct);
            out.capped = out.capped.or(role);
            if let (Some(c), Some(p @ Principals::Listed(_)), false) = (caller, &s.principal, s.not_principal) {
                let named = c.matches(p);
                out.named = out.named.or(m.tri.and(named.direct.or(named.role)));
            }
            out.any.tri = out.any.tri.or(any);
            out.any
                .because
                .push(because_of((k, s), policy, Layer::Resource, &m, any == Tri::Yes));
            if any == Tri::Maybe {
                out.any.open.extend(m.open);
            }
        }
    }
    out
}

/// How an Allow statement's `Principal` / `NotPrincipal` reaches the caller.
fn allow_principal(s: &Statement, caller: Option<&Caller>) -> PrincipalMatch {
    let Some(p) = &s.principal else {
        // A resource policy statement without a principal grants nobody.
        return PrincipalMatch::default();
    };
    let Some(caller) = caller else {
        return PrincipalMatch {
            direct: Tri::Maybe,
            ..PrincipalMatch::default()
        };
    };
    let mut m = if s.not_principal {
        PrincipalMatch {
            direct: excluded(caller, caller.matches(p)).negate(),
            ..PrincipalMatch::default()
        }
    } else {
        caller.matches(p)
    };
    if caller.kind == CallerKind::Role {
        // A role ARN caller stands for its sessions named through the role: capped.
        m.role = m.role.or(m.direct);
        m.direct = Tri::No;
    }
    m
}

/// Whether a Deny statement's `Principal` / `NotPrincipal` reaches the caller.
fn deny_principal(s: &Statement, caller: Option<&Caller>, has_boundary: bool) -> Tri {
    let Some(p) = &s.principal else {
        return Tri::Yes;
    };
    let Some(caller) = caller else {
        return Tri::Maybe;
    };
    let m = caller.matches(p);
    if s.not_principal {
        // "The NotPrincipal element with a Deny effect will always deny any IAM principal
        // that has a permissions boundary policy attached" (Permissions boundaries for IAM
        // entities).
        if has_boundary {
            return Tri::Yes;
        }
        excluded(caller, m).negate()
    } else {
        m.any()
    }
}

/// Whether a `NotPrincipal` list excludes the caller: it must name the caller itself, and
/// for a role session also the role ("AWS JSON policy elements: NotPrincipal").
fn excluded(caller: &Caller, m: PrincipalMatch) -> Tri {
    match caller.kind {
        CallerKind::Session => m.direct.and(m.role),
        CallerKind::Role => m.role.or(m.direct),
        _ => m
            .direct
            .or(m.account.and(Tri::from_bool(caller.kind == CallerKind::Root))),
    }
}

/// The best Allow among the policies of one layer.
/// `views`: the request's view of these policies, aligned with them.
fn best_allow(policies: &[&Policy], views: Option<&[Arc<Viewed>]>, layer: Layer, req: &Request<'_>) -> Allows {
    let mut out = Allows::default();
    for (k, policy) in policies.iter().enumerate() {
        if let Some((what, span)) = &policy.document.unknown {
            out.tri = out.tri.or(Tri::Maybe);
            out.open.push(Open::Unknown {
                expr: what.clone(),
                span: *span,
            });
        }
        let view = views.and_then(|v| v.get(k)).map(|v| &**v);
        for ((at, s), given) in candidates(policy, view).filter(|((_, s), _)| s.effect == Effect::Allow) {
            let m = statement_match_with(s, &policy.document, req, false, given);
            if m.tri == Tri::No {
                continue;
            }
            out.tri = out.tri.or(m.tri);
            out.because
                .push(because_of((at, s), policy, layer, &m, m.tri == Tri::Yes));
            out.open.extend(m.open);
        }
    }
    if out.tri == Tri::Yes {
        // The proof of a certain Allow is its certain statements.
        out.because.retain(|b| b.certain);
        out.open.clear();
    }
    out
}

/// A statement with its position in its policy's document.
type At<'p> = (usize, &'p Statement);

fn because_of((at, s): At<'_>, policy: &Policy, layer: Layer, m: &StatementMatch, certain: bool) -> Because {
    let action = m.action;
    let named = m.named;
    Because {
        effect: s.effect,
        layer,
        policy: policy.address.clone(),
        policy_id: policy.id,
        sid: s.sid.clone(),
        statement: s.span,
        statement_index: u32::try_from(at).unwrap_or(u32::MAX),
        action,
        named,
        certain,
    }
}

fn statement_match(s: &Statement, doc: &Document, req: &Request<'_>, deny: bool) -> StatementMatch {
    statement_match_with(s, doc, req, deny, None)
}

/// [`statement_match`], with the statement's action match given where the request's
/// [`ActionView`] holds it (else found here).
fn statement_match_with(
    s: &Statement,
    doc: &Document,
    req: &Request<'_>,
    deny: bool,
    given: Option<&ActionMatch>,
) -> StatementMatch {
    let found;
    let am = match given {
        Some(m) => m,
        None => {
            found = action_match(s, req.action);
            &found
        }
    };
    if am.tri == Tri::No {
        return StatementMatch {
            tri: Tri::No,
            action: None,
            named: false,
            open: Vec::new(),
        };
    }
    let (action_tri, action_span) = (am.tri, am.span);
    let mut open = am.open.clone();
    let vars = doc.has_policy_variables().then_some(req.context);
    let res_toks = if deny { &req.deny_resource } else { &req.resource };
    let resource_tri = match &s.resources {
        Which::Listed(pats) => best_pat(pats, |p| match_resource_pat(p, req, res_toks, vars), &mut open).0,
        Which::Not(pats, _) => {
            // NotResource covers the request when no listed pattern could match it.
            let other: &[Tok] = if deny { &req.resource } else { &req.deny_resource };
            best_pat(pats, |p| match_resource_pat(p, req, other, vars), &mut open)
                .0
                .negate()
        }
        Which::Unknown(what, span) => {
            open.push(Open::Unknown {
                expr: what.clone(),
                span: *span,
            });
            Tri::Maybe
        }
        // Resource policies may leave `Resource` implicit; identity policies must not.
        Which::Absent => Tri::from_bool(s.principal.is_some()),
    };
    let mut tri = action_tri.and(resource_tri);
    if tri != Tri::No
        && let Some((what, span)) = &s.effect_unknown
    {
        // Neither a certain Allow nor a certain Deny.
        tri = tri.and(Tri::Maybe);
        open.push(Open::Unknown {
            expr: what.clone(),
            span: *span,
        });
    }
    if tri != Tri::No {
        for c in &s.conditions {
            let t = condition::evaluate(c, req.context, vars.is_some(), req.action);
            if t == Tri::Maybe {
                open.push(match &c.unknown {
                    Some(u) => Open::Unknown {
                        expr: u.clone(),
                        span: c.key_span,
                    },
                    None => Open::Condition {
                        key: c.key.clone(),
                        operator: c.operator.clone(),
                        values: c.values.iter().map(|v| v.text.to_string()).collect(),
                        span: c.key_span,
                    },
                });
            }
            tri = tri.and(t);
            if tri == Tri::No {
                break;
            }
        }
    }
    StatementMatch {
        tri,
        action: action_span,
        named: am.named,
        open: if tri == Tri::Maybe { open } else { Vec::new() },
    }
}

/// Every policy a request is decided against, with its layer and its view entry (none for
/// resource policies, or without a view): identity, boundary, SCP levels (where they
/// apply), session, resource.
fn layered<'p>(
    layers: &'p Layers<'p>,
    view: Option<&'p ActionView>,
    scps_apply: bool,
    resource_policies: &'p [&'p Policy],
) -> impl Iterator<Item = (Layer, &'p Policy, Option<&'p Viewed>)> + 'p {
    let with = move |layer: Layer, level: usize, policies: &'p [&'p Policy]| {
        let at = ActionView::at(layers, layer, level);
        policies
            .iter()
            .enumerate()
            .map(move |(k, p)| (layer, *p, view.map(|v| &*v.per_policy[at + k])))
    };
    let scps = layers.scps.iter().enumerate().filter(move |_| scps_apply);
    with(Layer::Identity, 0, &layers.identity)
        .chain(with(Layer::Boundary, 0, &layers.boundary))
        .chain(scps.flat_map(move |(l, level)| with(Layer::Scp, l, level)))
        .chain(with(Layer::Session, 0, &layers.session))
        .chain(resource_policies.iter().map(|p| (Layer::Resource, *p, None)))
}

/// How a statement's `Action` or `NotAction` covers one action: what [`statement_match`]
/// reads before the resources, which depends on the action alone.
#[derive(Clone, Debug)]
struct ActionMatch {
    tri: Tri,
    span: Option<Span>,
    /// Some listed pattern is the action's own name, with no wildcard.
    named: bool,
    open: Vec<Open>,
}

fn action_match(s: &Statement, action: &str) -> ActionMatch {
    let mut open = Vec::new();
    let (tri, span) = match &s.actions {
        Which::Listed(pats) => action_pat(s, pats, action, &mut open),
        Which::Not(pats, key) => {
            let (t, _) = action_pat(s, pats, action, &mut open);
            (t.negate(), Some(*key))
        }
        Which::Unknown(what, span) => {
            open.push(Open::Unknown {
                expr: what.clone(),
                span: *span,
            });
            (Tri::Maybe, Some(*span))
        }
        Which::Absent => (Tri::No, None),
    };
    let named = tri != Tri::No
        && match &s.actions {
            Which::Listed(pats) => pats.iter().any(|p| {
                p.text
                    .as_literal()
                    .is_some_and(|t| t.eq_ignore_ascii_case(action) && !t.contains(['*', '?']))
            }),
            _ => false,
        };
    ActionMatch { tri, span, named, open }
}

/// The statements of a principal's identity, boundary, SCP and session policies whose
/// actions may cover one action, each with how it does: found once per principal and
/// action, then read by every request for that action made with the view
/// ([`Request::with_view`]) instead of matching each statement's actions again. Resource
/// policies differ per request and are matched as before.
#[derive(Debug)]
pub struct ActionView {
    action: String,
    /// The policies it was built over (their addresses), to read it only for those.
    policies: Vec<usize>,
    /// Per policy of the layers, in [`layer_policies`] order: the statements that may
    /// match, by position, with their action match.
    per_policy: Vec<Arc<Viewed>>,
}

impl ActionView {
    pub fn new(layers: &Layers<'_>, action: &str) -> ActionView {
        Self::with_memo(layers, action, None)
    }

    /// [`ActionView::new`], taking each policy's entry from `memo` when another view made
    /// it already (principals share managed policies, groups and boundaries: each policy's
    /// statements are matched against an action once per run, not once per principal).
    pub(crate) fn with_memo(layers: &Layers<'_>, action: &str, memo: Option<&ViewMemo>) -> ActionView {
        ActionView {
            action: action.to_string(),
            policies: layer_policies(layers).map(|p| std::ptr::from_ref(p) as usize).collect(),
            per_policy: layer_policies(layers)
                .map(|p| match memo {
                    Some(m) => m.get(p, action),
                    None => Arc::new(viewed(p, action)),
                })
                .collect(),
        }
    }

    /// Whether it was built for this action over these policies, in this order (a policy's
    /// entry does not depend on its layer: [`ActionView::at`] finds each layer's part).
    fn fits(&self, layers: &Layers<'_>, action: &str) -> bool {
        self.action == action
            && layer_policies(layers)
                .map(|p| std::ptr::from_ref(p) as usize)
                .eq(self.policies.iter().copied())
    }

    /// Where a layer's policies (SCP level `level`) start in [`layer_policies`] order.
    fn at(layers: &Layers<'_>, layer: Layer, level: usize) -> usize {
        let scps_before = |l: usize| layers.scps.iter().take(l).map(Vec::len).sum::<usize>();
        let scps_start = layers.identity.len() + layers.boundary.len();
        match layer {
            // Resource policies differ per request and are never in a view.
            Layer::Identity | Layer::Resource => 0,
            Layer::Boundary => layers.identity.len(),
            Layer::Scp => scps_start + scps_before(level),
            Layer::Session => scps_start + scps_before(layers.scps.len()),
        }
    }
}

/// One policy's statements in an [`ActionView`]: those that may match, by position, with
/// their action match.
type Viewed = Vec<(usize, ActionMatch)>;

fn viewed(p: &Policy, action: &str) -> Viewed {
    p.document
        .statements
        .iter()
        .enumerate()
        .map(|(k, s)| (k, action_match(s, action)))
        .filter(|(_, m)| m.tri != Tri::No)
        .collect()
}

/// The [`ActionView`] entries of one run, per policy (by address in memory: the policies
/// must outlive the memo, as the graph outlives its decisions) and action, for the policies
/// it was made for: those several principals read (managed policies, groups' policies,
/// boundaries, SCPs). Another policy's entries are made for its one view and dropped with
/// it, so the memo holds no more than the shared policies' entries. Shared by the run's
/// threads; the lock is held for a look-up, not while statements are matched.
#[derive(Debug, Default)]
pub(crate) struct ViewMemo {
    shared: foldhash::HashSet<usize>,
    entries: std::sync::Mutex<Memoised>,
}

/// Per policy (its address in memory), the actions it was viewed for and its entries.
type Memoised = foldhash::HashMap<usize, Vec<(Box<str>, Arc<Viewed>)>>;

impl ViewMemo {
    /// A memo keeping the entries of `shared` policies.
    pub(crate) fn for_policies<'p>(shared: impl IntoIterator<Item = &'p Policy>) -> ViewMemo {
        ViewMemo {
            shared: shared.into_iter().map(|p| std::ptr::from_ref(p) as usize).collect(),
            entries: std::sync::Mutex::default(),
        }
    }

    /// Whether the memo keeps `p`'s entries.
    #[cfg(test)]
    pub(crate) fn keeps(&self, p: &Policy) -> bool {
        self.shared.contains(&(std::ptr::from_ref(p) as usize))
    }

    fn get(&self, p: &Policy, action: &str) -> Arc<Viewed> {
        let key = std::ptr::from_ref(p) as usize;
        if !self.shared.contains(&key) {
            return Arc::new(viewed(p, action));
        }
        let lookup = |map: &Memoised| {
            map.get(&key)
                .and_then(|actions| actions.iter().find(|(a, _)| &**a == action))
                .map(|(_, v)| Arc::clone(v))
        };
        if let Some(v) = self.entries.lock().ok().and_then(|m| lookup(&m)) {
            return v;
        }
        let made = Arc::new(viewed(p, action));
        if let Ok(mut map) = self.entries.lock() {
            // Another thread may have made it meanwhile: keep the first, so every view of
            // the run reads one entry (the two are equal either way).
            if let Some(v) = lookup(&map) {
                return v;
            }
            map.entry(key).or_default().push((action.into(), Arc::clone(&made)));
        }
        made
    }
}

/// The identity, boundary, SCP and session policies of the layers, in that order.
fn layer_policies<'l, 'a>(layers: &'l Layers<'a>) -> impl Iterator<Item = &'a Policy> + 'l {
    layers
        .identity
        .iter()
        .chain(&layers.boundary)
        .chain(layers.scps.iter().flatten())
        .chain(&layers.session)
        .copied()
}

/// The statements of `policy` a request may match, each with its action match where a
/// view gives it (`view`: the view's entry for this policy).
fn candidates<'p>(
    policy: &'p Policy,
    view: Option<&'p Viewed>,
) -> impl Iterator<Item = (At<'p>, Option<&'p ActionMatch>)> + 'p {
    let all = view
        .is_none()
        .then(|| policy.document.statements.iter().enumerate().map(|s| (s, None)));
    let viewed = view.map(|v| {
        v.iter()
            .filter_map(|(k, m)| Some(((*k, policy.document.statements.get(*k)?), Some(m))))
    });
    all.into_iter().flatten().chain(viewed.into_iter().flatten())
}

/// The best match over a list of patterns, and the span of the first pattern giving it.
/// `f` gives the match and the policy variables whose value was not known.
/// [`best_pat`] for a statement's action patterns, through its action lookup.
fn action_pat(s: &Statement, pats: &[Pat], action: &str, open: &mut Vec<Open>) -> (Tri, Option<Span>) {
    let (best, at) = s.match_action_list(pats, action);
    if best == Tri::Maybe
        && let Some(o) = pats.iter().flat_map(|p| p.text.opaques()).next()
    {
        open.push(Open::Unknown {
            expr: o.id.clone(),
            span: o.span,
        });
    }
    (best, at.map(|k| pats[k].span))
}

fn best_pat(pats: &[Pat], f: impl Fn(&Pat) -> (Tri, Vec<String>), open: &mut Vec<Open>) -> (Tri, Option<Span>) {
    let mut best = Tri::No;
    let mut span = None;
    let mut unknown_vars = Vec::new();
    for p in pats {
        let (t, vars) = f(p);
        if t == Tri::Maybe {
            unknown_vars.extend(vars.into_iter().map(|v| (v, p.span)));
        }
        if t > best {
            best = t;
            span = Some(p.span);
            if t == Tri::Yes {
                break;
            }
        }
    }
    if best == Tri::Maybe {
        if let Some(o) = pats.iter().flat_map(|p| p.text.opaques()).next() {
            open.push(Open::Unknown {
                expr: o.id.clone(),
                span: o.span,
            });
        }
        for (v, span) in unknown_vars {
            open.push(Open::Unknown {
                expr: format!("${{{v}}}"),
                span,
            });
        }
    }
    (best, span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::policy;
    use crate::load::json;
    use crate::source::FileId;
    use crate::value::{Symbol, Value};

    /// A policy at `address` whose document is the unknown value `what`.
    fn unknown_policy(address: &str, what: &str) -> Policy {
        Policy::new(
            address,
            Document {
                unknown: Some((format!("{what} (no value)"), Span::builtin())),
                ..Document::default()
            },
        )
    }

    fn pol(addr: &str, text: &str) -> Policy {
        let v = json::parse(text, FileId::for_path(addr), 0)
            .unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        Policy::new(addr, policy::parse(&v).0)
    }

    fn table(name: &str) -> Template {
        let mut t = Template::lit("arn:");
        t.push_sym(Symbol::Partition);
        t.push_str(":dynamodb:");
        t.push_sym(Symbol::Region);
        t.push_str(":");
        t.push_sym(Symbol::Account);
        t.push_str(&format!(":table/{name}"));
        t
    }

    /// One statement from small choices: effect, `Action` or `NotAction` (names, service
    /// and global wildcards, an unresolved piece), resources, a condition.
    fn statement_json(effect: u8, not_action: bool, actions: &[usize], resource: usize, condition: bool) -> String {
        const ACTIONS: [&str; 6] = [
            "dynamodb:EnableKinesisStreamingDestination",
            "dynamodb:Describe*",
            "kinesis:PutRecords",
            "*",
            "dynamodb:*Kinesis*",
            "${var.action}",
        ];
        const RESOURCES: [&str; 4] = [
            "*",
            "arn:aws:dynamodb:*:*:table/Orders",
            "arn:aws:dynamodb:us-east-1:123456789012:table/O*",
            "arn:aws:kinesis:*:*:stream/s",
        ];
        let effect = ["Allow", "Deny", "${var.effect}"][usize::from(effect) % 3];
        let key = if not_action { "NotAction" } else { "Action" };
        let list: Vec<String> = actions
            .iter()
            .map(|&k| format!("{:?}", ACTIONS[k % ACTIONS.len()]))
            .collect();
        let cond = if condition {
            r#","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}"#
        } else {
            ""
        };
        format!(
            r#"{{"Effect":"{effect}","{key}":[{}],"Resource":"{}"{cond}}}"#,
            list.join(","),
            RESOURCES[resource % RESOURCES.len()]
        )
    }

    /// [`pol`], with every string `${var.…}` made a value that is not known (as a
    /// template's unresolved variable would be).
    fn unresolved_pol(addr: &str, text: &str) -> Policy {
        fn unresolve(v: &mut Value) {
            match &mut v.kind {
                crate::value::ValueKind::Str(t) if t.as_literal().is_some_and(|s| s.starts_with("${var.")) => {
                    let what = t.to_string();
                    *v = Value::unknown(what, "not known", v.span);
                }
                crate::value::ValueKind::List(items) => items.iter_mut().for_each(unresolve),
                crate::value::ValueKind::Map(entries) => entries.iter_mut().for_each(|e| unresolve(&mut e.value)),
                _ => {}
            }
        }
        let mut v = json::parse(text, FileId::for_path(addr), 0)
            .unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        unresolve(&mut v);
        Policy::new(addr, policy::parse(&v).0)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// A request read through an [`ActionView`] of its layers is decided exactly as
        /// one that matches every statement's actions itself: outcome, proofs, open items.
        #[test]
        fn a_view_of_the_actions_decides_as_matching_each_statement(
            docs in proptest::collection::vec(
                proptest::collection::vec(
                    (0u8..3, proptest::bool::ANY, proptest::collection::vec(0usize..6, 1..3), 0usize..4, proptest::bool::ANY),
                    1..4,
                ),
                1..6,
            ),
            shape in 0usize..4,
            action in proptest::sample::select(vec![
                "dynamodb:EnableKinesisStreamingDestination",
                "dynamodb:DescribeKinesisStreamingDestination",
                "kinesis:PutRecords",
                "iam:PassRole",
            ]),
            resource in proptest::sample::select(vec!["Orders", "Other"]),
        ) {
            let policies: Vec<Policy> = docs
                .iter()
                .enumerate()
                .map(|(k, stmts)| {
                    let body: Vec<String> = stmts
                        .iter()
                        .map(|(e, n, a, r, c)| statement_json(*e, *n, a, *r, *c))
                        .collect();
                    unresolved_pol(&format!("p{k}"), &format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, body.join(",")))
                })
                .collect();
            // The policies spread over the layers in one of four shapes.
            let refs: Vec<&Policy> = policies.iter().collect();
            let (first, rest) = refs.split_at(1);
            let layers = match shape {
                0 => Layers { identity: refs.clone(), ..Layers::default() },
                1 => Layers { identity: first.to_vec(), boundary: rest.to_vec(), ..Layers::default() },
                2 => Layers { identity: first.to_vec(), scps: vec![rest.to_vec(), first.to_vec()], ..Layers::default() },
                _ => Layers { identity: rest.to_vec(), session: first.to_vec(), boundary: first.to_vec(), ..Layers::default() },
            };
            let ctx = Context::new();
            let arn = table(resource);
            let plain = Request::on(action, &arn, None, &ctx);
            let view = ActionView::new(&layers, action);
            let viewed = plain.clone().with_view(&view);
            proptest::prop_assert_eq!(decide(&layers, &[], &viewed), decide(&layers, &[], &plain));
            // A view of other layers is not read, even of as many policies.
            let others: Vec<Policy> = policies.iter().map(|p| pol(&p.address, r#"{"Statement":[]}"#)).collect();
            let other_layers = Layers { identity: others.iter().collect(), ..Layers::default() };
            let other = ActionView::new(&other_layers, action);
            if shape == 0 {
                proptest::prop_assert_eq!(decide(&layers, &[], &plain.clone().with_view(&other)), decide(&layers, &[], &plain));
            }
            // A view of the same policies in other layers (all as identity) reads the same:
            // a policy's entry does not depend on its layer.
            let flat = Layers { identity: layer_policies(&layers).collect(), ..Layers::default() };
            let moved = ActionView::new(&flat, action);
            proptest::prop_assert_eq!(decide(&layers, &[], &plain.clone().with_view(&moved)), decide(&layers, &[], &plain));
            // Views made through one memo (the second reads the first's entries) read the
            // same, for these layers and for the same policies laid out otherwise.
            let memo = ViewMemo::for_policies(layer_policies(&layers));
            let first = ActionView::with_memo(&layers, action, Some(&memo));
            let again = ActionView::with_memo(&flat, action, Some(&memo));
            proptest::prop_assert_eq!(decide(&layers, &[], &plain.clone().with_view(&first)), decide(&layers, &[], &plain));
            proptest::prop_assert_eq!(decide(&layers, &[], &plain.clone().with_view(&again)), decide(&layers, &[], &plain));
            // A memo for none of them keeps nothing and reads the same.
            let unshared = ActionView::with_memo(&layers, action, Some(&ViewMemo::default()));
            proptest::prop_assert_eq!(decide(&layers, &[], &plain.clone().with_view(&unshared)), decide(&layers, &[], &plain));
        }
    }

    const EXAMPLE3: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["dynamodb:EnableKinesisStreamingDestination","dynamodb:DescribeKinesisStreamingDestination"],
         "Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/Music"},
        {"Effect":"Deny","Action":["dynamodb:DisableKinesisStreamingDestination"],
         "Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/Orders"}]}"#;

    fn outcome(layers: &Layers<'_>, action: &str, resource: &Template) -> Outcome {
        let ctx = Context::new();
        decide(layers, &[], &Request::on(action, resource, None, &ctx)).outcome
    }

    #[test]
    fn explicit_deny_wins_and_allow_needs_a_statement() {
        let p = pol("ex3", EXAMPLE3);
        let layers = Layers {
            identity: vec![&p],
            ..Layers::default()
        };
        assert_eq!(
            outcome(&layers, "dynamodb:EnableKinesisStreamingDestination", &table("Music")),
            Outcome::Allowed
        );
        assert_eq!(
            outcome(&layers, "dynamodb:DisableKinesisStreamingDestination", &table("Orders")),
            Outcome::Denied
        );
        assert_eq!(
            outcome(&layers, "dynamodb:DisableKinesisStreamingDestination", &table("Music")),
            Outcome::NotAllowed
        );
        let admin = pol(
            "admin",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        );
        let layers = Layers {
            identity: vec![&admin, &p],
            ..Layers::default()
        };
        assert_eq!(
            outcome(&layers, "dynamodb:DisableKinesisStreamingDestination", &table("Orders")),
            Outcome::Denied
        );
        assert_eq!(
            outcome(&layers, "dynamodb:DisableKinesisStreamingDestination", &table("Music")),
            Outcome::Allowed
        );
    }

    #[test]
    fn the_proof_names_the_deciding_statements() {
        let p = pol("ex3", EXAMPLE3);
        let layers = Layers {
            identity: vec![&p],
            ..Layers::default()
        };
        let ctx = Context::new();
        let d = decide(
            &layers,
            &[],
            &Request::on(
                "dynamodb:DisableKinesisStreamingDestination",
                &table("Orders"),
                None,
                &ctx,
            ),
        );
        assert_eq!(d.because.len(), 1);
        assert_eq!(d.because[0].effect, Effect::Deny);
        assert!(d.because[0].action.is_some());
    }

    #[test]
    fn boundaries_cap_and_unknowns_make_conditional() {
        let admin = pol(
            "admin",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        );
        let boundary = pol(
            "b",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:Describe*","Resource":"*"}}"#,
        );
        let layers = Layers {
            identity: vec![&admin],
            boundary: vec![&boundary],
            ..Layers::default()
        };
        assert_eq!(
            outcome(&layers, "dynamodb:DisableKinesisStreamingDestination", &table("Music")),
            Outcome::NotAllowed
        );
        assert_eq!(
            outcome(&layers, "dynamodb:DescribeKinesisStreamingDestination", &table("Music")),
            Outcome::Allowed
        );

        let cond = pol(
            "mfa",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",
               "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#,
        );
        let layers = Layers {
            identity: vec![&cond],
            ..Layers::default()
        };
        let ctx = Context::new();
        let d = decide(
            &layers,
            &[],
            &Request::on(
                "dynamodb:DisableKinesisStreamingDestination",
                &table("Music"),
                None,
                &ctx,
            ),
        );
        assert_eq!(d.outcome, Outcome::Conditional);
        assert!(matches!(&d.open[0], Open::Condition { key, .. } if key == "aws:MultiFactorAuthPresent"));

        let u = UnknownPolicy {
            what: "arn:aws:iam::aws:policy/SomethingElse".into(),
            span: Span::builtin(),
        };
        let layers = Layers {
            unknown_identity: vec![&u],
            ..Layers::default()
        };
        assert_eq!(
            outcome(&layers, "dynamodb:DisableKinesisStreamingDestination", &table("Music")),
            Outcome::Conditional
        );
    }

    #[test]
    fn unknown_restricting_layers_cap_but_never_grant() {
        let unknown = unknown_policy("boundary var.b", "var.b");
        let disable = pol(
            "disable",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:DisableKinesisStreamingDestination","Resource":"*"}}"#,
        );
        let s3 = pol(
            "s3",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        );
        let action = "dynamodb:DisableKinesisStreamingDestination";
        let with = |identity: &Policy, layer: Layer| -> Decision {
            let mut layers = Layers {
                identity: vec![identity],
                ..Layers::default()
            };
            match layer {
                Layer::Boundary => layers.boundary = vec![&unknown],
                Layer::Scp => layers.scps = vec![vec![&unknown]],
                Layer::Session => layers.session = vec![&unknown],
                _ => {}
            }
            let ctx = Context::new();
            decide(&layers, &[], &Request::on(action, &table("Music"), None, &ctx))
        };
        for layer in [Layer::Boundary, Layer::Scp, Layer::Session] {
            // An identity Yes capped by an unknown layer is Maybe, and says why.
            let d = with(&disable, layer);
            assert_eq!(d.outcome, Outcome::Conditional, "{layer:?}");
            assert!(
                d.open
                    .iter()
                    .any(|o| matches!(o, Open::Unknown { expr, .. } if expr.contains("var.b"))),
                "{layer:?}: {:?}",
                d.open
            );
            // An identity No stays No: the unknown layer grants nothing.
            assert_eq!(with(&s3, layer).outcome, Outcome::NotAllowed, "{layer:?}");
        }
        // Beside FullAWSAccess in one level, an unknown SCP adds no Allow that is needed,
        // but it may hold a Deny: the answer is open, naming it.
        let layers = Layers {
            identity: vec![&disable],
            scps: vec![vec![full_aws_access(), &unknown]],
            ..Layers::default()
        };
        let ctx = Context::new();
        let d = decide(&layers, &[], &Request::on(action, &table("Music"), None, &ctx));
        assert_eq!(d.outcome, Outcome::Conditional);
        assert!(
            d.open
                .iter()
                .any(|o| matches!(o, Open::Unknown { expr, .. } if expr.contains("var.b")))
        );
    }

    #[test]
    fn a_statement_whose_effect_is_unknown_may_allow_or_deny() {
        let mut either = pol(
            "either",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}"#,
        );
        either.document.statements[0].effect_unknown = Some(("var.effect (no value)".into(), Span::builtin()));
        let disable = pol(
            "disable",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:DisableKinesisStreamingDestination","Resource":"*"}}"#,
        );
        let ctx = Context::new();
        let req = Request::on(
            "dynamodb:DisableKinesisStreamingDestination",
            &table("Music"),
            None,
            &ctx,
        );
        let named = |d: &Decision| {
            d.open
                .iter()
                .any(|o| matches!(o, Open::Unknown { expr, .. } if expr.starts_with("var.effect")))
        };
        // Alone: a possible Allow, not a certain one.
        let layers = Layers {
            identity: vec![&either],
            ..Layers::default()
        };
        let d = decide(&layers, &[], &req);
        assert_eq!(d.outcome, Outcome::Conditional);
        assert!(named(&d), "{:?}", d.open);
        // Beside a certain Allow: a possible Deny, so open; never denied.
        let layers = Layers {
            identity: vec![&disable, &either],
            ..Layers::default()
        };
        let d = decide(&layers, &[], &req);
        assert_eq!(d.outcome, Outcome::Conditional);
        assert!(named(&d), "{:?}", d.open);
        assert!(d.because.iter().any(|b| b.effect == Effect::Deny && !b.certain));
        // It does not match other actions at all.
        let other = Request::on("kinesis:PutRecords", &table("Music"), None, &ctx);
        let layers = Layers {
            identity: vec![&either],
            ..Layers::default()
        };
        assert_eq!(decide(&layers, &[], &other).outcome, Outcome::NotAllowed);
    }

    #[test]
    fn an_unknown_document_may_hold_a_deny_but_never_denies() {
        let unknown = |what: &str| unknown_policy(what, what);
        let (extra, trust_me) = (unknown("var.extra"), unknown("var.table_policy"));
        let disable = pol(
            "disable",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:DisableKinesisStreamingDestination","Resource":"*"}}"#,
        );
        let deny = pol(
            "deny",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"dynamodb:*","Resource":"*"}}"#,
        );
        let action = "dynamodb:DisableKinesisStreamingDestination";
        let ctx = Context::new();
        let req = Request::on(action, &table("Music"), None, &ctx);
        let names = |d: &Decision, what: &str| {
            d.open
                .iter()
                .any(|o| matches!(o, Open::Unknown { expr, .. } if expr.starts_with(what)))
        };
        // Beside a certain identity Allow: open, naming the unknown document.
        let layers = Layers {
            identity: vec![&disable, &extra],
            ..Layers::default()
        };
        let d = decide(&layers, &[], &req);
        assert_eq!(d.outcome, Outcome::Conditional);
        assert!(names(&d, "var.extra"), "{:?}", d.open);
        // An unknown identity policy (an uncatalogued managed ARN) too.
        let u = UnknownPolicy {
            what: "policy arn:aws:iam::aws:policy/Other".into(),
            span: Span::builtin(),
        };
        let layers = Layers {
            identity: vec![&disable],
            unknown_identity: vec![&u],
            ..Layers::default()
        };
        let d = decide(&layers, &[], &req);
        assert_eq!(d.outcome, Outcome::Conditional);
        assert!(names(&d, "policy arn:aws:iam::aws:policy/Other"), "{:?}", d.open);
        // An unknown resource policy on the resource.
        let layers = Layers {
            identity: vec![&disable],
            ..Layers::default()
        };
        let d = decide(&layers, &[&trust_me], &req);
        assert_eq!(d.outcome, Outcome::Conditional);
        assert!(names(&d, "var.table_policy"), "{:?}", d.open);
        // It never denies, and a certain Deny elsewhere still does.
        let layers = Layers {
            identity: vec![&extra],
            ..Layers::default()
        };
        assert_eq!(decide(&layers, &[], &req).outcome, Outcome::Conditional);
        let layers = Layers {
            identity: vec![&disable, &extra, &deny],
            ..Layers::default()
        };
        assert_eq!(decide(&layers, &[], &req).outcome, Outcome::Denied);
        // Nothing granted stays not allowed: the unknown Deny side adds no grant.
        let s3 = pol(
            "s3",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        );
        let layers = Layers {
            identity: vec![&s3],
            scps: vec![vec![full_aws_access(), &trust_me]],
            ..Layers::default()
        };
        assert_eq!(decide(&layers, &[], &req).outcome, Outcome::NotAllowed);
    }

    #[test]
    fn a_kms_key_request_needs_the_key_policy() {
        let admin = pol(
            "admin",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        );
        let caller = Template::lit("arn:aws:iam::123456789012:role/app");
        let key = Template::lit("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab");
        let layers = Layers {
            identity: vec![&admin],
            ..Layers::default()
        };
        let ctx = Context::new();
        let decide_with = |policies: &[&Policy], action: &str, resource: &Template| {
            decide(&layers, policies, &Request::on(action, resource, Some(&caller), &ctx))
        };
        // No key policy: the identity policy alone does not open a key.
        let d = decide_with(&[], "kms:Decrypt", &key);
        assert_eq!(d.outcome, Outcome::NotAllowed);
        assert_eq!(d.lacking, [Layer::Resource]);
        // A key policy that delegates to IAM through the account's root: identity decides.
        let delegating = pol(
            "key",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}}"#,
        );
        assert_eq!(
            decide_with(&[&delegating], "kms:Decrypt", &key).outcome,
            Outcome::Allowed
        );
        // A key policy that names someone else neither allows nor delegates.
        let other = pol(
            "key",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/other"},"Action":"kms:*","Resource":"*"}}"#,
        );
        assert_eq!(decide_with(&[&other], "kms:Decrypt", &key).outcome, Outcome::NotAllowed);
        // A key policy that names the caller is enough on its own.
        let named = pol(
            "key",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"kms:Decrypt","Resource":"*"}}"#,
        );
        let bare = Layers::default();
        let d = decide(&bare, &[&named], &Request::on("kms:Decrypt", &key, Some(&caller), &ctx));
        assert_eq!(d.outcome, Outcome::Allowed);
        // Not a key: KMS actions on `*` (kms:CreateKey) and key aliases follow the usual rule.
        assert_eq!(
            decide_with(&[], "kms:CreateKey", &Template::lit("*")).outcome,
            Outcome::Allowed
        );
        let alias = Template::lit("arn:aws:kms:us-east-1:123456789012:alias/app");
        assert_eq!(decide_with(&[], "kms:Decrypt", &alias).outcome, Outcome::Allowed);
        // Not a KMS action.
        let s3 = pol(
            "s3",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        );
        let layers = Layers {
            identity: vec![&s3],
            ..Layers::default()
        };
        let d = decide(
            &layers,
            &[],
            &Request::on("dynamodb:DescribeTable", &key, Some(&caller), &ctx),
        );
        assert_eq!(d.outcome, Outcome::Allowed);
    }

    #[test]
    fn a_deny_that_might_apply_never_denies() {
        let admin = pol(
            "admin",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        );
        let deny = pol(
            "d",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
               "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}"#,
        );
        let layers = Layers {
            identity: vec![&admin],
            scps: vec![vec![full_aws_access(), &deny]],
            ..Layers::default()
        };
        assert_eq!(
            outcome(
                &layers,
                "iam:DeleteServiceLinkedRole",
                &Template::lit("arn:aws:iam::1:role/x")
            ),
            Outcome::Conditional
        );
    }

    #[test]
    fn some_and_every_quantifiers() {
        let p = pol(
            "s",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:PutRecords","Resource":"arn:aws:kinesis:*:*:stream/a"},
            {"Effect":"Deny","Action":"kinesis:PutRecords","Resource":"arn:aws:kinesis:*:*:stream/b"}]}"#,
        );
        let layers = Layers {
            identity: vec![&p],
            ..Layers::default()
        };
        let ctx = Context::new();
        let mut toks = text_tokens(&Template::lit("arn:aws:kinesis:us-east-1:1:stream/"));
        toks.push(Tok::Some);
        let d = decide(&layers, &[], &Request::new("kinesis:PutRecords", toks, None, &ctx));
        assert_eq!(d.outcome, Outcome::Allowed);
    }

    #[test]
    fn the_grant_reads_the_account_the_key_policy_and_the_caps() {
        let ctx = Context::new();
        let req = Request::on("dynamodb:UpdateTable", &table("T"), None, &ctx);
        let resource = |any: Tri, uncapped: Tri| ResourceAllows {
            any: Allows {
                tri: any,
                ..Allows::default()
            },
            uncapped,
            capped: Tri::No,
            named: Tri::No,
        };
        let none = resource(Tri::No, Tri::No);
        let both = resource(Tri::Yes, Tri::Yes);
        let grant = |same, key_request, identity, capped, resource: &ResourceAllows| {
            grant(&req, None, same, key_request, identity, capped, resource)
        };
        // The identity side alone grants in the same account, not across accounts, and
        // where the account is undecided, only possibly.
        assert_eq!(grant(Tri::Yes, false, Tri::Yes, Tri::Yes, &none), Tri::Yes);
        assert_eq!(grant(Tri::No, false, Tri::Yes, Tri::Yes, &none), Tri::No);
        assert_eq!(grant(Tri::Maybe, false, Tri::Yes, Tri::Yes, &none), Tri::Maybe);
        // Both sides grant whichever account it is; neither grants in none.
        assert_eq!(grant(Tri::Maybe, false, Tri::Yes, Tri::Yes, &both), Tri::Yes);
        assert_eq!(grant(Tri::Maybe, false, Tri::No, Tri::Yes, &none), Tri::No);
        // A cap stops the identity side, not a resource Allow naming the caller itself.
        assert_eq!(grant(Tri::Yes, false, Tri::Yes, Tri::No, &none), Tri::No);
        assert_eq!(grant(Tri::Yes, false, Tri::Yes, Tri::No, &both), Tri::Yes);
        // A key request needs the key policy in the same account too.
        assert_eq!(grant(Tri::Yes, true, Tri::Yes, Tri::Yes, &none), Tri::No);
    }
}
