//! One request against the layers of policies that apply to it, in AWS's order, giving a
//! [`Decision`] with its proof.
//!
//! Order: an explicit Deny in any layer wins; then a permissions boundary, where set, must
//! allow; then an identity-policy Allow (or a same-account resource-policy Allow naming the
//! principal). An Allow that only might match makes the answer `conditional`; a Deny that
//! only might match never denies, it makes an otherwise allowed answer `conditional`.
//! SCPs are evaluated on top of an assumed `FullAWSAccess`, so only their Denies bite.

use crate::iam::condition::{self, Context};
use crate::iam::pattern::{Tok, Tri, match_action, match_resource, text_tokens};
use crate::iam::policy::{Document, Effect, Pat, Principals, Statement, Which};
use crate::source::Span;
use crate::value::{Part, Template};

/// Which layer a policy belongs to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum Layer {
    Identity,
    Boundary,
    Scp,
    Resource,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Identity => "identity",
            Layer::Boundary => "boundary",
            Layer::Scp => "scp",
            Layer::Resource => "resource",
        }
    }
}

/// A parsed policy and where it came from (its address names it in proofs).
#[derive(Clone, Debug)]
pub struct Policy {
    pub address: String,
    pub document: Document,
}

/// A policy that could not be read (an unknown managed ARN, an unresolved reference):
/// it may allow anything, and it never denies.
#[derive(Clone, Debug)]
pub struct UnknownPolicy {
    pub what: String,
    pub span: Span,
}

/// The policies that apply to one principal's requests (the resource layer is per request).
#[derive(Clone, Debug, Default)]
pub struct Layers<'a> {
    pub identity: Vec<&'a Policy>,
    pub unknown_identity: Vec<&'a UnknownPolicy>,
    pub boundary: Vec<&'a Policy>,
    pub scps: Vec<&'a Policy>,
}

/// One request.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub action: &'a str,
    /// The resource as an Allow must cover it (may end in [`Tok::Some`]).
    pub resource: Vec<Tok>,
    /// The resource as a Deny must cover it to deny for certain ([`Tok::Some`] → [`Tok::Every`]).
    pub deny_resource: Vec<Tok>,
    /// The caller's ARN (for resource policies' `Principal`).
    pub principal_arn: Option<&'a Template>,
    pub context: &'a Context,
}

impl<'a> Request<'a> {
    pub fn new(action: &'a str, resource: Vec<Tok>, principal_arn: Option<&'a Template>, context: &'a Context) -> Self {
        let deny_resource = resource
            .iter()
            .map(|t| if *t == Tok::Some { Tok::Every } else { t.clone() })
            .collect();
        Request {
            action,
            resource,
            deny_resource,
            principal_arn,
            context,
        }
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
#[derive(Clone, PartialEq, Debug)]
pub struct Because {
    pub effect: Effect,
    pub layer: Layer,
    pub policy: String,
    pub sid: Option<String>,
    /// The statement.
    pub statement: Span,
    /// The action string that matched (or the `NotAction` key).
    pub action: Option<Span>,
    /// Whether it applies for certain (`false`: only under an undecided condition or value).
    pub certain: bool,
}

/// Something that left a decision open.
#[derive(Clone, PartialEq, Debug)]
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

#[derive(Clone, PartialEq, Debug)]
pub struct Decision {
    pub outcome: Outcome,
    pub because: Vec<Because>,
    pub open: Vec<Open>,
}

/// How a statement relates to a request.
struct StatementMatch {
    tri: Tri,
    action: Option<Span>,
    open: Vec<Open>,
}

/// Decides one request.
pub fn decide(layers: &Layers<'_>, resource_policies: &[&Policy], req: &Request<'_>) -> Decision {
    let mut because = Vec::new();
    let mut open = Vec::new();

    // 1. Explicit Deny anywhere.
    let mut denied = false;
    let mut maybe_denied = false;
    let all: Vec<(Layer, &Policy)> = layers
        .identity
        .iter()
        .map(|p| (Layer::Identity, *p))
        .chain(layers.boundary.iter().map(|p| (Layer::Boundary, *p)))
        .chain(layers.scps.iter().map(|p| (Layer::Scp, *p)))
        .chain(resource_policies.iter().map(|p| (Layer::Resource, *p)))
        .collect();
    for (layer, policy) in &all {
        for s in policy.document.statements.iter().filter(|s| s.effect == Effect::Deny) {
            let m = statement_match(s, &policy.document, req, *layer, true);
            if m.tri == Tri::No {
                continue;
            }
            let certain = m.tri == Tri::Yes;
            denied |= certain;
            maybe_denied |= !certain;
            because.push(because_of(s, policy, *layer, m.action, certain));
            if !certain {
                open.extend(m.open);
            }
        }
    }
    if denied {
        because.retain(|b| b.effect == Effect::Deny && b.certain);
        return Decision {
            outcome: Outcome::Denied,
            because,
            open: Vec::new(),
        };
    }

    // 2. A permissions boundary, where set, must allow.
    let mut cap = Tri::Yes;
    if !layers.boundary.is_empty() {
        let (tri, b, o) = best_allow(&layers.boundary, Layer::Boundary, req);
        cap = tri;
        if tri == Tri::No {
            return Decision {
                outcome: Outcome::NotAllowed,
                because: Vec::new(),
                open: Vec::new(),
            };
        }
        because.extend(b);
        open.extend(o);
    }

    // 3. Identity Allow, or a resource-policy Allow naming the principal.
    let (mut allow, b, o) = best_allow(&layers.identity, Layer::Identity, req);
    because.extend(b);
    open.extend(o);
    let (res_allow, b, o) = best_allow(resource_policies, Layer::Resource, req);
    if res_allow > Tri::No {
        allow = allow.or(res_allow);
        because.extend(b);
        open.extend(o);
    }
    if allow < Tri::Yes {
        for u in &layers.unknown_identity {
            allow = allow.or(Tri::Maybe);
            open.push(Open::Unknown {
                expr: u.what.clone(),
                span: u.span,
            });
        }
    }
    let outcome = match allow.and(cap) {
        Tri::No => Outcome::NotAllowed,
        Tri::Maybe => Outcome::Conditional,
        Tri::Yes if maybe_denied => Outcome::Conditional,
        Tri::Yes => Outcome::Allowed,
    };
    if outcome == Outcome::NotAllowed {
        because.clear();
        open.clear();
    }
    open.dedup();
    Decision { outcome, because, open }
}

/// The strongest Allow among `policies`, with the statements that give it.
fn best_allow(policies: &[&Policy], layer: Layer, req: &Request<'_>) -> (Tri, Vec<Because>, Vec<Open>) {
    let mut best = Tri::No;
    let mut because = Vec::new();
    let mut open = Vec::new();
    for policy in policies {
        if let Some((what, span)) = &policy.document.unknown
            && layer != Layer::Resource
        {
            best = best.or(Tri::Maybe);
            open.push(Open::Unknown {
                expr: what.clone(),
                span: *span,
            });
        }
        for s in policy.document.statements.iter().filter(|s| s.effect == Effect::Allow) {
            let m = statement_match(s, &policy.document, req, layer, false);
            if m.tri == Tri::No {
                continue;
            }
            best = best.or(m.tri);
            because.push(because_of(s, policy, layer, m.action, m.tri == Tri::Yes));
            open.extend(m.open);
        }
    }
    if best == Tri::Yes {
        // The proof of a certain Allow is its certain statements.
        because.retain(|b| b.certain);
        open.clear();
    }
    (best, because, open)
}

fn because_of(s: &Statement, policy: &Policy, layer: Layer, action: Option<Span>, certain: bool) -> Because {
    Because {
        effect: s.effect,
        layer,
        policy: policy.address.clone(),
        sid: s.sid.clone(),
        statement: s.span,
        action,
        certain,
    }
}

fn statement_match(s: &Statement, doc: &Document, req: &Request<'_>, layer: Layer, deny: bool) -> StatementMatch {
    let mut open = Vec::new();
    let vars = doc.has_policy_variables();
    let (action_tri, action_span) = match &s.actions {
        Which::Listed(pats) => best_pat(pats, |p| match_action(&p.text, req.action), &mut open),
        Which::Not(pats, key) => {
            let (t, _) = best_pat(pats, |p| match_action(&p.text, req.action), &mut open);
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
    if action_tri == Tri::No {
        return StatementMatch {
            tri: Tri::No,
            action: None,
            open: Vec::new(),
        };
    }
    let res_toks = if deny { &req.deny_resource } else { &req.resource };
    let resource_tri = match &s.resources {
        Which::Listed(pats) => {
            best_pat(
                pats,
                |p| match_resource(&with_policy_variables(&p.text, vars), res_toks),
                &mut open,
            )
            .0
        }
        Which::Not(pats, _) => {
            // NotResource covers the request when no listed pattern could match it.
            let other: Vec<Tok> = if deny {
                req.resource.clone()
            } else {
                req.deny_resource.clone()
            };
            best_pat(
                pats,
                |p| match_resource(&with_policy_variables(&p.text, vars), &other),
                &mut open,
            )
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
        Which::Absent => Tri::from_bool(layer == Layer::Resource),
    };
    let principal_tri = match (&s.principal, layer) {
        (Some(p), Layer::Resource) => {
            let t = principal_match(p, req.principal_arn, deny);
            if s.not_principal { t.negate() } else { t }
        }
        _ => Tri::Yes,
    };
    let mut tri = action_tri.and(resource_tri).and(principal_tri);
    if tri != Tri::No {
        for c in &s.conditions {
            let t = condition::evaluate(c, req.context, vars);
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
        }
    }
    StatementMatch {
        tri,
        action: action_span,
        open: if tri == Tri::Maybe { open } else { Vec::new() },
    }
}

/// The best match over a list of patterns, and the span of the first pattern giving it.
fn best_pat(pats: &[Pat], f: impl Fn(&Pat) -> Tri, open: &mut Vec<Open>) -> (Tri, Option<Span>) {
    let mut best = Tri::No;
    let mut span = None;
    for p in pats {
        let t = f(p);
        if t > best {
            best = t;
            span = Some(p.span);
        }
    }
    if best == Tri::Maybe
        && let Some(o) = pats.iter().flat_map(|p| p.text.opaques()).next()
    {
        open.push(Open::Unknown {
            expr: o.id.clone(),
            span: o.span,
        });
    }
    (best, span)
}

/// Under Version 2012-10-17, `${...}` in a resource is a policy variable: its value is
/// not known statically, so it becomes an opaque piece.
fn with_policy_variables(t: &Template, enabled: bool) -> Template {
    if !enabled || !t.parts().iter().any(|p| matches!(p, Part::Lit(s) if s.contains("${"))) {
        return t.clone();
    }
    let mut out = Template::default();
    for part in t.parts() {
        match part {
            Part::Lit(s) => {
                let mut rest = s.as_str();
                while let Some(start) = rest.find("${") {
                    out.push_str(&rest[..start]);
                    match rest[start..].find('}') {
                        Some(end) => {
                            let name = &rest[start + 2..start + end];
                            out.push_template(&Template::opaque(
                                format!("policy variable {name}"),
                                "policy variables are set per request",
                                Span::builtin(),
                            ));
                            rest = &rest[start + end + 1..];
                        }
                        None => {
                            out.push_str(&rest[start..]);
                            rest = "";
                        }
                    }
                }
                out.push_str(rest);
            }
            Part::Sym(s) => out.push_sym(s.clone()),
        }
    }
    out
}

fn principal_match(p: &Principals, caller: Option<&Template>, deny: bool) -> Tri {
    match p {
        Principals::Anyone(_) => Tri::Yes,
        Principals::Unknown(..) => Tri::Maybe,
        Principals::Listed(list) => {
            let Some(caller) = caller else {
                return Tri::Maybe;
            };
            let toks = text_tokens(caller);
            let mut best = Tri::No;
            for (kind, pat) in list {
                if kind != "AWS" {
                    continue;
                }
                let t = match_resource(&pat.text, &toks);
                // Naming the account (`123456789012` or `...:root`) covers its principals
                // for a Deny; for an Allow it only delegates to the account's own policies.
                let is_account = pat
                    .text
                    .as_literal()
                    .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()) || s.ends_with(":root"));
                best = best.or(if is_account {
                    if deny { Tri::Maybe } else { Tri::No }
                } else {
                    t
                });
            }
            best
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::policy;
    use crate::load::json;
    use crate::source::FileId;
    use crate::value::{Symbol, Value};

    fn pol(addr: &str, text: &str) -> Policy {
        let v = json::parse(text, FileId::for_path(addr), 0)
            .unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        Policy {
            address: addr.into(),
            document: policy::parse(&v).0,
        }
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
            scps: vec![&deny],
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
}
