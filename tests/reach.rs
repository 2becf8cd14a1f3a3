//! Access through other principals (capabilities.md), through the binary: each step kind
//! and its negations on the fixtures under `testdata/reach/`, the rules that count
//! indirect holders (KDS004, KDS011, KDS013), the SLR status, `reach = false`, the
//! assumption about what is not followed, the JSON `indirect` shape, and `query why`.
#![allow(clippy::panic)] // a failing test panics with what it saw

mod common;

use common::*;
use serde_json::Value;

fn check(fixture: &str) -> Value {
    let path = format!("testdata/reach/{fixture}");
    let r = run(&["check", "--format", "json", &path]);
    assert!(
        r.code == 0 || r.code == 1,
        "check {path} failed ({}):\n{}",
        r.code,
        r.stderr
    );
    r.json()
}

fn id(fixture: &str, address: &str) -> String {
    format!("testdata/reach/{fixture}#{address}")
}

/// The indirect entries of one principal and capability.
fn indirect<'a>(report: &'a Value, principal: &str, capability: &str) -> Vec<&'a Value> {
    report["indirect"]
        .as_array()
        .unwrap_or_else(|| panic!("no indirect array in {report}"))
        .iter()
        .filter(|x| x["principal"] == principal && x["capability"] == capability)
        .collect()
}

/// (principal, step, decision) of each step of an entry's path.
fn via(entry: &Value) -> Vec<(String, String, String)> {
    entry["via"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            (
                v["principal"].as_str().unwrap_or_default().to_string(),
                v["step"].as_str().unwrap_or_default().to_string(),
                v["decision"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn step(principal: &str, kind: &str, decision: &str) -> (String, String, String) {
    (principal.to_string(), kind.to_string(), decision.to_string())
}

/// The reach line of `check --timings` on a fixture (what reach built and decided).
fn reach_work(fixture: &str) -> String {
    let t = run(&[
        "check",
        "--format",
        "json",
        "--timings",
        &format!("testdata/reach/{fixture}"),
    ]);
    t.stderr
        .lines()
        .find(|l| l.starts_with("work: reach: "))
        .unwrap_or_else(|| panic!("no reach work line:\n{}", t.stderr))
        .to_string()
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn a_trust_policy_naming_the_callers_arn_is_enough_on_its_own() {
    let r = check("arn-trust");
    let dev = id("arn-trust", "aws_iam_user.dev");
    let entries = indirect(&r, &dev, "disable");
    assert_eq!(entries.len(), 1, "{}", r["indirect"]);
    let x = entries[0];
    assert_eq!(x["decision"], "allowed");
    assert_eq!(x["tables"]["declared"], "all");
    assert_eq!(x["tables"]["undeclared"], true);
    assert_eq!(
        via(x),
        [step(&id("arn-trust", "aws_iam_role.ops"), "assume-role", "allowed")]
    );
    let because = &x["via"][0]["because"][0];
    assert_eq!(because["policy"], "aws_iam_role.ops (trust policy)");
    assert_eq!(because["file"], "testdata/reach/arn-trust/main.tf");
    assert_eq!(because["line"], 17);
    // The holder's own statement is the entry's `because`.
    assert_eq!(x["because"][0]["policy"], "aws_iam_role_policy.ops");
    // dev has no direct access, and ops's direct access is not repeated as indirect.
    assert!(indirect(&r, &id("arn-trust", "aws_iam_role.ops"), "disable").is_empty());
}

#[test]
fn a_trust_policy_naming_the_account_root_needs_an_identity_grant() {
    let r = check("root-trust-no-grant");
    assert!(indirect(&r, &id("root-trust-no-grant", "aws_iam_user.dev"), "disable").is_empty());
    let ci = indirect(&r, &id("root-trust-no-grant", "aws_iam_user.ci"), "disable");
    assert_eq!(ci.len(), 1, "{}", r["indirect"]);
    assert_eq!(ci[0]["decision"], "allowed");
    // Both the trust policy and ci's own policy make the step.
    let policies: Vec<&str> = ci[0]["via"][0]["because"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["policy"].as_str())
        .collect();
    assert!(policies.contains(&"aws_iam_role.ops (trust policy)"), "{policies:?}");
    assert!(policies.contains(&"aws_iam_user_policy.ci"), "{policies:?}");
}

#[test]
fn an_explicit_deny_on_assume_role_in_an_identity_policy_or_an_scp_stops_the_step() {
    for fixture in ["deny-identity", "deny-scp"] {
        let r = check(fixture);
        assert_eq!(r["indirect"], serde_json::json!([]), "{fixture}");
        assert!(findings(&r, "KDS013").is_empty(), "{fixture}");
    }
}

#[test]
fn a_trust_condition_on_mfa_leaves_the_path_conditional() {
    let r = check("mfa");
    let entries = indirect(&r, &id("mfa", "aws_iam_user.dev"), "disable");
    assert_eq!(entries.len(), 1, "{}", r["indirect"]);
    let x = entries[0];
    assert_eq!(x["decision"], "conditional");
    assert_eq!(
        via(x),
        [step(&id("mfa", "aws_iam_role.ops"), "assume-role", "conditional")]
    );
    let c = &x["via"][0]["conditions"][0];
    assert_eq!(c["key"], "aws:MultiFactorAuthPresent");
    assert_eq!(c["operator"], "Bool");
    assert_eq!(c["values"], serde_json::json!(["true"]));
    let f = findings(&r, "KDS013");
    assert_eq!(f.len(), 1);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("may be able to disable"),
        "{}",
        f[0]
    );
}

#[test]
fn a_two_hop_chain_to_the_only_slr_deleter_is_reported_on_the_first_principal() {
    let r = check("two-hop");
    let dev = id("two-hop", "aws_iam_user.dev");
    let entries = indirect(&r, &dev, "delete-slr");
    assert_eq!(entries.len(), 1, "{}", r["indirect"]);
    assert_eq!(
        via(entries[0]),
        [
            step(&id("two-hop", "aws_iam_role.ci"), "assume-role", "allowed"),
            step(&id("two-hop", "aws_iam_role.admin"), "assume-role", "allowed"),
        ]
    );
    assert_eq!(entries[0]["resource"], "slr:kinesisreplication.dynamodb.amazonaws.com");
    let kds004: Vec<&Value> = findings(&r, "KDS004")
        .into_iter()
        .filter(|f| f["principal"] == dev.as_str())
        .collect();
    assert_eq!(kds004.len(), 1, "{}", r["findings"]);
    let message = kds004[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("assumes `aws_iam_role.ci`") && message.contains("assumes `aws_iam_role.admin`"),
        "{message}"
    );
    // At the first step's statement: ci's trust policy.
    assert_eq!(kds004[0]["line"], 15);
    let slr = &r["service_linked_roles"][0];
    assert_eq!(slr["status"], "unprotected");
    let by: Vec<&str> = slr["deletable_by"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        by,
        [
            id("two-hop", "aws_iam_role.admin"),
            id("two-hop", "aws_iam_role.ci"),
            dev.clone()
        ]
    );
}

#[test]
fn a_cycle_of_trust_ends_and_gives_the_shortest_path() {
    let r = check("cycle");
    let entries = indirect(&r, &id("cycle", "aws_iam_user.dev"), "disable");
    assert_eq!(entries.len(), 1, "{}", r["indirect"]);
    assert_eq!(
        via(entries[0]),
        [
            step(&id("cycle", "aws_iam_role.a"), "assume-role", "allowed"),
            step(&id("cycle", "aws_iam_role.b"), "assume-role", "allowed"),
        ]
    );
    // b holds disable directly; a through b; nobody gets a duplicate entry.
    assert!(indirect(&r, &id("cycle", "aws_iam_role.b"), "disable").is_empty());
    assert_eq!(indirect(&r, &id("cycle", "aws_iam_role.a"), "disable").len(), 1);
}

#[test]
fn a_role_that_can_attach_policies_to_itself_holds_what_its_boundary_allows() {
    let app = |f: &str| id(f, "aws_iam_role.app");
    // No boundary: everything.
    let r = check("self-attach");
    let x = indirect(&r, &app("self-attach"), "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(via(x[0]), [step(&app("self-attach"), "change-permissions", "allowed")]);
    assert_eq!(x[0]["via"][0]["because"][0]["action"], "iam:AttachRolePolicy");
    // A boundary allowing no DynamoDB action still bites ...
    let r = check("self-attach-boundary");
    assert!(
        indirect(&r, &app("self-attach-boundary"), "disable").is_empty(),
        "{}",
        r["indirect"]
    );
    assert!(findings(&r, "KDS013").is_empty());
    // ... (it allows iam:*, so deleting the SLR is open) ...
    assert_eq!(indirect(&r, &app("self-attach-boundary"), "delete-slr").len(), 1);
    // ... unless the role can also delete its boundary.
    let r = check("self-attach-boundary-removable");
    let x = indirect(&r, &app("self-attach-boundary-removable"), "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    let actions: Vec<&str> = x[0]["via"][0]["because"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["action"].as_str())
        .collect();
    assert!(
        actions.iter().all(|a| a.contains("iam:DeleteRolePermissionsBoundary")),
        "{actions:?}"
    );
}

#[test]
fn changed_principals_decided_alike_still_cite_their_own_statements() {
    let f = "self-attach-alike";
    let r = check(f);
    for (role, other, table) in [("a", "b", "orders"), ("b", "a", "items")] {
        let x = indirect(&r, &id(f, &format!("aws_iam_role.{role}")), "describe");
        assert_eq!(x.len(), 2, "{}", r["indirect"]);
        // The table its own statement names is an entry of its own, proved by that statement.
        let named: Vec<&&Value> = x
            .iter()
            .filter(|e| e["tables"]["declared"] == serde_json::json!([id(f, &format!("aws_dynamodb_table.{table}"))]))
            .collect();
        assert_eq!(named.len(), 1, "{role}: {x:?}");
        let policies: Vec<&str> = named[0]["because"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b["policy"].as_str())
            .collect();
        assert!(
            policies.contains(&format!("aws_iam_role_policy.{role}").as_str()),
            "{role}: {policies:?}"
        );
        assert!(
            !policies.contains(&format!("aws_iam_role_policy.{other}").as_str()),
            "{role}: {policies:?}"
        );
    }
}

#[test]
fn a_user_that_can_add_itself_to_a_group_holds_the_groups_policies() {
    let r = check("add-to-group");
    let dev = id("add-to-group", "aws_iam_user.dev");
    let x = indirect(&r, &dev, "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(via(x[0]), [step(&dev, "change-permissions", "allowed")]);
    assert_eq!(x[0]["because"][0]["policy"], "aws_iam_group_policy.admins");
    // Only the group's policies: not everything.
    assert!(indirect(&r, &dev, "delete-slr").is_empty());
    let f = findings(&r, "KDS013");
    assert_eq!(f.len(), 1);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("adds itself to group `aws_iam_group.admins`")
    );
}

/// A join is followed only where it can beat the user's own permission change
/// (docs/spec-notes.md): dev's own change needs MFA, so its allowed join is the path; ops's
/// own change is allowed and holds all the join would, so the join is not followed (three
/// changed principals: dev as changed, dev in the group, ops as changed).
#[test]
fn a_join_is_followed_only_where_it_beats_the_users_own_change() {
    let f = "join-or-change";
    let r = check(f);
    let (dev, ops) = (id(f, "aws_iam_user.dev"), id(f, "aws_iam_user.ops"));
    let x = indirect(&r, &dev, "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(x[0]["decision"], "allowed");
    assert_eq!(via(x[0]), [step(&dev, "change-permissions", "allowed")]);
    assert_eq!(x[0]["via"][0]["because"][0]["action"], "iam:AddUserToGroup");
    assert_eq!(x[0]["because"][0]["policy"], "aws_iam_group_policy.admins");
    // Elsewhere dev holds only what its conditional change gives.
    let slr = indirect(&r, &dev, "delete-slr");
    assert!(slr.iter().all(|x| x["decision"] == "conditional"), "{slr:?}");
    let x = indirect(&r, &ops, "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(x[0]["decision"], "allowed");
    assert_eq!(x[0]["via"][0]["because"][0]["action"], "iam:PutUserPolicy");
    let line = reach_work(f);
    assert!(line.contains(", 3 changed principals ("), "{line}");
}

/// A hub that may assume every role shares the trust class's role list, less the role its
/// Deny names, which is decided on its own: dev reaches app (allowed) and vault (only
/// conditionally), and the vault's grant is never taken as allowed.
#[test]
fn a_role_a_pattern_tells_apart_keeps_its_own_decision_in_a_hub() {
    let f = "assume-all-but-one";
    let r = check(f);
    let dev = id(f, "aws_iam_user.dev");
    let x = indirect(&r, &dev, "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(via(x[0]), [step(&id(f, "aws_iam_role.app"), "assume-role", "allowed")]);
    let x = indirect(&r, &dev, "delete-slr");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(x[0]["decision"], "conditional");
    assert_eq!(
        via(x[0]),
        [step(&id(f, "aws_iam_role.vault"), "assume-role", "conditional")]
    );
    let line = reach_work(f);
    // One hub: the trust class's list (3 roles) less vault, and vault's own group.
    assert!(
        line.contains(", 7 hub edges and roles on their lists in 1 hubs,"),
        "{line}"
    );
}

/// A writer that cannot change itself changes the roles it reaches where its Allows land:
/// dev (a user, whose `iam:PutRolePolicy` names `role/app*`) assumes app and changes it;
/// batch, reached too, is not changed (one changed principal). dev has no steps of its
/// own, so its search is its hub's.
#[test]
fn a_writer_changes_the_reached_roles_its_allows_name() {
    let f = "change-reached-role";
    let r = check(f);
    let (dev, app) = (id(f, "aws_iam_user.dev"), id(f, "aws_iam_role.app"));
    for cap in ["disable", "delete-slr"] {
        let x = indirect(&r, &dev, cap);
        assert_eq!(x.len(), 1, "{cap}: {}", r["indirect"]);
        assert_eq!(
            via(x[0]),
            [
                step(&app, "assume-role", "allowed"),
                step(&app, "change-permissions", "allowed")
            ],
            "{cap}"
        );
        assert_eq!(x[0]["via"][1]["because"][0]["action"], "iam:PutRolePolicy");
    }
    let line = reach_work(f);
    assert!(
        line.contains("(1 permission changes,") && line.contains(", 1 changed principals ("),
        "{line}"
    );
}

#[test]
fn group_and_role_patterns_reach_what_their_names_match_and_nothing_else() {
    // iam:AddUserToGroup on `group/op*`: ops, not audit.
    let f = "add-to-some-groups";
    let r = check(f);
    let dev = id(f, "aws_iam_user.dev");
    let x = indirect(&r, &dev, "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(via(x[0]), [step(&dev, "change-permissions", "allowed")]);
    assert_eq!(x[0]["because"][0]["policy"], "aws_iam_group_policy.ops");
    assert!(indirect(&r, &dev, "update").is_empty(), "{}", r["indirect"]);
    // sts:AssumeRole on `role/ops-*`, both roles trusting the account root: ops-admin only.
    let f = "assume-by-prefix";
    let r = check(f);
    let dev = id(f, "aws_iam_user.dev");
    let x = indirect(&r, &dev, "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(
        via(x[0]),
        [step(&id(f, "aws_iam_role.ops_admin"), "assume-role", "allowed")]
    );
    assert!(indirect(&r, &dev, "update").is_empty(), "{}", r["indirect"]);
}

#[test]
fn a_guardrail_is_broken_through_reach() {
    let r = run(&[
        "check",
        "--format",
        "json",
        "--config",
        "testdata/reach/guardrail/kdsguard.toml",
        "testdata/reach/guardrail",
    ]);
    let report = r.json();
    let kds011 = findings(&report, "KDS011");
    assert_eq!(kds011.len(), 1, "{}", report["findings"]);
    assert_eq!(kds011[0]["principal"], id("guardrail", "aws_iam_user.dev"));
    assert!(
        kds011[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("through other principals")
    );
    assert_eq!(r.code, 1);
}

#[test]
fn reach_false_in_the_config_turns_it_off() {
    let r = run(&[
        "check",
        "--format",
        "json",
        "--config",
        "testdata/reach/reach-off.toml",
        "testdata/reach/reach-off",
    ]);
    let report = r.json();
    assert_eq!(report["indirect"], serde_json::json!([]));
    assert!(findings(&report, "KDS013").is_empty());
    let assumptions = report["assumptions"].to_string();
    assert!(assumptions.contains("reach = false"), "{assumptions}");
    // The same input with reach on (the default) has the indirect holder.
    assert_eq!(check("reach-off")["indirect"].as_array().map(Vec::len), Some(1));
}

#[test]
fn grants_of_ways_not_followed_are_listed_as_assumptions() {
    let r = check("passrole");
    let assumptions: Vec<&str> = r["assumptions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        assumptions
            .iter()
            .any(|a| a.starts_with("iam:PassRole is granted") && a.contains("not followed"))
    );
    assert!(
        assumptions
            .iter()
            .any(|a| a.starts_with("iam:CreateAccessKey is granted"))
    );
    assert!(!assumptions.iter().any(|a| a.starts_with("iam:UpdateLoginProfile")));
    let none = check("arn-trust");
    assert!(!none["assumptions"].to_string().contains("not followed"));
}

#[test]
fn cloudformation_trust_and_principals_outside_the_inputs() {
    let path = "testdata/reach/cloudformation/template.yaml";
    let r = run(&["check", "--format", "json", "--account", "111122223333", path]).json();
    let dev = format!("{path}#Dev");
    let x = indirect(&r, &dev, "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(via(x[0]), [step(&format!("{path}#Ops"), "assume-role", "allowed")]);
    // The partner account's role is an external principal; its own policies are not in
    // the inputs, so across accounts the step is conditional.
    let ext = r["principals"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["kind"] == "external-role")
        .unwrap_or_else(|| panic!("no external role in {}", r["principals"]));
    let x = indirect(&r, ext["id"].as_str().unwrap_or_default(), "disable");
    assert_eq!(x.len(), 1, "{}", r["indirect"]);
    assert_eq!(x[0]["decision"], "conditional");
}

/// Every key of an object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().into_iter().flatten().map(|(k, _)| k.as_str()).collect();
    k.sort_unstable();
    k
}

#[test]
fn the_indirect_section_has_the_shape_the_spec_gives() {
    for fixture in ["arn-trust", "mfa", "two-hop", "cycle", "self-attach", "add-to-group"] {
        let r = check(fixture);
        let entries = r["indirect"]
            .as_array()
            .unwrap_or_else(|| panic!("{fixture}: no indirect"));
        assert!(!entries.is_empty(), "{fixture}");
        let mut order = Vec::new();
        for x in entries {
            let target = if x.get("tables").is_some() {
                "tables"
            } else {
                "resource"
            };
            let mut want = vec![
                "because",
                "capability",
                "conditions",
                "decision",
                "missing",
                "principal",
                target,
                "via",
            ];
            want.sort_unstable();
            assert_eq!(keys(x), want, "{fixture}: {x}");
            assert!(matches!(x["decision"].as_str(), Some("allowed" | "conditional")), "{x}");
            if target == "tables" {
                assert_eq!(keys(&x["tables"]), ["declared", "undeclared"]);
            }
            let via = x["via"].as_array().unwrap_or_else(|| panic!("{x}"));
            assert!(!via.is_empty());
            for v in via {
                assert_eq!(
                    keys(v),
                    ["because", "conditions", "decision", "principal", "step"],
                    "{v}"
                );
                assert!(matches!(v["step"].as_str(), Some("assume-role" | "change-permissions")));
                for b in v["because"].as_array().into_iter().flatten() {
                    for k in ["policy", "effect", "file", "line", "column"] {
                        assert!(b.get(k).is_some(), "{k} missing in {b}");
                    }
                }
            }
            order.push((
                x["principal"].as_str().unwrap_or_default().to_string(),
                x["capability"].as_str().unwrap_or_default().to_string(),
            ));
        }
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{fixture}: sorted by principal, capability");
    }
}

#[test]
fn query_who_can_marks_indirect_holders() {
    let r = run(&[
        "query",
        "who-can",
        "disable",
        "testdata/reach/arn-trust",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let answer = r.json();
    let results = answer["results"].as_array().unwrap_or_else(|| panic!("{answer}"));
    let names: Vec<(&str, bool)> = results
        .iter()
        .map(|e| {
            (
                e["principal"]["name"].as_str().unwrap_or_default(),
                e.get("via").is_some(),
            )
        })
        .collect();
    assert_eq!(names, [("ops", false), ("dev", true)]);
    let human = run(&["query", "who-can", "disable", "testdata/reach/arn-trust"]).stdout;
    assert!(human.contains("(indirect)"), "{human}");
}

#[test]
fn query_why_prints_every_steps_proof_for_a_two_hop_path() {
    let r = run(&[
        "query",
        "why",
        "aws_iam_user.dev",
        "delete-slr",
        "slr",
        "testdata/reach/two-hop",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("reach_why_two_hop", r.stdout);
}

/// A capability and the path of an indirect entry ([`via`]).
type Held = (String, Vec<(String, String, String)>);

/// The (capability, path) of every indirect entry of a principal, sorted.
fn entries_of(report: &Value, principal: &str) -> Vec<Held> {
    let mut out: Vec<Held> = report["indirect"]
        .as_array()
        .unwrap_or_else(|| panic!("no indirect array in {report}"))
        .iter()
        .filter(|x| x["principal"] == principal)
        .map(|x| (x["capability"].as_str().unwrap_or_default().to_string(), via(x)))
        .collect();
    out.sort();
    out
}

/// A policy variable in an `sts:AssumeRole` resource lands where the caller's values put
/// it: `role/${aws:username}-role` reaches alice-role for alice, and not bob-role.
#[test]
fn an_assume_role_grant_with_a_policy_variable_reaches_the_role_it_names_for_the_caller() {
    let r = check("variable-assume");
    let alice = id("variable-assume", "aws_iam_user.alice");
    let role = id("variable-assume", "aws_iam_role.alice");
    assert_eq!(
        entries_of(&r, &alice),
        vec![("disable".to_string(), vec![step(&role, "assume-role", "allowed")])],
        "{r}"
    );
}

/// The self-service grant `iam:PutUserPolicy` on `user/${aws:username}`: the user may
/// change its own permissions, so it holds every capability through that change.
#[test]
fn a_self_service_grant_with_a_policy_variable_is_a_change_to_the_user_itself() {
    let r = check("variable-self-change");
    let alice = id("variable-self-change", "aws_iam_user.alice");
    let entries = entries_of(&r, &alice);
    let caps: Vec<&str> = entries.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        caps,
        ["create-slr", "delete-slr", "describe", "disable", "enable", "update"],
        "{r}"
    );
    for (cap, path) in &entries {
        assert_eq!(path, &vec![step(&alice, "change-permissions", "allowed")], "{cap}");
    }
}

/// `iam:AddUserToGroup` on `group/${aws:username}-team`: alice may join alice-team
/// (disable), not bob-team (describe).
#[test]
fn a_group_join_with_a_policy_variable_reaches_the_group_it_names_for_the_caller() {
    let r = check("variable-join");
    let alice = id("variable-join", "aws_iam_user.alice");
    assert_eq!(
        entries_of(&r, &alice),
        vec![(
            "disable".to_string(),
            vec![step(&alice, "change-permissions", "allowed")]
        )],
        "{r}"
    );
}
