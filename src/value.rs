//! Format-independent values with spans: what loaders produce from HCL, YAML and JSON.
//!
//! A string is a [`Template`]: literal text interleaved with symbols (the run's account,
//! region and partition, or an opaque unknown with its own identity and reason). An
//! unresolvable value of any type is [`ValueKind::Unknown`], carrying the expression and
//! why it is unknown. Unknown is a value, never an absence.

use std::fmt;
use std::fmt::Write as _;

use crate::source::Span;

/// A symbolic piece of a string that the templates alone do not fix.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Symbol {
    /// The current account id (`AWS::AccountId`, `data.aws_caller_identity.x.account_id`).
    Account,
    /// The current region.
    Region,
    /// The current partition (`aws`, `aws-cn`, ...).
    Partition,
    /// The current URL suffix (`amazonaws.com`, ...).
    UrlSuffix,
    /// A value that cannot be resolved statically. Two opaque symbols are equal only when
    /// their `id` is equal (e.g. both are the generated name of the same resource).
    Opaque(Box<Opaque>),
}

/// An unresolved value inside a string: `id` names it (equal ids are the same value),
/// `reason` says why it is unknown, `span` points at the expression that produced it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Opaque {
    pub id: String,
    pub reason: String,
    pub span: Span,
}

/// One piece of a [`Template`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Part {
    Lit(String),
    Sym(Symbol),
}

/// A string made of literal text and symbols. Adjacent literals are always merged, so two
/// templates that denote the same string compare equal.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    pub fn lit(s: impl Into<String>) -> Template {
        let s = s.into();
        if s.is_empty() {
            return Template::default();
        }
        Template {
            parts: vec![Part::Lit(s)],
        }
    }

    pub(crate) fn sym(sym: Symbol) -> Template {
        Template {
            parts: vec![Part::Sym(sym)],
        }
    }

    pub fn opaque(id: impl Into<String>, reason: impl Into<String>, span: Span) -> Template {
        Template::sym(Symbol::Opaque(Box::new(Opaque {
            id: id.into(),
            reason: reason.into(),
            span,
        })))
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    pub fn push_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Part::Lit(last)) = self.parts.last_mut() {
            last.push_str(s);
        } else {
            self.parts.push(Part::Lit(s.to_string()));
        }
    }

    pub fn push_sym(&mut self, sym: Symbol) {
        self.parts.push(Part::Sym(sym));
    }

    pub(crate) fn push_template(&mut self, other: &Template) {
        for part in &other.parts {
            match part {
                Part::Lit(s) => self.push_str(s),
                Part::Sym(sym) => self.push_sym(sym.clone()),
            }
        }
    }

    /// Concatenates pieces into one template.
    pub fn concat<'a>(pieces: impl IntoIterator<Item = &'a Template>) -> Template {
        let mut out = Template::default();
        for piece in pieces {
            out.push_template(piece);
        }
        out
    }

    /// The plain string, when the template has no symbols.
    pub(crate) fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_literal(&self) -> bool {
        self.as_literal().is_some()
    }

    /// The opaque (unresolved) symbols in this template.
    pub(crate) fn opaques(&self) -> impl Iterator<Item = &Opaque> {
        self.parts.iter().filter_map(|p| match p {
            Part::Sym(Symbol::Opaque(o)) => Some(&**o),
            _ => None,
        })
    }

    /// Replaces account/region/partition symbols by pinned values where given.
    pub fn pin(&self, pins: &Pins) -> Template {
        let mut out = Template::default();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Sym(sym) => match pins.get(sym) {
                    Some(v) => out.push_str(v),
                    None => out.push_sym(sym.clone()),
                },
            }
        }
        out
    }
}

/// Whose words a template's account, region and partition are written in for people.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dialect {
    /// `${AWS::Partition}`, `${AWS::Region}`, `${AWS::AccountId}`: the pseudo parameters.
    CloudFormation,
    /// `<partition>`, `<region>`, `<account>`: what the provider fills in at apply time.
    Terraform,
}

impl Template {
    /// The template for people reading an input of this dialect (`Display` is CloudFormation's).
    pub(crate) fn shown_in(&self, dialect: Dialect) -> String {
        if dialect == Dialect::CloudFormation {
            return self.to_string();
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Sym(Symbol::Account) => out.push_str("<account>"),
                Part::Sym(Symbol::Region) => out.push_str("<region>"),
                Part::Sym(Symbol::Partition) => out.push_str("<partition>"),
                Part::Sym(Symbol::UrlSuffix) => out.push_str("<url-suffix>"),
                Part::Sym(Symbol::Opaque(o)) => {
                    let _ = write!(out, "${{{}}}", o.id);
                }
            }
        }
        out
    }
}

impl fmt::Display for Template {
    /// Renders symbols as `${AWS::AccountId}`-style placeholders (for reports).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Lit(s) => f.write_str(s)?,
                Part::Sym(Symbol::Account) => f.write_str("${AWS::AccountId}")?,
                Part::Sym(Symbol::Region) => f.write_str("${AWS::Region}")?,
                Part::Sym(Symbol::Partition) => f.write_str("${AWS::Partition}")?,
                Part::Sym(Symbol::UrlSuffix) => f.write_str("${AWS::URLSuffix}")?,
                Part::Sym(Symbol::Opaque(o)) => write!(f, "${{{}}}", o.id)?,
            }
        }
        Ok(())
    }
}

/// Values pinned for the run's account, region and partition (config or command line).
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Pins {
    pub account: Option<String>,
    pub region: Option<String>,
    pub partition: Option<String>,
}

impl Pins {
    fn get(&self, sym: &Symbol) -> Option<&str> {
        match sym {
            Symbol::Account => self.account.as_deref(),
            Symbol::Region => self.region.as_deref(),
            Symbol::Partition => self.partition.as_deref(),
            Symbol::UrlSuffix => match self.partition.as_deref() {
                Some("aws-cn") => Some("amazonaws.com.cn"),
                Some(_) => Some("amazonaws.com"),
                None => None,
            },
            Symbol::Opaque(_) => None,
        }
    }
}

/// A loaded value with its span.
#[derive(Clone, PartialEq, Debug)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
    /// The declared resource attribute the value was read from, when it came through a
    /// reference (`aws_iam_role.r.name`): linking uses that identity, since two resources
    /// (two instances of one module, say) may give the same name.
    pub origin: Option<std::sync::Arc<Origin>>,
}

/// Which attribute of which declared resource instance a value is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Origin {
    /// The instance's address in its input (`module.a.aws_iam_role.r`, with any index).
    pub address: String,
    /// The resource type (`aws_iam_role`; `data.aws_iam_policy` for a data source).
    pub rtype: String,
    /// The attribute (`name`).
    pub attribute: String,
}

/// A map entry: the key with its own span, and the value.
#[derive(Clone, PartialEq, Debug)]
pub struct Entry {
    pub key: String,
    pub(crate) key_span: Span,
    pub value: Value,
}

#[derive(Clone, PartialEq, Debug)]
pub enum ValueKind {
    Null,
    Bool(bool),
    /// A number as written (kept as text: IAM compares strings).
    Number(String),
    Str(Template),
    List(Vec<Value>),
    /// Entries in source order; duplicate keys stay visible.
    Map(Vec<Entry>),
    /// A value that could not be resolved: `expr` is the expression as written,
    /// `reason` says why.
    /// Boxed: unknowns are few, and every other value would otherwise carry their size.
    Unknown(Box<Unknown>),
}

/// A value the loader cannot compute: the expression and why.
#[derive(Clone, PartialEq, Debug)]
pub struct Unknown {
    pub expr: String,
    pub reason: String,
}

/// `expr (reason)`, as policies and diagnostics name an unknown value.
impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.expr, self.reason)
    }
}

impl Value {
    pub fn new(kind: ValueKind, span: Span) -> Value {
        Value {
            kind,
            span,
            origin: None,
        }
    }

    /// The address of the resource instance this value is attribute `attributes` of, when
    /// it was read from a resource of type `rtype` by reference.
    pub(crate) fn origin_address(&self, rtype: &str, attributes: &[&str]) -> Option<&str> {
        self.origin
            .as_deref()
            .filter(|o| o.rtype == rtype && attributes.contains(&o.attribute.as_str()))
            .map(|o| o.address.as_str())
    }

    pub fn str(s: impl Into<String>, span: Span) -> Value {
        Value::new(ValueKind::Str(Template::lit(s)), span)
    }

    pub fn unknown(expr: impl Into<String>, reason: impl Into<String>, span: Span) -> Value {
        Value::new(
            ValueKind::Unknown(Box::new(Unknown {
                expr: expr.into(),
                reason: reason.into(),
            })),
            span,
        )
    }

    /// The last entry with this key (last wins, as in CloudFormation and JSON policy
    /// documents), when this is a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.kind {
            ValueKind::Map(entries) => entries.iter().rev().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// Like [`Value::get`], also returning the key's entry (for the key's span).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.kind {
            ValueKind::Map(entries) => entries.iter().rev().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            ValueKind::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn as_template(&self) -> Option<&Template> {
        match &self.kind {
            ValueKind::Str(t) => Some(t),
            _ => None,
        }
    }

    /// The plain string, when this is a string with no symbols.
    pub fn as_str(&self) -> Option<&str> {
        self.as_template().and_then(Template::as_literal)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            ValueKind::Bool(b) => Some(*b),
            ValueKind::Str(t) => match t.as_literal() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            ValueKind::List(items) => Some(items),
            _ => None,
        }
    }

    pub(crate) fn is_unknown(&self) -> bool {
        matches!(self.kind, ValueKind::Unknown(_))
    }

    /// A one-word description of the value's type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.kind {
            ValueKind::Null => "null",
            ValueKind::Bool(_) => "boolean",
            ValueKind::Number(_) => "number",
            ValueKind::Str(_) => "string",
            ValueKind::List(_) => "list",
            ValueKind::Map(_) => "map",
            ValueKind::Unknown(_) => "unknown value",
        }
    }

    /// The value as a string template: strings as they are, numbers and booleans as
    /// text; `None` for other kinds.
    pub(crate) fn to_template(&self) -> Option<Template> {
        match &self.kind {
            ValueKind::Str(t) => Some(t.clone()),
            ValueKind::Number(n) => Some(Template::lit(n.clone())),
            ValueKind::Bool(b) => Some(Template::lit(b.to_string())),
            _ => None,
        }
    }
}

/// What [`Value::to_json`] does with an unknown inside the value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UnknownInJson {
    /// The whole text is unknown (`None`).
    Fail,
    /// The unknown becomes an opaque symbol in the text, named by its expression.
    Opaque,
}

impl Value {
    /// The value as JSON text (`jsonencode`, `Fn::ToJsonString`): strings keep their
    /// symbols; map keys in source order. `None` past `max_depth`, or at an unknown when
    /// `unknown` is [`UnknownInJson::Fail`].
    pub fn to_json(&self, max_depth: usize, unknown: UnknownInJson) -> Option<Template> {
        let mut out = Template::default();
        self.write_json(&mut out, max_depth, unknown).then_some(out)
    }

    fn write_json(&self, out: &mut Template, depth_left: usize, unknown: UnknownInJson) -> bool {
        let Some(depth_left) = depth_left.checked_sub(1) else {
            return false;
        };
        match &self.kind {
            ValueKind::Null => out.push_str("null"),
            ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            ValueKind::Number(n) => out.push_str(n),
            ValueKind::Str(t) => {
                out.push_str("\"");
                for part in t.parts() {
                    match part {
                        Part::Lit(s) => out.push_str(&json_escape(s)),
                        Part::Sym(sym) => out.push_sym(sym.clone()),
                    }
                }
                out.push_str("\"");
            }
            ValueKind::List(items) => {
                out.push_str("[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",");
                    }
                    if !item.write_json(out, depth_left, unknown) {
                        return false;
                    }
                }
                out.push_str("]");
            }
            ValueKind::Map(entries) => {
                out.push_str("{");
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",");
                    }
                    out.push_str(&format!("\"{}\":", json_escape(&e.key)));
                    if !e.value.write_json(out, depth_left, unknown) {
                        return false;
                    }
                }
                out.push_str("}");
            }
            ValueKind::Unknown(u) => match unknown {
                UnknownInJson::Fail => return false,
                UnknownInJson::Opaque => out.push_sym(Symbol::Opaque(Box::new(Opaque {
                    id: u.expr.clone(),
                    reason: u.reason.clone(),
                    span: self.span,
                }))),
            },
        }
        true
    }
}

/// Escapes text for a JSON string literal.
pub(crate) fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_literals_merge_so_equal_strings_compare_equal() {
        let mut a = Template::lit("arn:");
        a.push_str("aws");
        assert_eq!(a, Template::lit("arn:aws"));
        assert_eq!(a.as_literal(), Some("arn:aws"));
    }

    #[test]
    fn json_text_escapes_and_handles_unknowns() {
        let s = Span::builtin();
        let v = Value::new(
            ValueKind::Map(vec![Entry {
                key: "a\"b".into(),
                key_span: s,
                value: Value::new(
                    ValueKind::List(vec![Value::str("x\ny", s), Value::new(ValueKind::Bool(true), s)]),
                    s,
                ),
            }]),
            s,
        );
        assert_eq!(
            v.to_json(8, UnknownInJson::Fail).map(|t| t.to_string()).as_deref(),
            Some(r#"{"a\"b":["x\ny",true]}"#)
        );
        assert_eq!(v.to_json(1, UnknownInJson::Fail), None, "too deep");
        let u = Value::new(ValueKind::List(vec![Value::unknown("var.x", "no value", s)]), s);
        assert_eq!(u.to_json(8, UnknownInJson::Fail), None);
        assert_eq!(
            u.to_json(8, UnknownInJson::Opaque).map(|t| t.to_string()).as_deref(),
            Some("[${var.x}]")
        );
    }

    #[test]
    fn pins_replace_symbols() {
        let mut t = Template::lit("arn:");
        t.push_sym(Symbol::Partition);
        t.push_str(":dynamodb:");
        t.push_sym(Symbol::Region);
        let pinned = t.pin(&Pins {
            partition: Some("aws".into()),
            ..Pins::default()
        });
        assert_eq!(pinned.to_string(), "arn:aws:dynamodb:${AWS::Region}");
        assert_eq!(pinned.shown_in(Dialect::Terraform), "arn:aws:dynamodb:<region>");
        assert_eq!(
            pinned.shown_in(Dialect::CloudFormation),
            "arn:aws:dynamodb:${AWS::Region}"
        );
    }

    #[test]
    fn map_lookup_takes_the_last_duplicate() {
        let s = Span::builtin();
        let map = Value::new(
            ValueKind::Map(vec![
                Entry {
                    key: "a".into(),
                    key_span: s,
                    value: Value::str("1", s),
                },
                Entry {
                    key: "a".into(),
                    key_span: s,
                    value: Value::str("2", s),
                },
            ]),
            s,
        );
        assert_eq!(map.get("a").and_then(Value::as_str), Some("2"));
    }
}
