//! Properties of the evaluator over random policies: adding a Deny never grants more,
//! adding an Allow never grants less, a boundary or an SCP never grants more than the
//! identity policies alone, a layer that can only restrict (boundary, SCP level, session
//! policy; known or unknown) never turns a `not_allowed` into a grant, the order of
//! statements or policies never matters, and a policy of unknown content (which may hold a
//! Deny) never turns a decision into `allowed` nor into `denied`.
#![allow(clippy::panic)] // a test fails by panicking

use kdsguard::iam::eval::{Open, Outcome, Policy, full_aws_access};
use kdsguard::iam::policy::Document;
use kdsguard::simulate::{Case, evaluate, parse_line};
use kdsguard::source::Span;
use proptest::prelude::*;
use serde_json::{Value as Json, json};

const ACTIONS: &[&str] = &[
    "*",
    "dynamodb:*",
    "dynamodb:Enable*",
    "dynamodb:EnableKinesisStreamingDestination",
    "dynamodb:?isable*",
    "kinesis:PutRecords",
    "kinesis:*",
    "iam:*",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:dynamodb:us-east-1:123456789012:table/Music",
    "arn:aws:dynamodb:*:*:table/*",
    "arn:aws:dynamodb:*:*:table/Orders",
    "arn:aws:kinesis:*:*:stream/*",
    "arn:aws:dynamodb:*:444455556666:table/*",
];
const REQUEST_ACTIONS: &[&str] = &[
    "dynamodb:EnableKinesisStreamingDestination",
    "dynamodb:DisableKinesisStreamingDestination",
    "kinesis:PutRecords",
    "iam:DeleteServiceLinkedRole",
];
const REQUEST_RESOURCES: &[&str] = &[
    "arn:aws:dynamodb:us-east-1:123456789012:table/Music",
    "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
    "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    "*",
];

/// How permissive an outcome is: denied < not_allowed < conditional < allowed.
fn grant(o: Outcome) -> u8 {
    match o {
        Outcome::Denied => 0,
        Outcome::NotAllowed => 1,
        Outcome::Conditional => 2,
        Outcome::Allowed => 3,
    }
}

fn statement(allow: bool) -> impl Strategy<Value = Json> {
    (
        prop::sample::subsequence(ACTIONS, 1..3),
        any::<bool>(),
        prop::sample::subsequence(RESOURCES, 1..3),
        any::<bool>(),
        0usize..4,
    )
        .prop_map(move |(actions, not_action, resources, not_resource, cond)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
            s.insert(if not_action { "NotAction" } else { "Action" }.into(), json!(actions));
            s.insert(
                if not_resource { "NotResource" } else { "Resource" }.into(),
                json!(resources),
            );
            match cond {
                1 => {
                    s.insert(
                        "Condition".into(),
                        json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
                    );
                }
                2 => {
                    s.insert(
                        "Condition".into(),
                        json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
                    );
                }
                _ => {}
            }
            Json::Object(s)
        })
}

fn any_statement() -> impl Strategy<Value = Json> {
    prop_oneof![statement(true), statement(false)]
}

fn doc(statements: &[Json]) -> Json {
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[derive(Clone, Debug)]
struct Req {
    action: &'static str,
    resource: &'static str,
    region_known: bool,
    strict: bool,
}

fn request() -> impl Strategy<Value = Req> {
    (
        prop::sample::select(REQUEST_ACTIONS),
        prop::sample::select(REQUEST_RESOURCES),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(action, resource, region_known, strict)| Req {
            action,
            resource,
            region_known,
            strict,
        })
}

fn decide(req: &Req, policies: &[Json], boundary: Option<&Json>, scps: &[Json]) -> Outcome {
    let mut line = json!({
        "action": req.action,
        "resource": req.resource,
        "policies": policies,
        "mode": if req.strict { "strict" } else { "discovery" },
    });
    if req.region_known {
        line["context"] = json!({"aws:RequestedRegion": "us-east-1"});
    }
    if let Some(b) = boundary {
        line["boundary"] = b.clone();
    }
    if !scps.is_empty() {
        line["scps"] = json!(scps);
    }
    match parse_line(&line.to_string()) {
        Ok((_, case)) => evaluate(&case).outcome,
        Err((_, e)) => unreachable!("generated requests are well-formed: {e}"),
    }
}

/// The request as a simulate case, with identity policies and an optional resource policy.
fn case(req: &Req, policies: &[Json], resource_policy: Option<&Json>) -> Case {
    let mut line = json!({
        "action": req.action,
        "resource": req.resource,
        "policies": policies,
        "mode": if req.strict { "strict" } else { "discovery" },
    });
    if req.region_known {
        line["context"] = json!({"aws:RequestedRegion": "us-east-1"});
    }
    if let Some(r) = resource_policy {
        line["resource_policy"] = r.clone();
    }
    match parse_line(&line.to_string()) {
        Ok((_, case)) => case,
        Err((_, e)) => unreachable!("generated requests are well-formed: {e}"),
    }
}

/// A resource-policy statement naming the default caller, its account, or anyone.
fn resource_statement() -> impl Strategy<Value = Json> {
    (
        any_statement(),
        prop::sample::select(
            &[
                "arn:aws:iam::123456789012:role/app-role",
                "arn:aws:iam::123456789012:root",
                "*",
            ][..],
        ),
    )
        .prop_map(|(mut s, who)| {
            s["Principal"] = json!({ "AWS": who });
            s
        })
}

/// A layer that can only restrict, added where the case has none of its kind.
#[derive(Clone, Debug)]
enum Restriction {
    Boundary,
    Scp,
    Session,
}

fn restriction() -> impl Strategy<Value = Restriction> {
    prop_oneof![
        Just(Restriction::Boundary),
        Just(Restriction::Scp),
        Just(Restriction::Session)
    ]
}

/// A policy document, or (`None`) one that could not be read: unknown to the evaluator.
fn layer_policy(statements: Option<&[Json]>) -> Policy {
    match statements {
        Some(st) => {
            let line = json!({"action": "a:b", "resource": "*", "policies": [doc(st)]});
            match parse_line(&line.to_string()) {
                Ok((_, mut c)) => c.policies.remove(0),
                Err((_, e)) => unreachable!("{e}"),
            }
        }
        None => Policy::new(
            "unknown layer",
            Document {
                unknown: Some(("var.layer (no value)".into(), Span::builtin())),
                ..Document::default()
            },
        ),
    }
}

/// Where a policy of unknown content is added.
#[derive(Clone, Debug)]
enum UnknownPlace {
    Identity,
    Boundary,
    /// A level of its own.
    Scp,
    /// Beside FullAWSAccess in one level (how `check` evaluates declared SCPs).
    ScpBesideFullAccess,
    Session,
    /// The resource policy (when the case has none).
    Resource,
}

fn unknown_place() -> impl Strategy<Value = UnknownPlace> {
    prop_oneof![
        Just(UnknownPlace::Identity),
        Just(UnknownPlace::Boundary),
        Just(UnknownPlace::Scp),
        Just(UnknownPlace::ScpBesideFullAccess),
        Just(UnknownPlace::Session),
        Just(UnknownPlace::Resource),
    ]
}

fn with_unknown(base: &Case, place: &UnknownPlace) -> Case {
    let mut c = base.clone();
    let unknown = layer_policy(None);
    match place {
        UnknownPlace::Identity => c.policies.push(unknown),
        UnknownPlace::Boundary => c.boundary = Some(unknown),
        UnknownPlace::Scp => c.scps.push(vec![unknown]),
        UnknownPlace::ScpBesideFullAccess => c.scps.push(vec![full_aws_access().clone(), unknown]),
        UnknownPlace::Session => c.session_policy = Some(unknown),
        UnknownPlace::Resource => {
            if c.resource_policy.is_none() {
                c.resource_policy = Some(unknown);
            } else {
                c.policies.push(unknown);
            }
        }
    }
    c
}

fn restricted(base: &Case, kind: &Restriction, policy: Policy) -> Case {
    let mut c = base.clone();
    match kind {
        Restriction::Boundary => c.boundary = Some(policy),
        Restriction::Scp => c.scps.push(vec![policy]),
        Restriction::Session => c.session_policy = Some(policy),
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_restricting_layer_never_turns_not_allowed_into_a_grant(
        stmts in prop::collection::vec(any_statement(), 0..5),
        resource in prop::option::of(prop::collection::vec(resource_statement(), 1..3)),
        kind in restriction(),
        layer in prop::option::of(prop::collection::vec(any_statement(), 1..4)),
        req in request(),
    ) {
        let base = case(&req, &[doc(&stmts)], resource.as_ref().map(|r| doc(r)).as_ref());
        let before = evaluate(&base).outcome;
        let after = evaluate(&restricted(&base, &kind, layer_policy(layer.as_deref()))).outcome;
        // Never more permissive, whatever the layer.
        prop_assert!(grant(after) <= grant(before), "{kind:?}: {before:?} -> {after:?}");
        if before == Outcome::NotAllowed {
            // A restricting layer may add a Deny (so `denied`), never an Allow.
            prop_assert!(
                matches!(after, Outcome::NotAllowed | Outcome::Denied),
                "{kind:?}: not_allowed -> {after:?}"
            );
            // Without a Deny of its own (an unknown layer has none) it changes nothing.
            let has_deny = layer.iter().flatten().any(|s| s["Effect"] == "Deny");
            if !has_deny {
                prop_assert_eq!(after, Outcome::NotAllowed, "{:?}", kind);
            }
        }
    }

    #[test]
    fn a_policy_of_unknown_content_never_makes_a_decision_allowed_or_denied(
        stmts in prop::collection::vec(any_statement(), 0..5),
        resource in prop::option::of(prop::collection::vec(resource_statement(), 1..3)),
        scps in prop::option::of(prop::collection::vec(any_statement(), 1..3)),
        place in unknown_place(),
        req in request(),
    ) {
        let mut base = case(&req, &[doc(&stmts)], resource.as_ref().map(|r| doc(r)).as_ref());
        if let Some(scps) = &scps {
            base.scps.push(vec![full_aws_access().clone(), layer_policy(Some(scps))]);
        }
        let before = evaluate(&base).outcome;
        let decision = evaluate(&with_unknown(&base, &place));
        let after = decision.outcome;
        // It may hold a Deny: never `allowed` for certain.
        prop_assert_ne!(after, Outcome::Allowed, "{:?}: {:?} -> allowed", place, before);
        // It may hold none: it never denies; a certain Deny elsewhere still does.
        prop_assert_eq!(
            after == Outcome::Denied,
            before == Outcome::Denied,
            "{:?}: {:?} -> {:?}", place, before, after
        );
        // What the rest allowed stays possible, naming the unknown.
        if before.can() {
            prop_assert_eq!(after, Outcome::Conditional, "{:?}: {:?} -> {:?}", place, before, after);
            prop_assert!(
                decision.open.iter().any(|o| matches!(o, Open::Unknown { expr, .. } if expr.starts_with("var.layer"))),
                "{:?}: {:?}", place, decision.open
            );
        }
        // Restricting layers never grant by themselves.
        if before == Outcome::NotAllowed && !matches!(place, UnknownPlace::Identity | UnknownPlace::Resource) {
            prop_assert_eq!(after, Outcome::NotAllowed, "{:?}", place);
        }
    }

    #[test]
    fn adding_a_deny_never_grants_more(
        stmts in prop::collection::vec(any_statement(), 0..5),
        deny in statement(false),
        req in request(),
    ) {
        let before = decide(&req, &[doc(&stmts)], None, &[]);
        let mut more = stmts.clone();
        more.push(deny);
        let after = decide(&req, &[doc(&more)], None, &[]);
        prop_assert!(grant(after) <= grant(before), "{before:?} -> {after:?}");
    }

    #[test]
    fn adding_an_allow_never_grants_less(
        stmts in prop::collection::vec(any_statement(), 0..5),
        allow in statement(true),
        req in request(),
    ) {
        let before = decide(&req, &[doc(&stmts)], None, &[]);
        let after = decide(&req, &[doc(&stmts), doc(&[allow])], None, &[]);
        prop_assert!(grant(after) >= grant(before), "{before:?} -> {after:?}");
    }

    #[test]
    fn a_boundary_or_scp_never_grants_more_than_identity_policies(
        stmts in prop::collection::vec(any_statement(), 0..5),
        cap in prop::collection::vec(any_statement(), 1..4),
        req in request(),
    ) {
        let alone = decide(&req, &[doc(&stmts)], None, &[]);
        let bounded = decide(&req, &[doc(&stmts)], Some(&doc(&cap)), &[]);
        let scoped = decide(&req, &[doc(&stmts)], None, &[doc(&cap)]);
        prop_assert!(grant(bounded) <= grant(alone), "boundary: {alone:?} -> {bounded:?}");
        prop_assert!(grant(scoped) <= grant(alone), "scp: {alone:?} -> {scoped:?}");
    }

    #[test]
    fn permuting_statements_or_policies_changes_nothing(
        (stmts, shuffled) in prop::collection::vec(any_statement(), 0..6)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        split in 0usize..6,
        req in request(),
    ) {
        let a = decide(&req, &[doc(&stmts)], None, &[]);
        let b = decide(&req, &[doc(&shuffled)], None, &[]);
        prop_assert_eq!(a, b);
        // The same statements spread over two policies, in either order.
        let k = split.min(shuffled.len());
        let (x, y) = shuffled.split_at(k);
        let c = decide(&req, &[doc(x), doc(y)], None, &[]);
        let d = decide(&req, &[doc(y), doc(x)], None, &[]);
        prop_assert_eq!(a, c);
        prop_assert_eq!(c, d);
    }
}

/// A one-role input: the role's inline policy, and a permissions boundary that is a
/// declared policy (`Some`) or a reference nothing resolves (`None`), when `bounded`.
fn role_input(identity: &Json, bounded: bool, boundary: Option<&Json>) -> kdsguard::model::Input {
    use kdsguard::model::{
        Attachment, Input, InputKind, Policy as ModelPolicy, PolicyKind, PolicyRef, Principal, PrincipalKind, Table,
        Target,
    };
    use kdsguard::value::{Symbol, Template, Value};
    let span = Span::builtin();
    let value = |j: &Json| {
        kdsguard::load::json::parse(&j.to_string(), kdsguard::source::FileId::BUILTIN, 0)
            .unwrap_or_else(|e| unreachable!("generated JSON: {}", e.message))
    };
    let arn = |service: &str, regional: bool, rest: &str| {
        let mut t = Template::lit("arn:");
        t.push_sym(Symbol::Partition);
        t.push_str(&format!(":{service}:"));
        if regional {
            t.push_sym(Symbol::Region);
        }
        t.push_str(":");
        t.push_sym(Symbol::Account);
        t.push_str(rest);
        t
    };
    let mut input = Input::new("mem", InputKind::Terraform);
    input.principals.push(Principal {
        address: "aws_iam_role.r".into(),
        kind: PrincipalKind::Role,
        name: Template::lit("r"),
        arn: arn("iam", false, ":role/r"),
        span,
    });
    input.tables.push(Table {
        address: "aws_dynamodb_table.music".into(),
        name: Template::lit("Music"),
        arn: arn("dynamodb", true, ":table/Music"),
        span,
    });
    input.policies.push(ModelPolicy {
        address: "aws_iam_role.r/inline".into(),
        kind: PolicyKind::Inline,
        name: None,
        arn: None,
        document: value(identity),
        resource: None,
        span,
    });
    input.attachments.push(Attachment {
        policy: PolicyRef::Address("aws_iam_role.r/inline".into()),
        target: Target::Address("aws_iam_role.r".into()),
        boundary: false,
        span,
        condition: None,
    });
    if bounded {
        let policy = match boundary {
            Some(doc) => {
                input.policies.push(ModelPolicy {
                    address: "aws_iam_policy.boundary".into(),
                    kind: PolicyKind::Managed,
                    name: None,
                    arn: None,
                    document: value(doc),
                    resource: None,
                    span,
                });
                PolicyRef::Address("aws_iam_policy.boundary".into())
            }
            None => PolicyRef::Unknown(Value::unknown("var.boundary", "variable boundary has no value", span)),
        };
        input.attachments.push(Attachment {
            policy,
            target: Target::Address("aws_iam_role.r".into()),
            boundary: true,
            span,
            condition: None,
        });
    }
    input
}

/// Adds to role `r` a policy of unknown content: an inline policy whose document is an
/// unresolved variable, a managed policy attached by an ARN nothing resolves, or a
/// permissions boundary nothing resolves.
fn with_unknown_policy(mut input: kdsguard::model::Input, how: u8) -> kdsguard::model::Input {
    use kdsguard::model::{Attachment, Policy as ModelPolicy, PolicyKind, PolicyRef, Target};
    use kdsguard::value::Value;
    let span = Span::builtin();
    let policy = match how {
        0 => {
            input.policies.push(ModelPolicy {
                address: "aws_iam_role_policy.extra".into(),
                kind: PolicyKind::Inline,
                name: None,
                arn: None,
                document: Value::unknown("var.extra", "variable extra has no value", span),
                resource: None,
                span,
            });
            PolicyRef::Address("aws_iam_role_policy.extra".into())
        }
        _ => PolicyRef::Unknown(Value::unknown(
            "var.policy_arn",
            "variable policy_arn has no value",
            span,
        )),
    };
    input.attachments.push(Attachment {
        policy,
        target: Target::Address("aws_iam_role.r".into()),
        boundary: how == 2,
        span,
        condition: None,
    });
    input
}

/// Every reported-or-not decision of the analysis, by (capability, target).
fn analysis_outcomes(input: kdsguard::model::Input) -> Vec<(String, String, Outcome)> {
    let graph = kdsguard::graph::Graph::build(vec![input], &kdsguard::value::Pins::default());
    let caps = kdsguard::catalog::capabilities().unwrap_or_else(|e| unreachable!("{e}"));
    let d = kdsguard::capability::evaluate(&graph, &caps, &kdsguard::Config::default());
    let mut out = Vec::new();
    for a in d
        .entries
        .iter()
        .filter(|a| graph.principals[a.principal].address == "aws_iam_role.r")
    {
        let cap = d.cap_name(a.cap).to_string();
        let outcome = d.decision(a).outcome;
        // One outcome per target, whatever the grouping into sets.
        match &a.covers {
            kdsguard::capability::Covers::Tables(set) => {
                for t in set.iter(d.table_count()) {
                    out.push((cap.clone(), format!("table {t}"), outcome));
                }
                if set.undeclared {
                    out.push((cap.clone(), "*".to_string(), outcome));
                }
            }
            kdsguard::capability::Covers::Slr(s) => out.push((cap.clone(), format!("slr {s}"), outcome)),
        }
    }
    out.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same property through linking and the capability decisions of `check`: a role's
    /// permissions boundary, declared or unresolved, never gives it a capability its
    /// identity policies do not.
    #[test]
    fn a_boundary_never_turns_a_capability_not_allowed_into_a_grant(
        stmts in prop::collection::vec(any_statement(), 0..5),
        boundary in prop::option::of(prop::collection::vec(any_statement(), 1..4)),
    ) {
        let identity = doc(&stmts);
        let bdoc = boundary.as_ref().map(|b| doc(b));
        let before = analysis_outcomes(role_input(&identity, false, None));
        let after = analysis_outcomes(role_input(&identity, true, bdoc.as_ref()));
        prop_assert_eq!(before.len(), after.len());
        for ((cap, target, b), (_, _, a)) in before.iter().zip(&after) {
            prop_assert!(grant(*a) <= grant(*b), "{} on {}: {:?} -> {:?}", cap, target, b, a);
            if *b == Outcome::NotAllowed {
                prop_assert!(
                    matches!(a, Outcome::NotAllowed | Outcome::Denied),
                    "{} on {}: not_allowed -> {:?}", cap, target, a
                );
            }
        }
    }

    /// Through linking and `check`'s capability decisions: a policy of unknown content
    /// added to a role (inline, managed by an unresolved ARN, or as its boundary) never
    /// makes one of its decisions `allowed` or `denied`, and drops no grant.
    #[test]
    fn an_unknown_policy_never_makes_a_capability_allowed_or_denied(
        stmts in prop::collection::vec(any_statement(), 0..5),
        how in 0u8..3,
    ) {
        let identity = doc(&stmts);
        let before = analysis_outcomes(role_input(&identity, false, None));
        let after = analysis_outcomes(with_unknown_policy(role_input(&identity, false, None), how));
        let was = |cap: &str, target: &str| {
            before
                .iter()
                .find(|(c, t, _)| c == cap && t == target)
                .map_or(Outcome::NotAllowed, |(_, _, o)| *o)
        };
        for (cap, target, a) in &after {
            let b = was(cap, target);
            prop_assert_ne!(*a, Outcome::Allowed, "{} on {} ({}): {:?} -> allowed", cap, target, how, b);
            prop_assert_eq!(*a == Outcome::Denied, b == Outcome::Denied, "{} on {} ({}): {:?} -> {:?}", cap, target, how, b, a);
        }
        // No grant is dropped: what could be exercised still can.
        for (cap, target, b) in &before {
            if b.can() {
                let a = after.iter().find(|(c, t, _)| c == cap && t == target).map(|x| x.2);
                prop_assert_eq!(a, Some(Outcome::Conditional), "{} on {} ({}): {:?}", cap, target, how, b);
            }
        }
    }
}
