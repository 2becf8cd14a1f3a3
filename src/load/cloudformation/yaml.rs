//! YAML text into spanned [`Value`]s, built from `saphyr-parser` events.
//!
//! Mapping entries stay a list (duplicates kept, last wins on lookup, a warning for each
//! duplicate). Scalars are typed with CloudFormation's rules: plain `true`/`false` are
//! booleans, plain numbers keep their text, everything else (dates included) is a
//! string. Short-form intrinsic tags (`!Ref X`, `!GetAtt A.B`) become the same map the
//! long form (`{"Ref": "X"}`) would, spanning the tag and its node. Nesting depth and
//! alias expansion are bounded so that hostile input cannot exhaust stack or memory.

use std::borrow::Cow;
use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};

use crate::limits::{Limit, Limits};
use crate::model::Diagnostic;
use crate::source::{FileId, Span};
use crate::value::{Entry, Template, Value, ValueKind};

/// The hardest nesting bound of the tree walks here, whatever the configured limit.
pub(crate) const MAX_DEPTH: usize = crate::limits::MAX_NESTING_DEPTH;

/// A YAML failure: the byte offset where it was found and what was wrong.
#[derive(Clone, PartialEq, Debug)]
pub(crate) struct YamlError {
    pub(crate) offset: usize,
    pub message: String,
}

/// Most indentation repairs tried on one file (each costs a parse).
const MAX_REPAIRS: usize = 64;

/// Parses the first document of `text`, like [`parse_strict`], but accepts flow
/// collections and multi-line quoted scalars whose continuation lines are indented less
/// than YAML 1.2 requires (PyYAML and CloudFormation accept them, and real templates rely
/// on it): such lines are re-indented in a copy and spans are mapped back to `text`.
#[cfg(test)]
pub fn parse(text: &str, file: FileId, diagnostics: &mut Vec<Diagnostic>) -> Result<Value, YamlError> {
    parse_limited(text, file, diagnostics, &Limits::default())
}

/// [`parse`] under `limits` (nesting depth, alias expansion).
pub(crate) fn parse_limited(
    text: &str,
    file: FileId,
    diagnostics: &mut Vec<Diagnostic>,
    limits: &Limits,
) -> Result<Value, YamlError> {
    let before = diagnostics.len();
    let first = match parse_strict_limited(text, file, diagnostics, limits) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    if !first.message.starts_with("invalid indentation") {
        return Err(first);
    }
    let mut repaired = Repaired {
        text: text.to_string(),
        inserts: Vec::new(),
    };
    let mut error = first.clone();
    for _ in 0..MAX_REPAIRS {
        if !repaired.repair(&error) {
            return Err(first);
        }
        let mut diags = Vec::new();
        match parse_strict_limited(&repaired.text, file, &mut diags, limits) {
            Ok(mut v) => {
                repaired.remap_value(&mut v, 0);
                diagnostics.truncate(before);
                for mut d in diags {
                    d.span = repaired.remap(d.span);
                    diagnostics.push(d);
                }
                let line = 1 + text
                    .get(..repaired.inserts.first().map(|i| i.0).unwrap_or(0))
                    .map(|t| t.matches('\n').count())
                    .unwrap_or(0);
                let at = repaired.inserts.first().map(|i| i.0).unwrap_or(0);
                diagnostics.push(Diagnostic::note(
                    format!("line {line} is indented less than YAML 1.2 allows inside a flow collection or quoted string; read leniently, as CloudFormation does"),
                    Span::new(file, at, at),
                ));
                return Ok(v);
            }
            Err(e) if e.message.starts_with("invalid indentation") => error = e,
            Err(_) => return Err(first),
        }
    }
    Err(first)
}

/// A copy of the text with spaces inserted; `inserts` are (original offset, count), sorted.
struct Repaired {
    text: String,
    inserts: Vec<(usize, usize)>,
}

impl Repaired {
    /// Re-indents what an indentation error points at; `false` when it cannot.
    fn repair(&mut self, error: &YamlError) -> bool {
        let at = error.offset.min(self.text.len());
        let bytes = self.text.as_bytes();
        let line_start = |i: usize| bytes[..i].iter().rposition(|b| *b == b'\n').map(|p| p + 1).unwrap_or(0);
        let indent = |i: usize| bytes[i..].iter().take_while(|b| **b == b' ').count();
        let start = line_start(at);
        let mut wanted: Vec<(usize, usize)> = Vec::new();
        if error.message.contains("quoted scalar") {
            // The error points at the opening quote: every continuation line up to the
            // closing quote must be indented more than the line the string starts on.
            let Some(&quote) = bytes.get(at) else { return false };
            if quote != b'\'' && quote != b'"' {
                return false;
            }
            let need = indent(start) + 1;
            let mut i = at + 1;
            while let Some(&b) = bytes.get(i) {
                if b == quote {
                    if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                if b == b'\\' && quote == b'"' {
                    i += 2;
                    continue;
                }
                if b == b'\n' {
                    let next = i + 1;
                    let have = indent(next);
                    let blank = matches!(bytes.get(next + have), None | Some(b'\n' | b'\r'));
                    if !blank && have < need {
                        wanted.push((next, need - have));
                    }
                }
                i += 1;
            }
        } else {
            // A flow collection line: indent it like the line before it, or one more.
            let have = indent(start);
            let mut prev = start.saturating_sub(1);
            let mut prev_indent = 0;
            while prev > 0 {
                let ps = line_start(prev);
                let pi = indent(ps);
                let blank = matches!(bytes.get(ps + pi), None | Some(b'\n' | b'\r'));
                if !blank {
                    prev_indent = pi;
                    break;
                }
                prev = ps.saturating_sub(1);
            }
            wanted.push((start, prev_indent.max(have + 1) - have));
        }
        if wanted.is_empty() {
            return false;
        }
        for (offset, count) in wanted.into_iter().rev() {
            let original = self.original(offset);
            self.text.insert_str(offset, &" ".repeat(count));
            let pos = self.inserts.partition_point(|(o, _)| *o < original);
            match self.inserts.get_mut(pos) {
                Some((o, c)) if *o == original => *c += count,
                _ => self.inserts.insert(pos, (original, count)),
            }
        }
        true
    }

    /// The original offset of an offset in the repaired text.
    fn original(&self, repaired: usize) -> usize {
        let mut shift = 0;
        for &(o, n) in &self.inserts {
            let here = o + shift;
            if repaired < here {
                break;
            }
            if repaired < here + n {
                return o;
            }
            shift += n;
        }
        repaired - shift
    }

    fn remap(&self, span: Span) -> Span {
        Span::new(
            span.file,
            self.original(span.start as usize),
            self.original(span.end as usize),
        )
    }

    fn remap_value(&self, v: &mut Value, depth: usize) {
        v.span = self.remap(v.span);
        if depth > MAX_DEPTH * 2 {
            return;
        }
        match &mut v.kind {
            ValueKind::List(items) => items.iter_mut().for_each(|i| self.remap_value(i, depth + 1)),
            ValueKind::Map(entries) => {
                for e in entries {
                    e.key_span = self.remap(e.key_span);
                    self.remap_value(&mut e.value, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// Parses the first document of `text`. Notes (later documents, unknown tags) and
/// warnings (duplicate keys) go to `diagnostics`. An empty stream gives `Value::Null`.
#[cfg(test)]
pub(crate) fn parse_strict(text: &str, file: FileId, diagnostics: &mut Vec<Diagnostic>) -> Result<Value, YamlError> {
    parse_strict_limited(text, file, diagnostics, &Limits::default())
}

fn parse_strict_limited(
    text: &str,
    file: FileId,
    diagnostics: &mut Vec<Diagnostic>,
    limits: &Limits,
) -> Result<Value, YamlError> {
    // The parser has internal assertions; a bug there must not take the run down.
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        build_tree(text, file, diagnostics, limits)
    }));
    let node = match built {
        Ok(result) => result?,
        Err(_) => {
            return Err(YamlError {
                offset: 0,
                message: "the YAML parser failed on this file".to_string(),
            });
        }
    };
    let Some(node) = node else {
        return Ok(Value::new(ValueKind::Null, Span::new(file, 0, 0)));
    };
    let mut converter = Converter {
        text,
        file,
        diagnostics,
    };
    converter.convert(&node)
}

/// One node of the spanned tree. `size` counts nodes (for the alias budget) and
/// `height` counts nesting levels (for the depth bound).
#[derive(Clone, Debug)]
struct Node {
    kind: NodeKind,
    tag: Option<Tag>,
    span: Span,
    size: usize,
    height: usize,
}

#[derive(Clone, Debug)]
enum NodeKind {
    Scalar(String, ScalarStyle),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// An open collection while events are read.
struct Frame {
    is_map: bool,
    flow: bool,
    items: Vec<Node>,
    tag: Option<Tag>,
    anchor: usize,
    start: usize,
}

/// Turns saphyr's character indices into byte offsets with a cursor that moves forward
/// (events arrive almost in text order) and restarts from the beginning when it must go back.
struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Offsets<'a> {
        Offsets {
            text,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        if char_index < self.chars {
            self.chars = 0;
            self.bytes = 0;
        }
        let rest = self.text.get(self.bytes..).unwrap_or_default();
        for c in rest.chars() {
            if self.chars >= char_index {
                break;
            }
            self.chars += 1;
            self.bytes += c.len_utf8();
        }
        self.bytes
    }
}

fn error(offset: usize, message: impl Into<String>) -> YamlError {
    YamlError {
        offset,
        message: message.into(),
    }
}

fn scan_error(e: &ScanError, offsets: &mut Offsets<'_>) -> YamlError {
    error(offsets.byte(e.marker().index()), e.info().to_string())
}

/// Reads events into a tree, without recursion.
fn build_tree(
    text: &str,
    file: FileId,
    diagnostics: &mut Vec<Diagnostic>,
    limits: &Limits,
) -> Result<Option<Node>, YamlError> {
    let mut budget = Budget {
        max_depth: limits.nesting_depth.min(MAX_DEPTH),
        max_nodes: limits.yaml_alias_nodes,
        expanded: 0,
    };
    let mut parser = Parser::new_from_str(text);
    let mut offsets = Offsets::new(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: BTreeMap<usize, Node> = BTreeMap::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;

    while let Some(event) = parser.next_event() {
        let (event, span) = match event {
            Ok(ev) => ev,
            Err(e) => {
                if documents > 1 {
                    // A broken later document does not spoil the first one.
                    break;
                }
                return Err(scan_error(&e, &mut offsets));
            }
        };
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index());
        let is_map = matches!(event, Event::MappingStart(..));
        let completed = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => None,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    diagnostics.push(Diagnostic::note(
                        "this file holds more than one YAML document; only the first is read",
                        Span::new(file, start, end.max(start + 3).min(text.len())),
                    ));
                    break;
                }
                None
            }
            Event::Alias(id) => {
                let Some(node) = anchors.get(&id) else {
                    return Err(error(start, "alias to an unknown anchor"));
                };
                budget.spend(node.size, start)?;
                if stack.len() + node.height > budget.max_depth {
                    return Err(budget.too_deep(start));
                }
                Some((node.clone(), 0))
            }
            Event::Scalar(value, style, anchor, tag) => {
                budget.count(1);
                let end = trim_end(text, start, end);
                Some((
                    Node {
                        kind: NodeKind::Scalar(value.into_owned(), style),
                        tag: tag.map(Cow::into_owned),
                        span: Span::new(file, start, end),
                        size: 1,
                        height: 0,
                    },
                    anchor,
                ))
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if stack.len() >= budget.max_depth {
                    return Err(budget.too_deep(start));
                }
                budget.count(1);
                let content = content_start(text, start);
                let flow = matches!(text.as_bytes().get(content), Some(b'{' | b'['));
                stack.push(Frame {
                    is_map,
                    flow,
                    items: Vec::new(),
                    tag: tag.map(Cow::into_owned),
                    anchor,
                    start,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    return Err(error(start, "unbalanced collection end"));
                };
                Some(close_frame(frame, file, end))
            }
        };
        if let Some((node, anchor)) = completed {
            if anchor > 0 {
                budget.spend(node.size, start)?;
                anchors.insert(anchor, node.clone());
            }
            match stack.last_mut() {
                Some(frame) => frame.items.push(node),
                None => {
                    if root.is_none() {
                        root = Some(node);
                    }
                }
            }
        }
    }
    Ok(root)
}

/// What a tree may cost as it is built: how deep collections nest, and how many nodes it
/// makes (aliases count every node they repeat).
struct Budget {
    max_depth: usize,
    max_nodes: usize,
    /// Nodes made so far.
    expanded: usize,
}

impl Budget {
    /// Counts `n` nodes the text spells out, unchecked: the text bounds them, and the next
    /// alias or anchor checks the total ([`Budget::spend`]).
    fn count(&mut self, n: usize) {
        self.expanded = self.expanded.saturating_add(n);
    }

    /// Counts `n` more nodes that an alias or anchor makes; an error at `at` past the
    /// limit.
    fn spend(&mut self, n: usize, at: usize) -> Result<(), YamlError> {
        self.count(n);
        if self.expanded > self.max_nodes {
            return Err(error(
                at,
                Limit::YamlAliasNodes.exceeded(
                    &format!("alias expansion makes more than {} nodes", self.max_nodes),
                    self.max_nodes,
                ),
            ));
        }
        Ok(())
    }

    /// The error for collections nesting deeper than the limit, at `at`.
    fn too_deep(&self, at: usize) -> YamlError {
        error(
            at,
            Limit::NestingDepth.exceeded(
                &format!("collections nest deeper than {} levels", self.max_depth),
                self.max_depth,
            ),
        )
    }
}

/// The node of a collection whose end event arrived at byte `end`, and its anchor: a
/// mapping pairs its items (a key without a value gets an empty plain scalar), and the
/// node spans from its start to its last item (to `end` for a flow collection, which
/// includes its closing bracket).
fn close_frame(frame: Frame, file: FileId, end: usize) -> (Node, usize) {
    let mut stop = frame.items.last().map(|n| n.span.end as usize).unwrap_or(frame.start);
    if frame.flow {
        stop = stop.max(end);
    }
    let size = 1 + frame.items.iter().map(|n| n.size).sum::<usize>();
    let height = 1 + frame.items.iter().map(|n| n.height).max().unwrap_or(0);
    let kind = if frame.is_map {
        let mut pairs = Vec::with_capacity(frame.items.len() / 2);
        let mut items = frame.items.into_iter();
        while let Some(key) = items.next() {
            let value = items.next().unwrap_or_else(|| Node {
                kind: NodeKind::Scalar(String::new(), ScalarStyle::Plain),
                tag: None,
                span: Span::new(file, stop, stop),
                size: 1,
                height: 0,
            });
            pairs.push((key, value));
        }
        NodeKind::Map(pairs)
    } else {
        NodeKind::Seq(frame.items)
    };
    (
        Node {
            kind,
            tag: frame.tag,
            span: Span::new(file, frame.start, stop),
            size,
            height,
        },
        frame.anchor,
    )
}

/// The offset after a node's tag and anchor properties (where its content starts).
fn content_start(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    while matches!(bytes.get(i), Some(b'!' | b'&')) {
        while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
            i += 1;
        }
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
    }
    i.min(text.len())
}

/// The end of a tag written at `start` (`!GetAtt`).
fn tag_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
        i += 1;
    }
    i.min(text.len())
}

/// Drops trailing blanks and line breaks that block scalars count as theirs.
fn trim_end(text: &str, start: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    let mut end = end.min(text.len());
    while end > start && bytes.get(end - 1).is_some_and(|b| b.is_ascii_whitespace()) {
        end -= 1;
    }
    end
}

/// The type CloudFormation gives a plain (unquoted) scalar.
pub(crate) fn plain_scalar_kind(text: &str) -> ValueKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => ValueKind::Null,
        "true" | "True" | "TRUE" => ValueKind::Bool(true),
        "false" | "False" | "FALSE" => ValueKind::Bool(false),
        _ if looks_numeric(text) => ValueKind::Number(text.to_string()),
        _ => ValueKind::Str(Template::lit(text)),
    }
}

/// Decimal integers and floats (`12`, `-3.5`, `1e10`, `.5`), hex and octal integers.
fn looks_numeric(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(hex) = body.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(oct) = body.strip_prefix("0o") {
        return !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mut digits = 0;
    let mut dots = 0;
    for b in mantissa.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => return false,
        }
    }
    if digits == 0 || dots > 1 {
        return false;
    }
    match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

/// Tree nodes into values. Recursion is bounded by [`MAX_DEPTH`] (checked while building).
struct Converter<'a, 'd> {
    text: &'a str,
    file: FileId,
    diagnostics: &'d mut Vec<Diagnostic>,
}

impl Converter<'_, '_> {
    fn convert(&mut self, node: &Node) -> Result<Value, YamlError> {
        let Some(tag) = &node.tag else {
            return self.convert_content(node, node.span);
        };
        let start = node.span.start as usize;
        let content = Span::new(
            self.file,
            content_start(self.text, start).min(node.span.end as usize),
            node.span.end as usize,
        );
        if tag.handle == "!" {
            let key = match tag.suffix.as_str() {
                "Ref" => "Ref".to_string(),
                "Condition" => "Condition".to_string(),
                other => format!("Fn::{other}"),
            };
            let inner = self.convert_content(node, content)?;
            let key_span = Span::new(self.file, start, tag_end(self.text, start));
            return Ok(Value::new(
                ValueKind::Map(vec![Entry {
                    key,
                    key_span,
                    value: inner,
                }]),
                node.span,
            ));
        }
        if tag.is_yaml_core_schema() {
            if let NodeKind::Scalar(text, _) = &node.kind {
                let kind = match tag.suffix.as_str() {
                    "str" => ValueKind::Str(Template::lit(text.as_str())),
                    "int" | "float" => ValueKind::Number(text.clone()),
                    "bool" | "null" => plain_scalar_kind(text),
                    _ => ValueKind::Str(Template::lit(text.as_str())),
                };
                return Ok(Value::new(kind, content));
            }
            return self.convert_content(node, content);
        }
        self.diagnostics.push(Diagnostic::note(
            format!("YAML tag `{tag}` is not understood; the value is read without it"),
            Span::new(self.file, start, tag_end(self.text, start)),
        ));
        self.convert_content(node, content)
    }

    fn convert_content(&mut self, node: &Node, span: Span) -> Result<Value, YamlError> {
        let kind = match &node.kind {
            NodeKind::Scalar(text, ScalarStyle::Plain) => plain_scalar_kind(text),
            NodeKind::Scalar(text, _) => ValueKind::Str(Template::lit(text.as_str())),
            NodeKind::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.convert(item)?);
                }
                ValueKind::List(out)
            }
            NodeKind::Map(pairs) => {
                let mut entries: Vec<Entry> = Vec::with_capacity(pairs.len());
                let mut seen: BTreeMap<String, ()> = BTreeMap::new();
                for (key, value) in pairs {
                    let NodeKind::Scalar(name, _) = &key.kind else {
                        return Err(error(
                            key.span.start as usize,
                            "expected a string as mapping key, found a collection",
                        ));
                    };
                    if seen.insert(name.clone(), ()).is_some() {
                        self.diagnostics.push(Diagnostic::warning(
                            format!("duplicate key `{name}`: the last one wins"),
                            key.span,
                        ));
                    }
                    entries.push(Entry {
                        key: name.clone(),
                        key_span: key.span,
                        value: self.convert(value)?,
                    });
                }
                ValueKind::Map(entries)
            }
        };
        Ok(Value::new(kind, span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Result<Value, YamlError>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let v = parse(text, FileId::for_path("t.yaml"), &mut diags);
        (v, diags)
    }

    fn ok(text: &str) -> Value {
        match load(text).0 {
            Ok(v) => v,
            Err(e) => Value::unknown("", e.message, Span::builtin()),
        }
    }

    fn slice(text: &str, span: Span) -> &str {
        text.get(span.start as usize..span.end as usize)
            .unwrap_or("<out of range>")
    }

    #[test]
    fn scalars_are_typed_by_cloudformation_rules() {
        let v = ok("a: true\nb: 2010-09-09\nc: 12\nd: '12'\ne:\nf: yes\n");
        assert_eq!(v.get("a").map(|v| v.kind.clone()), Some(ValueKind::Bool(true)));
        assert_eq!(v.get("b").and_then(Value::as_str), Some("2010-09-09"));
        assert_eq!(v.get("c").map(|v| v.kind.clone()), Some(ValueKind::Number("12".into())));
        assert_eq!(v.get("d").and_then(Value::as_str), Some("12"));
        assert_eq!(v.get("e").map(|v| v.kind.clone()), Some(ValueKind::Null));
        assert_eq!(v.get("f").and_then(Value::as_str), Some("yes"));
    }

    #[test]
    fn spans_are_bytes_after_non_ascii_text() {
        let text = "Description: \"Größe – ünïcode ✓\"\nResources:\n  Tåble:\n    Type: AWS::DynamoDB::Table\n";
        let v = ok(text);
        let res = v.get("Resources").map(|r| r.entries().to_vec()).unwrap_or_default();
        assert_eq!(res.len(), 1);
        assert_eq!(slice(text, res[0].key_span), "Tåble");
        let ty = res[0].value.get("Type").map(|t| t.span).unwrap_or_default();
        assert_eq!(slice(text, ty), "AWS::DynamoDB::Table");
        assert_eq!(slice(text, res[0].value.span), "Type: AWS::DynamoDB::Table");
    }

    #[test]
    fn short_tags_become_long_form_maps_spanning_the_tag() {
        let text = "A: !GetAtt T.Arn\nB: !Ref X\nC: !Sub\n  - '${a}'\n  - a: b\n";
        let v = ok(text);
        let a = v.get("A").cloned().unwrap_or_else(|| Value::str("", Span::builtin()));
        assert_eq!(slice(text, a.span), "!GetAtt T.Arn");
        assert_eq!(a.entries()[0].key, "Fn::GetAtt");
        assert_eq!(slice(text, a.entries()[0].key_span), "!GetAtt");
        assert_eq!(a.get("Fn::GetAtt").map(|x| slice(text, x.span)), Some("T.Arn"));
        assert_eq!(v.get("B").and_then(|b| b.get("Ref")).and_then(Value::as_str), Some("X"));
        let c = v
            .get("C")
            .and_then(|c| c.get("Fn::Sub"))
            .and_then(Value::as_list)
            .map(<[Value]>::len);
        assert_eq!(c, Some(2));
    }

    #[test]
    fn duplicate_keys_warn_and_last_wins() {
        let (v, diags) = load("a: 1\nb: 2\na: 3\n");
        let v = v.unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        assert_eq!(v.entries().len(), 3);
        assert_eq!(v.get("a").map(|v| v.kind.clone()), Some(ValueKind::Number("3".into())));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].span.start, 10);
    }

    #[test]
    fn a_closed_mapping_pairs_its_items_and_a_flow_one_spans_its_bracket() {
        let file = FileId::for_path("t.yaml");
        let scalar = |text: &str, at: usize| Node {
            kind: NodeKind::Scalar(text.to_string(), ScalarStyle::Plain),
            tag: None,
            span: Span::new(file, at, at + text.len()),
            size: 1,
            height: 0,
        };
        let frame = |flow: bool, items: Vec<Node>| Frame {
            is_map: true,
            flow,
            items,
            tag: None,
            anchor: 7,
            start: 2,
        };
        // `a: b` and a key `c` without its value, which is empty where the last item ends.
        let items = vec![scalar("a", 2), scalar("b", 5), scalar("c", 8)];
        let (node, anchor) = close_frame(frame(false, items.clone()), file, 20);
        assert_eq!(anchor, 7);
        assert_eq!((node.size, node.height), (4, 1));
        assert_eq!((node.span.start, node.span.end), (2, 9));
        let NodeKind::Map(pairs) = &node.kind else {
            panic!("a mapping: {node:?}")
        };
        assert_eq!(pairs.len(), 2);
        assert!(matches!(&pairs[1].1.kind, NodeKind::Scalar(v, ScalarStyle::Plain) if v.is_empty()));
        assert_eq!((pairs[1].1.span.start, pairs[1].1.span.end), (9, 9));
        // A flow mapping ends where its end event does (its closing bracket).
        let (node, _) = close_frame(frame(true, items), file, 20);
        assert_eq!((node.span.start, node.span.end), (2, 20));
        // An empty block sequence spans nothing after its start.
        let empty = Frame {
            is_map: false,
            ..frame(false, Vec::new())
        };
        let (node, _) = close_frame(empty, file, 20);
        assert!(matches!(&node.kind, NodeKind::Seq(items) if items.is_empty()));
        assert_eq!((node.size, node.height, node.span.start, node.span.end), (1, 1, 2, 2));
    }

    #[test]
    fn aliases_resolve_and_bombs_are_refused() {
        let v = ok("a: &x [1, 2]\nb: *x\n");
        assert_eq!(v.get("b").and_then(Value::as_list).map(<[Value]>::len), Some(2));
        let mut bomb = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            bomb.push_str(&format!("l{i}: &l{i} [*l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}]\n"));
        }
        let err = load(&bomb).0.err().map(|e| e.message);
        let err = err.unwrap_or_default();
        assert!(err.contains("exceeds the YAML alias expansion limit"), "{err}");
        assert!(err.contains("`[limits] yaml-alias-nodes`"), "{err}");
    }

    #[test]
    fn depth_bombs_are_refused() {
        let text = "[".repeat(100_000);
        let err = load(&text).0.err().map(|e| e.message).unwrap_or_default();
        assert!(
            err.contains("nesting deeper") || err.contains("recursion limit"),
            "{err}"
        );
        let text = format!("a: {}1{}", "[".repeat(300), "]".repeat(300));
        assert!(load(&text).0.is_err());
    }

    #[test]
    fn syntax_errors_have_byte_offsets() {
        let text = "é: 1\nb: [1, 2\n";
        let err = load(text).0.err();
        assert!(err.is_some_and(|e| e.offset <= text.len()));
    }

    #[test]
    fn later_documents_are_noted() {
        let (v, diags) = load("a: 1\n---\nb: 2\n");
        assert!(v.is_ok_and(|v| v.get("a").is_some()));
        assert_eq!(diags.len(), 1);
    }

    #[test]
    fn empty_text_is_null() {
        assert_eq!(ok("").kind, ValueKind::Null);
        assert_eq!(ok("# only a comment\n").kind, ValueKind::Null);
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;

    #[test]
    fn under_indented_flow_and_quoted_lines_are_read_with_original_spans() {
        let text = "A:\n  B: [{\n    \"x\": 1\n  }]\n  C: '{\n  \"y\": 2\n  }'\n  D: end\n";
        let mut diags = Vec::new();
        assert!(parse_strict(text, FileId::for_path("t"), &mut diags).is_err());
        let v = parse(text, FileId::for_path("t"), &mut diags);
        let v = v.unwrap_or_else(|e| Value::unknown("", e.message, Span::builtin()));
        let d = v.get("A").and_then(|a| a.get("D")).map(|d| d.span).unwrap_or_default();
        assert_eq!(&text[d.start as usize..d.end as usize], "end");
        let c = v
            .get("A")
            .and_then(|a| a.get("C"))
            .and_then(Value::as_str)
            .map(str::to_string);
        assert_eq!(c.as_deref(), Some("{ \"y\": 2 }"));
        assert!(diags.iter().any(|d| d.message.contains("indented less")));
    }
}
