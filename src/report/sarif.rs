//! SARIF 2.1.0 for GitHub code scanning: hand-written wire types (the published crates are
//! stale). Every rule of the catalogue is listed; results carry a relative URI, a region,
//! a stable partial fingerprint (the baseline key, not the line) and related locations for
//! the labelled places.

use serde::Serialize;

use crate::Analysis;
use crate::baseline;
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
    pub results: Vec<ResultOut>,
    pub column_kind: &'static str,
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
    pub rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub short_description: Text,
    pub full_description: Text,
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
    pub partial_fingerprints: Fingerprints,
}

#[derive(Serialize)]
pub struct Fingerprints {
    #[serde(rename = "kdsguard/v1")]
    pub key: String,
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
    pub region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    /// Relative to the folder kdsguard ran in (the repository root in CI).
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

fn rule(meta: &RuleMeta) -> Rule {
    Rule {
        id: meta.id.clone(),
        name: meta.name.clone(),
        short_description: Text {
            text: meta.summary.trim().to_string(),
        },
        full_description: Text {
            text: meta.rationale.trim().replace('\n', " "),
        },
        help: Help {
            text: meta.help.trim().to_string(),
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

fn physical(src: &SourceMap, span: Span) -> PhysicalLocation {
    let one = crate::source::LineCol { line: 1, column: 1 };
    let (start, end) = src.range(span).unwrap_or((one, one));
    PhysicalLocation {
        artifact_location: ArtifactLocation { uri: src.path(span) },
        region: Region {
            start_line: start.line,
            start_column: start.column,
            end_line: end.line,
            end_column: end
                .column
                .max(if end.line == start.line { start.column + 1 } else { 1 }),
        },
    }
}

/// Builds the SARIF log.
pub fn build(a: &Analysis) -> Result<Log, String> {
    let rules = catalogue()?;
    let results = a
        .findings
        .iter()
        .map(|f| {
            let key = baseline::key(f, &a.graph);
            ResultOut {
                rule_index: rules.iter().position(|r| r.id == f.rule).unwrap_or(0),
                rule_id: f.rule.clone(),
                level: level(f.severity),
                message: Text {
                    text: format!("{}\n{}", f.message, f.help),
                },
                locations: vec![Location {
                    physical_location: physical(&a.sources, f.span),
                }],
                related_locations: f
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(k, l)| RelatedLocation {
                        id: k + 1,
                        physical_location: physical(&a.sources, l.span),
                        message: Text {
                            text: l.message.clone(),
                        },
                    })
                    .collect(),
                partial_fingerprints: Fingerprints {
                    key: [
                        key.rule,
                        key.principal.unwrap_or_default(),
                        key.resource.unwrap_or_default(),
                        key.capability.unwrap_or_default(),
                    ]
                    .join("|"),
                },
            }
        })
        .collect();
    Ok(Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "kdsguard",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: rules.iter().map(rule).collect(),
                },
            },
            results,
            column_kind: "unicodeCodePoints",
        }],
    })
}

/// Serialises the log (pretty, trailing newline).
pub fn render(a: &Analysis) -> Result<String, String> {
    let log = build(a)?;
    let mut s = serde_json::to_string_pretty(&log).map_err(|e| e.to_string())?;
    s.push('\n');
    Ok(s)
}
