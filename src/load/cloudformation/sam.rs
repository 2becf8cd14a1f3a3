//! The SAM transform, as far as access goes: `AWS::Serverless::Function` and
//! `AWS::Serverless::StateMachine` with their implicit role (its path from `RolePath`),
//! `Policies` (managed policy names and ARNs, inline statements, policy templates) and
//! permissions boundary.
//!
//! The policy templates expanded here, and their action lists, follow the SAM project's
//! `policy_templates.json` as shown by its translator test
//! `tests/translator/output/all_policy_templates.json` (aws/serverless-application-model).
//! Other templates are noted and attached as unknown policies.

use super::intrinsics::{Evaluator, ResourceInfo, arn_prefix, template_of};
use super::resources::{Loader, Resource, aws_managed_arn, list_items, policy_ref};
use crate::model::{Attachment, Policy, PolicyKind, PolicyRef, Principal, PrincipalKind, Target};
use crate::source::Span;
use crate::value::{Entry, Template, Value, ValueKind};

const ROLE_TYPES: &[&str] = &["AWS::Serverless::Function", "AWS::Serverless::StateMachine"];

/// Registers `<LogicalId>Role` for every function or state machine that names no `Role`,
/// so that `!GetAtt <LogicalId>Role.Arn` resolves like a declared role, with the path its
/// `RolePath` gives (a function's own, else `Globals.Function`'s, which SAM allows there).
pub(crate) fn declare_implicit_roles<'a>(
    entries: &'a [Entry],
    function_globals: Option<&'a Value>,
    ev: &mut Evaluator<'a>,
) {
    for e in entries {
        let ty = e.value.get("Type").and_then(Value::as_str).unwrap_or_default();
        if !ROLE_TYPES.contains(&ty) {
            continue;
        }
        let props = e.value.get("Properties");
        if props.and_then(|p| p.get("Role")).is_some() {
            continue;
        }
        let role = format!("{}Role", e.key);
        if ev.resources.contains_key(&role) {
            continue;
        }
        ev.resources.insert(
            role.clone(),
            ResourceInfo {
                ty: "AWS::IAM::Role".to_string(),
                properties: None,
                id_span: e.key_span,
            },
        );
        let own = props.and_then(|p| p.get("RolePath"));
        let global = function_globals
            .filter(|_| ty == "AWS::Serverless::Function")
            .and_then(|g| g.get("RolePath"));
        if let Some(path) = own.or(global) {
            ev.implicit_role_paths.insert(role, path);
        }
    }
}

/// A function or state machine: its implicit role and that role's policies.
pub fn function(loader: &mut Loader<'_, '_>, r: &Resource<'_>) {
    if r.get("Role").is_some() {
        if let Some(p) = r.get("Policies") {
            loader.note(
                format!("`Policies` of `{}` are ignored by SAM because `Role` is given", r.id),
                p.span,
            );
        }
        return;
    }
    let role = format!("{}Role", r.id);
    let name = loader.ev.name_of(&role);
    let arn = loader.ev.arn_of(&role).unwrap_or_default();
    loader.input.principals.push(Principal {
        address: role.clone(),
        kind: PrincipalKind::Role,
        name,
        arn,
        span: r.span,
    });
    if r.ty == "AWS::Serverless::Function" {
        execution_policies(loader, r, &role);
    }
    // A function's own boundary wins over the one `Globals.Function` sets.
    let boundary = match r.get("PermissionsBoundary") {
        Some(b) => Some(b.clone()),
        None if r.ty == "AWS::Serverless::Function" => loader
            .sam_globals
            .and_then(|g| g.get("PermissionsBoundary"))
            .and_then(|b| loader.ev.resolve(b)),
        None => None,
    };
    if let Some(b) = boundary {
        attach(loader, &role, policy_ref(&b), b.span, true);
    }
    let Some(policies) = r.get("Policies") else {
        return;
    };
    let items = match &policies.kind {
        ValueKind::Str(_) | ValueKind::Map(_) | ValueKind::Unknown(_) => vec![policies],
        _ => list_items(policies),
    };
    let mut used: Vec<String> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        policies_item(loader, r, &role, (i, item), &mut used);
    }
}

/// Attaches `policy` to the implicit role `role` (as its boundary where `boundary`).
fn attach(loader: &mut Loader<'_, '_>, role: &str, policy: PolicyRef, span: Span, boundary: bool) {
    loader.input.attachments.push(Attachment {
        policy,
        target: Target::Address(role.to_string()),
        boundary,
        span,
        condition: None,
    });
}

/// The managed policies SAM attaches to a function's role: basic execution, and the
/// execution role of each event source that reads a stream or a queue.
fn execution_policies(loader: &mut Loader<'_, '_>, r: &Resource<'_>, role: &str) {
    attach(
        loader,
        role,
        PolicyRef::Arn(aws_managed_arn("service-role/AWSLambdaBasicExecutionRole")),
        r.span,
        false,
    );
    for event in r.get("Events").map(Value::entries).unwrap_or_default() {
        let managed = match event.value.get("Type").and_then(Value::as_str) {
            Some("Kinesis") => "service-role/AWSLambdaKinesisExecutionRole",
            Some("DynamoDB") => "service-role/AWSLambdaDynamoDBExecutionRole",
            Some("SQS") => "service-role/AWSLambdaSQSQueueExecutionRole",
            _ => continue,
        };
        attach(
            loader,
            role,
            PolicyRef::Arn(aws_managed_arn(managed)),
            event.key_span,
            false,
        );
    }
}

/// Item `i` of a `Policies` list: a managed policy name or ARN, an inline document, or a
/// policy template (expanded where known, labelled by its name, and by `i` too where
/// `used` already holds that label); anything else is noted and attached as unknown.
fn policies_item(
    loader: &mut Loader<'_, '_>,
    r: &Resource<'_>,
    role: &str,
    (i, item): (usize, &Value),
    used: &mut Vec<String>,
) {
    match &item.kind {
        ValueKind::Str(t) => {
            let arn = match t.as_literal() {
                Some(name) if !name.starts_with("arn:") => aws_managed_arn(name),
                _ => t.clone(),
            };
            attach(loader, role, PolicyRef::Arn(arn), item.span, false);
        }
        ValueKind::Map(_) if item.get("Statement").is_some() => {
            let address = format!("{}/Policies/{i}", r.id);
            let document = loader.document(Some(item), item.span);
            push_inline(loader, address, document, item.span);
        }
        ValueKind::Map(entries) if entries.len() == 1 => {
            let Some(entry) = entries.first() else { return };
            let mut label = format!("{}/Policies/{}", r.id, entry.key);
            if used.contains(&label) {
                label = format!("{label}/{i}");
            }
            used.push(label.clone());
            match expand_template(&entry.key, &entry.value, item.span) {
                Some(document) => push_inline(loader, label, document, item.span),
                None => {
                    loader.note(
                        format!(
                            "SAM policy template `{}` is not expanded; its grants are unknown",
                            entry.key
                        ),
                        entry.key_span,
                    );
                    attach(loader, role, PolicyRef::Unknown(item.clone()), item.span, false);
                }
            }
        }
        _ => {
            loader.note(
                format!(
                    "a `Policies` item of `{}` is not understood; its grants are unknown",
                    r.id
                ),
                item.span,
            );
            attach(loader, role, PolicyRef::Unknown(item.clone()), item.span, false);
        }
    }
}

/// An inline policy of the implicit role of the resource its address starts with.
fn push_inline(loader: &mut Loader<'_, '_>, address: String, document: Value, span: Span) {
    let role = address
        .split('/')
        .next()
        .map(|id| format!("{id}Role"))
        .unwrap_or_default();
    loader.input.policies.push(Policy {
        address: address.clone(),
        kind: PolicyKind::Inline,
        name: None,
        arn: None,
        document,
        resource: None,
        span,
    });
    loader.input.attachments.push(Attachment {
        policy: PolicyRef::Address(address),
        target: Target::Address(role),
        boundary: false,
        span,
        condition: None,
    });
}

/// A policy template's document, for the templates that bear on tables and streams.
fn expand_template(name: &str, params: &Value, span: Span) -> Option<Value> {
    let statements = template_statements(name, params, span)?;
    Some(policy_document(statements, span))
}

/// The statements (actions, resources) of the policy templates that bear on tables and
/// streams, as `policy_templates.json` has them (a parameter not given is an unknown
/// naming it); `None` for any other template.
fn template_statements(name: &str, params: &Value, span: Span) -> Option<Vec<(Vec<&'static str>, Vec<Template>)>> {
    let param = |key: &str| -> Template {
        params
            .get(key)
            .map(template_of)
            .unwrap_or_else(|| Template::opaque(format!("{name}.{key}"), format!("`{key}` is not given"), span))
    };
    let table = |suffix: &str| {
        let mut t = arn_prefix("dynamodb", true);
        t.push_str("table/");
        t.push_template(&param("TableName"));
        t.push_str(suffix);
        t
    };
    let stream = |stream_name: Option<Template>| {
        let mut t = arn_prefix("kinesis", true);
        t.push_str("stream/");
        match stream_name {
            Some(n) => t.push_template(&n),
            None => t.push_str("*"),
        }
        t
    };
    let statements: Vec<(Vec<&str>, Vec<Template>)> = match name {
        "DynamoDBCrudPolicy" => vec![(
            vec![
                "dynamodb:GetItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
                "dynamodb:ConditionCheckItem",
            ],
            vec![table(""), table("/index/*")],
        )],
        "DynamoDBReadPolicy" => vec![(
            vec![
                "dynamodb:GetItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
            ],
            vec![table(""), table("/index/*")],
        )],
        "DynamoDBWritePolicy" => vec![(
            vec!["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
            vec![table(""), table("/index/*")],
        )],
        "DynamoDBReconfigurePolicy" => vec![(vec!["dynamodb:UpdateTable"], vec![table("")])],
        "DynamoDBStreamReadPolicy" => {
            let mut one = table("/stream/");
            one.push_template(&param("StreamName"));
            vec![
                (
                    vec![
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                    ],
                    vec![one],
                ),
                (vec!["dynamodb:ListStreams"], vec![table("/stream/*")]),
            ]
        }
        "KinesisCrudPolicy" => vec![(
            vec![
                "kinesis:AddTagsToStream",
                "kinesis:CreateStream",
                "kinesis:DecreaseStreamRetentionPeriod",
                "kinesis:DeleteStream",
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetShardIterator",
                "kinesis:IncreaseStreamRetentionPeriod",
                "kinesis:ListTagsForStream",
                "kinesis:MergeShards",
                "kinesis:PutRecord",
                "kinesis:PutRecords",
                "kinesis:SplitShard",
                "kinesis:RemoveTagsFromStream",
            ],
            vec![stream(Some(param("StreamName")))],
        )],
        "KinesisStreamReadPolicy" => vec![
            (
                vec!["kinesis:ListStreams", "kinesis:DescribeLimits"],
                vec![stream(None)],
            ),
            (
                vec![
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                ],
                vec![stream(Some(param("StreamName")))],
            ),
        ],
        _ => return None,
    };
    Some(statements)
}

/// An `Allow` policy document of `statements`, each node spanning `span`.
fn policy_document(statements: Vec<(Vec<&str>, Vec<Template>)>, span: Span) -> Value {
    let str_value = |t: Template| Value::new(ValueKind::Str(t), span);
    let entry = |key: &str, value: Value| Entry {
        key: key.to_string(),
        key_span: span,
        value,
    };
    let statements = statements
        .into_iter()
        .map(|(actions, resources)| {
            Value::new(
                ValueKind::Map(vec![
                    entry("Effect", Value::str("Allow", span)),
                    entry(
                        "Action",
                        Value::new(
                            ValueKind::List(actions.into_iter().map(|a| Value::str(a, span)).collect()),
                            span,
                        ),
                    ),
                    entry(
                        "Resource",
                        Value::new(ValueKind::List(resources.into_iter().map(str_value).collect()), span),
                    ),
                ]),
                span,
            )
        })
        .collect();
    Value::new(
        ValueKind::Map(vec![
            entry("Version", Value::str("2012-10-17", span)),
            entry("Statement", Value::new(ValueKind::List(statements), span)),
        ]),
        span,
    )
}
