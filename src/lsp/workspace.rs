//! One workspace folder analysed as `check` would, and what the editor is shown of it:
//! diagnostics per file, positions in the protocol's terms (0-based lines, UTF-16 columns).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Position,
    Range, Url,
};
use rayon::prelude::*;

use crate::analysis::Analysis;
use crate::capability::Covers;
use crate::error::InternalError;
use crate::finding::Resource;
use crate::model::Severity;
use crate::settings::Config;
use crate::source::{FileId, SourceFile, Span};

/// The diagnostics' `source`.
pub(crate) const SOURCE: &str = "kdsguard";

/// A folder's analysis, with its files by absolute path.
pub struct Folder {
    pub root: PathBuf,
    pub analysis: Analysis,
    files: BTreeMap<PathBuf, FileId>,
    /// The config's `docs-url` (rule pages).
    docs_url: Option<String>,
}

/// What one run over the workspace gives: per folder its analysis, or why there is none.
pub type Runs = Vec<(PathBuf, Result<Arc<Folder>, FolderError>)>;

/// Why a workspace folder has no analysis: its config file, or the run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FolderError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Analysis(#[from] InternalError),
    /// The analysis panicked (a bug; the server keeps serving).
    #[error("internal error: the analysis panicked (please report it)")]
    Panicked,
}

/// Analyses `root` with the config `check` would find there, reading `overlay`'s texts in
/// place of the files on disk.
pub fn analyze(
    root: &Path,
    overlay: crate::source::Overlay,
    env: &[(String, String)],
    cancel: Arc<std::sync::atomic::AtomicBool>,
    parsed: Arc<crate::load::terraform::ParseCache>,
) -> Result<Folder, FolderError> {
    let paths = vec![root.to_path_buf()];
    let mut config = match crate::config::find(None, &paths, root) {
        Some(file) => crate::config::load(&file, root)?,
        None => Config::default(),
    };
    config.paths = paths;
    config.load.tf_env_vars = env.to_vec();
    config.load.overlay = overlay;
    config.cancel = Some(cancel);
    config.load.parse_cache = Some(parsed);
    let analysis = crate::pipeline::analyze(&config, root)?;

    let files = analysis
        .sources
        .files()
        .iter()
        .map(|f| (absolute(root, &f.path), f.id))
        .collect();
    Ok(Folder {
        root: root.to_path_buf(),
        analysis,
        files,
        docs_url: config.docs_url,
    })
}

/// A display path of the analysis (relative to the folder, or absolute) as an absolute path.
fn absolute(root: &Path, display: &str) -> PathBuf {
    let joined = root.join(display);
    std::path::absolute(&joined).unwrap_or(joined)
}

impl Folder {
    /// The loaded file at `path`.
    pub fn file(&self, path: &Path) -> Option<Arc<SourceFile>> {
        self.analysis.sources.get(*self.files.get(path)?)
    }

    /// A span as a location in the editor.
    pub fn location(&self, span: Span) -> Option<Location> {
        let file = self.analysis.sources.get(span.file)?;
        let uri = Url::from_file_path(absolute(&self.root, &file.path)).ok()?;
        Some(Location {
            uri,
            range: range(&file, span),
        })
    }

    /// Every diagnostic of the folder, by absolute file path: findings, load errors, and
    /// the notes about what could not be modelled.
    pub fn diagnostics(&self) -> BTreeMap<PathBuf, Vec<Diagnostic>> {
        let a = &self.analysis;
        let mut out: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
        // Findings are tens of thousands in a large estate: converted in parallel, in order.
        let findings: Vec<(PathBuf, Diagnostic)> = a.findings.par_iter().filter_map(|f| self.finding(f)).collect();
        for (path, d) in findings {
            out.entry(path).or_default().push(d);
        }
        for e in &a.errors {
            let placed = e.span.and_then(|s| self.placed(s));
            let (path, range) = match placed {
                Some((path, file)) => (path, range(&file, e.span.unwrap_or_default())),
                None => (absolute(&self.root, &e.path), Range::default()),
            };
            out.entry(path).or_default().push(Diagnostic {
                range,
                severity: Some(DiagnosticSeverity::ERROR),
                code: Some(NumberOrString::String("load-error".to_string())),
                source: Some(SOURCE.to_string()),
                message: e.message.clone(),
                ..Diagnostic::default()
            });
        }
        for d in &a.diagnostics {
            let Some((path, file)) = self.placed(d.span) else {
                continue;
            };
            out.entry(path).or_default().push(Diagnostic {
                range: range(&file, d.span),
                severity: Some(match d.severity {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                    Severity::Note => DiagnosticSeverity::INFORMATION,
                }),
                code: Some(NumberOrString::String("note".to_string())),
                source: Some(SOURCE.to_string()),
                message: d.message.clone(),
                ..Diagnostic::default()
            });
        }
        out
    }

    /// A finding as a diagnostic, with the file it belongs to.
    fn finding(&self, f: &crate::finding::Finding) -> Option<(PathBuf, Diagnostic)> {
        let (path, file) = self.placed(f.span)?;
        // The finding's labelled places: the principal's declaration among them.
        let mut related: Vec<DiagnosticRelatedInformation> = f
            .labels
            .iter()
            .filter_map(|l| {
                Some(DiagnosticRelatedInformation {
                    location: self.location(l.span)?,
                    message: l.message.clone(),
                })
            })
            .collect();
        related.extend(self.path_places(f));
        let page = crate::report::rule_url(self.docs_url.as_deref(), f.rule);
        let d = Diagnostic {
            range: range(&file, f.span),
            severity: Some(severity(f.severity)),
            code: Some(NumberOrString::String(f.rule.to_string())),
            code_description: page
                .and_then(|u| Url::parse(&u).ok())
                .map(|href| CodeDescription { href }),
            source: Some(SOURCE.to_string()),
            message: format!("{} ({})", f.message, f.label),
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data: None,
        };
        Some((path, d))
    }

    /// For a finding about access held through other principals: each step of the path
    /// (the statement that allows it, and whom it reaches). Empty when the principal holds
    /// the capability on the finding's target directly.
    fn path_places(&self, f: &crate::finding::Finding) -> Vec<DiagnosticRelatedInformation> {
        let a = &self.analysis;
        let found = (|| {
            let p = f.principal?;
            let cap = f.capability?;
            a.reach.of(p).iter().find(|x| {
                x.cap == cap
                    && match (&x.covers, f.resource) {
                        (Covers::Tables(set), Some(Resource::Table(t))) => set.contains(t),
                        (Covers::Slr(s), Some(r)) => r.slr() == Some(*s),
                        (_, None) => true,
                        _ => false,
                    }
            })
        })();
        let Some(x) = found else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (n, &k) in x.path.iter().enumerate() {
            let Some(step) = a.reach.steps.get(k) else { continue };
            let to = a
                .reach
                .nodes
                .get(step.to)
                .map(|node| &a.graph.principals[node.principal]);
            let Some(b) = step.decision.because.iter().find(|b| !b.statement.is_builtin()) else {
                continue;
            };
            let Some(location) = self.location(b.statement) else {
                continue;
            };
            out.push(DiagnosticRelatedInformation {
                location,
                message: format!(
                    "step {}: {} ({}) to {}",
                    n + 1,
                    step.kind.as_str(),
                    step.actions.join(", "),
                    to.map(|p| format!("{} `{}`", p.class.as_str(), p.address))
                        .unwrap_or_default()
                ),
            });
        }
        out
    }

    fn placed(&self, span: Span) -> Option<(PathBuf, Arc<SourceFile>)> {
        if span.is_builtin() {
            return None;
        }
        let file = self.analysis.sources.get(span.file)?;
        Some((absolute(&self.root, &file.path), file))
    }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Note => DiagnosticSeverity::INFORMATION,
    }
}

/// A span of a file as a protocol range (the lines found by binary search: a run converts
/// tens of thousands of findings).
pub fn range(file: &SourceFile, span: Span) -> Range {
    let at = |offset: u32| {
        let (line, start) = file.line_and_start(offset);
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: utf16_units(&file.text, start, offset as usize),
        }
    };
    Range {
        start: at(span.start),
        end: at(span.end),
    }
}

/// UTF-16 code units of `text[start..offset]` (the offset moved back to a character start).
fn utf16_units(text: &str, start: usize, offset: usize) -> u32 {
    let mut end = offset.min(text.len());
    while end > start && !text.is_char_boundary(end) {
        end -= 1;
    }
    let units: usize = text
        .get(start..end)
        .unwrap_or_default()
        .chars()
        .map(char::len_utf16)
        .sum();
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// A protocol position as a byte offset of `text` (clamped to the line's end and the text).
pub(crate) fn offset(text: &str, at: Position) -> usize {
    let mut start = 0;
    for _ in 0..at.line {
        match text[start..].find('\n') {
            Some(k) => start += k + 1,
            None => return text.len(),
        }
    }
    let line = &text[start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let mut units = 0usize;
    for (k, c) in line.char_indices() {
        if units >= at.character as usize {
            return start + k;
        }
        units += c.len_utf16();
    }
    start + line.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte offset as a protocol position by scanning the text: the reference [`range`] is
    /// checked against.
    fn position(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |k| k + 1);
        let line = before.bytes().filter(|&b| b == b'\n').count();
        let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(character).unwrap_or(u32::MAX),
        }
    }

    #[test]
    fn a_cancelled_run_ends_with_the_cancelled_error() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo");
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let run = analyze(&root, crate::source::Overlay::default(), &[], cancel, Arc::default());
        assert!(
            matches!(&run, Err(FolderError::Analysis(e)) if e.is_cancelled()),
            "{:?}",
            run.err()
        );
        let run = analyze(
            &root,
            crate::source::Overlay::default(),
            &[],
            Arc::default(),
            Arc::default(),
        );
        assert!(run.is_ok_and(|f| !f.analysis.findings.is_empty()));
    }

    /// A second run parses only the Terraform file whose text changed, and gives what a run
    /// without the cache gives.
    #[test]
    fn unchanged_terraform_files_are_not_parsed_again() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo");
        let cache = Arc::new(crate::load::terraform::ParseCache::default());
        let run = |overlay: crate::source::Overlay, cache: Option<&Arc<crate::load::terraform::ParseCache>>| {
            let cache = cache.cloned().unwrap_or_default();
            let f = analyze(&root, overlay, &[], Arc::default(), cache).unwrap_or_else(|e| panic!("{e}"));
            crate::report::json::render(&f.analysis).unwrap_or_else(|e| panic!("{e}"))
        };
        let first = run(crate::source::Overlay::default(), Some(&cache));
        assert_eq!(cache.counts(), (2, 0), "the demo's two .tf files parsed");
        assert_eq!(run(crate::source::Overlay::default(), Some(&cache)), first);
        assert_eq!(cache.counts(), (2, 2), "then both taken from the cache");
        // One file changed in the editor: parsed again, the other reused.
        let iam = root.join("terraform/iam.tf");
        let text = std::fs::read_to_string(&iam).unwrap_or_default();
        let edited = text.replacen("\"iam:*\"", "\"iam:GetRole\"", 1);
        assert_ne!(edited, text);
        let overlay: crate::source::Overlay = Arc::new([(iam, Arc::from(edited))].into_iter().collect());
        let with_cache = run(Arc::clone(&overlay), Some(&cache));
        assert_eq!(cache.counts(), (3, 3));
        assert_eq!(with_cache, run(overlay, None), "the cache changes no answer");
        assert_ne!(with_cache, first);
    }

    #[test]
    fn positions_count_utf16_units_and_round_trip() {
        let text = "a\nxé😀b\n";
        // `b` is at byte 2 + 1 + 2 + 4 = 9; in UTF-16: x(1) é(1) 😀(2) → column 4.
        assert_eq!(position(text, 9), Position { line: 1, character: 4 });
        assert_eq!(offset(text, Position { line: 1, character: 4 }), 9);
        assert_eq!(position(text, 0), Position { line: 0, character: 0 });
        // Past the end of a line or of the text: clamped.
        assert_eq!(offset(text, Position { line: 0, character: 99 }), 1);
        assert_eq!(offset(text, Position { line: 9, character: 0 }), text.len());
        // Inside a character: its start.
        assert_eq!(position(text, 4), Position { line: 1, character: 1 });
        // Ranges of a source file agree with `position`.
        let file = SourceFile::new("f".to_string(), std::sync::Arc::from(text));
        for (a, b) in [(0, 1), (2, 9), (4, 10), (9, 12)] {
            let r = range(&file, Span::new(file.id, a, b));
            assert_eq!((r.start, r.end), (position(text, a), position(text, b)), "{a}..{b}");
        }
    }
}
