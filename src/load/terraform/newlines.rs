//! Line breaks that Terraform ignores but hcl-edit 0.10 rejects, made spaces so the file
//! parses, with every byte offset kept.
//!
//! Terraform's parser ignores newlines inside `( … )`, `[ … ]` and a `for` expression's
//! `{ for … }` (so a conditional may continue on the next line there); hcl-edit treats some
//! of them as the end of the expression. [`join_bracketed_lines`] replaces exactly those
//! newlines (and the text of line comments ending at them, which would otherwise swallow
//! the joined line) by spaces. Newlines in blocks, in plain `{ … }` objects (where they
//! separate attributes), in strings and in heredocs are left alone. The loader tries this
//! only on a file that does not parse as written, so a file that parses is never changed.

/// Where the scan is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    /// A body, a plain object, or a `${ … }` interpolation: newlines are kept.
    Keep,
    /// Inside `(`, `[` or `{ for`: newlines are whitespace.
    Join,
    /// Inside a quoted string (its interpolations push their own context).
    Quoted,
}

/// The text with the newlines Terraform ignores inside brackets replaced by spaces, or
/// `None` when there are none (nothing to retry with). Same length, same byte offsets.
pub(crate) fn join_bracketed_lines(text: &str) -> Option<String> {
    let mut out = text.as_bytes().to_vec();
    let b = text.as_bytes();
    let mut stack = vec![Ctx::Keep];
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        let top = stack.last().copied().unwrap_or(Ctx::Keep);
        let c = b[i];
        if top == Ctx::Quoted {
            match c {
                b'\\' => i += 1,
                b'$' | b'%' if b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{') => i += 2,
                b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                    stack.push(Ctx::Keep);
                    i += 1;
                }
                b'"' => {
                    stack.pop();
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => stack.push(Ctx::Quoted),
            b'#' => i = line_comment(b, &mut out, i, top, &mut changed),
            b'/' if b.get(i + 1) == Some(&b'/') => i = line_comment(b, &mut out, i, top, &mut changed),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = find(b, i + 2, b"*/").map_or(b.len(), |end| end + 1);
            }
            b'<' if b.get(i + 1) == Some(&b'<') => i = heredoc_end(b, i).unwrap_or(i + 1),
            b'(' | b'[' => stack.push(Ctx::Join),
            b'{' => stack.push(if starts_for(b, i + 1) { Ctx::Join } else { Ctx::Keep }),
            // An unbalanced closer is ignored here: hcl-edit reports it.
            b')' | b']' | b'}' if stack.len() > 1 => {
                stack.pop();
            }
            b'\n' if top == Ctx::Join => {
                out[i] = b' ';
                if i > 0 && b[i - 1] == b'\r' {
                    out[i - 1] = b' ';
                }
                changed = true;
            }
            _ => {}
        }
        i += 1;
    }
    if !changed {
        return None;
    }
    // Only ASCII bytes were replaced by ASCII spaces, and whole comments at that: still UTF-8.
    String::from_utf8(out).ok()
}

/// A `#` or `//` comment starting at `start`: inside brackets its text and its newline
/// become spaces (so the next line is not commented out once joined). Returns the index of
/// the comment's last byte.
fn line_comment(b: &[u8], out: &mut [u8], start: usize, top: Ctx, changed: &mut bool) -> usize {
    let end = b[start..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |k| start + k);
    if top != Ctx::Join {
        return end.saturating_sub(1).max(start);
    }
    for byte in &mut out[start..end] {
        *byte = b' ';
    }
    if end < b.len() {
        out[end] = b' ';
    }
    *changed = true;
    end
}

/// Whether the text after a `{` starts with the keyword `for`.
fn starts_for(b: &[u8], from: usize) -> bool {
    let rest = &b[from.min(b.len())..];
    let k = rest.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(rest.len());
    let word = &rest[k..];
    word.starts_with(b"for") && word.get(3).is_some_and(|c| c.is_ascii_whitespace())
}

/// The index of the last byte of the heredoc starting with `<<` at `start` (its closing
/// marker line), or `None` when this `<<` does not open a heredoc.
fn heredoc_end(b: &[u8], start: usize) -> Option<usize> {
    let mut k = start + 2;
    if b.get(k) == Some(&b'-') {
        k += 1;
    }
    let name_start = k;
    while b
        .get(k)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    {
        k += 1;
    }
    let marker = b.get(name_start..k).filter(|m| !m.is_empty())?;
    let mut line = match b[k..].iter().position(|&c| c == b'\n') {
        Some(n) => k + n + 1,
        None => return Some(b.len().saturating_sub(1)),
    };
    while line < b.len() {
        let end = b[line..].iter().position(|&c| c == b'\n').map_or(b.len(), |n| line + n);
        let content = b[line..end].trim_ascii();
        if content == marker {
            return Some(end.saturating_sub(1));
        }
        line = end + 1;
    }
    Some(b.len().saturating_sub(1))
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|k| from + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_in_for_expressions_and_brackets_become_spaces() {
        let text = "locals {\n  a = { for k in x : k => k == \"n\" ? 1 :\n    2\n  }\n  b = [for v in y : (v ? 1 : # why\n    2)]\n}\n";
        let joined = join_bracketed_lines(text).unwrap_or_default();
        assert_eq!(joined.len(), text.len());
        assert_eq!(
            joined,
            "locals {\n  a = { for k in x : k => k == \"n\" ? 1 :     2   }\n  b = [for v in y : (v ? 1 :           2)]\n}\n"
        );
    }

    #[test]
    fn newlines_that_separate_or_belong_to_strings_are_kept() {
        // Block bodies, plain objects (also inside a `for`), heredocs and quoted strings
        // with interpolations and braces in them.
        let text = "resource \"a\" \"b\" {\n  x = {\n    a = 1\n    b = \"}{[(\"\n  }\n  y = <<EOT\n[ (\nEOT\n  z = \"${ {a = 1} }\"\n}\n";
        assert_eq!(join_bracketed_lines(text), None);
        let nested = "x = [for v in y : {\n  a = v\n  b = v\n}]\n";
        assert_eq!(join_bracketed_lines(nested), None);
    }

    #[test]
    fn the_file_that_hcl_edit_rejects_parses_once_joined() {
        let text = "locals {\n  f = { for k in l : k => c == \"none\" ? n[k] :\n    c == \"title\" ? title(n[k]) : lower(n[k])\n  }\n}\n";
        assert!(
            hcl_edit::parser::parse_body(text).is_err(),
            "hcl-edit accepts it now: drop the workaround"
        );
        let joined = join_bracketed_lines(text).unwrap_or_default();
        assert!(hcl_edit::parser::parse_body(&joined).is_ok());
    }
}
