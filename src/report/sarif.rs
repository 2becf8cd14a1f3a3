//! SARIF 2.1.0 for GitHub code scanning: hand-written wire types (the published crates are
//! stale). Every rule of the catalogue is listed; results carry a URI relative to the
//! analysis root, a region, a partial fingerprint from what the finding is about (never the
//! line or the typed path; unique within the run), related locations for the labelled
//! places and a code flow for the proof (principal → attachment → policy → statement). The
//! invocation says whether every input loaded, with each load error as a notification, so
//! a broken file does not read as fixed; results are capped per rule to stay within
//! GitHub's upload limits.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::Analysis;
use crate::baseline;
use crate::capability::Access;
use crate::finding::Finding;
use crate::model::Severity;
use crate::rules::{RuleMeta, catalogue};
use crate::source::{SourceMap, Span};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    pub automation_details: AutomationDetails,
    pub invocations: Vec<Invocation>,
    pub results: Vec<ResultOut>,
    pub column_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
}

/// GitHub reads `id` (up to its last `/`) as the analysis category.
#[derive(Serialize)]
pub struct AutomationDetails {
    pub id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
pub struct Notification {
    pub level: &'static str,
    pub message: Text,
    pub locations: Vec<Location>,
}

#[derive(Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub information_uri: Option<String>,
    pub rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub short_description: Text,
    pub full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_uri: Option<String>,
    pub help: Help,
    pub default_configuration: Configuration,
    pub properties: RuleProperties,
}

#[derive(Serialize)]
pub struct Text {
    pub text: String,
}

#[derive(Serialize)]
pub struct Help {
    pub text: String,
    pub markdown: String,
}

#[derive(Serialize)]
pub struct Configuration {
    pub level: &'static str,
}

#[derive(Serialize)]
pub struct RuleProperties {
    pub tags: Vec<&'static str>,
    #[serde(rename = "security-severity")]
    pub security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultOut {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: &'static str,
    pub message: Text,
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<RelatedLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code_flows: Vec<CodeFlow>,
    pub partial_fingerprints: Fingerprints,
}

#[derive(Serialize)]
pub struct Fingerprints {
    /// Rule, principal, resource and capability relative to the analysis root (v1 used
    /// the typed paths and was not unique).
    #[serde(rename = "kdsguard/v2")]
    pub key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeFlow {
    pub thread_flows: Vec<ThreadFlow>,
}

#[derive(Serialize)]
pub struct ThreadFlow {
    pub locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
pub struct ThreadFlowLocation {
    pub location: MessageLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageLocation {
    pub physical_location: PhysicalLocation,
    pub message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedLocation {
    pub id: usize,
    pub physical_location: PhysicalLocation,
    pub message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    /// Relative to the analysis root (the repository's top level).
    pub uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// GitHub ranks security findings by this score (0-10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "8.0",
        Severity::Warning => "5.0",
        Severity::Note => "2.0",
    }
}

fn rule(meta: &RuleMeta, docs_url: Option<&str>) -> Rule {
    let help_uri = crate::report::rule_url(docs_url, &meta.id);
    let mut text = meta.help.trim().to_string();
    if help_uri.is_none() {
        text.push_str(&format!(" (`kdsguard explain {}` prints the rule's page.)", meta.id));
    }
    Rule {
        help_uri,
        id: meta.id.clone(),
        name: meta.name.clone(),
        short_description: Text {
            text: meta.summary.trim().to_string(),
        },
        full_description: Text {
            text: meta.rationale.trim().replace('\n', " "),
        },
        help: Help {
            text,
            markdown: crate::rules::render_doc(meta),
        },
        default_configuration: Configuration {
            level: level(meta.severity()),
        },
        properties: RuleProperties {
            tags: vec!["security", "iam", "dynamodb", "kinesis"],
            security_severity: security_severity(meta.severity()),
        },
    }
}

fn physical(a: &Analysis, span: Span) -> PhysicalLocation {
    let src: &SourceMap = &a.sources;
    let one = crate::source::LineCol { line: 1, column: 1 };
    let (start, end) = src.range(span).unwrap_or((one, one));
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: a.identity.path(&src.path(span)),
        },
        region: Some(Region {
            start_line: start.line,
            start_column: start.column,
            end_line: end.line,
            end_column: end
                .column
                .max(if end.line == start.line { start.column + 1 } else { 1 }),
        }),
    }
}

/// Results GitHub keeps per run are limited (25,000, of which it shows 5,000): a run keeps
/// at most this many per rule, in report order, and says in its properties what it left out.
pub const MAX_RESULTS_PER_RULE: usize = 1000;

/// Proof steps GitHub shows per code flow are limited too; a proof rarely has more.
const MAX_FLOW_STEPS: usize = 24;

/// Builds the SARIF log; rule pages link to `docs_url` ([`crate::report::rule_url`]).
pub fn build(a: &Analysis, docs_url: Option<&str>) -> Result<Log, String> {
    let rules = catalogue()?;
    let fingerprints = fingerprints(a);
    let flows = Flows::new(a);
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let mut results = Vec::new();
    for (f, key) in a.findings.iter().zip(fingerprints) {
        let n = per_rule.entry(f.rule.as_str()).or_default();
        *n += 1;
        if *n > MAX_RESULTS_PER_RULE {
            continue;
        }
        results.push(ResultOut {
            rule_index: rules.iter().position(|r| r.id == f.rule).unwrap_or(0),
            rule_id: f.rule.clone(),
            level: level(f.severity),
            message: Text {
                text: format!("{}\n{}", f.message, f.help),
            },
            locations: vec![Location {
                physical_location: physical(a, f.span),
            }],
            related_locations: f
                .labels
                .iter()
                .enumerate()
                .map(|(k, l)| RelatedLocation {
                    id: k + 1,
                    physical_location: physical(a, l.span),
                    message: Text {
                        text: l.message.clone(),
                    },
                })
                .collect(),
            code_flows: flows.of(f),
            partial_fingerprints: Fingerprints { key },
        });
    }
    let truncated: Vec<Value> = per_rule
        .iter()
        .filter(|(_, n)| **n > MAX_RESULTS_PER_RULE)
        .map(|(rule, n)| json!({"rule": rule, "results": n, "shown": MAX_RESULTS_PER_RULE}))
        .collect();
    let properties = (!truncated.is_empty()).then(|| {
        json!({
            "kdsguard/truncated": truncated,
            "kdsguard/note": format!(
                "results are capped at {MAX_RESULTS_PER_RULE} per rule to stay within GitHub's upload limits; the JSON report has them all"
            ),
        })
    });
    Ok(Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "kdsguard",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: information_uri(docs_url),
                    rules: rules.iter().map(|r| rule(r, docs_url)).collect(),
                },
            },
            automation_details: AutomationDetails {
                id: automation_id(&a.identity.scope),
            },
            invocations: vec![invocation(a)],
            results,
            column_kind: "unicodeCodePoints",
            properties,
        }],
    })
}

/// Serialises the log (pretty, trailing newline).
pub fn render(a: &Analysis, docs_url: Option<&str>) -> Result<String, String> {
    let log = build(a, docs_url)?;
    let mut s = serde_json::to_string_pretty(&log).map_err(|e| e.to_string())?;
    s.push('\n');
    Ok(s)
}

/// One fingerprint per finding, in order: the baseline key (stable ids relative to the
/// root), then `#2`, `#3`... for later findings with the same key, so none is shared.
pub fn fingerprints(a: &Analysis) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    a.findings
        .iter()
        .map(|f| {
            let key = baseline::key(f, &a.identity, &a.graph);
            let base = [
                key.rule,
                key.principal.unwrap_or_default(),
                key.resource.unwrap_or_default(),
                key.capability.unwrap_or_default(),
            ]
            .join("|");
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            if *n == 1 { base } else { format!("{base}#{n}") }
        })
        .collect()
}

/// The project's home page: its repository, else the docs site.
fn information_uri(docs_url: Option<&str>) -> Option<String> {
    if !crate::report::REPOSITORY.is_empty() {
        return Some(crate::report::REPOSITORY.to_string());
    }
    docs_url
        .filter(|u| u.starts_with("http") && !u.contains("{id}"))
        .map(str::to_string)
}

/// `kdsguard/` for a run over the root, else `kdsguard/<paths>/` so that runs over
/// different folders of one repository are separate analyses.
fn automation_id(scope: &[String]) -> String {
    let paths: Vec<&str> = scope.iter().map(String::as_str).filter(|p| *p != ".").collect();
    if paths.is_empty() {
        "kdsguard/".to_string()
    } else {
        format!("kdsguard/{}/", paths.join("+"))
    }
}

fn invocation(a: &Analysis) -> Invocation {
    Invocation {
        execution_successful: a.errors.is_empty(),
        tool_execution_notifications: a
            .errors
            .iter()
            .map(|e| Notification {
                level: "error",
                message: Text {
                    text: format!("input failed to load: {}", e.message),
                },
                locations: vec![Location {
                    physical_location: match e.span {
                        Some(span) => physical(a, span),
                        None => PhysicalLocation {
                            artifact_location: ArtifactLocation {
                                uri: a.identity.path(&e.path),
                            },
                            region: None,
                        },
                    },
                }],
            })
            .collect(),
    }
}

/// Looks up the decision a finding is about, for its code flow.
struct Flows<'a> {
    a: &'a Analysis,
    principals: BTreeMap<&'a str, usize>,
    tables: BTreeMap<&'a str, usize>,
}

impl<'a> Flows<'a> {
    fn new(a: &'a Analysis) -> Flows<'a> {
        Flows {
            a,
            principals: a
                .graph
                .principals
                .iter()
                .enumerate()
                .map(|(k, p)| (p.id.as_str(), k))
                .collect(),
            tables: a
                .graph
                .tables
                .iter()
                .enumerate()
                .map(|(k, t)| (t.id.as_str(), k))
                .collect(),
        }
    }

    fn access(&self, f: &Finding) -> Option<(usize, &'a Access)> {
        let p = *self.principals.get(f.principal.as_deref()?)?;
        let dec = &self.a.decisions;
        let cap = dec.cap(f.capability.as_deref()?)?;
        let access = match f.resource.as_deref() {
            Some(r) => match self.tables.get(r) {
                Some(&t) => dec.on_table(p, cap, Some(t)),
                None => {
                    let slr = self.a.graph.slrs.iter().position(|s| s.id == r)?;
                    dec.on_slr(p, cap, slr)
                }
            },
            None => dec.on_table(p, cap, None),
        }?;
        Some((p, access))
    }

    /// Principal → attachment → policy → statement, for each statement that decided.
    fn of(&self, f: &Finding) -> Vec<CodeFlow> {
        let Some((p, access)) = self.access(f) else {
            return Vec::new();
        };
        let g = &self.a.graph;
        let principal = &g.principals[p];
        let mut steps = Vec::new();
        let mut step = |span: Span, text: String| {
            steps.push(ThreadFlowLocation {
                location: MessageLocation {
                    physical_location: physical(self.a, span),
                    message: Text { text },
                },
            });
        };
        if let Some(span) = principal.span {
            step(span, format!("principal `{}`", principal.address));
        }
        for (action, b) in self.a.decisions.decision(access).because() {
            let via = principal
                .via
                .iter()
                .find(|v| *g.policies[v.policy].policy.address == *b.policy);
            if let Some(v) = via {
                step(v.attachment, format!("attaches policy `{}`", b.policy));
                step(g.policies[v.policy].span, format!("policy `{}`", b.policy));
            }
            step(b.statement, format!("{} {action}", b.effect.as_str()));
        }
        steps.retain(|s| s.location.physical_location.region.is_some());
        steps.truncate(MAX_FLOW_STEPS);
        if steps.len() < 2 {
            return Vec::new();
        }
        vec![CodeFlow {
            thread_flows: vec![ThreadFlow { locations: steps }],
        }]
    }
}
