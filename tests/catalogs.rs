//! The bundled catalogues: every AWS managed policy file is embedded, indexed and parses;
//! the action catalogue knows every action the capabilities use, spells them canonically,
//! suggests the right name for typos, and has plausible sizes.
#![allow(clippy::panic)] // a test fails by panicking

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kdsguard::catalog::{
    CATALOGUED_SERVICES, action_info, aws_managed_document, aws_managed_facts, aws_managed_names, capabilities,
    catalogued_actions, nearest_action,
};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| unreachable!("cannot read {}: {e}", path.display()))
}

#[test]
fn every_managed_policy_file_is_embedded_indexed_and_parses() {
    let dir = rules_dir().join("aws-managed");
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| unreachable!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| unreachable!("{e}")).path();
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if file == "INDEX.toml" || file == "NO_REPLICATION_ACCESS.toml" {
            continue;
        }
        let name = file
            .strip_suffix(".json")
            .unwrap_or_else(|| unreachable!("unexpected file {file}"));
        on_disk.insert(name.to_string());
        // A plain JSON document, no wrapper and no comments.
        let doc: serde_json::Value =
            serde_json::from_str(&read(&path)).unwrap_or_else(|e| unreachable!("{file} is not JSON: {e}"));
        assert_eq!(
            doc.get("Version").and_then(|v| v.as_str()),
            Some("2012-10-17"),
            "{file}"
        );
        assert!(doc.get("Statement").is_some(), "{file}");
    }

    let index: toml::Table = toml::from_str(&read(&dir.join("INDEX.toml"))).unwrap_or_else(|e| unreachable!("{e}"));
    let indexed: BTreeSet<String> = index
        .get("policy")
        .and_then(|p| p.as_array())
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let facts: BTreeSet<String> = aws_managed_facts().iter().map(|f| f.name.clone()).collect();
    let embedded: BTreeSet<String> = aws_managed_names().map(str::to_string).collect();

    assert_eq!(on_disk, indexed, "files in rules/aws-managed vs INDEX.toml");
    assert_eq!(on_disk, facts, "files vs the embedded index");
    assert_eq!(on_disk, embedded, "files vs the embedded policy table");
    for name in aws_managed_names() {
        let p = aws_managed_document(name).unwrap_or_else(|| panic!("{name} does not compile"));
        assert!(!p.document.statements.is_empty(), "{name} has no statements");
        assert!(p.address.ends_with(&format!("/{name}")), "{name}: {}", p.address);
    }
    println!("{} AWS managed policies bundled", embedded.len());
}

#[test]
fn the_managed_policies_the_analyzer_is_asked_about_are_there() {
    let bundled = |name: &str| aws_managed_document(name).is_some();
    for name in [
        "AdministratorAccess",
        "PowerUserAccess",
        "IAMFullAccess",
        "AmazonDynamoDBFullAccess",
        "AmazonDynamoDBFullAccess_v2",
        "AmazonDynamoDBReadOnlyAccess",
        "AmazonDynamoDBFullAccesswithDataPipeline",
        "AmazonKinesisFullAccess",
        "AmazonKinesisReadOnlyAccess",
        "ReadOnlyAccess",
        "ViewOnlyAccess",
        "SecurityAudit",
        "AWSLambdaKinesisExecutionRole",
        "DynamoDBKinesisReplicationServiceRolePolicy",
    ] {
        assert!(bundled(name), "{name} is missing");
    }
    // Policies known to grant and deny nothing replication needs are listed, not bundled.
    let none = kdsguard::catalog::aws_managed_without_access();
    for name in [
        "IAMReadOnlyAccess",
        "AWSLambdaDynamoDBExecutionRole",
        "AWSLambdaBasicExecutionRole",
    ] {
        assert!(
            none.contains_key(name),
            "{name} should be known to have no replication access"
        );
        assert!(!bundled(name), "{name} is both bundled and listed as irrelevant");
    }
    assert_eq!(
        none.get("AWSLambdaDynamoDBExecutionRole").map(String::as_str),
        Some("arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole")
    );
    let arn = |n: &str| {
        aws_managed_document(n)
            .map(|p| p.address.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        arn("ViewOnlyAccess"),
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    );
    assert_eq!(
        arn("DynamoDBKinesisReplicationServiceRolePolicy"),
        "arn:aws:iam::aws:policy/aws-service-role/DynamoDBKinesisReplicationServiceRolePolicy"
    );
}

#[test]
fn dynamodb_full_access_v2_may_create_the_replication_role_only_by_name() {
    let text = read(&rules_dir().join("aws-managed/AmazonDynamoDBFullAccess_v2.json"));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| unreachable!("{e}"));
    let statements = doc
        .get("Statement")
        .and_then(|s| s.as_array())
        .cloned()
        .unwrap_or_default();
    let slr = statements
        .iter()
        .find(|s| s.get("Sid").and_then(|v| v.as_str()) == Some("ServiceRoleCreation"))
        .unwrap_or_else(|| unreachable!("no ServiceRoleCreation statement"));
    let names = slr
        .pointer("/Condition/StringEquals/iam:AWSServiceName")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    assert!(names.iter().any(|n| n == "kinesisreplication.dynamodb.amazonaws.com"));
}

#[test]
fn every_capability_action_is_catalogued() {
    let caps = capabilities().unwrap_or_else(|e| unreachable!("{e}"));
    for cap in &caps.capabilities {
        for req in &cap.requirements {
            let info = action_info(&req.action).unwrap_or_else(|| unreachable!("{} is not catalogued", req.action));
            assert_eq!(info.name, req.action, "canonical spelling");
            for key in req.context.keys() {
                assert!(info.condition_keys.contains(key), "{} does not carry {key}", req.action);
            }
        }
    }
}

#[test]
fn known_actions_resource_types_and_condition_keys() {
    let create = action_info("iam:CreateServiceLinkedRole").unwrap_or_else(|| unreachable!());
    assert!(create.condition_keys.iter().any(|k| k == "iam:AWSServiceName"));
    assert_eq!(create.resource_types, ["role"]);
    let put = action_info("KINESIS:putrecords").unwrap_or_else(|| unreachable!());
    assert_eq!(put.name, "kinesis:PutRecords");
    assert_eq!(put.resource_types, ["stream"]);
    let list = action_info("kinesis:ListStreams").unwrap_or_else(|| unreachable!());
    assert!(
        list.resource_types.is_empty(),
        "ListStreams has no resource-level permissions"
    );
    let decrypt = action_info("kms:Decrypt").unwrap_or_else(|| unreachable!());
    assert!(decrypt.condition_keys.iter().any(|k| k == "kms:ViaService"));
    for info in [create, put, list, decrypt] {
        assert!(
            info.condition_keys.iter().all(|k| !k.starts_with("aws:")),
            "{}",
            info.name
        );
    }
    assert!(action_info("dynamodb:EnableKinesisStreamingDestinations").is_none());
    assert!(action_info("ec2:RunInstances").is_none(), "ec2 is not catalogued");
}

#[test]
fn typos_get_the_right_suggestion() {
    for (typo, want) in [
        (
            "dynamodb:EnableKinesisStreamingDestinations",
            "dynamodb:EnableKinesisStreamingDestination",
        ),
        (
            "dynamodb:DescribeKinesisStreamDestination",
            "dynamodb:DescribeKinesisStreamingDestination",
        ),
        (
            "dynamodb:DisableKinesisStreamingDestiantion",
            "dynamodb:DisableKinesisStreamingDestination",
        ),
        ("kinesis:PutRecord", "kinesis:PutRecord"),
        ("kinesis:PutRecods", "kinesis:PutRecords"),
        ("kinesis:DescribeStreamSumary", "kinesis:DescribeStreamSummary"),
        ("iam:DeleteServiceLinkRole", "iam:DeleteServiceLinkedRole"),
        ("kms:Decript", "kms:Decrypt"),
    ] {
        assert_eq!(nearest_action(typo).as_deref(), Some(want), "{typo}");
    }
    for far in ["dynamodb:TurnOnReplication", "kinesis:*", "ec2:RunInstancs", "nonsense"] {
        assert_eq!(nearest_action(far), None, "{far}");
    }
}

#[test]
fn action_counts_are_plausible() {
    // Lower bounds well under AWS's numbers (late 2026: dynamodb 80, kinesis 47, iam 190,
    // kms 58): a truncated data file fails, an added action does not.
    for (service, at_least) in [("dynamodb", 60), ("kinesis", 35), ("iam", 150), ("kms", 45)] {
        assert!(CATALOGUED_SERVICES.contains(&service));
        let actions = catalogued_actions(service);
        println!("{service}: {} actions", actions.len());
        assert!(actions.len() >= at_least, "{service}: only {}", actions.len());
        assert!(actions.iter().all(|a| a.starts_with(&format!("{service}:"))));
        let mut sorted = actions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, actions, "{service}: sorted, no duplicates");
    }
    assert!(catalogued_actions("s3").is_empty());
}
