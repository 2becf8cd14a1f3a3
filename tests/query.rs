//! `kdsguard query who-can | can | why` through the binary: answers on the demo (Terraform
//! and CloudFormation), the full proof on the query fixture (a user in two groups, a
//! permissions boundary, an SCP), and errors that name what was not found.
#![allow(clippy::panic)] // a failing test panics with what it saw

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const TF: &str = "testdata/demo/terraform";
const CFN: &str = "testdata/demo/cloudformation/template.yaml";
const FIXTURE: &str = "testdata/query/template.yaml";

fn query_json(args: &[&str]) -> Value {
    let mut all = vec!["query"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let r = run(&all);
    if args.first() == Some(&"can") {
        // `query can` answers with its exit status: 0 yes, 1 no.
        let answer = r.json();
        let yes = results(&answer)
            .iter()
            .any(|e| e["decision"] == "allowed" || e["decision"] == "conditional");
        assert_eq!(r.code, if yes { 0 } else { 1 }, "query {args:?}:\n{}", r.stderr);
        return answer;
    }
    assert_eq!(r.code, 0, "query {args:?} failed:\n{}", r.stderr);
    r.json()
}

fn results(answer: &Value) -> &Vec<Value> {
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results array in {answer}"))
}

fn names(answer: &Value) -> Vec<(String, String, String)> {
    results(answer)
        .iter()
        .map(|e| {
            (
                e["principal"]["name"].as_str().unwrap_or_default().to_string(),
                e["resource_name"].as_str().unwrap_or_default().to_string(),
                e["decision"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn triple(name: &str, resource: &str, decision: &str) -> (String, String, String) {
    (name.to_string(), resource.to_string(), decision.to_string())
}

#[test]
fn who_can_disable_on_the_demo() {
    for path in [TF, CFN] {
        let answer = query_json(&["who-can", "disable", path]);
        assert_eq!(answer["query"], "who-can");
        // ops-admin (iam:* on *) can give itself anything: an indirect holder, marked by
        // its path (capabilities.md, Access through other principals).
        assert_eq!(
            names(&answer),
            [
                triple("kds-disable-music", "table Music", "allowed"),
                triple(
                    "ops-admin",
                    "every undeclared table (*), table Music, table Orders",
                    "allowed"
                )
            ],
            "{path}"
        );
        assert!(results(&answer)[0].get("via").is_none());
        assert_eq!(results(&answer)[1]["via"][0]["step"], "change-permissions", "{path}");
        let grant = &results(&answer)[0]["requirements"][0]["grants"][0];
        assert_eq!(grant["effect"], "Allow");
        assert_eq!(grant["action"]["text"], "dynamodb:DisableKinesisStreamingDestination");
        assert!(grant["line"].as_u64().unwrap_or(0) > 0, "{grant}");

        let on_orders = query_json(&["who-can", "disable", "--on", "Orders", path]);
        let direct: Vec<&Value> = results(&on_orders).iter().filter(|e| e.get("via").is_none()).collect();
        assert!(direct.is_empty(), "{path}: {on_orders}");
    }
}

#[test]
fn who_can_delete_the_slr_and_human_output() {
    let answer = query_json(&["who-can", "delete-slr", TF]);
    assert_eq!(
        names(&answer),
        [triple("ops-admin", "the account's replication role", "allowed")]
    );
    let r = run(&["query", "who-can", "delete-slr", TF]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(
            "Who can delete-slr on the account's replication role, declared at testdata/demo/terraform/main.tf:57?"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("aws_iam_role.ops_admin"), "{}", r.stdout);
    assert!(r.stdout.contains("testdata/demo/terraform/iam.tf:"), "{}", r.stdout);
    assert!(r.stdout.contains("1 principal(s)."), "{}", r.stdout);
}

#[test]
fn can_explains_a_denial_with_the_denying_statement() {
    for (path, principal) in [(TF, "aws_iam_role.selective"), (CFN, "SelectiveRole")] {
        let answer = query_json(&["can", principal, "disable", "--on", "Orders", path]);
        assert_eq!(names(&answer), [triple("kds-selective", "table Orders", "denied")]);
        let req = &results(&answer)[0]["requirements"][0];
        let deny = &req["denies"][0];
        assert_eq!(deny["effect"], "Deny");
        let file = deny["file"].as_str().unwrap_or_default();
        let line = deny["action"]["line"].as_u64().unwrap_or(0) as usize;
        let text = std::fs::read_to_string(root().join(file)).unwrap_or_default();
        let at = text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
        assert!(
            at.contains("dynamodb:DisableKinesisStreamingDestination"),
            "{path}: the Deny's action is at {file}:{line}: {at:?}"
        );
        let reason = req["reason"].as_str().unwrap_or_default();
        assert!(reason.starts_with("explicitly denied by"), "{reason}");
    }
}

#[test]
fn can_explains_a_partial_grant_with_the_missing_actions() {
    // By IAM name this time.
    let answer = query_json(&["can", "kds-enable-music", "enable", "--on", "Music", TF]);
    let e = &results(&answer)[0];
    assert_eq!(e["decision"], "not_allowed");
    assert_eq!(
        e["missing"],
        serde_json::json!(["kinesis:ListStreams", "kinesis:PutRecords", "kinesis:DescribeStream"])
    );
    let reqs = e["requirements"].as_array().cloned().unwrap_or_default();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0]["decision"], "allowed");
    for r in &reqs[1..] {
        assert_eq!(r["decision"], "not_allowed");
        let reason = r["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("no Allow statement for kinesis:"), "{reason}");
    }
    // A "no" with no relevant statement at all still answers, with the decision.
    let answer = query_json(&["can", "kds-disable-music", "enable", "--on", "Orders", TF]);
    assert_eq!(
        names(&answer),
        [triple("kds-disable-music", "table Orders", "not_allowed")]
    );
}

#[test]
fn why_proves_an_slr_deletion_through_an_inline_policy() {
    let answer = query_json(&["why", "ops-admin", "delete-slr", "slr", TF]);
    let e = &results(&answer)[0];
    assert_eq!(e["decision"], "allowed");
    let grant = &e["requirements"][0]["grants"][0];
    assert_eq!(grant["policy"]["kind"], "inline");
    assert_eq!(grant["routes"][0]["kind"], "inline");
    assert_eq!(grant["action"]["text"], "iam:*");
    assert_eq!(grant["resources"], serde_json::json!(["*"]));
    let checks: Vec<&str> = e["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(checks, ["passed", "not-set", "passed"]);
}

#[test]
fn why_on_the_fixture_prints_the_full_proof_path() {
    let r = run(&["query", "why", "alice", "disable", "Orders", FIXTURE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("why_alice_disable_orders", r.stdout);
}

#[test]
fn why_on_the_fixture_in_json_names_group_boundary_and_scp() {
    let answer = query_json(&["why", "alice", "disable", "Orders", FIXTURE]);
    assert_eq!(answer["principal"], "testdata/query/template.yaml#Alice");
    let e = &results(&answer)[0];
    assert_eq!(e["decision"], "allowed");
    let req = &e["requirements"][0];
    let grant = &req["grants"][0];
    assert_eq!(
        grant["policy"]["address"],
        "ReplicationOperators/Policies/disable-orders"
    );
    assert_eq!(grant["sid"], "DisableOrders");
    let route = &grant["routes"][0];
    assert_eq!(route["kind"], "group");
    assert_eq!(route["group"], "ReplicationOperators");
    // The membership is the `- !Ref ReplicationOperators` entry of Alice's Groups.
    let member_line = route["membership"]["line"].as_u64().unwrap_or(0) as usize;
    assert!(
        lines_with(Path::new(FIXTURE), "- !Ref ReplicationOperators").contains(&member_line),
        "membership at line {member_line}"
    );
    let sid_line = grant["line"].as_u64().unwrap_or(0) as usize;
    assert_eq!(lines_with(Path::new(FIXTURE), "Sid: DisableOrders"), [sid_line]);
    assert_eq!(req["boundary"][0]["policy"]["address"], "Boundary");
    assert_eq!(req["boundary"][0]["sid"], "StreamingDestinationsOnly");
    let checks = e["checks"].as_array().cloned().unwrap_or_default();
    assert_eq!(checks[0]["check"], "explicit-deny");
    assert_eq!(checks[0]["status"], "passed");
    assert_eq!(checks[1]["check"], "permissions-boundary");
    assert_eq!(checks[1]["status"], "passed");
    assert_eq!(checks[2]["check"], "scp");
    assert_eq!(checks[2]["status"], "passed");
    assert_eq!(checks[2]["policies"], serde_json::json!(["Guardrails"]));
}

#[test]
fn the_fixture_answers_conditional_denied_and_bounded() {
    // AdministratorAccess, under an SCP Deny that might apply: conditional.
    let answer = query_json(&["who-can", "enable", "--on", "Orders", FIXTURE]);
    assert_eq!(names(&answer), [triple("ops", "table Orders", "conditional")]);
    let e = &results(&answer)[0];
    let primary = &e["requirements"][0];
    assert_eq!(primary["denies"][0]["certain"], false);
    assert_eq!(primary["denies"][0]["sid"], "OnlyInEurope");
    assert_eq!(primary["conditions"][0]["key"], "aws:RequestedRegion");
    let admin = &e["requirements"][1]["grants"][0]["policy"];
    assert_eq!(admin["kind"], "aws-managed");
    assert_eq!(admin["address"], "arn:aws:iam::aws:policy/AdministratorAccess");

    // The SCP denies deleting the role.
    let answer = query_json(&["why", "alice", "delete-slr", "slr", FIXTURE]);
    let e = &results(&answer)[0];
    assert_eq!(e["decision"], "denied");
    assert_eq!(e["requirements"][0]["denies"][0]["layer"], "scp");
    assert_eq!(e["checks"][2]["status"], "blocked");

    // The boundary does not allow the Kinesis actions enabling needs.
    let answer = query_json(&["can", "alice", "enable", "--on", "Orders", FIXTURE]);
    let e = &results(&answer)[0];
    assert_eq!(e["decision"], "not_allowed");
    let list_streams = &e["requirements"][1];
    assert_eq!(list_streams["action"], "kinesis:ListStreams");
    let reason = list_streams["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("permissions boundary (Boundary)"), "{reason}");
}

#[test]
fn unknown_arguments_are_errors_that_list_the_choices() {
    let r = run(&["query", "can", "nobody", "disable", TF]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown principal `nobody`"), "{}", r.stderr);
    assert!(
        r.stderr.contains("testdata/demo/terraform#aws_iam_role.ops_admin"),
        "{}",
        r.stderr
    );

    let r = run(&["query", "who-can", "destroy", TF]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown capability `destroy`"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("enable, describe, disable, update, create-slr, delete-slr"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("create-slr-any-service"),
        "internal probes are not choices"
    );

    let r = run(&["query", "why", "ops-admin", "disable", "Nope", CFN]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown table `Nope`"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("testdata/demo/cloudformation/template.yaml#MusicTable"),
        "{}",
        r.stderr
    );

    let r = run(&["query", "why", "ops-admin", "delete-slr", "Music", CFN]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not the service-linked role"), "{}", r.stderr);

    // The same IAM name in both demos: ambiguous, with the candidates.
    let r = run(&["query", "can", "kds-selective", "disable", TF, CFN]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`kds-selective` is ambiguous"), "{}", r.stderr);
    assert!(
        r.stderr.contains("testdata/demo/terraform#aws_iam_role.selective"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("testdata/demo/cloudformation/template.yaml#SelectiveRole"),
        "{}",
        r.stderr
    );
    // An id is never ambiguous.
    let answer = query_json(&[
        "can",
        "testdata/demo/terraform#aws_iam_role.selective",
        "disable",
        TF,
        CFN,
    ]);
    assert!(!results(&answer).is_empty());
}

#[test]
fn answers_are_deterministic() {
    let args = ["query", "who-can", "describe", "--format", "json", TF, CFN, FIXTURE];
    let first = run(&args);
    let second = run(&args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn can_exits_0_when_yes_1_when_no_and_2_on_errors() {
    let code = |args: &[&str]| {
        let mut all = vec!["query", "can"];
        all.extend_from_slice(args);
        run(&all).code
    };
    // Allowed directly.
    assert_eq!(code(&["aws_iam_role.disable_music", "disable", "--on", "Music", TF]), 0);
    // Not allowed, in either format.
    assert_eq!(code(&["aws_iam_role.enable_music", "disable", "--on", "Music", TF]), 1);
    assert_eq!(
        code(&[
            "aws_iam_role.enable_music",
            "disable",
            "--on",
            "Music",
            TF,
            "--format",
            "json"
        ]),
        1
    );
    // Errors: an unknown principal, an unknown capability.
    assert_eq!(code(&["aws_iam_role.nobody", "disable", TF]), 2);
    assert_eq!(code(&["aws_iam_role.enable_music", "destroy", TF]), 2);
    // who-can and why are answers, not tests: 0 even when nobody can.
    let r = run(&["query", "who-can", "disable", "--on", "Music", CFN]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The exit status is documented.
    let help = run(&["query", "can", "--help"]).stdout;
    assert!(help.contains("0 when the answer is yes"), "{help}");
}
