//! Properties of the evaluator over random policies: adding a Deny never grants more,
//! adding an Allow never grants less, a boundary or an SCP never grants more than the
//! identity policies alone, and the order of statements or policies never matters.
#![allow(clippy::panic)] // a test fails by panicking

use kdsguard::iam::eval::Outcome;
use kdsguard::simulate::{evaluate, parse_line};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

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
