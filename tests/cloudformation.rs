//! The CloudFormation loader through the binary: CDK output, SAM, parameters and
//! conditions, every IAM shape of issue 3, nested stacks, `Fn::ForEach`, and the corpus
//! templates that stream a table into Kinesis, each pinned by the JSON report.
#![allow(clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::{access, check_json, principal_named, resource_named, run};
use serde_json::Value;

const DIR: &str = "testdata/cloudformation";

/// The entry of `report[section]` whose id ends with `#<address>` (or equals `address`).
fn by_address<'a>(report: &'a Value, section: &str, address: &str) -> &'a Value {
    report[section]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["address"] == address)
        .unwrap_or_else(|| panic!("no {section} entry {address} in {}", report[section]))
}

fn id_of(report: &Value, section: &str, address: &str) -> String {
    by_address(report, section, address)["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The decision for (principal address, capability, resource address), or "none".
fn decision(report: &Value, principal: &str, capability: &str, resource: &str) -> String {
    let p = id_of(report, "principals", principal);
    let r = id_of(report, "resources", resource);
    match access(report, &p, capability, &r).as_slice() {
        [] => "none".to_string(),
        [a] => a["decision"].as_str().unwrap_or_default().to_string(),
        more => panic!("{} entries for {principal} {capability} {resource}", more.len()),
    }
}

fn addresses(report: &Value, section: &str) -> Vec<String> {
    let mut out: Vec<String> = report[section]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["address"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

fn notes(report: &Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["message"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn cdk_output_is_discovered_with_construct_paths() {
    let (report, _) = check_json(&[&format!("{DIR}/cdk")]);
    let inputs: Vec<&str> = report["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["path"].as_str())
        .collect();
    // manifest.json, tree.json and asset folders are not templates.
    assert_eq!(inputs, [format!("{DIR}/cdk/cdk.out/Demo.template.json")]);
    assert_eq!(report["errors"], serde_json::json!([]));
    let role = by_address(&report, "principals", "ReplicatorServiceRole7F3A9B21");
    assert_eq!(role["construct"], "Demo/Replicator/ServiceRole/Resource");
    assert_eq!(role["line"], 31);
    let table = by_address(&report, "resources", "OrdersB1B8C2D4");
    assert_eq!(table["construct"], "Demo/Orders/Resource");
    assert_eq!(table["stream"], id_of(&report, "resources", "EventsStream1A2B3C4D"));
    assert_eq!(
        by_address(&report, "resources", "EventsStream1A2B3C4D")["construct"],
        "Demo/Events/Resource"
    );
    // The CDK `Policy` attaches by `Ref` of the role's generated name.
    assert_eq!(
        decision(&report, "ReplicatorServiceRole7F3A9B21", "enable", "OrdersB1B8C2D4"),
        "allowed"
    );
    assert_eq!(
        decision(&report, "ReplicatorServiceRole7F3A9B21", "describe", "OrdersB1B8C2D4"),
        "allowed"
    );
    // A `Fn::Join` table ARN with `Ref` of the generated table name is the same table.
    assert_eq!(
        decision(&report, "ReaderRoleB0D71C55", "describe", "OrdersB1B8C2D4"),
        "not_allowed"
    );
    assert!(
        report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["rule"] == "KDS007")
    );
    assert!(notes(&report).iter().any(|n| n.contains("AWS::CDK::Metadata")));
}

#[test]
fn sam_globals_boundaries_and_policy_templates() {
    let (report, _) = check_json(&[&format!("{DIR}/sam_globals.yaml")]);
    assert_eq!(
        addresses(&report, "principals"),
        ["ConsumerRole", "ReplicatorRole", "RestrictedRole"]
    );
    // Globals' boundary (dynamodb:*, kinesis:*) lets the inline statements through.
    assert_eq!(decision(&report, "ReplicatorRole", "enable", "Orders"), "allowed");
    assert_eq!(decision(&report, "ReplicatorRole", "describe", "Orders"), "allowed");
    // The function's own boundary (Describe* only) wins over Globals'.
    assert_eq!(decision(&report, "RestrictedRole", "describe", "Orders"), "allowed");
    assert_eq!(decision(&report, "RestrictedRole", "enable", "Orders"), "none");
    assert_eq!(decision(&report, "RestrictedRole", "disable", "Orders"), "none");
    // Policies in Globals are not applied (SAM rejects them): no AdministratorAccess.
    assert!(
        notes(&report)
            .iter()
            .any(|n| n.contains("`Policies` is not allowed in `Globals.Function`"))
    );
    let orders = by_address(&report, "resources", "Orders");
    assert_eq!(orders["stream"], id_of(&report, "resources", "Events"));
}

#[test]
fn parameter_defaults_and_undecided_conditions() {
    let (report, _) = check_json(&[&format!("{DIR}/parameters.yaml")]);
    let orders = by_address(&report, "resources", "Orders");
    assert_eq!(orders["name"], "orders-dev");
    assert!(orders.get("stream").is_none(), "IsProd is false: no destination");
    assert_eq!(by_address(&report, "resources", "Events")["name"], "dev-events");
    assert_eq!(addresses(&report, "principals"), ["Operator", "OpsRole"]);
    assert!(notes(&report).iter().any(|n| n.contains("`ProdAdmin` is not created")));
    assert_eq!(decision(&report, "Operator", "disable", "Orders"), "allowed");
    // OpsRole exists only under HasOps, which depends on a parameter with no value.
    assert_eq!(decision(&report, "OpsRole", "disable", "Orders"), "conditional");
    let ops = id_of(&report, "principals", "OpsRole");
    let orders_id = id_of(&report, "resources", "Orders");
    let entry = access(&report, &ops, "disable", &orders_id);
    let unknown = entry[0]["conditions"][0]["unknown"].as_str().unwrap_or_default();
    assert!(unknown.contains("HasOps"), "{unknown}");
    assert_eq!(entry[0]["conditions"][0]["line"], 73);
}

fn assert_prod(report: &Value, ops_declared_by_name: bool) {
    let orders = by_address(report, "resources", "Orders");
    assert_eq!(orders["name"], "orders");
    assert_eq!(orders["stream"], id_of(report, "resources", "Events"));
    assert_eq!(by_address(report, "resources", "Events")["name"], "prod-events");
    assert_eq!(by_address(report, "principals", "Operator")["name"], "operator-prod");
    assert_eq!(decision(report, "ProdAdmin", "disable", "Orders"), "allowed");
    if ops_declared_by_name {
        assert_eq!(by_address(report, "principals", "OpsRole")["name"], "ops");
        assert_eq!(decision(report, "OpsRole", "disable", "Orders"), "allowed");
    }
}

#[test]
fn parameters_from_the_command_line() {
    let path = format!("{DIR}/parameters.yaml");
    let r = run(&[
        "check",
        "--format",
        "json",
        "--parameter",
        "Env=prod",
        "--parameter",
        "TableName=orders",
        &path,
    ]);
    assert_prod(&r.json(), false);
}

#[test]
fn parameters_from_files_of_both_shapes() {
    let path = format!("{DIR}/parameters.yaml");
    for (file, with_ops) in [("prod-list.json", false), ("prod-map.json", true)] {
        let params = format!("{DIR}/parameters/{file}");
        let r = run(&["check", "--format", "json", "--parameter-file", &params, &path]);
        assert_prod(&r.json(), with_ops);
    }
    // `--parameter` wins over the file.
    let params = format!("{DIR}/parameters/prod-map.json");
    let r = run(&[
        "check",
        "--format",
        "json",
        "--parameter-file",
        &params,
        "--parameter",
        "TableName=other",
        &path,
    ]);
    assert_eq!(by_address(&r.json(), "resources", "Orders")["name"], "other");
}

#[test]
fn every_iam_shape_grants_through_its_own_path() {
    let (report, _) = check_json(&[&format!("{DIR}/iam_shapes.yaml")]);
    assert_eq!(report["errors"], serde_json::json!([]));
    for principal in [
        "InlineRole",      // Role Policies
        "ManagedRole",     // Role ManagedPolicyArns (declared managed policy)
        "PolicyRole",      // AWS::IAM::Policy Roles
        "RolePolicyRole",  // AWS::IAM::RolePolicy
        "ManagedListRole", // AWS::IAM::ManagedPolicy Roles
        "Alice",           // User Groups + Group Policies
        "Bob",             // UserToGroupAddition + GroupPolicy
        "Carol",           // User Policies
        "Dave",            // UserPolicy
        "PolicyUser",      // AWS::IAM::Policy Users and Groups
        "ManagedListUser", // AWS::IAM::ManagedPolicy Users
    ] {
        assert_eq!(
            decision(&report, principal, "disable", "Orders"),
            "allowed",
            "{principal}"
        );
    }
    // A permissions boundary that allows only Describe* cuts the grant.
    for principal in ["BoundedRole", "Erin"] {
        assert_ne!(
            decision(&report, principal, "disable", "Orders"),
            "allowed",
            "{principal}"
        );
    }
    // AWS managed policy by ARN.
    assert_eq!(decision(&report, "Frank", "describe", "Orders"), "allowed");
    assert_eq!(decision(&report, "Frank", "disable", "Orders"), "none");
    let inline = by_address(&report, "principals", "InlineRole");
    assert_eq!(inline["name"], "inline-role");
    assert_eq!(inline["line"], 38);
    assert_eq!(
        by_address(&report, "principals", "ManagedRole")["name"],
        "${ManagedRole.name}"
    );
    // The declared SLR, protected by `DeletionPolicy: Retain`: no KDS005.
    let slr = id_of(&report, "resources", "ReplicationSlr");
    assert!(
        report["service_linked_roles"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["id"] == slr)
    );
    assert!(
        !report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["rule"] == "KDS005")
    );
}

#[test]
fn nested_stacks_load_local_children_and_note_the_rest() {
    let (report, _) = check_json(&[&format!("{DIR}/nested/parent.yaml")]);
    // A stack that contains itself, and one outside the root, are errors (shown without -v).
    let errors: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("nested stack `Escape`: `../../../../outside.yaml` resolves to `"),
        "{errors:?}"
    );
    assert!(errors[0].contains("outside the analysis root `.`"), "{errors:?}");
    assert_eq!(
        errors[1],
        "nested stack `Loop`: template `data.yaml` contains itself (a cycle: parent.yaml → data.yaml → data.yaml); it is not read again"
    );
    let table = by_address(&report, "resources", "Data/Table");
    assert_eq!(table["name"], "orders-prod", "parameters pass from the parent");
    assert_eq!(table["file"], format!("{DIR}/nested/stacks/data.yaml"));
    assert_eq!(table["line"], 6);
    assert_eq!(table["stream"], id_of(&report, "resources", "Data/Stream"));
    assert_eq!(by_address(&report, "resources", "Data/Stream")["name"], "events-prod");
    // A role in a sibling stack names the table by the same parameter.
    assert_eq!(decision(&report, "Access/Disabler", "disable", "Data/Table"), "allowed");
    assert_eq!(
        by_address(&report, "principals", "Access/Disabler")["name"],
        "${Access/Disabler.name}"
    );
    let notes = notes(&report);
    for needle in [
        "`Remote` reads its template from `https://",
        "`Missing`: template `stacks/missing.yaml` is not found",
    ] {
        assert!(notes.iter().any(|n| n.contains(needle)), "{needle}: {notes:?}");
    }
}

#[test]
fn for_each_makes_tables_and_streams() {
    let (report, _) = check_json(&[&format!("{DIR}/foreach.yaml")]);
    for tenant in ["acme", "globex"] {
        let table = by_address(&report, "resources", &format!("Table{tenant}"));
        assert_eq!(table["name"], format!("orders-{tenant}"));
        assert_eq!(table["stream"], id_of(&report, "resources", &format!("Stream{tenant}")));
    }
    assert!(notes(&report).iter().all(|n| !n.contains("ForEach")));
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("KDSGUARD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let dir = std::fs::canonicalize(dir).ok()?;
    dir.join("INDEX.tsv").is_file().then_some(dir)
}

const CDK_DYNAMODB: &str = "aws__aws-cdk/packages/@aws-cdk-testing/framework-integ/test/aws-dynamodb/test";

/// NOTES.md section 1, items 1-6: (file, [(table address, stream address)], principals
/// with access entries on the table).
/// (template, [(table name, expected stream)], principals that hold no replication access).
type NotesItem = (String, Vec<(&'static str, Option<&'static str>)>, Vec<&'static str>);

fn notes_items() -> Vec<NotesItem> {
    vec![
        (
            format!(
                "{CDK_DYNAMODB}/integ.dynamodb.kinesis-stream.js.snapshot/aws-cdk-dynamodb-kinesis-stream.template.json"
            ),
            vec![("TableCD117FA1", Some("Stream790BDEE4"))],
            vec![],
        ),
        (
            format!("{CDK_DYNAMODB}/integ.table-v2-global.js.snapshot/aws-cdk-global-table.template.json"),
            vec![
                ("GlobalTable89F068B2[us-east-1]", Some("Stream790BDEE4")),
                ("GlobalTable89F068B2[us-east-2]", None),
                ("GlobalTable89F068B2[us-west-2]", None),
            ],
            vec![],
        ),
        (
            format!(
                "{CDK_DYNAMODB}/integ.dynamodb-v2.kinesis.js.snapshot/kinesis-stream-precision-timestamp.template.json"
            ),
            vec![
                ("TableCD117FA1[eu-west-1]", Some("Stream790BDEE4")),
                ("TableCD117FA1[eu-west-2]", None),
            ],
            vec![],
        ),
        (
            "aws-samples__serverless-patterns/dynamodb-kinesis/template.yaml".to_string(),
            vec![("DynamoDBTable", Some("KinesisStream"))],
            vec![],
        ),
        (
            "aws-samples__serverless-patterns/apigw-dynamodb-kinesis-lambda/template.yaml".to_string(),
            vec![("DynamoDBTable", Some("KinesisStream"))],
            vec!["LambdaConsumerRole"],
        ),
        (
            "aws-samples__serverless-patterns/apigw-lambda-dynamodb-kinesis-lambda/template.yaml".to_string(),
            vec![("DynamoDBTable", Some("KinesisStream"))],
            vec!["LambdaProducerFunctionRole", "LambdaConsumerFunctionRole"],
        ),
        (
            "aws-samples__serverless-patterns/lambda-dynamodb-kinesis-data-streams-sam-java/template.yml".to_string(),
            vec![("SourceDDBTable", Some("KinesisDataStreams"))],
            vec!["DataProducerRole"],
        ),
    ]
}

#[test]
fn corpus_cdk_and_sam_templates_stream_tables_into_kinesis() {
    let Some(root) = corpus() else {
        eprintln!("cloudformation: KDSGUARD_CORPUS not found; skipped");
        return;
    };
    for (rel, tables, principals) in notes_items() {
        let path = root.join(&rel);
        let (report, _) = check_json(&[&path.to_string_lossy()]);
        assert_eq!(report["errors"], serde_json::json!([]), "{rel}");
        for (table, stream) in &tables {
            let t = by_address(&report, "resources", table);
            match stream {
                Some(s) => assert_eq!(t["stream"], id_of(&report, "resources", s), "{rel} {table}"),
                None => assert!(t.get("stream").is_none(), "{rel} {table} has no destination"),
            }
        }
        let (table, _) = tables[0];
        for principal in principals {
            let p = id_of(&report, "principals", principal);
            let r = id_of(&report, "resources", table);
            let entries: Vec<&str> = report["access"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["principal"] == p && common::covers(a, &r))
                .filter_map(|a| a["capability"].as_str())
                .collect();
            // These functions hold SAM's basic execution role, CRUD and stream-read policy
            // templates: no replication action. With every AWS managed policy they use known
            // (bundled or listed as without replication access), nothing is left undecided.
            assert!(entries.is_empty(), "{rel}: {principal} has {entries:?}");
        }
    }
}

#[test]
fn nested_stack_outputs_name_the_childrens_records() {
    let (report, _) = check_json(&[&format!("{DIR}/outputs/parent.yaml")]);
    assert_eq!(report["errors"], serde_json::json!([]));
    // `!GetAtt Roles.Outputs.ReaderName` is the child's `!Ref Reader`, with the parameter
    // the parent passes: the parent's policy reaches the child's role.
    assert_eq!(
        by_address(&report, "principals", "Roles/Reader")["name"],
        "app-prod-reader"
    );
    assert_eq!(decision(&report, "Roles/Reader", "describe", "Orders"), "allowed");
    assert_eq!(decision(&report, "Roles/Reader", "disable", "Orders"), "none");
    // A generated name is the same opaque value in the child and through its output, and
    // an output can pass up a grandchild's output.
    assert_eq!(decision(&report, "Roles/Anonymous", "disable", "Orders"), "allowed");
    assert_eq!(decision(&report, "Roles/Inner/Writer", "disable", "Orders"), "allowed");
    assert_eq!(
        by_address(&report, "principals", "Roles/Inner/Writer")["file"],
        format!("{DIR}/outputs/stacks/inner.yaml")
    );
    // A missing output is unknown, with a note naming it where it is referenced.
    let missing: Vec<&Value> = report["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| {
            n["message"]
                .as_str()
                .is_some_and(|m| m.contains("output `Nope` of nested stack `Roles`"))
        })
        .collect();
    assert_eq!(missing.len(), 1, "{}", report["notes"]);
    assert_eq!(missing[0]["file"], format!("{DIR}/outputs/parent.yaml"));
    assert_eq!(missing[0]["line"], 67);
    assert!(
        !addresses(&report, "principals")
            .iter()
            .any(|a| a.starts_with("Roles/") && a.contains("Nope"))
    );
}

#[test]
fn sam_role_path_sets_the_implicit_roles_path() {
    let (report, _) = check_json(&[&format!("{DIR}/sam_role_path.yaml")]);
    assert_eq!(report["errors"], serde_json::json!([]));
    // The table's policy names each role under the path it should have.
    for (role, why) in [
        ("OwnPathRole", "the function's own RolePath"),
        ("GlobalPathRole", "Globals.Function.RolePath"),
        ("MachineRole", "a state machine's own RolePath"),
    ] {
        assert_eq!(decision(&report, role, "describe", "Orders"), "allowed", "{why}");
    }
    // Globals.Function does not reach state machines: path `/`, not `/global/`.
    assert_ne!(
        decision(&report, "UnpathedMachineRole", "describe", "Orders"),
        "allowed"
    );
    assert_eq!(notes(&report), Vec::<String>::new());
}

#[test]
fn trust_policies_grant_nothing_and_their_problems_are_noted() {
    let (report, _) = check_json(&[&format!("{DIR}/trust_policy.yaml")]);
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(
        addresses(&report, "principals"),
        ["BrokenTrust", "Granted", "OddTrust", "Trusting"]
    );
    // A trust statement allowing `dynamodb:*` and `kinesis:*` is not a grant.
    for role in ["Trusting", "BrokenTrust", "OddTrust"] {
        for capability in ["enable", "describe", "disable", "update"] {
            assert_eq!(
                decision(&report, role, capability, "Orders"),
                "none",
                "{role} {capability}"
            );
        }
    }
    assert_eq!(decision(&report, "Granted", "describe", "Orders"), "allowed");
    // Trust policies are read (who may assume the role): broken JSON text, a statement
    // that is a number, a list are each noted.
    assert_eq!(
        notes(&report),
        [
            "policy document text is not valid JSON: Unexpected token in object",
            "`Statement` must be an object or a list, found a number",
            "a policy document must be a mapping or JSON text, found a list"
        ]
    );
}

#[test]
fn managed_policies_of_a_conditional_resource_grant_conditionally() {
    let file = "testdata/cloudformation/conditional_attachment.yaml";
    let (report, _) = check_json(&[file]);
    let decision = |role: &str| -> (String, Vec<String>) {
        let p = principal_named(&report, role);
        let t = resource_named(&report, "Orders");
        let a = access(&report, &p, "disable", &t);
        let a = a.first().unwrap_or_else(|| panic!("no disable entry for {role}"));
        let unknowns = a["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["unknown"].as_str().map(str::to_string))
            .collect();
        (a["decision"].as_str().unwrap_or_default().to_string(), unknowns)
    };
    // AmazonDynamoDBFullAccess allows dynamodb:*; the ops role always has it.
    assert_eq!(decision("ops").0, "allowed");
    // The team role exists only if HasTeam holds, which depends on an unset parameter.
    let (d, unknowns) = decision("team-ops");
    assert_eq!(d, "conditional");
    assert!(
        unknowns.iter().any(|u| u.starts_with("Condition HasTeam")),
        "{unknowns:?}"
    );
}

/// The library names paths relative to the working folder it is given, never the
/// process's: the nested stack outside the root, analysed as from `testdata/`, names the
/// root as `cloudformation` (from the crate's folder it would be `testdata/cloudformation`).
#[test]
fn nested_stack_messages_follow_the_given_working_folder() {
    let cwd = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let config = kdsguard::Config {
        paths: vec![PathBuf::from("cloudformation/nested/parent.yaml")],
        root: Some(cwd.join("cloudformation")),
        ..kdsguard::Config::default()
    };
    let a = kdsguard::analyze(&config, &cwd).unwrap_or_else(|e| panic!("{e}"));
    let escape = a
        .errors
        .iter()
        .find(|e| e.message.starts_with("nested stack `Escape`"))
        .unwrap_or_else(|| panic!("{:?}", a.errors));
    assert!(
        escape.message.contains("outside the analysis root `cloudformation`"),
        "{}",
        escape.message
    );
    assert_eq!(escape.path, "cloudformation/nested/parent.yaml");
}
