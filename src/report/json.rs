//! The JSON report (`spec/report-json.md`, schema `kdsguard.report/v2`): wire types
//! separate from the model, built from an [`Analysis`].

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::capability::{Access, Covers, Declared, TableSet};
use crate::iam::eval::Open;
use crate::source::{SourceMap, Span};

pub(crate) const SCHEMA: &str = "kdsguard.report/v2";

#[derive(Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub inputs: Vec<InputOut>,
    pub assumptions: Vec<String>,
    pub errors: Vec<ErrorOut>,
    pub principals: Vec<PrincipalOut>,
    pub resources: Vec<ResourceOut>,
    pub access: Vec<AccessOut>,
    /// What principals hold only through other principals (report-json.md, `indirect`).
    pub indirect: Vec<IndirectOut>,
    pub service_linked_roles: Vec<SlrOut>,
    pub findings: Vec<FindingOut>,
    /// Notes and warnings about the templates (unsupported constructs, unresolved values).
    pub notes: Vec<NoteOut>,
    /// Findings hidden by a suppression, with its reason.
    pub suppressed: Vec<SuppressedOut>,
    /// How many findings the baseline hid.
    pub baselined: usize,
    /// PR mode (`check --diff-base`): what the change adds and removes; `findings` then
    /// holds only the findings new at head.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<DeltaOut>,
}

#[derive(Serialize)]
pub struct SuppressedOut {
    pub rule: String,
    pub file: String,
    pub line: usize,
    pub reason: String,
    /// Where the suppression is written.
    pub(crate) suppression_file: String,
    pub(crate) suppression_line: usize,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct InputOut {
    pub path: String,
    pub kind: &'static str,
}

#[derive(Serialize)]
pub struct ErrorOut {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Serialize, Debug)]
pub struct PrincipalOut {
    pub id: String,
    pub address: String,
    pub kind: &'static str,
    pub name: String,
    /// The CDK construct path, when the template is CDK output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub construct: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl PrincipalOut {
    /// A principal as reports show it (external principals have no position).
    pub fn of(a: &Analysis, p: &crate::graph::PrincipalNode) -> PrincipalOut {
        let start = p.span.and_then(|s| a.sources.start(s));
        PrincipalOut {
            id: p.id.clone(),
            address: p.address.clone(),
            kind: p.class.as_str(),
            name: p.name.to_string(),
            construct: a.graph.inputs[p.input].construct_paths.get(&p.address).cloned(),
            file: p.span.map(|s| a.sources.path(s)),
            line: start.map(|lc| lc.line),
            column: start.map(|lc| lc.column),
        }
    }
}

#[derive(Serialize)]
pub struct ResourceOut {
    pub id: String,
    pub address: String,
    pub kind: &'static str,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub construct: Option<String>,
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Serialize)]
pub struct AccessOut {
    pub principal: String,
    pub capability: String,
    /// SLR capabilities: the SLR's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Table capabilities: the set of tables the entry covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<TablesOut>,
    pub decision: &'static str,
    pub missing: Vec<String>,
    pub conditions: Vec<ConditionOut>,
    pub because: Vec<BecauseOut>,
}

impl AccessOut {
    /// What the entry covers, in one line: the SLR's id, or the set of tables
    /// (`every declared table`, `a, b`, `every declared table except a`, `+ undeclared`).
    pub fn covers(&self) -> String {
        if let Some(r) = &self.resource {
            return r.clone();
        }
        let Some(t) = &self.tables else {
            return String::new();
        };
        let declared = match &t.declared {
            DeclaredOut::All(_) => "every declared table".to_string(),
            DeclaredOut::List(ids) if ids.is_empty() => String::new(),
            DeclaredOut::List(ids) => ids.join(", "),
            DeclaredOut::Except { except } => format!("every declared table except {}", except.join(", ")),
        };
        match (declared.is_empty(), t.undeclared) {
            (true, true) => "* (undeclared tables)".to_string(),
            (false, true) => format!("{declared}, and * (undeclared tables)"),
            (_, false) => declared,
        }
    }
}

/// A set of tables (report-json.md, Access in v2).
#[derive(Serialize, Debug, PartialEq)]
pub struct TablesOut {
    pub declared: DeclaredOut,
    pub undeclared: bool,
}

#[derive(Serialize, Debug, PartialEq)]
#[serde(untagged)]
pub enum DeclaredOut {
    /// Always `"all"`.
    All(&'static str),
    List(Vec<String>),
    Except {
        except: Vec<String>,
    },
}

#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum ConditionOut {
    Condition {
        key: String,
        operator: String,
        values: Vec<String>,
        file: String,
        line: usize,
    },
    Unknown {
        unknown: String,
        file: String,
        line: usize,
    },
}

#[derive(Serialize, Debug)]
pub struct BecauseOut {
    pub action: String,
    pub effect: &'static str,
    pub policy: String,
    pub layer: &'static str,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Serialize)]
pub struct SlrOut {
    pub id: String,
    pub address: String,
    pub status: &'static str,
    pub deletable_by: Vec<String>,
    pub reasons: Vec<String>,
    /// Every place an input declares this account's SLR (empty: not declared).
    pub declarations: Vec<SlrDeclarationOut>,
}

#[derive(Serialize)]
pub struct SlrDeclarationOut {
    pub id: String,
    pub address: String,
    pub file: String,
    pub line: usize,
}

#[derive(Serialize)]
pub struct FindingOut {
    pub rule: String,
    pub name: String,
    pub severity: &'static str,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub help: String,
    pub docs: String,
}

#[derive(Serialize)]
pub struct NoteOut {
    pub severity: &'static str,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Builds the report.
pub fn build(a: &Analysis) -> Report {
    let ids = TableIds::new(a);
    Report {
        schema: SCHEMA,
        tool: tool(),
        inputs: inputs_out(a),
        assumptions: a.assumptions.clone(),
        errors: errors(a),
        principals: principals_out(a),
        resources: resources_out(a),
        access: access_entries(a, &ids),
        indirect: indirect(a, &ids),
        service_linked_roles: slrs_out(a),
        findings: findings_out(a),
        notes: notes_out(a),
        suppressed: suppressed_out(a),
        baselined: a.baselined.len(),
        delta: a.delta.as_ref().map(delta_out),
    }
}

fn tool() -> Tool {
    Tool {
        name: "kdsguard",
        version: env!("CARGO_PKG_VERSION"),
    }
}

fn inputs_out(a: &Analysis) -> Vec<InputOut> {
    a.graph
        .inputs
        .iter()
        .map(|i| InputOut {
            path: i.path.clone(),
            kind: i.kind.as_str(),
        })
        .collect()
}

fn principals_out(a: &Analysis) -> Vec<PrincipalOut> {
    let mut principals: Vec<PrincipalOut> = a.graph.principals.par_iter().map(|p| PrincipalOut::of(a, p)).collect();
    principals.par_sort_by(|x, y| x.id.cmp(&y.id));
    principals
}

/// Tables, streams, keys and the SLRs, by id.
fn resources_out(a: &Analysis) -> Vec<ResourceOut> {
    let (g, src) = (&a.graph, &a.sources);
    let mut resources: Vec<ResourceOut> = g
        .tables
        .par_iter()
        .map(|t| ResourceOut {
            id: t.id.clone(),
            address: t.table.address.clone(),
            kind: "table",
            name: t.table.name.to_string(),
            construct: g.inputs[t.input].construct_paths.get(&t.table.address).cloned(),
            arn: t.table.arn.to_string(),
            stream: t
                .stream
                .clone()
                .or_else(|| t.stream_arn.as_ref().map(ToString::to_string)),
            file: Some(src.path(t.table.span)),
            line: src.start(t.table.span).map(|lc| lc.line),
        })
        .collect();
    resources.par_extend(g.streams.par_iter().map(|s| ResourceOut {
        id: s.id.clone(),
        address: s.stream.address.clone(),
        kind: "stream",
        name: s.stream.name.to_string(),
        construct: g.inputs[s.input].construct_paths.get(&s.stream.address).cloned(),
        arn: s.stream.arn.to_string(),
        stream: None,
        file: Some(src.path(s.stream.span)),
        line: src.start(s.stream.span).map(|lc| lc.line),
    }));
    for input in &g.inputs {
        for k in &input.keys {
            resources.push(ResourceOut {
                id: format!("{}#{}", input.path, k.address),
                address: k.address.clone(),
                kind: "key",
                name: k.id.to_string(),
                construct: input.construct_paths.get(&k.address).cloned(),
                arn: k.arn.to_string(),
                stream: None,
                file: Some(src.path(k.span)),
                line: src.start(k.span).map(|lc| lc.line),
            });
        }
    }
    for s in &g.slrs {
        // One resource per account's SLR, placed at its first declaration; the others are
        // listed in `service_linked_roles[].declarations`.
        let first = s.first();
        resources.push(ResourceOut {
            id: s.id.clone(),
            address: s.address.clone(),
            kind: "slr",
            name: crate::graph::SLR_NAME.to_string(),
            construct: first.and_then(|d| g.inputs[d.input].construct_paths.get(&d.address).cloned()),
            arn: crate::graph::slr_arn().to_string(),
            stream: None,
            file: first.map(|d| src.path(d.span)),
            line: first.and_then(|d| src.start(d.span)).map(|lc| lc.line),
        });
    }
    resources.par_sort_by(|x, y| x.id.cmp(&y.id));
    resources
}

/// The reported access entries, sorted by principal, capability, smallest table, SLR.
fn access_entries(a: &Analysis, ids: &TableIds<'_>) -> Vec<AccessOut> {
    let entries = &a.decisions.entries;
    access_order(a, ids)
        .into_iter()
        .map(|i| access_out(a, ids, &entries[i]))
        .collect()
}

/// The reported decision entries (indexes into `a.decisions.entries`) in `access` order.
fn access_order(a: &Analysis, ids: &TableIds<'_>) -> Vec<usize> {
    let entries = &a.decisions.entries;
    let mut keyed: Vec<(AccessOrder<'_>, usize)> = (0..entries.len())
        .into_par_iter()
        .filter(|&i| a.decisions.reported(&entries[i]))
        .map(|i| {
            let x = &entries[i];
            let key = (
                a.graph.principals[x.principal].id.as_str(),
                a.decisions.cap_name(x.cap),
                // Entries covering only undeclared tables last.
                match &x.covers {
                    Covers::Tables(set) => ids.smallest(set).unwrap_or("\u{10FFFF}"),
                    Covers::Slr(_) => "\u{10FFFF}",
                },
                match &x.covers {
                    Covers::Slr(s) => Some(a.graph.slrs[*s].id.as_str()),
                    Covers::Tables(_) => None,
                },
            );
            (key, i)
        })
        .collect();
    // The index breaks ties: the order a stable sort of the entries would give.
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

fn slrs_out(a: &Analysis) -> Vec<SlrOut> {
    a.graph.slrs.iter().enumerate().map(|(k, s)| slr_out(a, k, s)).collect()
}

fn findings_out(a: &Analysis) -> Vec<FindingOut> {
    a.findings.iter().map(|f| finding_out(a, f)).collect()
}

fn finding_out(a: &Analysis, f: &crate::finding::Finding) -> FindingOut {
    let src = &a.sources;
    let (start, end) = src.range(f.span).unwrap_or_default_range();
    FindingOut {
        rule: f.rule.to_string(),
        name: f.name.clone(),
        severity: f.severity.as_str(),
        message: f.message.clone(),
        file: src.path(f.span),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        principal: f.principal.map(|p| a.graph.principals[p].id.clone()),
        resource: f.resource.map(|r| r.id(&a.graph).to_string()),
        help: f.help.clone(),
        docs: f.docs.clone(),
    }
}

fn notes_out(a: &Analysis) -> Vec<NoteOut> {
    let src = &a.sources;
    a.diagnostics
        .iter()
        .map(|d| {
            let lc = src.start(d.span);
            NoteOut {
                severity: d.severity.as_str(),
                file: src.path(d.span),
                line: lc.map(|l| l.line).unwrap_or(1),
                column: lc.map(|l| l.column).unwrap_or(1),
                message: d.message.clone(),
            }
        })
        .collect()
}

fn suppressed_out(a: &Analysis) -> Vec<SuppressedOut> {
    let src = &a.sources;
    a.suppressed
        .iter()
        .map(|s| SuppressedOut {
            rule: s.finding.rule.to_string(),
            file: src.path(s.finding.span),
            line: src.start(s.finding.span).map(|l| l.line).unwrap_or(0),
            reason: s.reason.clone(),
            suppression_file: src.path(s.at),
            suppression_line: src.start(s.at).map(|l| l.line).unwrap_or(0),
        })
        .collect()
}

/// The `delta` object: the base, and the access added and removed in v2's access shape
/// (ids relative to the analysis root), each with the decision it had before.
#[derive(Serialize)]
pub struct DeltaOut {
    pub base: String,
    pub commit: String,
    pub added: Vec<ChangeOut>,
    pub removed: Vec<ChangeOut>,
    /// Head's findings the base already had (not in `findings`).
    pub unchanged_findings: usize,
    pub(crate) base_errors: usize,
}

#[derive(Serialize)]
pub struct ChangeOut {
    pub principal: String,
    pub capability: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<TablesOut>,
    pub decision: &'static str,
    pub was: &'static str,
    /// The change in words.
    pub summary: String,
}

/// Renders [`crate::compare::Delta`] for the report.
pub(crate) fn delta_out(d: &crate::compare::Delta) -> DeltaOut {
    let change = |c: &crate::compare::Change, summary: String| ChangeOut {
        principal: c.principal.clone(),
        capability: c.capability.clone(),
        resource: c.slr.as_ref().map(|s| s.id.clone()),
        tables: c.slr.is_none().then(|| TablesOut {
            declared: DeclaredOut::List(c.tables.iter().map(|t| t.id.clone()).collect()),
            undeclared: c.undeclared,
        }),
        decision: c.after,
        was: c.before,
        summary,
    };
    let words = crate::report::delta_words::added(d);
    let gone = crate::report::delta_words::removed(d);
    DeltaOut {
        base: d.base.clone(),
        commit: d.commit.clone(),
        added: d.added.iter().zip(words).map(|(c, w)| change(c, w)).collect(),
        removed: d.removed.iter().zip(gone).map(|(c, w)| change(c, w)).collect(),
        unchanged_findings: d.unchanged_findings,
        base_errors: d.base_errors,
    }
}

/// The inputs that failed to load, with 1-based positions (line 1, column 1 when the
/// failure has no position, e.g. an unreadable file). Cheap: reports and stderr both use it.
pub fn errors(a: &Analysis) -> Vec<ErrorOut> {
    a.errors
        .iter()
        .map(|e| {
            let lc = e.span.and_then(|s| a.sources.start(s));
            ErrorOut {
                file: e.path.clone(),
                line: lc.map(|l| l.line).unwrap_or(1),
                column: lc.map(|l| l.column).unwrap_or(1),
                message: e.message.clone(),
            }
        })
        .collect()
}

/// Serialises the report compactly, with a trailing newline (pipe it through `jq` to read
/// it: a large estate's report is tens of megabytes, and indentation would double that).
///
/// Written as [`build`] would give it, one section at a time: each section's wire entries
/// are made, written and dropped before the next, so the report's peak memory is the
/// output and its largest section, not every section at once.
pub fn render(a: &Analysis) -> Result<String, serde_json::Error> {
    let mut out: Vec<u8> = Vec::new();
    write(a, &mut out)?;
    // serde_json writes UTF-8 only.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// Writes the report to `out` as it is serialised, one section at a time: the text is
/// never held whole (at organisation scale it is tens of megabytes). Ends with a newline.
pub fn write(a: &Analysis, mut out: impl std::io::Write) -> Result<(), serde_json::Error> {
    let ids = TableIds::new(a);
    let mut w = Fields::new(&mut out)?;
    w.field("schema", SCHEMA)?;
    w.field("tool", &tool())?;
    w.field("inputs", &inputs_out(a))?;
    w.field("assumptions", &a.assumptions)?;
    w.field("errors", &errors(a))?;
    w.field("principals", &principals_out(a))?;
    w.field("resources", &resources_out(a))?;
    let entries = &a.decisions.entries;
    w.entries("access", &access_order(a, &ids), |i| access_out(a, &ids, &entries[i]))?;
    let indirect = &a.reach.indirect;
    w.entries("indirect", &indirect_order(a, &ids), |i| {
        indirect_out(a, &ids, &indirect[i])
    })?;
    w.field("service_linked_roles", &slrs_out(a))?;
    let findings: Vec<usize> = (0..a.findings.len()).collect();
    w.entries("findings", &findings, |i| finding_out(a, &a.findings[i]))?;
    w.field("notes", &notes_out(a))?;
    w.field("suppressed", &suppressed_out(a))?;
    w.field("baselined", &a.baselined.len())?;
    if let Some(d) = &a.delta {
        w.field("delta", &delta_out(d))?;
    }
    out.write_all(b"}\n").map_err(serde_json::Error::io)
}

/// The report object's fields written one after the other, as serde_json's compact
/// serialiser writes a struct (`{"name":value,...}`).
struct Fields<'w, W: std::io::Write> {
    out: &'w mut W,
    first: bool,
}

/// How many entries of a long section are made and serialised at a time (in parallel),
/// then written and dropped: the section's peak memory is one window, not the section.
const WINDOW: usize = 8192;
/// How many entries one task serialises into one buffer.
const CHUNK: usize = 256;

impl<'w, W: std::io::Write> Fields<'w, W> {
    fn new(out: &'w mut W) -> Result<Self, serde_json::Error> {
        out.write_all(b"{").map_err(serde_json::Error::io)?;
        Ok(Fields { out, first: true })
    }

    fn name(&mut self, name: &str) -> Result<(), serde_json::Error> {
        if !self.first {
            self.out.write_all(b",").map_err(serde_json::Error::io)?;
        }
        self.first = false;
        serde_json::to_writer(&mut *self.out, name)?;
        self.out.write_all(b":").map_err(serde_json::Error::io)
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), serde_json::Error> {
        self.name(name)?;
        serde_json::to_writer(&mut *self.out, value)
    }

    /// A section of entries, in `order`, each made by `make`: windows of entries made and
    /// serialised in parallel, then written in order (the same bytes in any thread count).
    fn entries<T: Serialize>(
        &mut self,
        name: &str,
        order: &[usize],
        make: impl Fn(usize) -> T + Sync,
    ) -> Result<(), serde_json::Error> {
        self.entries_by(name, order, make, (WINDOW, CHUNK))
    }

    /// [`Fields::entries`] with the window and chunk sizes given.
    fn entries_by<T: Serialize>(
        &mut self,
        name: &str,
        order: &[usize],
        make: impl Fn(usize) -> T + Sync,
        (window_size, chunk_size): (usize, usize),
    ) -> Result<(), serde_json::Error> {
        self.name(name)?;
        let io = serde_json::Error::io;
        self.out.write_all(b"[").map_err(io)?;
        // Each chunk's buffer starts a quarter above the chunks' average size so far: not
        // grown by doubling, with a copy each time (a few per cent of a large run), and one
        // outsized chunk does not make every later buffer as large. The bytes written do
        // not depend on it.
        let (bytes, chunks) = (AtomicUsize::new(0), AtomicUsize::new(0));
        for (w, window) in order.chunks(window_size).enumerate() {
            let texts: Vec<Result<Vec<u8>, serde_json::Error>> = window
                .par_chunks(chunk_size)
                .map(|chunk| {
                    let average = bytes.load(Relaxed) / chunks.load(Relaxed).max(1);
                    let mut text = Vec::with_capacity(average + average / 4);
                    for (k, &i) in chunk.iter().enumerate() {
                        if k > 0 {
                            text.push(b',');
                        }
                        serde_json::to_writer(&mut text, &make(i))?;
                    }
                    bytes.fetch_add(text.len(), Relaxed);
                    chunks.fetch_add(1, Relaxed);
                    Ok(text)
                })
                .collect();
            for (c, text) in texts.into_iter().enumerate() {
                if w > 0 || c > 0 {
                    self.out.write_all(b",").map_err(io)?;
                }
                self.out.write_all(&text?).map_err(io)?;
            }
        }
        self.out.write_all(b"]").map_err(io)
    }
}

/// How `access` is sorted: principal, capability, smallest table id, SLR id.
type AccessOrder<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);

/// Table ids in id order, for writing sets as sorted id lists.
pub struct TableIds<'a> {
    ids: Vec<&'a str>,
    /// Table indexes in id order.
    by_id: Vec<usize>,
}

impl<'a> TableIds<'a> {
    pub fn new(a: &'a Analysis) -> TableIds<'a> {
        let ids: Vec<&str> = a.graph.tables.iter().map(|t| t.id.as_str()).collect();
        let mut by_id: Vec<usize> = (0..ids.len()).collect();
        by_id.sort_by_key(|&t| ids[t]);
        TableIds { ids, by_id }
    }

    /// The smallest table id the set covers (linear in its id list).
    pub fn smallest(&self, set: &TableSet) -> Option<&'a str> {
        match set.listed() {
            Some(ts) => ts.iter().map(|&t| self.ids[t]).min(),
            None => self.by_id.iter().find(|&&t| set.contains(t)).map(|&t| self.ids[t]),
        }
    }

    fn sorted(&self, tables: &[usize]) -> Vec<String> {
        let mut out: Vec<String> = tables.iter().map(|&t| self.ids[t].to_string()).collect();
        out.sort();
        out
    }

    /// The set as the report writes it.
    pub(crate) fn tables_out(&self, set: &TableSet) -> TablesOut {
        let declared = match set.declared(self.ids.len()) {
            Declared::All => DeclaredOut::All("all"),
            Declared::List(ts) => DeclaredOut::List(self.sorted(&ts)),
            Declared::Except(ts) => DeclaredOut::Except {
                except: self.sorted(&ts),
            },
        };
        TablesOut {
            declared,
            undeclared: set.undeclared,
        }
    }
}

/// What an entry covers on the wire: the SLR's id, or the set of tables.
fn covers_out(a: &Analysis, ids: &TableIds<'_>, covers: &Covers) -> (Option<String>, Option<TablesOut>) {
    match covers {
        Covers::Slr(s) => (Some(a.graph.slrs[*s].id.clone()), None),
        Covers::Tables(set) => (None, Some(ids.tables_out(set))),
    }
}

/// A decision's open conditions and deciding statements, with their positions.
fn proof_out(src: &SourceMap, d: &crate::capability::CapDecision) -> (Vec<ConditionOut>, Vec<BecauseOut>) {
    let conditions = d.open().into_iter().map(|o| condition_out(src, o)).collect();
    let because = d
        .because()
        .into_iter()
        .map(|(action, b)| because_out(src, action, b))
        .collect();
    (conditions, because)
}

fn access_out(a: &Analysis, ids: &TableIds<'_>, x: &Access) -> AccessOut {
    let d = a.decisions.decision(x);
    let (conditions, because) = proof_out(&a.sources, d);
    let (resource, tables) = covers_out(a, ids, &x.covers);
    AccessOut {
        principal: a.graph.principals[x.principal].id.clone(),
        capability: a.decisions.cap_name(x.cap).to_string(),
        resource,
        tables,
        decision: d.outcome.as_str(),
        missing: d.reported_missing(),
        conditions,
        because,
    }
}

/// One deciding statement with its position (the matched action string where known).
pub(crate) fn because_out(src: &SourceMap, action: &str, b: &crate::iam::eval::Because) -> BecauseOut {
    let at = b.action.filter(|s| !s.is_builtin()).unwrap_or(b.statement);
    let (file, lc) = src.place(at);
    BecauseOut {
        action: action.to_string(),
        effect: b.effect.as_str(),
        policy: b.policy.to_string(),
        layer: b.layer.as_str(),
        file,
        line: lc.map(|l| l.line).unwrap_or(0),
        column: lc.map(|l| l.column).unwrap_or(0),
    }
}

/// An `indirect` entry: like an `access` entry, plus the path (`via`).
#[derive(Serialize)]
pub struct IndirectOut {
    pub principal: String,
    pub capability: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<TablesOut>,
    pub decision: &'static str,
    pub via: Vec<ViaOut>,
    pub missing: Vec<String>,
    pub conditions: Vec<ConditionOut>,
    /// The holder's (the last `via` principal's) statements.
    pub because: Vec<BecauseOut>,
}

/// One step of a path: the principal acted as, how, and the statements that make it.
#[derive(Serialize, Debug)]
pub struct ViaOut {
    pub principal: String,
    pub step: &'static str,
    pub decision: &'static str,
    pub because: Vec<BecauseOut>,
    pub conditions: Vec<ConditionOut>,
}

/// The steps of an indirect entry's path, each with its statements and conditions.
pub(crate) fn via_out(a: &Analysis, x: &crate::reach::Indirect) -> Vec<ViaOut> {
    let src = &a.sources;
    x.path
        .iter()
        .map(|&k| {
            let step = &a.reach.steps[k];
            let action = step.actions.join(" + ");
            ViaOut {
                principal: a.graph.principals[a.reach.principal_of(step.to)].id.clone(),
                step: step.kind.as_str(),
                decision: step.decision.outcome.as_str(),
                because: step
                    .decision
                    .because
                    .iter()
                    .map(|b| because_out(src, &action, b))
                    .collect(),
                conditions: step.decision.open.iter().map(|o| condition_out(src, o)).collect(),
            }
        })
        .collect()
}

/// The `indirect` section, sorted as `access` (principal, capability, smallest table, SLR).
pub fn indirect(a: &Analysis, ids: &TableIds<'_>) -> Vec<IndirectOut> {
    indirect_order(a, ids)
        .into_iter()
        .map(|i| indirect_out(a, ids, &a.reach.indirect[i]))
        .collect()
}

/// How `indirect` is sorted: principal, capability, smallest table id ("" for an SLR),
/// SLR id ("" for tables).
type IndirectOrder<'a> = (&'a str, &'a str, &'a str, &'a str);

/// The indirect entries (indexes into `a.reach.indirect`) in `indirect` order.
fn indirect_order(a: &Analysis, ids: &TableIds<'_>) -> Vec<usize> {
    let g = &a.graph;
    let entries = &a.reach.indirect;
    let mut keyed: Vec<(IndirectOrder<'_>, usize)> = (0..entries.len())
        .into_par_iter()
        .map(|i| {
            let x = &entries[i];
            let (smallest, resource) = match &x.covers {
                Covers::Slr(s) => ("", g.slrs[*s].id.as_str()),
                Covers::Tables(set) => (ids.smallest(set).unwrap_or("\u{10FFFF}"), ""),
            };
            let key = (
                g.principals[x.principal].id.as_str(),
                a.decisions.cap_name(x.cap),
                smallest,
                resource,
            );
            (key, i)
        })
        .collect();
    // The index breaks ties: the order a stable sort of the entries would give.
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

fn indirect_out(a: &Analysis, ids: &TableIds<'_>, x: &crate::reach::Indirect) -> IndirectOut {
    let held = a.reach.held(&a.decisions, x);
    let (resource, tables) = covers_out(a, ids, &x.covers);
    let (conditions, because) = proof_out(&a.sources, held);
    IndirectOut {
        principal: a.graph.principals[x.principal].id.clone(),
        capability: a.decisions.cap_name(x.cap).to_string(),
        resource,
        tables,
        decision: x.outcome.as_str(),
        via: via_out(a, x),
        missing: Vec::new(),
        conditions,
        because,
    }
}

/// A condition or unresolved value that left a decision open, with its position.
pub(crate) fn condition_out(src: &SourceMap, o: &Open) -> ConditionOut {
    let line = |s: Span| src.start(s).map(|l| l.line).unwrap_or(0);
    match o {
        Open::Condition {
            key,
            operator,
            values,
            span,
        } => ConditionOut::Condition {
            key: key.clone(),
            operator: operator.clone(),
            values: values.clone(),
            file: src.path(*span),
            line: line(*span),
        },
        Open::Unknown { expr, span } => ConditionOut::Unknown {
            unknown: expr.clone(),
            file: src.path(*span),
            line: line(*span),
        },
    }
}

fn slr_out(a: &Analysis, k: usize, s: &crate::graph::SlrNode) -> SlrOut {
    let st = &a.slrs[k];
    SlrOut {
        id: s.id.clone(),
        address: s.address.clone(),
        status: st.status.as_str(),
        deletable_by: st
            .deletable_by
            .iter()
            .map(|&p| a.graph.principals[p].id.clone())
            .collect(),
        reasons: st.reasons.clone(),
        declarations: s
            .declarations
            .iter()
            .map(|d| SlrDeclarationOut {
                id: d.id.clone(),
                address: d.address.clone(),
                file: a.sources.path(d.span),
                line: a.sources.start(d.span).map_or(1, |lc| lc.line),
            })
            .collect(),
    }
}

trait RangeOrDefault {
    fn unwrap_or_default_range(self) -> (crate::source::LineCol, crate::source::LineCol);
}

impl RangeOrDefault for Option<(crate::source::LineCol, crate::source::LineCol)> {
    fn unwrap_or_default_range(self) -> (crate::source::LineCol, crate::source::LineCol) {
        let one = crate::source::LineCol { line: 1, column: 1 };
        self.unwrap_or((one, one))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A section written in windows and chunks in parallel is the array serde_json writes,
    /// at every boundary: empty, one chunk, a chunk's end, a window's end, past both.
    #[test]
    fn a_section_written_in_parallel_pieces_is_the_whole_array() {
        #[derive(Serialize)]
        struct Entry {
            n: usize,
            text: String,
        }
        let make = |i: usize| Entry {
            n: i * 7,
            text: format!("e\"{i}"),
        };
        for len in [0, 1, 6, 7, 8, 63, 64, 65, 300] {
            // Reversed, so the order given (not the index) decides the output.
            let order: Vec<usize> = (0..len).rev().collect();
            let mut out: Vec<u8> = Vec::new();
            let mut w = Fields::new(&mut out).unwrap_or_else(|e| panic!("{e}"));
            w.field("a", &1).unwrap_or_else(|e| panic!("{e}"));
            w.entries_by("xs", &order, make, (64, 7))
                .unwrap_or_else(|e| panic!("{e}"));
            out.push(b'}');
            let whole: Vec<Entry> = order.iter().map(|&i| make(i)).collect();
            let expected = format!(
                "{{\"a\":1,\"xs\":{}}}",
                serde_json::to_string(&whole).unwrap_or_else(|e| panic!("{e}"))
            );
            assert_eq!(String::from_utf8_lossy(&out), expected, "{len} entries");
        }
    }

    /// `render` writes section by section what serialising [`build`] writes at once.
    #[test]
    fn render_writes_what_build_serialises() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for path in ["testdata/demo", "testdata/reach/two-hop", "testdata/cloudformation"] {
            let config = crate::Config {
                paths: vec![root.join(path)],
                ..crate::Config::default()
            };
            let a = crate::analyze(&config, root).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(!a.graph.principals.is_empty(), "{path}: no principals");
            let whole = serde_json::to_string(&build(&a)).unwrap_or_else(|e| panic!("{e}")) + "\n";
            assert_eq!(render(&a).unwrap_or_else(|e| panic!("{e}")), whole, "{path}");
        }
    }
}
