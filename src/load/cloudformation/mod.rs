//! CloudFormation templates (YAML and JSON, SAM, CDK output) into the model.
//!
//! The text is parsed into spanned [`Value`]s (JSON by `load::json`, YAML by [`yaml`]),
//! checked to be a template, then its resources are mapped to model records with every
//! intrinsic resolved by [`intrinsics::Evaluator`]. `Fn::ForEach` loops are expanded
//! first ([`foreach`]); nested stacks with a local template are loaded into the parent's
//! input ([`nested`]); CDK `aws:cdk:path` metadata fills `Input::construct_paths`.
//! Anything not understood becomes a note; a file that does not parse or is not a
//! template becomes a [`LoadError`].

mod document;
mod foreach;
mod intrinsics;
mod metadata;
mod nested;
mod resources;
mod sam;
mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::load::{LoadOptions, error_at};
use crate::model::{Diagnostic, Input, InputKind, LoadError};
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Value, ValueKind};

/// Loads one template whose text is already registered as `file`. Nested stacks are
/// looked up beside `display` taken as a path from `cwd` (the caller's working folder; the
/// library never reads the process's); with no `cwd`, only an absolute `display` is looked
/// for on disk, so a text alone is loaded as text. Discovery, which knows the real path,
/// calls [`load_template_file`].
pub fn load_template(
    display: &str,
    cwd: Option<&Path>,
    file: FileId,
    text: &str,
    options: &LoadOptions,
    sources: &SourceMap,
) -> Input {
    let full = match cwd {
        Some(cwd) => cwd.join(display),
        None => PathBuf::from(display),
    };
    let on_disk = Some(full).filter(|f| f.is_absolute() && f.is_file());
    let nesting = Nesting::root(on_disk, display, cwd.unwrap_or(Path::new("")), options, sources);
    load_nested(display, file, text, options, sources, &nesting)
}

/// Loads one template read from `path` (registered as `file` under `display`); nested
/// stacks with a local `TemplateURL` are read from below `path`'s folder.
pub(crate) fn load_template_file(
    path: &Path,
    display: &str,
    cwd: &Path,
    file: FileId,
    text: &str,
    options: &LoadOptions,
    sources: &SourceMap,
) -> Input {
    let nesting = Nesting::root(Some(path.to_path_buf()), display, cwd, options, sources);
    load_nested(display, file, text, options, sources, &nesting)
}

/// Where a template sits: on disk (for nested stacks) and in the stack tree.
#[derive(Clone, Debug, Default)]
pub(crate) struct Nesting {
    /// This template's file, when known.
    pub path: Option<PathBuf>,
    /// This template's display path (child display paths are built from it).
    pub display: String,
    /// The canonical folder that nested templates must stay below: the analysis root,
    /// else the root template's folder.
    pub confine: Option<PathBuf>,
    /// How many stacks deep templates are read (the module depth limit).
    pub(crate) depth_limit: usize,
    /// Opaque-id prefix: `""` at the root, `"Parent/Child/"` below.
    pub scope: String,
    /// Canonical paths of this template and the ones above it (a cycle guard).
    pub chain: Vec<PathBuf>,
    /// Parameter values the parent stack passes; `None` at the root.
    pub params: Option<BTreeMap<String, Value>>,
    /// The folder display paths are relative to (the run's working folder), for messages
    /// that name a path.
    pub cwd: PathBuf,
}

impl Nesting {
    fn root(path: Option<PathBuf>, display: &str, cwd: &Path, options: &LoadOptions, sources: &SourceMap) -> Nesting {
        let canonical = path.as_ref().and_then(|p| std::fs::canonicalize(p).ok());
        let folder = canonical.as_ref().and_then(|c| c.parent().map(Path::to_path_buf));
        Nesting {
            confine: options
                .root
                .as_deref()
                .map(crate::load::confine::canonical_root)
                .or(folder),
            depth_limit: sources.limits().module_depth,
            chain: canonical.into_iter().collect(),
            path,
            display: display.to_string(),
            scope: String::new(),
            params: None,
            cwd: cwd.to_path_buf(),
        }
    }
}

fn load_nested(
    display: &str,
    file: FileId,
    text: &str,
    options: &LoadOptions,
    sources: &SourceMap,
    nesting: &Nesting,
) -> Input {
    let mut input = Input::new(display, InputKind::CloudFormation);
    let root = match parse_text(text, file, &mut input.diagnostics, sources.limits()) {
        Ok(root) => root,
        Err(why) => {
            input
                .errors
                .push(error_at(display, file, why.offset(), why.to_string()));
            return input;
        }
    };
    if let Err(why) = classify(&root) {
        // A stack's child template is a template because its parent says so: one that
        // declares nothing kdsguard reads is noted, and does not fail the parent.
        if nesting.params.is_some() && matches!(root.kind, ValueKind::Map(_)) {
            input.diagnostics.push(Diagnostic::note(
                format!("nested template `{display}` declares no typed resources ({why}); nothing in it is analysed"),
                Span::new(file, root.span.start as usize, root.span.start as usize),
            ));
            return input;
        }
        input.errors.push(LoadError {
            path: display.to_string(),
            span: Some(Span::new(file, root.span.start as usize, root.span.start as usize)),
            message: format!("not a CloudFormation template: {why}"),
        });
        return input;
    }
    resources::load(&root, text, file, options, nesting, sources, &mut input);
    input.suppressions = metadata::suppressions(&root, &mut input.diagnostics);
    dedup_diagnostics(&mut input.diagnostics);
    input
}

/// JSON when the text starts like a JSON document, YAML otherwise.
fn parse_text(
    text: &str,
    file: FileId,
    diagnostics: &mut Vec<Diagnostic>,
    limits: &crate::limits::Limits,
) -> Result<Value, Unparsed> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        crate::json::parse(text, file, 0).map_err(|e| Unparsed::Json {
            offset: e.offset,
            message: e.message,
        })
    } else {
        yaml::parse_limited(text, file, diagnostics, limits).map_err(|e| Unparsed::Yaml {
            offset: e.offset,
            message: e.message,
        })
    }
}

/// Why a template's text is not a document ([`parse_text`]), at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unparsed {
    #[error("invalid JSON: {message}")]
    Json { offset: usize, message: String },
    #[error("invalid YAML: {message}")]
    Yaml { offset: usize, message: String },
}

impl Unparsed {
    /// Where the parser stopped.
    fn offset(&self) -> usize {
        match self {
            Unparsed::Json { offset, .. } | Unparsed::Yaml { offset, .. } => *offset,
        }
    }
}

/// Whether a parsed document is a template: a mapping with `AWSTemplateFormatVersion`,
/// or with a `Resources` mapping whose entries have a `Type` (an empty `Resources` mapping
/// is a template with no resources: every one of its entries, none, has a type).
fn classify(root: &Value) -> Result<(), NotATemplate> {
    let ValueKind::Map(entries) = &root.kind else {
        return Err(match &root.kind {
            ValueKind::Null => NotATemplate::NoDocument,
            _ => NotATemplate::NotAMapping(root.type_name()),
        });
    };
    if entries.iter().any(|e| e.key == "AWSTemplateFormatVersion") {
        return Ok(());
    }
    let Some(resources) = root.get("Resources") else {
        return Err(NotATemplate::Unmarked);
    };
    let empty = matches!(&resources.kind, ValueKind::Map(entries) if entries.is_empty());
    let typed = resources.entries().iter().any(|e| e.value.get("Type").is_some());
    if typed || empty {
        Ok(())
    } else {
        Err(NotATemplate::Untyped)
    }
}

/// Why a parsed document is not a CloudFormation template ([`classify`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotATemplate {
    #[error("the file holds no document")]
    NoDocument,
    /// The document's type, as [`Value::type_name`] says it.
    #[error("the document is a {0}, not a mapping")]
    NotAMapping(&'static str),
    #[error("it has neither `AWSTemplateFormatVersion` nor `Resources`")]
    Unmarked,
    #[error("its `Resources` section has no entry with a `Type`")]
    Untyped,
}

/// The same diagnostic can arise twice when a value is evaluated from two places.
fn dedup_diagnostics(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    diagnostics.retain(|d| seen.insert((d.span, d.message.clone())));
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{PolicyKind, PolicyRef, PrincipalKind, Protection, Severity, TableRef, Target};
    use crate::value::Template;

    fn load(name: &str, text: &str) -> (Input, SourceMap) {
        let sources = SourceMap::new();
        let id = sources.add(name, Arc::from(text));
        let input = load_template(name, None, id, text, &LoadOptions::default(), &sources);
        (input, sources)
    }

    fn at(sources: &SourceMap, span: Span) -> String {
        sources.start(span).map(|lc| lc.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_document_that_is_not_a_template_says_why() {
        let (input, _) = load("a.yaml", "- 1\n");
        assert_eq!(
            input.errors.first().map(|e| e.message.as_str()),
            Some("not a CloudFormation template: the document is a list, not a mapping")
        );
        let (input, _) = load("b.yaml", "Resources:\n  A:\n    Properties: {}\n");
        assert_eq!(
            input.errors.first().map(|e| e.message.as_str()),
            Some("not a CloudFormation template: its `Resources` section has no entry with a `Type`")
        );
        assert_eq!(
            nested::Unread::NotATemplate {
                display: "c.yaml".into(),
                why: NotATemplate::Unmarked,
            }
            .to_string(),
            "`c.yaml` is not a CloudFormation template: it has neither `AWSTemplateFormatVersion` nor `Resources`"
        );
        let (input, _) = load("d.json", "{\"Resources\": }");
        let error = input.errors.first().map(|e| e.message.clone()).unwrap_or_default();
        assert!(error.starts_with("invalid JSON: "), "{error}");
    }

    fn slice(text: &str, span: Span) -> &str {
        text.get(span.start as usize..span.end as usize)
            .unwrap_or("<out of range>")
    }

    const REPLICATION_YAML: &str = include_str!("../../../testdata/cloudformation/replication.yaml");
    const REPLICATION_JSON: &str = include_str!("../../../testdata/cloudformation/replication.json");
    const SAM_YAML: &str = include_str!("../../../testdata/cloudformation/sam.yaml");

    #[test]
    fn tables_streams_keys_and_destinations() {
        let (input, sources) = load("replication.yaml", REPLICATION_YAML);
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        let [table] = input.tables.as_slice() else {
            panic!("{:?}", input.tables)
        };
        assert_eq!(table.name, Template::lit("orders-prod"));
        assert_eq!(
            table.arn.to_string(),
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders-prod"
        );
        assert_eq!(at(&sources, table.span), "21:3");
        let [stream] = input.streams.as_slice() else {
            panic!("{:?}", input.streams)
        };
        let [dest] = input.destinations.as_slice() else {
            panic!("{:?}", input.destinations)
        };
        assert_eq!(dest.address, "Orders/KinesisStreamSpecification");
        assert_eq!(dest.table, TableRef::Address("Orders".into()));
        assert_eq!(dest.stream_arn.as_template(), Some(&stream.arn));
        assert_eq!(at(&sources, dest.span), "25:7");
        assert_eq!(slice(REPLICATION_YAML, dest.stream_arn.span), "!GetAtt Stream.Arn");
        let [key] = input.keys.as_slice() else {
            panic!("{:?}", input.keys)
        };
        assert_eq!(stream.kms_key.as_ref().and_then(Value::as_template), Some(&key.id));
        let key_policy = input.policies.iter().find(|p| p.address == "Key/KeyPolicy");
        assert_eq!(key_policy.and_then(|p| p.resource.clone()), Some(key.arn.clone()));
        let table_policy = input.policies.iter().find(|p| p.address == "Orders/ResourcePolicy");
        assert_eq!(table_policy.map(|p| p.kind), Some(PolicyKind::Resource));
        assert_eq!(table_policy.and_then(|p| p.resource.clone()), Some(table.arn.clone()));
    }

    #[test]
    fn principals_policies_and_attachments() {
        let (input, sources) = load("replication.yaml", REPLICATION_YAML);
        let role = input.principals.iter().find(|p| p.address == "Replicator");
        let Some(role) = role else {
            panic!("{:?}", input.principals)
        };
        assert_eq!(
            role.arn.to_string(),
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ops/replicator"
        );
        assert_eq!(at(&sources, role.span), "52:3");
        assert!(
            !input.principals.iter().any(|p| p.address == "DevOnly"),
            "IsDev is false"
        );
        let user = input.principals.iter().find(|p| p.kind == PrincipalKind::User);
        assert_eq!(user.map(|u| u.name.to_string()), Some("${Operator.name}".into()));

        let managed = input.policies.iter().find(|p| p.address == "ReplicationPolicy");
        let managed_arn = managed.and_then(|p| p.arn.clone()).unwrap_or_default();
        assert_eq!(
            managed_arn.to_string(),
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/replication"
        );
        let for_role: Vec<_> = input
            .attachments
            .iter()
            .filter(|a| a.target == Target::Address("Replicator".into()))
            .collect();
        assert!(
            for_role
                .iter()
                .any(|a| a.policy == PolicyRef::Arn(managed_arn.clone()) && !a.boundary)
        );
        assert!(
            for_role
                .iter()
                .any(|a| a.policy == PolicyRef::Arn(Template::lit("arn:aws:iam::aws:policy/ReadOnlyAccess")))
        );
        assert!(for_role.iter().any(|a| a.boundary));
        assert!(
            for_role
                .iter()
                .any(|a| a.policy == PolicyRef::Address("Replicator/Policies/enable".into()))
        );

        // The `!If` statement is removed (IsDev is false): one statement left.
        let inline = input
            .policies
            .iter()
            .find(|p| p.address == "Replicator/Policies/enable");
        let statements = inline
            .and_then(|p| p.document.get("Statement"))
            .and_then(Value::as_list)
            .map(<[Value]>::len);
        assert_eq!(statements, Some(1));
        let resource = inline
            .and_then(|p| p.document.get("Statement"))
            .and_then(Value::as_list)
            .and_then(|s| s.first())
            .and_then(|s| s.get("Resource"))
            .and_then(Value::as_template)
            .cloned();
        assert_eq!(resource, input.tables.first().map(|t| t.arn.clone()));

        // A JSON policy built by `!Sub`: symbols survive, and it names the same table ARN.
        let sub = input.policies.iter().find(|p| p.address == "OperatorsPolicy");
        let sub_resource = sub
            .and_then(|p| p.document.get("Statement"))
            .and_then(Value::as_list)
            .and_then(|s| s.first())
            .and_then(|s| s.get("Resource"))
            .and_then(Value::as_template)
            .cloned();
        assert_eq!(sub_resource, input.tables.first().map(|t| t.arn.clone()));
        let targets: Vec<_> = input
            .attachments
            .iter()
            .filter(|a| a.policy == PolicyRef::Address("OperatorsPolicy".into()))
            .map(|a| a.target.clone())
            .collect();
        assert_eq!(
            targets,
            [
                Target::RoleName(Template::lit("replicator")),
                Target::GroupName(Template::lit("operators"))
            ]
        );

        let members: Vec<String> = input
            .memberships
            .iter()
            .map(|m| format!("{} in {}", m.user, m.group))
            .collect();
        assert_eq!(
            members,
            [
                "${Operator.name} in operators",
                "alice in operators",
                "bob in operators"
            ]
        );
    }

    #[test]
    fn service_linked_role_and_notes() {
        let (input, _) = load("replication.yaml", REPLICATION_YAML);
        let [slr] = input.slrs.as_slice() else {
            panic!("{:?}", input.slrs)
        };
        assert_eq!(slr.service, Template::lit("kinesisreplication.dynamodb.amazonaws.com"));
        let Protection::Protected(span) = slr.protected else {
            panic!("{:?}", slr.protected)
        };
        assert_eq!(slice(REPLICATION_YAML, span), "Retain");
        let s3: Vec<_> = input
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("AWS::S3::Bucket"))
            .collect();
        assert_eq!(s3.len(), 1);
        assert!(s3[0].message.starts_with("2 resources"));
        assert!(
            input
                .diagnostics
                .iter()
                .any(|d| d.message.contains("`DevOnly` is not created"))
        );
        assert!(
            input.diagnostics.iter().all(|d| d.severity == Severity::Note),
            "{:?}",
            input.diagnostics
        );
    }

    #[test]
    fn json_global_tables_stream_policies_and_scps() {
        let (input, sources) = load("replication.json", REPLICATION_JSON);
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        let [dest] = input.destinations.as_slice() else {
            panic!("{:?}", input.destinations)
        };
        assert_eq!(dest.address, "Global[us-east-1]/KinesisStreamSpecification");
        assert_eq!(dest.table, TableRef::Address("Global[us-east-1]".into()));
        let tables: Vec<String> = input
            .tables
            .iter()
            .map(|t| format!("{} {} {}", t.address, t.arn, at(&sources, t.span)))
            .collect();
        assert_eq!(
            tables,
            [
                "Global[us-east-1] arn:${AWS::Partition}:dynamodb:us-east-1:${AWS::AccountId}:table/global 9:11",
                "Global[eu-west-1] arn:${AWS::Partition}:dynamodb:eu-west-1:${AWS::AccountId}:table/global 10:11",
            ]
        );
        assert_eq!(dest.stream_arn.as_template(), input.streams.first().map(|s| &s.arn));
        assert_eq!(at(&sources, dest.span), "9:35");
        let stream_policy = input.policies.iter().find(|p| p.address == "StreamPolicy");
        assert_eq!(
            stream_policy.and_then(|p| p.resource.clone()),
            input.streams.first().map(|s| s.arn.clone())
        );
        let scp = input.policies.iter().find(|p| p.kind == PolicyKind::Scp);
        let action = scp
            .and_then(|p| p.document.get("Statement"))
            .and_then(Value::as_list)
            .and_then(|s| s.first())
            .and_then(|s| s.get("Action"))
            .and_then(Value::as_str);
        assert_eq!(action, Some("iam:DeleteServiceLinkedRole"));
        assert!(
            input
                .attachments
                .iter()
                .any(|a| a.target == Target::Organization(Template::lit("r-abcd")))
        );
        assert!(
            input
                .attachments
                .iter()
                .any(|a| a.target == Target::RoleName(Template::lit("external-role")))
        );
    }

    #[test]
    fn sam_functions_get_an_implicit_role_and_expanded_templates() {
        let (input, _) = load("sam.yaml", SAM_YAML);
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        let roles: Vec<_> = input.principals.iter().map(|p| p.address.as_str()).collect();
        assert_eq!(roles, ["ConsumerRole"]);
        let role = Target::Address("ConsumerRole".into());
        let arns: Vec<String> = input
            .attachments
            .iter()
            .filter(|a| a.target == role)
            .filter_map(|a| match &a.policy {
                PolicyRef::Arn(t) => Some(t.to_string()),
                _ => None,
            })
            .collect();
        assert!(arns.contains(&"arn:${AWS::Partition}:iam::aws:policy/AmazonDynamoDBReadOnlyAccess".to_string()));
        assert!(
            arns.contains(
                &"arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole".to_string()
            )
        );
        let crud = input
            .policies
            .iter()
            .find(|p| p.address == "Consumer/Policies/DynamoDBCrudPolicy");
        let first_resource = crud
            .and_then(|p| p.document.get("Statement"))
            .and_then(Value::as_list)
            .and_then(|s| s.first())
            .and_then(|s| s.get("Resource"))
            .and_then(Value::as_list)
            .and_then(|r| r.first())
            .and_then(Value::as_template)
            .cloned();
        assert_eq!(first_resource, input.tables.first().map(|t| t.arn.clone()));
        assert!(
            input
                .attachments
                .iter()
                .any(|a| matches!(a.policy, PolicyRef::Unknown(_)))
        );
        assert!(input.diagnostics.iter().any(|d| d.message.contains("SQSPollerPolicy")));
        assert!(input.policies.iter().any(|p| p.address == "Consumer/Policies/4"));
    }

    #[test]
    fn non_templates_and_broken_files_are_load_errors() {
        let (input, _) = load(
            "err.json",
            include_str!("../../../testdata/cloudformation/not_a_template.json"),
        );
        assert!(
            input
                .errors
                .first()
                .is_some_and(|e| e.message.starts_with("not a CloudFormation template"))
        );
        let (input, sources) = load(
            "broken.yaml",
            include_str!("../../../testdata/cloudformation/broken.yaml"),
        );
        let err = input.errors.first();
        assert!(err.is_some_and(|e| e.message.starts_with("invalid YAML")), "{err:?}");
        let line = err
            .and_then(|e| e.span)
            .and_then(|s| sources.start(s))
            .map(|lc| lc.line);
        assert!(line.is_some_and(|l| l >= 4), "{line:?}");
        for text in ["", "just a string", "- a\n- b\n", "{\"Resources\": {\"A\": 1}}"] {
            let (input, _) = load("x.yaml", text);
            assert!(!input.errors.is_empty(), "{text:?}");
        }
    }

    #[test]
    fn cdk_paths_name_every_record_a_resource_makes() {
        let text = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata: {aws:cdk:path: App/Fn/Resource}\n    Properties:\n      Policies: [{Statement: [{Effect: Allow, Action: 'dynamodb:*', Resource: '*'}]}]\n  T:\n    Type: AWS::DynamoDB::Table\n    Metadata: {aws:cdk:path: App/T/Resource}\n";
        let (input, _) = load("cdk.yaml", text);
        let paths: Vec<String> = input.construct_paths.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            paths,
            [
                "Fn/Policies/0=App/Fn/Resource",
                "FnRole=App/Fn/Resource",
                "T=App/T/Resource"
            ]
        );
    }

    #[test]
    fn global_table_replicas_without_literal_regions() {
        let text = "Resources:\n  G:\n    Type: AWS::DynamoDB::GlobalTable\n    Properties:\n      Replicas:\n        - Region: !Ref AWS::Region\n          ResourcePolicy: {PolicyDocument: {Statement: []}}\n        - {Region: us-east-1}\n        - {Region: us-east-1}\n  H:\n    Type: AWS::DynamoDB::GlobalTable\n    Properties: {TableName: h}\n";
        let (input, _) = load("g.yaml", text);
        let tables: Vec<String> = input
            .tables
            .iter()
            .map(|t| format!("{} {}", t.address, t.arn))
            .collect();
        assert_eq!(
            tables,
            [
                "G[0] arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${G.name}",
                "G[us-east-1] arn:${AWS::Partition}:dynamodb:us-east-1:${AWS::AccountId}:table/${G.name}",
                "G[us-east-1#2] arn:${AWS::Partition}:dynamodb:us-east-1:${AWS::AccountId}:table/${G.name}",
                "H arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/h",
            ]
        );
        let policy = input.policies.iter().find(|p| p.address == "G[0]/ResourcePolicy");
        assert_eq!(
            policy.and_then(|p| p.resource.clone()),
            input.tables.first().map(|t| t.arn.clone())
        );
    }

    #[test]
    fn sam_globals_set_the_boundary_unless_the_function_does() {
        let text = "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    PermissionsBoundary: arn:aws:iam::111122223333:policy/global\n    Role: arn:aws:iam::111122223333:role/r\nResources:\n  A: {Type: AWS::Serverless::Function}\n  B: {Type: AWS::Serverless::Function, Properties: {PermissionsBoundary: arn:aws:iam::111122223333:policy/own}}\n";
        let (input, _) = load("g.yaml", text);
        let boundaries: Vec<String> = input
            .attachments
            .iter()
            .filter(|a| a.boundary)
            .map(|a| match (&a.target, &a.policy) {
                (Target::Address(t), PolicyRef::Arn(arn)) => format!("{t} {arn}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            boundaries,
            [
                "ARole arn:aws:iam::111122223333:policy/global",
                "BRole arn:aws:iam::111122223333:policy/own"
            ]
        );
        assert!(
            input
                .diagnostics
                .iter()
                .any(|d| d.message.contains("`Role` is not allowed"))
        );
    }

    #[test]
    fn nested_stacks_prefix_addresses_and_scope_generated_names() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cloudformation/nested");
        let parent = dir.join("parent.yaml");
        let text = std::fs::read_to_string(&parent).unwrap_or_default();
        let sources = SourceMap::new();
        let id = sources.add("nested/parent.yaml", Arc::from(text.as_str()));
        let input = load_template_file(
            &parent,
            "nested/parent.yaml",
            &dir,
            id,
            &text,
            &LoadOptions::default(),
            &sources,
        );
        // The fixture's `Loop` (a cycle) and `Escape` (outside the root) are load errors.
        let mut errors: Vec<&str> = input.errors.iter().map(|e| e.message.as_str()).collect();
        errors.sort_unstable();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("nested stack `Escape`: `../../../../outside.yaml` resolves to"),
            "{errors:?}"
        );
        assert!(errors[0].contains("outside the analysis root"), "{errors:?}");
        assert!(errors[1].starts_with("nested stack `Loop`: template `data.yaml` contains itself (a cycle: parent.yaml → data.yaml → data.yaml)"), "{errors:?}");
        let tables: Vec<_> = input
            .tables
            .iter()
            .map(|t| (t.address.as_str(), t.name.to_string()))
            .collect();
        assert_eq!(tables, [("Data/Table", "orders-prod".to_string())]);
        let [dest] = input.destinations.as_slice() else {
            panic!("{:?}", input.destinations)
        };
        assert_eq!(dest.table, TableRef::Address("Data/Table".into()));
        assert_eq!(dest.address, "Data/Table/KinesisStreamSpecification");
        let role = input.principals.first().map(|p| p.name.to_string());
        assert_eq!(role.as_deref(), Some("${Access/Disabler.name}"));
        assert!(
            input
                .attachments
                .iter()
                .any(|a| a.target == Target::Address("Access/Disabler".into()))
        );
        assert_eq!(
            input.module_dirs,
            ["nested/stacks/data.yaml", "nested/stacks/access.yaml"]
        );
        let child = input.tables.first().map(|t| sources.path(t.span));
        assert_eq!(child.as_deref(), Some("nested/stacks/data.yaml"));
    }

    #[test]
    fn parameters_from_options_override_defaults() {
        let text = "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  N: {Type: String, Default: a}\nResources:\n  T: {Type: AWS::DynamoDB::Table, Properties: {TableName: !Ref N}}\n";
        let sources = SourceMap::new();
        let id = sources.add("p.yaml", Arc::from(text));
        let options = LoadOptions {
            cfn_parameters: vec![("N".into(), "given".into())],
            ..LoadOptions::default()
        };
        let input = load_template("p.yaml", None, id, text, &options, &sources);
        assert_eq!(
            input.tables.first().map(|t| t.name.clone()),
            Some(Template::lit("given"))
        );
    }

    /// Loads `parent` from a fresh folder holding `files` (name, text).
    fn load_tree(files: &[(&str, &str)]) -> (Input, SourceMap) {
        let dir = tempfile::tempdir();
        let Ok(dir) = dir else { panic!("no temporary folder") };
        for (name, text) in files {
            let _ = std::fs::write(dir.path().join(name), text);
        }
        let parent = dir.path().join("parent.yaml");
        let text = files.first().map(|(_, t)| *t).unwrap_or_default();
        let sources = SourceMap::new();
        let id = sources.add("parent.yaml", Arc::from(text));
        let input = load_template_file(
            &parent,
            "parent.yaml",
            dir.path(),
            id,
            text,
            &LoadOptions::default(),
            &sources,
        );
        (input, sources)
    }

    #[test]
    fn templates_with_no_resources_load_and_do_not_fail_a_parent() {
        // An empty `Resources` map is a template with nothing in it.
        let (input, _) = load("empty.json", "{\"Parameters\": {}, \"Resources\": {}}");
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        // Untyped entries, at the root, are not a template.
        let (input, _) = load("untyped.yaml", "Resources:\n  A: {Properties: {}}\n");
        assert!(
            input
                .errors
                .iter()
                .any(|e| e.message.starts_with("not a CloudFormation template"))
        );
        // As a nested stack's child, either is noted and the parent loads.
        let parent = "Resources:
  Empty: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: empty.yaml, Parameters: {One: a}}}
  Untyped: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: untyped.yaml}}
  T: {Type: AWS::DynamoDB::Table, Properties: {TableName: !GetAtt Untyped.Outputs.Name}}
";
        let (input, _) = load_tree(&[
            ("parent.yaml", parent),
            ("empty.yaml", "Parameters: {One: {Type: String}}\nResources: {}\n"),
            (
                "untyped.yaml",
                "Resources:\n  A: {Properties: {}}\nOutputs:\n  Name: {Value: orders}\n",
            ),
        ]);
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        assert_eq!(input.tables.len(), 1);
        assert_eq!(input.tables[0].name, Template::lit("orders"));
        assert!(
            input
                .diagnostics
                .iter()
                .any(|d| d.message.contains("untyped.yaml") && d.message.contains("no typed resources")),
            "{:?}",
            input.diagnostics
        );
    }

    fn unknown_reason(t: &Template) -> String {
        t.opaques().map(|o| o.reason.clone()).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn nested_stack_outputs_in_the_childs_scope() {
        let parent = "Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: child.yaml
      Parameters: {Name: given, Echo: !GetAtt Child.Outputs.Echo}
  Remote:
    Type: AWS::CloudFormation::Stack
    Properties: {TemplateURL: 'https://example.com/t.yaml'}
  T1: {Type: AWS::DynamoDB::Table, Properties: {TableName: !GetAtt Child.Outputs.Plain}}
  T2: {Type: AWS::DynamoDB::Table, Properties: {TableName: !GetAtt Child.Outputs.Hidden}}
  T3: {Type: AWS::DynamoDB::Table, Properties: {TableName: !GetAtt Child.Outputs.Nope}}
  T4: {Type: AWS::DynamoDB::Table, Properties: {TableName: !Sub '${Child.Outputs.Generated}-x'}}
  T5: {Type: AWS::DynamoDB::Table, Properties: {TableName: !GetAtt Remote.Outputs.Name}}
  T6: {Type: AWS::DynamoDB::Table, Properties: {TableName: !GetAtt Child.Outputs.Echo}}
";
        let child = "Parameters:
  Name: {Type: String}
  Echo: {Type: String, Default: none}
Conditions:
  Never: !Equals [a, b]
Resources:
  Stream: {Type: AWS::Kinesis::Stream}
Outputs:
  Plain: {Value: !Sub '${Name}-table'}
  Hidden: {Condition: Never, Value: hidden}
  Generated: {Value: !Ref Stream}
  Echo: {Value: !Ref Echo}
";
        let (input, sources) = load_tree(&[("parent.yaml", parent), ("child.yaml", child)]);
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        let name = |address: &str| {
            input
                .tables
                .iter()
                .find(|t| t.address == address)
                .map(|t| t.name.clone())
                .unwrap_or_default()
        };
        assert_eq!(name("T1"), Template::lit("given-table"));
        assert!(unknown_reason(&name("T2")).contains("condition `Never` is false"));
        assert!(unknown_reason(&name("T3")).contains("declares no output `Nope`"));
        // The child's generated stream name, scoped like the loaded child's stream.
        let stream = input.streams.iter().find(|s| s.address == "Child/Stream");
        let mut expected = stream.map(|s| s.name.clone()).unwrap_or_default();
        expected.push_str("-x");
        assert_eq!(name("T4"), expected);
        assert_eq!(name("T4").to_string(), "${Child/Stream.name}-x");
        assert!(unknown_reason(&name("T5")).contains("whose template is not read"));
        // The stack's parameter reads its own output: a cycle, unknown, never a hang.
        assert!(name("T6").opaques().count() == 1, "{}", name("T6"));
        let missing = input
            .diagnostics
            .iter()
            .find(|d| d.message.contains("declares no such output"));
        assert_eq!(missing.map(|d| at(&sources, d.span)).as_deref(), Some("12:60"));
    }

    #[test]
    fn sam_role_path_goes_into_the_implicit_roles_arn() {
        let text = "Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {RolePath: /global/}
Resources:
  Own: {Type: AWS::Serverless::Function, Properties: {RolePath: /own/}}
  Global: {Type: AWS::Serverless::Function}
  Machine: {Type: AWS::Serverless::StateMachine, Properties: {RolePath: !Sub '/${AWS::Region}/'}}
  Plain: {Type: AWS::Serverless::StateMachine}
  Given: {Type: AWS::Serverless::Function, Properties: {Role: arn:aws:iam::111122223333:role/x, RolePath: /ignored/}}
  Ref:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: p
      Roles: [!Ref OwnRole]
      PolicyDocument: {Statement: [{Effect: Allow, Action: 'sts:AssumeRole', Resource: !GetAtt GlobalRole.Arn}]}
";
        let (input, _) = load("p.yaml", text);
        let arns: Vec<String> = input
            .principals
            .iter()
            .map(|p| format!("{} {}", p.address, p.arn))
            .collect();
        assert_eq!(
            arns,
            [
                "OwnRole arn:${AWS::Partition}:iam::${AWS::AccountId}:role/own/${OwnRole.name}",
                "GlobalRole arn:${AWS::Partition}:iam::${AWS::AccountId}:role/global/${GlobalRole.name}",
                "MachineRole arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::Region}/${MachineRole.name}",
                "PlainRole arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${PlainRole.name}",
            ]
        );
        // `!GetAtt <Fn>Role.Arn` elsewhere in the template agrees.
        let resource = input
            .policies
            .iter()
            .find(|p| p.address == "Ref")
            .and_then(|p| p.document.get("Statement"))
            .and_then(Value::as_list)
            .and_then(|s| s.first())
            .and_then(|s| s.get("Resource"))
            .and_then(Value::as_template)
            .map(ToString::to_string);
        assert_eq!(
            resource.as_deref(),
            arns.get(1).and_then(|a| a.split_once(' ')).map(|(_, arn)| arn)
        );
    }

    #[test]
    fn managed_arns_under_an_undecided_condition_attach_conditionally() {
        let text = "Transform: AWS::Serverless-2016-10-31
Parameters:
  Team: {Type: String}
Conditions:
  HasTeam: !Not [!Equals [!Ref Team, '']]
Resources:
  Ops:
    Type: AWS::IAM::Role
    Condition: HasTeam
    Properties:
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess]
      PermissionsBoundary: arn:aws:iam::aws:policy/ReadOnlyAccess
      Policies: [{PolicyName: p, PolicyDocument: {Statement: [{Effect: Allow, Action: 'dynamodb:*', Resource: '*'}]}}]
  Fn:
    Type: AWS::Serverless::Function
    Condition: HasTeam
    Properties:
      Policies: [AmazonKinesisReadOnlyAccess]
  Always:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess]
";
        let (input, sources) = load("c.yaml", text);
        // Every grant attached by ARN of a conditional resource carries the condition; the
        // boundary does not (it exists exactly when the role does) and neither does `Always`.
        let conditional: Vec<String> = input
            .attachments
            .iter()
            .filter(|a| a.condition.is_some())
            .map(|a| match &a.policy {
                PolicyRef::Arn(arn) => arn.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(conditional.len(), 3, "{conditional:?}");
        assert!(conditional[0].ends_with("/AmazonDynamoDBFullAccess"));
        assert!(conditional.iter().any(|c| c.ends_with("/AWSLambdaBasicExecutionRole")));
        assert!(conditional.iter().any(|c| c.ends_with("/AmazonKinesisReadOnlyAccess")));
        assert!(
            input
                .attachments
                .iter()
                .filter(|a| a.boundary)
                .all(|a| a.condition.is_none())
        );
        let cond = input.attachments.iter().find_map(|a| a.condition.as_ref());
        assert_eq!(cond.map(|c| at(&sources, c.span)), Some("9:16".to_string()));
        // Inline documents are still marked conditional.
        let doc = input.policies.iter().find(|p| p.address == "Ops/Policies/p");
        let condition = doc
            .and_then(|p| p.document.get("Statement"))
            .and_then(Value::as_list)
            .and_then(|s| s.first())
            .and_then(|s| s.get("Condition"));
        assert!(condition.is_some());
    }

    #[test]
    fn trust_policies_are_never_identity_policies() {
        let text = "Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: '*', Action: '*', Resource: '*'}]}
  Broken:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: '{\"Statement\": [,'
  Odd:
    Type: AWS::IAM::User
    Properties:
      AssumeRolePolicyDocument: {Statement: 5}
";
        let (input, _) = load("t.yaml", text);
        assert_eq!(input.principals.len(), 3);
        // Roles' trust policies load as trust policies (a user has none), never as grants.
        let kinds: Vec<(&str, PolicyKind)> = input.policies.iter().map(|p| (p.address.as_str(), p.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("R (trust policy)", PolicyKind::Trust),
                ("Broken (trust policy)", PolicyKind::Trust)
            ]
        );
        assert_eq!(input.attachments.len(), 2, "{:?}", input.attachments);
        // The broken one says so, once.
        assert_eq!(input.diagnostics.len(), 1, "{:?}", input.diagnostics);
    }
}
