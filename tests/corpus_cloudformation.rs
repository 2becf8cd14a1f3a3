//! Loads every CloudFormation template of the shared corpus: no panic anywhere, broken
//! files come back as load errors with a position, and the known table → stream
//! templates yield a destination whose stream ARN is the declared stream's ARN.
#![allow(clippy::panic)] // a test fails by panicking

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use kdsguard::load::LoadOptions;
use kdsguard::load::cloudformation::load_template;
use kdsguard::model::{Input, Severity, TableRef};
use kdsguard::source::SourceMap;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("KDSGUARD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.join("INDEX.tsv").is_file().then_some(dir)
}

/// How many corpus templates load (fully or with notes): every template the corpus marks
/// parseable. Issue 13 added the explicitly named template whose `Resources` is empty.
const EXPECTED_LOADED: usize = 3502;

/// Rows the corpus marks `err` that are valid YAML 1.2, which we read.
const VALID_YAML_12: &[(&str, &str)] = &[(
    "bridgecrewio__checkov/tests/cloudformation/checks/resource/aws/unused/ec2_instance_with_ebs_volume.yaml",
    "a TAB before a comment is separation space in YAML 1.2; PyYAML rejects it",
)];

fn log(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

fn load(root: &Path, rel: &str, sources: &SourceMap) -> Result<Input, String> {
    let bytes = std::fs::read(root.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
    let id = sources.add(rel, Arc::from(text.as_str()));
    std::panic::catch_unwind(|| load_template(rel, None, id, &text, &LoadOptions::default(), sources))
        .map_err(|_| format!("{rel}: panicked"))
}

#[test]
fn every_corpus_template_loads_without_panic() {
    let Some(root) = corpus() else {
        log("corpus_cloudformation: KDSGUARD_CORPUS not found; skipped");
        return;
    };
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap_or_default();
    let sources = SourceMap::new();
    let started = Instant::now();
    let (mut full, mut with_notes, mut failed) = (0usize, 0usize, 0usize);
    let mut problems = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(kind), Some(check)) = (cols.first(), cols.get(2), cols.get(4)) else {
            continue;
        };
        if *kind != "cfn-yaml" && *kind != "cfn-json" {
            continue;
        }
        let input = match load(&root, path, &sources) {
            Ok(input) => input,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if std::env::var_os("KDSGUARD_CFN_DUMP").is_some() {
            for e in &input.errors {
                let at = e.span.map(|s| sources.describe(s)).unwrap_or_default();
                log(&format!("ERROR {at}: {}", e.message));
            }
            for d in &input.diagnostics {
                log(&format!("DIAG {:?} {path}: {}", d.severity, d.message));
            }
        }
        if input.errors.is_empty() {
            if input.diagnostics.iter().any(|d| d.severity >= Severity::Note) {
                with_notes += 1;
            } else {
                full += 1;
            }
        } else {
            failed += 1;
            for e in &input.errors {
                if e.span.is_none() {
                    problems.push(format!("{path}: load error without a position: {}", e.message));
                }
            }
        }
        if check.ends_with("err") && input.errors.is_empty() && !VALID_YAML_12.iter().any(|(p, _)| p == path) {
            problems.push(format!("{path}: expected a load error ({check})"));
        }
        // The other way round: only a file the corpus marks unparseable may fail.
        if check.ends_with(":ok") && !input.errors.is_empty() {
            problems.push(format!(
                "{path}: a parseable template failed to load: {:?}",
                input.errors
            ));
        }
    }
    log(&format!(
        "corpus_cloudformation: loaded fully {full}, loaded with notes {with_notes}, failed {failed} in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        full + with_notes >= EXPECTED_LOADED,
        "only {} templates loaded, {EXPECTED_LOADED} before",
        full + with_notes
    );
}

/// Issue 13: a template whose `Resources` is an empty map, named explicitly, is a template
/// with no resources; a nested stack whose child template declares no typed resources does
/// not fail its parent.
#[test]
fn templates_without_resources_load_explicitly_and_as_nested_stacks() {
    let Some(root) = corpus() else {
        log("corpus_cloudformation: KDSGUARD_CORPUS not found; skipped");
        return;
    };
    let fixtures = "aws-cloudformation__cfn-lint/test/fixtures/templates/good";
    for rel in ["decode/parsing.json", "resources/cloudformation/stacks.yaml"] {
        let sources = SourceMap::new();
        let path = root.join(fixtures).join(rel);
        let loaded = kdsguard::load::load_paths(&[path], &root, &LoadOptions::default(), &sources);
        let errors: Vec<_> = loaded
            .errors
            .iter()
            .chain(loaded.inputs.iter().flat_map(|i| &i.errors))
            .collect();
        assert!(errors.is_empty(), "{rel}: {errors:?}");
        assert_eq!(loaded.inputs.len(), 1, "{rel}");
        assert_eq!(loaded.inputs[0].path, format!("{fixtures}/{rel}"));
    }
}

#[test]
fn notes_items_yield_destinations_to_the_declared_stream() {
    let Some(root) = corpus() else {
        log("corpus_cloudformation: KDSGUARD_CORPUS not found; skipped");
        return;
    };
    let files = [
        "aws__aws-cdk/packages/@aws-cdk-testing/framework-integ/test/aws-dynamodb/test/integ.dynamodb.kinesis-stream.js.snapshot/aws-cdk-dynamodb-kinesis-stream.template.json",
        "aws-samples__serverless-patterns/dynamodb-kinesis/template.yaml",
        "aws-samples__serverless-patterns/apigw-dynamodb-kinesis-lambda/template.yaml",
    ];
    let sources = SourceMap::new();
    for rel in files {
        let input = match load(&root, rel, &sources) {
            Ok(input) => input,
            Err(e) => panic!("{e}"),
        };
        assert!(input.errors.is_empty(), "{rel}: {:?}", input.errors);
        let [destination] = input.destinations.as_slice() else {
            panic!("{rel}: expected one destination, got {:?}", input.destinations);
        };
        let TableRef::Address(table) = &destination.table else {
            panic!("{rel}: destination names its table by {:?}", destination.table);
        };
        assert!(
            input.tables.iter().any(|t| &t.address == table),
            "{rel}: no table {table}"
        );
        let stream_arn = destination.stream_arn.as_template();
        assert!(
            input.streams.iter().any(|s| Some(&s.arn) == stream_arn),
            "{rel}: stream arn {:?} is not a declared stream's ARN {:?}",
            destination.stream_arn,
            input.streams.iter().map(|s| s.arn.to_string()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn global_table_destinations_are_per_replica_and_for_each_expands() {
    let Some(root) = corpus() else {
        log("corpus_cloudformation: KDSGUARD_CORPUS not found; skipped");
        return;
    };
    let sources = SourceMap::new();
    let dynamodb = "aws__aws-cdk/packages/@aws-cdk-testing/framework-integ/test/aws-dynamodb/test";
    for (rel, with, without) in [
        (
            format!("{dynamodb}/integ.table-v2-global.js.snapshot/aws-cdk-global-table.template.json"),
            "GlobalTable89F068B2[us-east-1]",
            vec!["GlobalTable89F068B2[us-east-2]", "GlobalTable89F068B2[us-west-2]"],
        ),
        (
            format!(
                "{dynamodb}/integ.dynamodb-v2.kinesis.js.snapshot/kinesis-stream-precision-timestamp.template.json"
            ),
            "TableCD117FA1[eu-west-1]",
            vec!["TableCD117FA1[eu-west-2]"],
        ),
    ] {
        let input = load(&root, &rel, &sources).unwrap_or_else(|e| panic!("{e}"));
        let tables: Vec<&str> = input.tables.iter().map(|t| t.address.as_str()).collect();
        assert!(
            tables.contains(&with) && without.iter().all(|w| tables.contains(w)),
            "{tables:?}"
        );
        let targets: Vec<_> = input.destinations.iter().map(|d| d.table.clone()).collect();
        assert_eq!(targets, [TableRef::Address(with.to_string())], "{rel}");
    }
    for rel in [
        "aws-cloudformation__aws-cloudformation-templates/CloudFormation/fn-foreach-ddb.yaml",
        "aws-cloudformation__aws-cloudformation-templates/CloudFormation/fn-foreach-ddb.json",
    ] {
        let input = load(&root, rel, &sources).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = input
            .tables
            .iter()
            .map(|t| format!("{}={}", t.address, t.name))
            .collect();
        assert_eq!(
            names,
            [
                "DynamoDBPoints=Points",
                "DynamoDBScore=Score",
                "DynamoDBName=Name",
                "DynamoDBLeaderboard=Leaderboard"
            ],
            "{rel}"
        );
        assert!(
            input.diagnostics.iter().all(|d| !d.message.contains("ForEach")),
            "{rel}"
        );
    }
}

/// `KDSGUARD_CFN_SHOW=<corpus-relative path>` prints what one template loads to (debugging aid).
#[test]
fn show_one_template() {
    let (Some(root), Some(rel)) = (corpus(), std::env::var_os("KDSGUARD_CFN_SHOW")) else {
        return;
    };
    let rel = rel.to_string_lossy().into_owned();
    let sources = SourceMap::new();
    match load(&root, &rel, &sources) {
        Ok(input) => {
            for p in &input.principals {
                log(&format!(
                    "principal {} {:?} name={} arn={} at {}",
                    p.address,
                    p.kind,
                    p.name,
                    p.arn,
                    sources.describe(p.span)
                ));
            }
            for g in &input.groups {
                log(&format!("group {} name={}", g.address, g.name));
            }
            for m in &input.memberships {
                log(&format!("membership {} in {}", m.user, m.group));
            }
            for p in &input.policies {
                log(&format!(
                    "policy {} {:?} name={:?} arn={:?} resource={:?} at {}",
                    p.address,
                    p.kind,
                    p.name.as_ref().map(ToString::to_string),
                    p.arn.as_ref().map(ToString::to_string),
                    p.resource.as_ref().map(ToString::to_string),
                    sources.describe(p.span)
                ));
                log(&format!("  document {:?}", p.document.kind)
                    .chars()
                    .take(600)
                    .collect::<String>());
            }
            for a in &input.attachments {
                log(
                    &format!("attachment {:?} -> {:?} boundary={}", a.policy, a.target, a.boundary)
                        .chars()
                        .take(300)
                        .collect::<String>(),
                );
            }
            for t in &input.tables {
                log(&format!(
                    "table {} name={} arn={} at {}",
                    t.address,
                    t.name,
                    t.arn,
                    sources.describe(t.span)
                ));
            }
            for s in &input.streams {
                log(&format!(
                    "stream {} name={} arn={} kms={:?}",
                    s.address,
                    s.name,
                    s.arn,
                    s.kms_key.as_ref().map(|k| &k.kind)
                ));
            }
            for d in &input.destinations {
                log(&format!(
                    "destination {} {:?} stream={:?} at {}",
                    d.address,
                    d.table,
                    d.stream_arn.kind,
                    sources.describe(d.span)
                ));
            }
            for k in &input.keys {
                log(&format!("key {} arn={} id={}", k.address, k.arn, k.id));
            }
            for s in &input.slrs {
                log(&format!(
                    "slr {} service={} protected={:?}",
                    s.address, s.service, s.protected
                ));
            }
            for d in &input.diagnostics {
                log(&format!("{:?} {}: {}", d.severity, sources.describe(d.span), d.message));
            }
            for e in &input.errors {
                log(&format!(
                    "error {:?}: {}",
                    e.span.map(|s| sources.describe(s)),
                    e.message
                ));
            }
        }
        Err(e) => log(&e),
    }
}
