//! Where each byte of an evaluated string came from in the source, so that a JSON policy
//! written as a heredoc or quoted string can point its statements at the `.tf` text.
//!
//! A [`TextBuilder`] builds a [`Template`] and, beside it, a [`TextMap`] from offsets in
//! the template's literal text (symbols count as zero bytes) to source spans: exact for
//! literal runs whose raw source could be aligned, the enclosing expression otherwise.

use crate::source::{FileId, Span};
use crate::value::{Symbol, Template};

/// Maps offsets in a template's literal text to source spans.
#[derive(Clone, Debug, Default)]
pub(crate) struct TextMap {
    runs: Vec<Run>,
}

#[derive(Clone, Debug)]
struct Run {
    at: usize,
    len: usize,
    src: RunSrc,
}

#[derive(Clone, Debug)]
enum RunSrc {
    /// One source offset per literal byte.
    Bytes(FileId, Vec<u32>),
    /// Every byte maps to this span.
    Whole(Span),
}

impl TextMap {
    /// The source span of the literal byte at `offset`.
    pub fn origin(&self, offset: usize) -> Option<Span> {
        let i = self.runs.partition_point(|r| r.at + r.len <= offset);
        let run = self.runs.get(i)?;
        if offset < run.at {
            return None;
        }
        match &run.src {
            RunSrc::Bytes(file, offsets) => {
                let o = *offsets.get(offset - run.at)? as usize;
                Some(Span::new(*file, o, o + 1))
            }
            RunSrc::Whole(span) => Some(*span),
        }
    }
}

/// Builds a template and its text map together.
#[derive(Default, Debug)]
pub(crate) struct TextBuilder {
    pub template: Template,
    pub map: TextMap,
    len: usize,
}

impl TextBuilder {
    pub fn new() -> TextBuilder {
        TextBuilder::default()
    }

    /// Literal text with one source offset per byte.
    pub(crate) fn push_exact(&mut self, text: &str, file: FileId, offsets: Vec<u32>) {
        if text.is_empty() {
            return;
        }
        let src = if offsets.len() == text.len() {
            RunSrc::Bytes(file, offsets)
        } else {
            let start = offsets.first().copied().unwrap_or(0) as usize;
            let end = offsets.last().copied().unwrap_or(0) as usize + 1;
            RunSrc::Whole(Span::new(file, start, end))
        };
        self.push_run(text, src);
    }

    /// Literal text that comes from `span` as a whole.
    pub(crate) fn push_whole(&mut self, text: &str, span: Span) {
        if text.is_empty() {
            return;
        }
        self.push_run(text, RunSrc::Whole(span));
    }

    /// A template from elsewhere (a reference, a function result): its literal parts map
    /// to `span`.
    pub(crate) fn push_template(&mut self, t: &Template, span: Span) {
        for part in t.parts() {
            match part {
                crate::value::Part::Lit(s) => self.push_whole(s, span),
                crate::value::Part::Sym(sym) => self.push_sym(sym.clone()),
            }
        }
    }

    pub fn push_sym(&mut self, sym: Symbol) {
        self.template.push_sym(sym);
    }

    fn push_run(&mut self, text: &str, src: RunSrc) {
        self.template.push_str(text);
        self.map.runs.push(Run {
            at: self.len,
            len: text.len(),
            src,
        });
        self.len += text.len();
    }
}

/// Whether the raw text of a quoted HCL string holds an interpolation or a directive
/// (`${` or `%{` not escaped as `$${` / `%%{`): a template rather than a literal.
pub(crate) fn has_template_markers(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let (c, next) = (bytes[i], bytes[i + 1]);
        if (c == b'$' || c == b'%') && next == c && bytes.get(i + 2) == Some(&b'{') {
            i += 3;
        } else if (c == b'$' || c == b'%') && next == b'{' {
            return true;
        } else {
            i += 1;
        }
    }
    false
}

/// Source offsets for each byte of `cooked`, the decoded text of a quoted HCL string
/// whose raw text (without quotes) starts at `base`. `None` when the two do not align.
pub(crate) fn quoted_offsets(raw: &str, cooked: &str, base: usize) -> Option<Vec<u32>> {
    let mut out = Vec::with_capacity(cooked.len());
    let mut decoded = String::with_capacity(cooked.len());
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let at = base + i;
        let (ch, width) = if bytes.get(i) == Some(&b'\\') {
            match bytes.get(i + 1) {
                Some(b'n') => ('\n', 2),
                Some(b'r') => ('\r', 2),
                Some(b't') => ('\t', 2),
                Some(b'\\') => ('\\', 2),
                Some(b'"') => ('"', 2),
                Some(b'u') => (hex_char(raw.get(i + 2..i + 6)?)?, 6),
                Some(b'U') => (hex_char(raw.get(i + 2..i + 10)?)?, 10),
                _ => return None,
            }
        } else if raw.get(i..i + 3) == Some("$${") || raw.get(i..i + 3) == Some("%%{") {
            // `$${` is a literal `${`: one source position for the `$`, one for the `{`.
            let c = if bytes.get(i) == Some(&b'$') { '$' } else { '%' };
            push_char(&mut decoded, &mut out, c, at);
            push_char(&mut decoded, &mut out, '{', at + 2);
            i += 3;
            continue;
        } else {
            let c = raw.get(i..)?.chars().next()?;
            (c, c.len_utf8())
        };
        push_char(&mut decoded, &mut out, ch, at);
        i += width;
    }
    (decoded == cooked).then_some(out)
}

fn push_char(decoded: &mut String, out: &mut Vec<u32>, c: char, at: usize) {
    decoded.push(c);
    for k in 0..c.len_utf8() {
        out.push(u32::try_from(at + k).unwrap_or(u32::MAX));
    }
}

fn hex_char(hex: &str) -> Option<char> {
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}

/// Source offsets for each byte of `cooked`, a heredoc literal whose raw text starts at
/// `base`. The cooked text is the raw text with indentation, `\r` and the doubled `$`/`%`
/// of escapes removed, so it is a subsequence of the raw text: align greedily.
pub(crate) fn heredoc_offsets(raw: &str, cooked: &str, base: usize) -> Option<Vec<u32>> {
    let raw = raw.as_bytes();
    let mut out = Vec::with_capacity(cooked.len());
    let mut j = 0;
    for &b in cooked.as_bytes() {
        while raw.get(j).is_some_and(|&r| r != b) {
            j += 1;
        }
        raw.get(j)?;
        out.push(u32::try_from(base + j).unwrap_or(u32::MAX));
        j += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_markers_are_told_from_their_escapes() {
        assert!(has_template_markers("a${b}"));
        assert!(has_template_markers("%{ if x }y%{ endif }"));
        assert!(has_template_markers("$${a}${b}"));
        assert!(!has_template_markers("$${a} and %%{b}"));
        assert!(!has_template_markers("cost: $5 {x} 100%"));
        assert!(!has_template_markers(""));
    }

    #[test]
    fn quoted_escapes_map_to_their_source() {
        let raw = r#"{\"a\":\n1}"#;
        let cooked = "{\"a\":\n1}";
        let offs = quoted_offsets(raw, cooked, 10).unwrap_or_default();
        assert_eq!(offs.len(), cooked.len());
        assert_eq!(offs[0], 10);
        assert_eq!(offs[1], 11); // the escape `\"`
        assert_eq!(offs[5], 17); // the newline from `\n`
    }

    #[test]
    fn heredoc_alignment_skips_indentation() {
        let raw = "    {\n      \"a\": 1\n    }\n";
        let cooked = "{\n  \"a\": 1\n}\n";
        let offs = heredoc_offsets(raw, cooked, 0).unwrap_or_default();
        assert_eq!(offs.len(), cooked.len());
        assert_eq!(offs[0], 4);
        let quote = cooked.find('"').unwrap_or(0);
        assert_eq!(&raw[offs[quote] as usize..offs[quote] as usize + 3], "\"a\"");
    }

    #[test]
    fn text_map_finds_runs() {
        let f = FileId::for_path("x");
        let mut b = TextBuilder::new();
        b.push_exact("ab", f, vec![5, 6]);
        b.push_sym(Symbol::Account);
        b.push_whole("cd", Span::new(f, 20, 30));
        assert_eq!(b.map.origin(1), Some(Span::new(f, 6, 7)));
        assert_eq!(b.map.origin(3), Some(Span::new(f, 20, 30)));
        assert_eq!(b.map.origin(4), None);
    }
}
