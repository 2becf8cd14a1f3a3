//! Cost grows with the input, not with principals × tables: on a generated estate and on one
//! twice its size (principals, tables and files doubled), the IAM requests the decisions
//! make, the table classes they decide, and the report's access entries and findings grow
//! at most 2.2×, also with reach's trust policies and IAM-write grants. Work is counted
//! (`check --timings` prints the counters), never timed.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::estate::{Format, Options, write};
use serde_json::Value;

/// What one run did.
#[derive(Debug)]
struct Work {
    requests: f64,
    classes: f64,
    entries: f64,
    findings: f64,
    /// The ways of acting as another principal reach searches: its steps and hub edges (a
    /// hub's way to a role, stored once for all its callers), not counting the hub edges
    /// made steps only because a reported path shows them (those follow the entries).
    steps: f64,
    /// Changed principals decided.
    changed: f64,
}

fn work_on(format: Format, principals: usize, tables: usize, files: usize) -> Work {
    work_with(
        format,
        Options {
            principals,
            tables,
            files,
            seed: 7,
            ..Options::default()
        },
    )
}

fn work_with(format: Format, opts: Options) -> Work {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), format, &opts).unwrap_or_else(|e| panic!("cannot generate: {e}"));
    let out = common::kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "--timings", "."])
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for phase in ["discover", "load", "graph", "decisions", "reach", "rules", "report"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("timing: {phase}")) && l.ends_with(" ms")),
            "--timings names the {phase} phase:\n{stderr}"
        );
    }
    let line = stderr
        .lines()
        .find(|l| l.starts_with("work: "))
        .unwrap_or_else(|| panic!("no work line in:\n{stderr}"));
    // "work: R IAM requests, C table classes, M pattern matches, E access entries"
    let numbers: Vec<f64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    // "work: reach: S steps (C permission changes, M hub edges shown in paths), H hub edges
    // in B hubs, V changed principals (D decided, A of them again for their own proofs)"
    let reach_line = stderr
        .lines()
        .find(|l| l.starts_with("work: reach: "))
        .unwrap_or_else(|| panic!("no reach work line in:\n{stderr}"));
    let reach_numbers: Vec<f64> = reach_line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report: {e}"));
    assert!(
        report["errors"].as_array().is_some_and(Vec::is_empty),
        "{}",
        report["errors"]
    );
    let len = |k: &str| report[k].as_array().map_or(0, Vec::len) as f64;
    Work {
        requests: numbers[0],
        classes: numbers[1],
        entries: len("access") + len("indirect"),
        findings: len("findings"),
        steps: reach_numbers[0] - reach_numbers[2] + reach_numbers[3],
        changed: reach_numbers[6],
    }
}

fn assert_linear(format: Format) {
    // Both sizes declare the service-linked role twice (the generator adds one declaration
    // per 100 tables past 200): one role, so SLR entries grow with the principals alone.
    let n = work_on(format, 300, 120, 12);
    let n2 = work_on(format, 600, 240, 24);
    for (what, a, b) in [
        ("IAM requests", n.requests, n2.requests),
        ("table classes", n.classes, n2.classes),
        ("reach steps and hub edges", n.steps, n2.steps),
        ("access entries", n.entries, n2.entries),
        ("findings", n.findings, n2.findings),
    ] {
        assert!(a > 0.0, "{what}: nothing at N ({n:?})");
        let ratio = b / a;
        assert!(ratio <= 2.2, "{what} grew {ratio:.2}x from N to 2N ({n:?} -> {n2:?})");
    }
}

#[test]
fn terraform_work_grows_linearly() {
    assert_linear(Format::Terraform);
}

#[test]
fn cloudformation_work_grows_linearly() {
    assert_linear(Format::CloudFormation);
}

/// Reach on the many-users → few-roles shape (capabilities.md, Access through other
/// principals): a tenth as many assumable roles as principals, every user allowed to assume
/// one, and some roles that may attach policies to themselves. The requests (decisions plus
/// steps plus the changed principals), the entries (`access` and `indirect`) and the
/// findings grow with the estate, not with principals × roles.
#[test]
fn reach_work_grows_linearly() {
    let at = |principals: usize, tables: usize, files: usize| {
        work_with(
            Format::Terraform,
            Options {
                principals,
                tables,
                files,
                seed: 7,
                assumable: principals / 10,
                iam_writers: principals / 50,
            },
        )
    };
    let n = at(300, 120, 12);
    let n2 = at(600, 240, 24);
    for (what, a, b) in [
        ("IAM requests", n.requests, n2.requests),
        ("reach steps and hub edges", n.steps, n2.steps),
        ("changed principals decided", n.changed, n2.changed),
        ("entries", n.entries, n2.entries),
        ("findings", n.findings, n2.findings),
    ] {
        assert!(a > 0.0, "{what}: nothing at N ({n:?})");
        let ratio = b / a;
        assert!(ratio <= 2.2, "{what} grew {ratio:.2}x from N to 2N ({n:?} -> {n2:?})");
    }
}

/// The report of `check --format json` on a generated estate.
fn report_on(format: Format, opts: Options) -> Value {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), format, &opts).unwrap_or_else(|e| panic!("cannot generate: {e}"));
    let out = common::kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "."])
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report: {e}"))
}

/// One SLR per account (capabilities.md): an estate that declares the replication role
/// several times (the generator: one declaration per 100 tables) has one role with every
/// declaration listed, at most one `create-slr` and one `delete-slr` entry (direct or
/// indirect) and one KDS004 per principal, and KDS005 once per unprotected declaration.
#[test]
fn slr_entries_and_findings_are_at_most_one_per_principal() {
    use std::collections::BTreeMap;
    for format in [Format::Terraform, Format::CloudFormation] {
        let opts = Options {
            principals: 300,
            tables: 420,
            files: 12,
            seed: 7,
            assumable: 30,
            iam_writers: 6,
        };
        let report = report_on(format, opts);
        let slrs = report["service_linked_roles"].as_array().cloned().unwrap_or_default();
        assert_eq!(slrs.len(), 1, "{format:?}: {slrs:?}");
        let declarations = slrs[0]["declarations"].as_array().map_or(0, Vec::len);
        assert_eq!(declarations, 4, "{format:?}: one declaration per 100 tables");
        let mut per: BTreeMap<(String, String), usize> = BTreeMap::new();
        for section in ["access", "indirect"] {
            for e in report[section].as_array().into_iter().flatten() {
                if let Some(resource) = e.get("resource") {
                    assert_eq!(resource, &slrs[0]["id"], "{format:?}: {e}");
                    // One direct entry, and one indirect where a path beats it.
                    let key = (format!("{section} {}", e["principal"]), e["capability"].to_string());
                    *per.entry(key).or_default() += 1;
                }
            }
        }
        assert!(
            per.len() > 10,
            "{format:?}: too few SLR entries to count ({})",
            per.len()
        );
        assert!(per.values().all(|n| *n == 1), "{format:?}: {per:?}");
        let findings: Vec<&Value> = report["findings"].as_array().into_iter().flatten().collect();
        let mut kds004: BTreeMap<String, usize> = BTreeMap::new();
        for f in findings.iter().filter(|f| f["rule"] == "KDS004") {
            *kds004.entry(f["principal"].to_string()).or_default() += 1;
        }
        assert!(!kds004.is_empty(), "{format:?}: the estate has SLR deleters");
        assert!(kds004.values().all(|n| *n == 1), "{format:?}: {kds004:?}");
        assert_eq!(
            kds004.len(),
            slrs[0]["deletable_by"].as_array().map_or(0, Vec::len),
            "{format:?}: one KDS004 per deleter"
        );
        let kds005 = findings.iter().filter(|f| f["rule"] == "KDS005").count();
        assert!((1..=declarations).contains(&kds005), "{format:?}: {kds005} KDS005");
    }
}

/// `users` users, each in one of five groups; each group's managed policy grants a different
/// replication action, on every table or on one, and the users have nothing of their own.
fn grouped_users(users: usize) -> String {
    let mut tf = String::from(
        "resource \"aws_dynamodb_table\" \"orders\" {\n  name     = \"orders\"\n  hash_key = \"pk\"\n  attribute {\n    name = \"pk\"\n    type = \"S\"\n  }\n}\n\n",
    );
    let grants = [
        ("dynamodb:EnableKinesisStreamingDestination", "*"),
        (
            "dynamodb:DisableKinesisStreamingDestination",
            "aws_dynamodb_table.orders.arn",
        ),
        ("dynamodb:DescribeKinesisStreamingDestination", "*"),
        (
            "dynamodb:UpdateKinesisStreamingDestination",
            "aws_dynamodb_table.orders.arn",
        ),
        ("dynamodb:*", "*"),
    ];
    for (g, (action, resource)) in grants.iter().enumerate() {
        let resource = if *resource == "*" {
            "\"*\"".to_string()
        } else {
            resource.to_string()
        };
        tf.push_str(&format!(
            "resource \"aws_iam_group\" \"g{g}\" {{\n  name = \"g{g}\"\n}}\n\n\
             resource \"aws_iam_policy\" \"p{g}\" {{\n  name   = \"p{g}\"\n  policy = jsonencode({{\n    Version   = \"2012-10-17\"\n    Statement = [{{ Effect = \"Allow\", Action = \"{action}\", Resource = {resource} }}]\n  }})\n}}\n\n\
             resource \"aws_iam_group_policy_attachment\" \"g{g}\" {{\n  group      = aws_iam_group.g{g}.name\n  policy_arn = aws_iam_policy.p{g}.arn\n}}\n\n"
        ));
    }
    for u in 0..users {
        tf.push_str(&format!(
            "resource \"aws_iam_user\" \"u{u}\" {{\n  name = \"u{u}\"\n}}\n\n\
             resource \"aws_iam_user_group_membership\" \"u{u}\" {{\n  user   = aws_iam_user.u{u}.name\n  groups = [aws_iam_group.g{}.name]\n}}\n\n",
            u % grants.len()
        ));
    }
    tf
}

/// The IAM requests `check` makes on an estate written as one Terraform file.
fn requests_on(tf: &str) -> (f64, Value) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("main.tf"), tf).unwrap_or_else(|e| panic!("{e}"));
    let out = common::kdsguard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "--timings", "."])
        .output()
        .unwrap_or_else(|e| panic!("cannot run kdsguard: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("work: "))
        .unwrap_or_else(|| panic!("no work line in:\n{stderr}"));
    let requests = line
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {line}"));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report: {e}"));
    (requests, report)
}

/// Principal classes (capabilities.md): users whose policies all come from the same group
/// are decided once. A thousand users in five groups cost about what five users in those
/// groups cost, and every user still gets its own entries.
#[test]
fn users_in_groups_are_decided_once_per_group() {
    let (few, few_report) = requests_on(&grouped_users(5));
    let (many, many_report) = requests_on(&grouped_users(1000));
    assert!(few > 0.0, "nothing decided for five users");
    assert!(
        many <= few * 1.2,
        "1,000 users in 5 groups made {many} IAM requests, 5 users {few}"
    );
    let holders = |report: &Value, capability: &str| {
        report["access"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["capability"] == capability && e["decision"] == "allowed")
            .count()
    };
    // Groups 1 and 4 grant disable (on orders, through `dynamodb:*`): 2 users of 5, 400 of
    // 1,000, each with its own entry.
    assert_eq!(holders(&few_report, "disable"), 2, "{few_report}");
    assert_eq!(holders(&many_report, "disable"), 400);
}

/// `users` users who may add themselves to any of `groups` groups (`team-*`), each group
/// granting disable on every table: the users' policies come from one managed policy.
fn joining_users(users: usize, groups: usize) -> String {
    let mut tf = String::from(
        "resource \"aws_dynamodb_table\" \"orders\" {\n  name     = \"orders\"\n  hash_key = \"pk\"\n  attribute {\n    name = \"pk\"\n    type = \"S\"\n  }\n}\n\n\
         resource \"aws_iam_policy\" \"joiner\" {\n  name   = \"joiner\"\n  policy = jsonencode({\n    Version   = \"2012-10-17\"\n    Statement = [{ Effect = \"Allow\", Action = \"iam:AddUserToGroup\", Resource = \"arn:aws:iam::*:group/team-*\" }]\n  })\n}\n\n",
    );
    for g in 0..groups {
        tf.push_str(&format!(
            "resource \"aws_iam_group\" \"g{g}\" {{\n  name = \"team-{g}\"\n}}\n\n\
             resource \"aws_iam_group_policy\" \"g{g}\" {{\n  group  = aws_iam_group.g{g}.name\n  policy = jsonencode({{\n    Version   = \"2012-10-17\"\n    Statement = [{{ Effect = \"Allow\", Action = \"dynamodb:DisableKinesisStreamingDestination\", Resource = \"*\" }}]\n  }})\n}}\n\n"
        ));
    }
    for u in 0..users {
        tf.push_str(&format!(
            "resource \"aws_iam_user\" \"u{u}\" {{\n  name = \"u{u}\"\n}}\n\n\
             resource \"aws_iam_user_policy_attachment\" \"u{u}\" {{\n  user       = aws_iam_user.u{u}.name\n  policy_arn = aws_iam_policy.joiner.arn\n}}\n\n"
        ));
    }
    tf
}

/// Joining a group is a request on the group alone (no resource policy): users of one class
/// decide it once for the groups their statements match alike, not once per user and group.
/// Every user still gets its own indirect entry, through a group it may join.
#[test]
fn group_joins_are_decided_once_per_class_of_users() {
    let (few, few_report) = requests_on(&joining_users(5, 20));
    let (many, many_report) = requests_on(&joining_users(200, 20));
    assert!(few > 0.0, "nothing decided for five users");
    assert!(
        many <= few * 1.2,
        "200 users who may join 20 groups made {many} IAM requests, 5 users {few}"
    );
    let joiners = |report: &Value| {
        report["indirect"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["capability"] == "disable" && e["via"][0]["step"] == "change-permissions")
            .count()
    };
    assert_eq!(joiners(&few_report), 5, "{few_report}");
    assert_eq!(joiners(&many_report), 200);
}
