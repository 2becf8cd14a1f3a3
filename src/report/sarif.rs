//! SARIF 2.1.0 for GitHub code scanning: hand-written wire types (the published crates are
//! stale). Every rule of the catalogue is listed; results carry a URI relative to the
//! analysis root, a region, a partial fingerprint from what the finding is about (never the
//! line or the typed path; unique within the run), related locations for the labelled
//! places and a code flow for the proof (principal → attachment → policy → statement). The
//! invocation says whether every input loaded, with each load error as a notification, so
//! a broken file does not read as fixed. Every URI is a valid RFC 3986 reference relative
//! to the analysis root; a bundled AWS managed policy is a logical location, not a file.
//! The log stays within GitHub's documented upload limits ([`Limits`]), errors first;
//! what had to be left out is counted in the run's properties ([`LeftOut`]), never
//! dropped silently.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::analysis::Analysis;
use crate::baseline;
use crate::capability::Access;
use crate::finding::{Finding, Resource};
use crate::model::{RuleId, Severity};
use crate::report::ReportError;
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
    pub(crate) automation_details: AutomationDetails,
    pub invocations: Vec<Invocation>,
    pub results: Vec<ResultOut>,
    pub(crate) column_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
}

/// GitHub reads `id` (up to its last `/`) as the analysis category.
#[derive(Serialize)]
pub(crate) struct AutomationDetails {
    pub id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub(crate) execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
pub(crate) struct Notification {
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
    pub(crate) semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) information_uri: Option<String>,
    pub rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub(crate) short_description: Text,
    pub(crate) full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) help_uri: Option<String>,
    pub help: Help,
    pub(crate) default_configuration: Configuration,
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
pub(crate) struct Configuration {
    pub level: &'static str,
}

#[derive(Serialize)]
pub struct RuleProperties {
    pub tags: Vec<&'static str>,
    #[serde(rename = "security-severity")]
    pub(crate) security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultOut {
    pub(crate) rule_id: String,
    pub(crate) rule_index: usize,
    pub level: &'static str,
    pub message: Text,
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) related_locations: Vec<RelatedLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) code_flows: Vec<CodeFlow>,
    pub(crate) partial_fingerprints: Fingerprints,
}

#[derive(Serialize)]
pub(crate) struct Fingerprints {
    /// Rule, principal, resource and capability relative to the analysis root (v1 used
    /// the typed paths and was not unique).
    #[serde(rename = "kdsguard/v2")]
    pub key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CodeFlow {
    pub(crate) thread_flows: Vec<ThreadFlow>,
}

#[derive(Serialize)]
pub(crate) struct ThreadFlow {
    pub locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
pub(crate) struct ThreadFlowLocation {
    pub location: MessageLocation,
}

/// A place: a file region, or, for what is not a file (a bundled AWS managed policy), a
/// logical location.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) logical_locations: Vec<LogicalLocation>,
    pub message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RelatedLocation {
    pub id: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) logical_locations: Vec<LogicalLocation>,
    pub message: Text,
}

/// What is not a file: kdsguard's bundled data (AWS managed policies).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogicalLocation {
    pub name: String,
    pub(crate) fully_qualified_name: String,
    pub kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhysicalLocation {
    pub(crate) artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactLocation {
    /// Relative to the analysis root (the repository's top level).
    pub uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub(crate) start_line: usize,
    pub(crate) start_column: usize,
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
    let help_uri = crate::report::rule_url(docs_url, meta.id);
    let mut text = meta.help.trim().to_string();
    if help_uri.is_none() {
        text.push_str(&format!(" (`kdsguard explain {}` prints the rule's page.)", meta.id));
    }
    Rule {
        help_uri,
        id: meta.id.to_string(),
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

/// Where a span is: a region of a file relative to the analysis root, or, for a span in
/// kdsguard's bundled data, the logical location `builtin` names (`None`: the bundled data).
fn place(a: &Analysis, span: Span, builtin: Option<&str>) -> (Option<PhysicalLocation>, Vec<LogicalLocation>) {
    if span.is_builtin() {
        let name = builtin.unwrap_or("kdsguard built-in data");
        return (
            None,
            vec![LogicalLocation {
                name: name.rsplit('/').next().unwrap_or(name).to_string(),
                fully_qualified_name: name.to_string(),
                kind: "resource",
            }],
        );
    }
    (Some(physical(a, span)), Vec::new())
}

fn location(a: &Analysis, span: Span, builtin: Option<&str>) -> Location {
    let (physical_location, logical_locations) = place(a, span, builtin);
    Location {
        physical_location,
        logical_locations,
    }
}

fn physical(a: &Analysis, span: Span) -> PhysicalLocation {
    let src: &SourceMap = &a.sources;
    let one = crate::source::LineCol { line: 1, column: 1 };
    let (start, end) = src.range(span).unwrap_or((one, one));
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: uri(&a.identity.path(&src.path(span))),
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

/// A path (relative to the analysis root, `/`-separated; or absolute, outside it) as an
/// RFC 3986 URI reference: each segment percent-encoded, an absolute path as a `file:` URI.
pub fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    let rest = if let Some(drive) = windows_drive(&path) {
        out.push_str("file:///");
        out.push_str(drive);
        &path[drive.len()..]
    } else if path.starts_with('/') {
        out.push_str("file://");
        &path[..]
    } else {
        &path[..]
    };
    // `:` is encoded too: in a relative reference's first segment it would read as a scheme.
    for b in rest.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `C:` of `C:/x`.
fn windows_drive(path: &str) -> Option<&str> {
    let b = path.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/').then(|| &path[..2])
}

/// GitHub code scanning's documented limits on an uploaded SARIF file (see
/// `docs/github-action.md`, "SARIF and GitHub's limits"). Where GitHub accepts more than
/// it keeps, the lower number is used, so that what kdsguard leaves out is counted here
/// rather than dropped unseen by GitHub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Results per run: GitHub rejects more than 25,000 and keeps the top 5,000.
    pub results: usize,
    /// Locations per result (kdsguard's related locations): 1,000 accepted, 100 shown.
    pub locations: usize,
    /// Thread flow locations per result: 10,000 accepted, 1,000 kept.
    pub(crate) thread_flow_locations: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            results: 5_000,
            locations: 100,
            thread_flow_locations: 1_000,
        }
    }
}

/// What a log left out to stay within [`Limits`] (all zero: nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LeftOut {
    /// Findings with no result, by rule (the lowest severities go first).
    pub results: BTreeMap<RuleId, usize>,
    /// Related locations not listed, over all results.
    pub locations: usize,
    /// Code-flow steps not listed, over all results.
    pub(crate) thread_flow_locations: usize,
}

impl LeftOut {
    pub fn is_empty(&self) -> bool {
        self.results.is_empty() && self.locations == 0 && self.thread_flow_locations == 0
    }

    /// Findings with no result.
    pub(crate) fn result_count(&self) -> usize {
        self.results.values().sum()
    }

    /// One sentence for stderr and the run's properties.
    pub(crate) fn sentence(&self, limits: &Limits) -> String {
        let mut parts = Vec::new();
        if !self.results.is_empty() {
            let rules: Vec<String> = self.results.iter().map(|(r, n)| format!("{r} {n}")).collect();
            parts.push(format!(
                "{} finding(s) beyond GitHub's {} results per run ({})",
                self.result_count(),
                limits.results,
                rules.join(", ")
            ));
        }
        if self.locations > 0 {
            parts.push(format!(
                "{} related location(s) beyond {} per result",
                self.locations, limits.locations
            ));
        }
        if self.thread_flow_locations > 0 {
            parts.push(format!(
                "{} code-flow step(s) beyond {} per result",
                self.thread_flow_locations, limits.thread_flow_locations
            ));
        }
        format!(
            "the SARIF log leaves out {} to stay within GitHub's upload limits (errors are kept first); the JSON report has everything",
            parts.join(", ")
        )
    }
}

/// Builds the SARIF log within GitHub's limits; rule pages link to `docs_url`
/// ([`crate::report::rule_url`]).
pub fn build(a: &Analysis, docs_url: Option<&str>) -> Result<Log, ReportError> {
    build_within(a, docs_url, Limits::default()).map(|(log, _)| log)
}

/// [`build`] with explicit limits; also returns what was left out.
pub(crate) fn build_within(
    a: &Analysis,
    docs_url: Option<&str>,
    limits: Limits,
) -> Result<(Log, LeftOut), ReportError> {
    let rules = catalogue().map_err(ReportError::Rules)?;
    let fingerprints = fingerprints(a);
    let flows = Flows::new(a);
    let mut left_out = LeftOut::default();
    // Errors first, then warnings, then notes; report order within a severity.
    let mut order: Vec<usize> = (0..a.findings.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(a.findings[k].severity));
    let mut results = Vec::new();
    for (n, &k) in order.iter().enumerate() {
        let f = &a.findings[k];
        if n >= limits.results {
            *left_out.results.entry(f.rule).or_default() += 1;
            continue;
        }
        left_out.locations += f.labels.len().saturating_sub(limits.locations);
        let mut code_flows = flows.of(f);
        for flow in code_flows.iter_mut().flat_map(|c| c.thread_flows.iter_mut()) {
            if flow.locations.len() > limits.thread_flow_locations {
                left_out.thread_flow_locations += flow.locations.len() - limits.thread_flow_locations;
                flow.locations.truncate(limits.thread_flow_locations);
            }
        }
        results.push(ResultOut {
            rule_index: rules.iter().position(|r| r.id == f.rule).unwrap_or(0),
            rule_id: f.rule.to_string(),
            level: level(f.severity),
            message: Text {
                text: format!("{}\n{}", f.message, f.help),
            },
            locations: vec![location(a, f.span, None)],
            related_locations: f
                .labels
                .iter()
                .take(limits.locations)
                .enumerate()
                .map(|(k, l)| {
                    let (physical_location, logical_locations) = place(a, l.span, None);
                    RelatedLocation {
                        id: k + 1,
                        physical_location,
                        logical_locations,
                        message: Text {
                            text: l.message.clone(),
                        },
                    }
                })
                .collect(),
            code_flows,
            partial_fingerprints: Fingerprints {
                key: fingerprints[k].clone(),
            },
        });
    }
    let properties = (!left_out.is_empty()).then(|| {
        json!({
            "kdsguard/left-out": {
                "results": left_out.result_count(),
                "resultsByRule": left_out.results,
                "relatedLocations": left_out.locations,
                "threadFlowLocations": left_out.thread_flow_locations,
            },
            "kdsguard/note": left_out.sentence(&limits),
        })
    });
    let log = Log {
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
    };
    Ok((log, left_out))
}

/// Serialises the log (pretty, trailing newline) and says what it left out, if anything,
/// in one sentence for stderr.
pub(crate) fn render_noting(a: &Analysis, docs_url: Option<&str>) -> Result<(String, Option<String>), ReportError> {
    let limits = Limits::default();
    let (log, left_out) = build_within(a, docs_url, limits)?;
    let mut s = serde_json::to_string_pretty(&log)?;
    s.push('\n');
    let note = (!left_out.is_empty()).then(|| left_out.sentence(&limits));
    Ok((s, note))
}

/// Serialises the log (pretty, trailing newline); [`render_noting`] also says what was
/// left out.
pub fn render(a: &Analysis, docs_url: Option<&str>) -> Result<String, ReportError> {
    render_noting(a, docs_url).map(|(s, _)| s)
}

/// One fingerprint per finding, in order: the baseline key (stable ids relative to the
/// root), then `#2`, `#3`... for later findings with the same key, so none is shared.
pub fn fingerprints(a: &Analysis) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    a.findings
        .iter()
        .map(|f| {
            let key = baseline::key(f, &a.identity, &a.graph, &a.decisions);
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

/// Where the tool's home is when `Cargo.toml` names no repository: its crate page.
const CRATE_PAGE: &str = "https://crates.io/crates/kdsguard";

/// The project's home page: its repository, else the docs site, else its crate page
/// (code scanning and the SARIF validator expect one).
fn information_uri(docs_url: Option<&str>) -> Option<String> {
    if !crate::report::REPOSITORY.is_empty() {
        return Some(crate::report::REPOSITORY.to_string());
    }
    let docs = docs_url
        .filter(|u| u.starts_with("http") && !u.contains("{id}"))
        .map(str::to_string);
    Some(docs.unwrap_or_else(|| CRATE_PAGE.to_string()))
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
                locations: vec![match e.span {
                    Some(span) => location(a, span, None),
                    None => Location {
                        physical_location: Some(PhysicalLocation {
                            artifact_location: ArtifactLocation {
                                uri: uri(&a.identity.path(&e.path)),
                            },
                            region: None,
                        }),
                        logical_locations: Vec::new(),
                    },
                }],
            })
            .collect(),
    }
}

/// Looks up the decision a finding is about, for its code flow.
struct Flows<'a> {
    a: &'a Analysis,
}

impl<'a> Flows<'a> {
    fn new(a: &'a Analysis) -> Flows<'a> {
        Flows { a }
    }

    fn access(&self, f: &Finding) -> Option<(usize, &'a Access)> {
        let p = f.principal?;
        let dec = &self.a.decisions;
        let cap = f.capability?;
        let access = match f.resource {
            Some(Resource::Table(t)) => dec.on_table(p, cap, Some(t)),
            Some(Resource::Slr(s)) => dec.on_slr(p, cap, s),
            // A finding about the undeclared tables, or about one declaration of the role,
            // has no code flow (as before findings kept typed resources).
            Some(Resource::Undeclared | Resource::SlrDeclaration { .. }) => None,
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
        let mut step = |span: Span, text: String, builtin: Option<&str>| {
            let (physical_location, logical_locations) = place(self.a, span, builtin);
            steps.push(ThreadFlowLocation {
                location: MessageLocation {
                    physical_location,
                    logical_locations,
                    message: Text { text },
                },
            });
        };
        if let Some(span) = principal.span {
            step(span, format!("principal `{}`", principal.address), None);
        }
        for (action, b) in self.a.decisions.decision(access).because() {
            let via = principal
                .via
                .iter()
                .find(|v| b.policy_id.map(crate::iam::PolicyId::index) == Some(v.policy));
            if let Some(v) = via {
                step(v.attachment, format!("attaches policy `{}`", b.policy), None);
                step(
                    g.policies[v.policy].span,
                    format!("policy `{}`", b.policy),
                    Some(&b.policy),
                );
            }
            step(b.statement, format!("{} {action}", b.effect.as_str()), Some(&b.policy));
        }
        if steps.len() < 2 {
            return Vec::new();
        }
        vec![CodeFlow {
            thread_flows: vec![ThreadFlow { locations: steps }],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_rfc_3986_references() {
        assert_eq!(uri("infra/main.tf"), "infra/main.tf");
        assert_eq!(uri("my infra/ä.tf"), "my%20infra/%C3%A4.tf");
        assert_eq!(uri("a#b?c%d.tf"), "a%23b%3Fc%25d.tf");
        assert_eq!(uri("c:x/main.tf"), "c%3Ax/main.tf");
        assert_eq!(uri("/outside/main.tf"), "file:///outside/main.tf");
        assert_eq!(uri("C:\\work\\main.tf"), "file:///C:/work/main.tf");
    }
}
