//! Source files, byte spans, and the map from spans to 1-based lines and columns.
//!
//! Every value loaded from a template carries a [`Span`]. A [`FileId`] is derived from
//! the file's display path (not from load order), so spans are identical whatever the
//! order or the thread count in which files were loaded.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

/// Identifies one loaded source file: a stable hash of its display path.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct FileId(u64);

impl FileId {
    /// The id that a file with this display path gets.
    pub fn for_path(path: &str) -> FileId {
        // FNV-1a: stable across runs, platforms and compiler versions.
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = OFFSET;
        for byte in path.as_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(PRIME);
        }
        FileId(hash)
    }

    /// A file id for values that come from no file (built-in catalogues, the command line).
    pub const BUILTIN: FileId = FileId(0);
}

/// A byte range `start..end` in one file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: saturate(start),
            end: saturate(end.max(start)),
        }
    }

    /// A span that points at nothing in particular (built-in values).
    pub const fn builtin() -> Span {
        Span {
            file: FileId::BUILTIN,
            start: 0,
            end: 0,
        }
    }

    pub(crate) fn is_builtin(&self) -> bool {
        self.file == FileId::BUILTIN
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The smallest span covering both (same file assumed; otherwise `self`).
    pub fn join(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// A sub-span at `offset..offset+len` bytes from this span's start.
    pub fn sub(self, offset: usize, len: usize) -> Span {
        let start = self.start as usize + offset;
        Span::new(self.file, start, start + len)
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A value with the span it was read from.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// One source file: its display path (relative to the working directory, `/`
/// separators), its text, and where its lines start.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    pub path: String,
    pub text: Arc<str>,
    line_starts: Vec<u32>,
}

/// A 1-based line and column (column counted in characters).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl SourceFile {
    pub fn new(path: String, text: Arc<str>) -> SourceFile {
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(saturate(i + 1));
            }
        }
        SourceFile {
            id: FileId::for_path(&path),
            path,
            text,
            line_starts,
        }
    }

    /// The 1-based line and column of a byte offset (clamped to the text).
    pub(crate) fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(saturate(self.text.len()));
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0) as usize;
        let mut end = offset as usize;
        while end > line_start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text.get(line_start..end).map(|s| s.chars().count()).unwrap_or(0) + 1;
        LineCol {
            line: line_index + 1,
            column,
        }
    }

    /// The 0-based line of a byte offset (clamped to the text) and the offset where that
    /// line starts: a binary search, not a scan.
    pub(crate) fn line_and_start(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(saturate(self.text.len()));
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        (
            line_index,
            self.line_starts.get(line_index).copied().unwrap_or(0) as usize,
        )
    }

    /// The text a span covers, if it lies inside this file.
    pub fn slice(&self, span: Span) -> Option<&str> {
        self.text.get(span.start as usize..span.end as usize)
    }
}

/// The display path of built-in values (no file).
pub(crate) const BUILTIN_PATH: &str = "<builtin>";

/// Texts that stand in for files on disk (an editor's unsaved buffers, `kdsguard lsp`), by
/// absolute path (a relative path asked about is made absolute against the process's working
/// folder, so callers that use an overlay pass absolute paths, as the language server does).
pub(crate) type Overlay = Arc<BTreeMap<std::path::PathBuf, Arc<str>>>;

/// All files of a run, shared by loaders (which add) and reports (which read).
#[derive(Default, Debug)]
pub struct SourceMap {
    files: RwLock<BTreeMap<FileId, Arc<SourceFile>>>,
    /// The run's limits, which the loaders read files under.
    limits: crate::limits::Limits,
    /// Texts read instead of the files at these paths.
    overlay: Overlay,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// A map whose loaders read files under `limits`.
    pub fn with_limits(limits: crate::limits::Limits) -> SourceMap {
        SourceMap {
            files: RwLock::default(),
            limits,
            overlay: Overlay::default(),
        }
    }

    /// This map, reading `overlay`'s texts instead of the files at its paths.
    pub(crate) fn with_overlay(mut self, overlay: Overlay) -> SourceMap {
        self.overlay = overlay;
        self
    }

    /// The text that stands in for the file at `path`, if the overlay has one.
    pub fn unsaved(&self, path: &std::path::Path) -> Option<Arc<str>> {
        if self.overlay.is_empty() {
            return None;
        }
        let absolute = std::path::absolute(path).ok()?;
        self.overlay.get(&absolute).cloned()
    }

    /// The run's limits.
    pub fn limits(&self) -> &crate::limits::Limits {
        &self.limits
    }

    /// Registers a file and returns its id. Adding the same path twice keeps the first text.
    pub fn add(&self, path: &str, text: Arc<str>) -> FileId {
        let file = SourceFile::new(path.to_string(), text);
        let id = file.id;
        let mut files = self.files.write().unwrap_or_else(PoisonError::into_inner);
        files.entry(id).or_insert_with(|| Arc::new(file));
        id
    }

    pub fn get(&self, id: FileId) -> Option<Arc<SourceFile>> {
        let files = self.files.read().unwrap_or_else(PoisonError::into_inner);
        files.get(&id).cloned()
    }

    /// Every registered file, ordered by path.
    pub fn files(&self) -> Vec<Arc<SourceFile>> {
        let files = self.files.read().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<_> = files.values().cloned().collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The display path of a span's file (`<builtin>` for built-in values).
    pub fn path(&self, span: Span) -> String {
        self.get(span.file)
            .map(|f| f.path.clone())
            .unwrap_or_else(|| BUILTIN_PATH.to_string())
    }

    /// [`SourceMap::path`] and [`SourceMap::start`] of a span, its file looked up once.
    pub fn place(&self, span: Span) -> (String, Option<LineCol>) {
        match self.get(span.file) {
            Some(f) => (f.path.clone(), Some(f.line_col(span.start))),
            None => (BUILTIN_PATH.to_string(), None),
        }
    }

    /// Start and end line/column of a span.
    pub fn range(&self, span: Span) -> Option<(LineCol, LineCol)> {
        let file = self.get(span.file)?;
        Some((file.line_col(span.start), file.line_col(span.end)))
    }

    /// Start line/column of a span.
    pub fn start(&self, span: Span) -> Option<LineCol> {
        // Only the start: reports ask for it once per statement they cite, and the end
        // would cost as much again.
        Some(self.get(span.file)?.line_col(span.start))
    }

    /// The part of a span on its first line (for "declared here" labels on long blocks).
    pub(crate) fn first_line(&self, span: Span) -> Span {
        let Some(file) = self.get(span.file) else {
            return span;
        };
        let text = file.slice(span).unwrap_or_default();
        match text.find('\n') {
            Some(n) => Span::new(
                span.file,
                span.start as usize,
                span.start as usize + text[..n].trim_end().len(),
            ),
            None => span,
        }
    }

    /// A `file:line:column` string for messages.
    pub fn describe(&self, span: Span) -> String {
        match self.place(span) {
            (path, Some(lc)) => format!("{path}:{lc}"),
            (_, None) => BUILTIN_PATH.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_are_stable_and_distinct() {
        assert_eq!(FileId::for_path("a/b.tf"), FileId::for_path("a/b.tf"));
        assert_ne!(FileId::for_path("a/b.tf"), FileId::for_path("a/c.tf"));
        assert_ne!(FileId::for_path("x"), FileId::BUILTIN);
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("t".into(), Arc::from("ab\nçd\r\nxyz"));
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'ç' is two bytes: the 'd' after it is the second character.
        assert_eq!(f.line_col(5), LineCol { line: 2, column: 2 });
        assert_eq!(f.line_col(8), LineCol { line: 3, column: 1 });
        assert_eq!(f.line_col(999), LineCol { line: 3, column: 4 });
    }

    #[test]
    fn source_map_describes_spans() {
        let map = SourceMap::new();
        let id = map.add("dir/main.tf", Arc::from("x = 1\ny = 2\n"));
        let span = Span::new(id, 6, 11);
        assert_eq!(map.describe(span), "dir/main.tf:2:1");
        assert_eq!(
            map.get(id).and_then(|f| f.slice(span).map(str::to_string)),
            Some("y = 2".into())
        );
    }
}
