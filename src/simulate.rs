//! `kdsguard simulate`: the IAM evaluator on its own (spec/simulate.md).
//!
//! One request from flags (policies read from JSON files), or `--batch`: JSON lines in,
//! JSON lines out, in the same order. A malformed line is answered with an `error` and the
//! batch goes on. Both paths build a [`Case`] and call [`evaluate`], the very evaluator the
//! analyzer uses.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::{Map, Value as Json, json};

use crate::iam::condition::Context;
use crate::iam::eval::{Decision, Layer, Layers, Open, Outcome, Policy, Request, decide, key_policy_required};
use crate::iam::policy;
use crate::iam::principal::Caller;
use crate::json;
use crate::model::Diagnostic;
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Template, Value, ValueKind};

/// The caller when a request names none.
pub(crate) const DEFAULT_PRINCIPAL: &str = "arn:aws:iam::123456789012:role/app-role";

/// The file id of batch lines (spans inside one line; the line number is known apart).
const BATCH_FILE: &str = "<batch>";

/// The largest policy file read from the command line.
const MAX_POLICY_FILE: u64 = 10 * 1024 * 1024;

/// Why a simulation could not run at all (a bad request line is an answer, not an error).
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

/// What is wrong with one `--batch` request line: its answer's `error`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Not JSON (`column` 1-based, in characters).
    #[error("column {column}: {message}")]
    Json { column: usize, message: String },
    #[error("a request must be a JSON object")]
    NotAnObject,
    #[error("missing {0:?}")]
    Missing(String),
    #[error("{0:?} must be a string")]
    NotAString(String),
    /// The field (`policies[0]`, `boundary`) is not an object.
    #[error("{0} must be a policy document (an object)")]
    NotADocument(String),
    /// A field of the wrong shape; the message says which and what it must be.
    #[error("{0}")]
    Shape(&'static str),
    #[error("context key {0:?}: values must be strings")]
    ContextValue(String),
    #[error("\"mode\" must be \"discovery\" or \"strict\", not {0:?}")]
    Mode(String),
}

/// One request with everything that applies to it.
#[derive(Clone, Debug, Default)]
pub struct Case {
    pub policies: Vec<Policy>,
    pub boundary: Option<Policy>,
    /// SCP levels, root first.
    pub scps: Vec<Vec<Policy>>,
    pub resource_policy: Option<Policy>,
    pub session_policy: Option<Policy>,
    pub principal: Template,
    pub(crate) resource_account: Option<Template>,
    pub action: String,
    pub resource: Template,
    pub context: Context,
    /// Problems found in the documents (missing `Effect`, unknown operators, ...).
    pub diagnostics: Vec<(String, Diagnostic)>,
}

/// Evaluates one case. Principal-derived condition keys are filled in from the caller.
pub fn evaluate(case: &Case) -> Decision {
    let mut ctx = case.context.clone();
    Caller::parse(&case.principal).fill_context(&mut ctx);
    let layers = Layers {
        identity: case.policies.iter().collect(),
        unknown_identity: Vec::new(),
        boundary: case.boundary.iter().collect(),
        scps: case.scps.iter().map(|level| level.iter().collect()).collect(),
        session: case.session_policy.iter().collect(),
    };
    let resource: Vec<&Policy> = case.resource_policy.iter().collect();
    let mut req = Request::on(&case.action, &case.resource, Some(&case.principal), &ctx);
    req.resource_account = case.resource_account.as_ref();
    decide(&layers, &resource, &req)
}

/// How `simulate` prints its answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Output {
    /// The decision and the statements that made it, for people.
    #[default]
    Human,
    /// One JSON answer.
    Json,
}

/// One `simulate` run, as plain data (the command line maps onto it).
#[derive(Clone, Debug, Default)]
pub struct SimulateRequest {
    /// Identity policy documents (JSON files).
    pub policies: Vec<PathBuf>,
    pub boundary: Option<PathBuf>,
    /// SCP files, one organisation level each, root first.
    pub scps: Vec<PathBuf>,
    pub resource_policy: Option<PathBuf>,
    pub session_policy: Option<PathBuf>,
    pub action: Option<String>,
    pub resource: Option<String>,
    /// The caller's ARN (default: a role in the resource's account).
    pub principal: Option<String>,
    pub(crate) resource_account: Option<String>,
    /// `KEY=VALUE` condition keys known for the request.
    pub context: Vec<String>,
    /// Condition keys known to be absent.
    pub absent: Vec<String>,
    /// Keys not in `context` are absent rather than unknown.
    pub strict: bool,
    pub output: Output,
    /// Read JSON-lines requests from this file (`-`: the given input) instead.
    pub batch: Option<PathBuf>,
}

/// Runs the command; returns the exit code (0 for any decision).
pub fn run(args: &SimulateRequest, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<u8, SimulateError> {
    if let Some(batch) = &args.batch {
        if batch.as_os_str() == "-" {
            run_batch(input, out)?;
        } else {
            let file = std::fs::File::open(batch)
                .map_err(|e| SimulateError::Usage(format!("cannot read {}: {e}", batch.display())))?;
            run_batch(&mut std::io::BufReader::new(file), out)?;
        }
        return Ok(0);
    }
    let sources = SourceMap::new();
    let case = case_from_args(args, &sources)?;
    let decision = evaluate(&case);
    let pos = |s: Span| file_position(&sources, s);
    match args.output {
        Output::Json => {
            let answer = answer_json(&Json::Null, &case, &decision, &pos);
            writeln!(out, "{answer}")?;
        }
        Output::Human => write_human(out, &case, &decision, &pos)?,
    }
    Ok(0)
}

/// Lines answered together (in parallel, written in input order).
const BATCH_CHUNK: usize = 2048;

/// Answers every line of a batch, in order. Blank lines are skipped.
pub fn run_batch(input: &mut dyn BufRead, out: &mut dyn Write) -> std::io::Result<()> {
    let mut number = 0usize;
    let mut chunk: Vec<(usize, String)> = Vec::with_capacity(BATCH_CHUNK);
    loop {
        let mut line = String::new();
        let read = input.read_line(&mut line)?;
        if read > 0 {
            number += 1;
            let text = line.trim_end_matches(['\n', '\r']);
            if !text.trim().is_empty() {
                let len = text.len();
                line.truncate(len);
                chunk.push((number, line));
            }
        }
        if chunk.len() >= BATCH_CHUNK || (read == 0 && !chunk.is_empty()) {
            let answers: Vec<String> = chunk
                .par_iter()
                .map(|(n, text)| answer_line(text, *n).to_string())
                .collect();
            for a in answers {
                out.write_all(a.as_bytes())?;
                out.write_all(b"\n")?;
            }
            chunk.clear();
        }
        if read == 0 {
            break;
        }
    }
    out.flush()
}

/// The JSON answer to one batch line (`number` is its 1-based line number).
pub fn answer_line(line: &str, number: usize) -> Json {
    match parse_line(line) {
        Ok((id, case)) => {
            let decision = evaluate(&case);
            let pos = |s: Span| line_position(line, number, s);
            answer_json(&id, &case, &decision, &pos)
        }
        Err((id, message)) => json!({ "id": id, "error": message.to_string() }),
    }
}

/// Reads one batch line into its `id` and case; on failure, the id (when readable) and
/// what is wrong.
pub fn parse_line(line: &str) -> Result<(Json, Case), (Json, RequestError)> {
    let file = FileId::for_path(BATCH_FILE);
    let v = json::parse(line, file, 0).map_err(|e| {
        let column = line.get(..e.offset).map(|s| s.chars().count()).unwrap_or(0) + 1;
        (
            Json::Null,
            RequestError::Json {
                column,
                message: e.message,
            },
        )
    })?;
    if !matches!(v.kind, ValueKind::Map(_)) {
        return Err((Json::Null, RequestError::NotAnObject));
    }
    let id = v
        .get("id")
        .and_then(|id| line.get(id.span.start as usize..id.span.end as usize))
        .and_then(|raw| serde_json::from_str(raw).ok())
        .unwrap_or(Json::Null);
    match case_from_value(&v) {
        Ok(case) => Ok((id, case)),
        Err(message) => Err((id, message)),
    }
}

fn case_from_value(v: &Value) -> Result<Case, RequestError> {
    let mut case = Case {
        action: required_str(v, "action")?,
        resource: Template::lit(required_str(v, "resource")?),
        principal: Template::lit(optional_str(v, "principal")?.unwrap_or_else(|| DEFAULT_PRINCIPAL.to_string())),
        resource_account: optional_str(v, "resource_account")?.map(Template::lit),
        ..Case::default()
    };
    if let Some(list) = present(v, "policies") {
        let items = list
            .as_list()
            .ok_or(RequestError::Shape("\"policies\" must be a list of policy documents"))?;
        for (i, doc) in items.iter().enumerate() {
            case.policies
                .push(document(&format!("policies[{i}]"), doc, &mut case.diagnostics)?);
        }
    }
    if let Some(doc) = present(v, "boundary") {
        case.boundary = Some(document("boundary", doc, &mut case.diagnostics)?);
    }
    if let Some(levels) = present(v, "scps") {
        let levels = levels
            .as_list()
            .ok_or(RequestError::Shape("\"scps\" must be a list of levels (root first)"))?;
        for (i, level) in levels.iter().enumerate() {
            let docs: Vec<&Value> = match level.as_list() {
                Some(items) => items.iter().collect(),
                None => vec![level],
            };
            let mut out = Vec::new();
            for (j, doc) in docs.into_iter().enumerate() {
                out.push(document(&format!("scps[{i}][{j}]"), doc, &mut case.diagnostics)?);
            }
            case.scps.push(out);
        }
    }
    if let Some(doc) = present(v, "resource_policy") {
        case.resource_policy = Some(document("resource_policy", doc, &mut case.diagnostics)?);
    }
    if let Some(doc) = present(v, "session_policy") {
        case.session_policy = Some(document("session_policy", doc, &mut case.diagnostics)?);
    }
    if let Some(ctx) = present(v, "context") {
        if !matches!(ctx.kind, ValueKind::Map(_)) {
            return Err(RequestError::Shape(
                "\"context\" must be an object of key: value or [values]",
            ));
        }
        for e in ctx.entries() {
            let values: Vec<&Value> = match e.value.as_list() {
                Some(items) => items.iter().collect(),
                None => vec![&e.value],
            };
            let mut out = Vec::new();
            for item in values {
                out.push(
                    item.to_template()
                        .ok_or_else(|| RequestError::ContextValue(e.key.to_string()))?,
                );
            }
            case.context.set(&e.key, out);
        }
    }
    match optional_str(v, "mode")?.as_deref() {
        None | Some("discovery") => {}
        Some("strict") => case.context.strict = true,
        Some(other) => return Err(RequestError::Mode(other.to_string())),
    }
    if let Some(keys) = present(v, "absent_keys") {
        let items = keys
            .as_list()
            .ok_or(RequestError::Shape("\"absent_keys\" must be a list of keys"))?;
        for k in items {
            let key = k
                .as_str()
                .ok_or(RequestError::Shape("\"absent_keys\" must be a list of strings"))?;
            case.context.set_absent(key);
        }
    }
    Ok(case)
}

/// A field that is there and not `null`.
fn present<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !matches!(x.kind, ValueKind::Null))
}

fn required_str(v: &Value, key: &str) -> Result<String, RequestError> {
    optional_str(v, key)?.ok_or_else(|| RequestError::Missing(key.to_string()))
}

fn optional_str(v: &Value, key: &str) -> Result<Option<String>, RequestError> {
    match present(v, key) {
        None => Ok(None),
        Some(x) => x
            .as_str()
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| RequestError::NotAString(key.to_string())),
    }
}

fn document(name: &str, v: &Value, diags: &mut Vec<(String, Diagnostic)>) -> Result<Policy, RequestError> {
    if !matches!(v.kind, ValueKind::Map(_)) {
        return Err(RequestError::NotADocument(name.to_string()));
    }
    let (document, found) = policy::parse(v);
    diags.extend(found.into_iter().map(|d| (name.to_string(), d)));
    // Outside any graph: the simulator's documents have no id (its proofs name them by
    // address only).
    Ok(Policy::new(name, document))
}

fn case_from_args(args: &SimulateRequest, sources: &SourceMap) -> Result<Case, SimulateError> {
    let usage = SimulateError::Usage;
    let action = args
        .action
        .clone()
        .ok_or_else(|| usage("--action is required".into()))?;
    let resource = args
        .resource
        .clone()
        .ok_or_else(|| usage("--resource is required".into()))?;
    let mut case = Case {
        action,
        resource: Template::lit(resource),
        principal: Template::lit(args.principal.clone().unwrap_or_else(|| DEFAULT_PRINCIPAL.to_string())),
        resource_account: args.resource_account.clone().map(Template::lit),
        ..Case::default()
    };
    for path in &args.policies {
        case.policies
            .extend(read_documents(path, sources, &mut case.diagnostics)?);
    }
    if let Some(path) = &args.boundary {
        case.boundary = read_documents(path, sources, &mut case.diagnostics)?.into_iter().next();
    }
    for path in &args.scps {
        case.scps.push(read_documents(path, sources, &mut case.diagnostics)?);
    }
    if let Some(path) = &args.resource_policy {
        case.resource_policy = read_documents(path, sources, &mut case.diagnostics)?.into_iter().next();
    }
    if let Some(path) = &args.session_policy {
        case.session_policy = read_documents(path, sources, &mut case.diagnostics)?.into_iter().next();
    }
    for item in &args.context {
        let (k, v) = item
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| usage(format!("--context takes KEY=VALUE, got {item:?}")))?;
        case.context.push(k, Template::lit(v));
    }
    for key in &args.absent {
        case.context.set_absent(key);
    }
    case.context.strict = args.strict;
    Ok(case)
}

/// Reads a policy file: one document, or a list of documents (an SCP level).
fn read_documents(
    path: &Path,
    sources: &SourceMap,
    diags: &mut Vec<(String, Diagnostic)>,
) -> Result<Vec<Policy>, SimulateError> {
    let display = path.display().to_string();
    let unreadable = |e: String| SimulateError::Usage(format!("cannot read policy file {display}: {e}"));
    let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
    if meta.len() > MAX_POLICY_FILE {
        return Err(unreadable(format!("larger than {MAX_POLICY_FILE} bytes")));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8".to_string()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
    let file = sources.add(&display, Arc::from(text.as_str()));
    let v = json::parse(&text, file, 0).map_err(|e| {
        let at = sources.describe(Span::new(file, e.offset, e.offset));
        SimulateError::Usage(format!("{at}: invalid policy JSON: {}", e.message))
    })?;
    let docs: Vec<&Value> = match v.as_list() {
        Some(items) => items.iter().collect(),
        None => vec![&v],
    };
    let mut out = Vec::new();
    for d in docs {
        if !matches!(d.kind, ValueKind::Map(_)) {
            return Err(SimulateError::Usage(format!(
                "{}: a policy document must be a JSON object",
                sources.describe(d.span)
            )));
        }
        let (document, found) = policy::parse(d);
        diags.extend(found.into_iter().map(|x| (display.clone(), x)));
        out.push(Policy::new(display.as_str(), document));
    }
    Ok(out)
}

/// Where a span is: file (when there is one), line and column.
type Position<'a> = &'a dyn Fn(Span) -> (Option<String>, usize, usize);

fn file_position(sources: &SourceMap, s: Span) -> (Option<String>, usize, usize) {
    match sources.start(s) {
        Some(lc) => (Some(sources.path(s)), lc.line, lc.column),
        None => (None, 0, 0),
    }
}

fn line_position(line: &str, number: usize, s: Span) -> (Option<String>, usize, usize) {
    if s.is_builtin() {
        return (None, 0, 0);
    }
    let column = line.get(..s.start as usize).map(|p| p.chars().count()).unwrap_or(0) + 1;
    (None, number, column)
}

fn located(pos: Position<'_>, s: Span, into: &mut Map<String, Json>) {
    let (file, line, column) = pos(s);
    if let Some(f) = file {
        into.insert("file".into(), Json::String(f));
    }
    into.insert("line".into(), json!(line));
    into.insert("column".into(), json!(column));
}

fn answer_json(id: &Json, case: &Case, d: &Decision, pos: Position<'_>) -> Json {
    let because: Vec<Json> = d
        .because
        .iter()
        .map(|b| {
            let mut m = Map::new();
            m.insert("effect".into(), json!(b.effect.as_str()));
            m.insert("layer".into(), json!(b.layer.as_str()));
            m.insert("policy".into(), json!(&*b.policy));
            if let Some(sid) = &b.sid {
                m.insert("sid".into(), json!(sid));
            }
            if !b.certain {
                m.insert("certain".into(), json!(false));
            }
            located(pos, b.statement, &mut m);
            Json::Object(m)
        })
        .collect();
    let conditions: Vec<Json> = d
        .open
        .iter()
        .map(|o| {
            let mut m = Map::new();
            let span = match o {
                Open::Condition {
                    key,
                    operator,
                    values,
                    span,
                } => {
                    m.insert("key".into(), json!(key));
                    m.insert("operator".into(), json!(operator));
                    m.insert("values".into(), json!(values));
                    *span
                }
                Open::Unknown { expr, span } => {
                    m.insert("unknown".into(), json!(expr));
                    *span
                }
            };
            located(pos, span, &mut m);
            Json::Object(m)
        })
        .collect();
    let mut out = Map::new();
    out.insert("id".into(), id.clone());
    out.insert("decision".into(), json!(d.outcome.as_str()));
    out.insert("because".into(), Json::Array(because));
    out.insert("conditions".into(), Json::Array(conditions));
    if !d.lacking.is_empty() {
        let lacking: Vec<&str> = d.lacking.iter().map(|l| l.as_str()).collect();
        out.insert("no_allow_in".into(), json!(lacking));
        let reasons: Vec<String> = d.lacking.iter().map(|l| layer_phrase(*l, case)).collect();
        out.insert("reasons".into(), json!(reasons));
    }
    if !case.diagnostics.is_empty() {
        let warnings: Vec<Json> = case
            .diagnostics
            .iter()
            .map(|(name, diag)| {
                let (file, line, column) = pos(diag.span);
                let at = match file {
                    Some(f) => format!("{f}:{line}:{column}"),
                    None => format!("{name} (column {column})"),
                };
                json!(format!("{at}: {}", diag.message))
            })
            .collect();
        out.insert("warnings".into(), Json::Array(warnings));
    }
    Json::Object(out)
}

/// Why no Allow reaches the request in layer `l`, in words.
fn layer_phrase(l: Layer, case: &Case) -> String {
    let key = {
        let ctx = Context::new();
        key_policy_required(&Request::on(&case.action, &case.resource, None, &ctx))
    };
    match l {
        Layer::Identity => "no identity policy allows it",
        Layer::Boundary => "the permissions boundary does not allow it",
        Layer::Scp => "an SCP level does not allow it",
        Layer::Resource if key && case.resource_policy.is_none() => {
            "the key policy is missing: KMS allows a request on a key only when its key policy allows it, directly or by delegating to IAM through the account (give it with --resource-policy / \"resource_policy\")"
        }
        Layer::Resource if key => {
            "the key policy neither allows the caller nor delegates to IAM through the account"
        }
        Layer::Resource => "cross-account, and the resource policy does not allow it",
        Layer::Session => "the session policy does not allow it",
    }
    .to_string()
}

fn write_human(out: &mut dyn Write, case: &Case, d: &Decision, pos: Position<'_>) -> std::io::Result<()> {
    writeln!(out, "{}: {} on {}", d.outcome.as_str(), case.action, case.resource)?;
    let at = |s: Span| {
        let (file, line, column) = pos(s);
        format!(
            "{}:{line}:{column}",
            file.unwrap_or_else(|| crate::source::BUILTIN_PATH.to_string())
        )
    };
    if !d.because.is_empty() {
        writeln!(out, "because:")?;
        for b in &d.because {
            let sid = b.sid.as_deref().map(|s| format!(" Sid {s:?}")).unwrap_or_default();
            let maybe = if b.certain {
                ""
            } else {
                " (only if its conditions hold)"
            };
            writeln!(
                out,
                "  {}  {} ({} policy){sid}{maybe}",
                at(b.statement),
                b.effect.as_str(),
                b.layer.as_str()
            )?;
        }
    }
    if d.outcome == Outcome::NotAllowed {
        for l in &d.lacking {
            writeln!(out, "  {}", layer_phrase(*l, case))?;
        }
    }
    if !d.open.is_empty() {
        writeln!(out, "open conditions:")?;
        for o in &d.open {
            match o {
                Open::Condition {
                    key,
                    operator,
                    values,
                    span,
                } => writeln!(out, "  {}  {operator} {key} {values:?}", at(*span))?,
                Open::Unknown { expr, span } => writeln!(out, "  {}  unknown: {expr}", at(*span))?,
            }
        }
    }
    for (_, diag) in &case.diagnostics {
        writeln!(out, "warning: {}: {}", at(diag.span), diag.message)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_request_line_is_answered_with_what_is_wrong() {
        let answer = |line: &str| answer_line(line, 1)["error"].clone();
        assert_eq!(answer("[1]"), json!("a request must be a JSON object"));
        assert_eq!(answer(r#"{"resource":"*"}"#), json!("missing \"action\""));
        assert_eq!(
            answer(r#"{"action":"a:b","resource":"*","mode":"loose"}"#),
            json!("\"mode\" must be \"discovery\" or \"strict\", not \"loose\"")
        );
        assert_eq!(
            answer(r#"{"action":"a:b","resource":"*","policies":[1]}"#),
            json!("policies[0] must be a policy document (an object)")
        );
        assert_eq!(
            answer(r#"{"action":"a:b","resource":"*","context":{"k":[{}]}}"#),
            json!("context key \"k\": values must be strings")
        );
        let unparsed = answer("{\"a\" 1}");
        assert!(
            unparsed.as_str().is_some_and(|e| e.starts_with("column ")),
            "{unparsed}"
        );
    }

    #[test]
    fn a_batch_line_is_answered_with_positions() {
        let line = r#"{"id":7,"policies":[{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}],"action":"dynamodb:DisableKinesisStreamingDestination","resource":"arn:aws:dynamodb:us-east-1:123456789012:table/T"}"#;
        let a = answer_line(line, 3);
        assert_eq!(a["id"], json!(7));
        assert_eq!(a["decision"], json!("allowed"));
        assert_eq!(a["because"][0]["sid"], json!("A"));
        assert_eq!(a["because"][0]["line"], json!(3));
        let col = a["because"][0]["column"].as_u64().unwrap_or(0) as usize;
        assert_eq!(line.get(col - 1..col + 5), Some("{\"Sid\""));
    }

    #[test]
    fn a_kms_request_on_a_key_without_key_policy_says_so() {
        let line = r#"{"policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}],"action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:123456789012:key/k"}"#;
        let a = answer_line(line, 1);
        assert_eq!(a["decision"], json!("not_allowed"));
        assert_eq!(a["no_allow_in"], json!(["resource"]));
        assert!(
            a["reasons"][0]
                .as_str()
                .is_some_and(|r| r.contains("key policy is missing"))
        );
    }

    #[test]
    fn malformed_lines_are_answered_with_an_error() {
        let a = answer_line("{\"id\":\"x\",", 1);
        assert!(a["error"].is_string());
        let a = answer_line(r#"{"id":"x","policies":[]}"#, 1);
        assert_eq!(a["id"], json!("x"));
        assert_eq!(a["error"], json!("missing \"action\""));
        let a = answer_line(r#"{"id":"x","action":"a:b","resource":"*","mode":"lax"}"#, 1);
        assert!(a["error"].as_str().is_some_and(|e| e.contains("mode")));
    }

    #[test]
    fn batches_keep_order_and_skip_blank_lines() {
        let input = "{\"id\":1,\"action\":\"s3:GetObject\",\"resource\":\"*\"}\n\n{\"id\":2}\n";
        let mut out = Vec::new();
        let r = run_batch(&mut input.as_bytes(), &mut out);
        assert!(r.is_ok());
        let text = String::from_utf8(out).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("\"not_allowed\""));
        assert!(lines[1].contains("\"error\""));
    }
}
