//! Terraform built-in functions the analyzer evaluates; any other function is unknown.
//!
//! Functions work on known values; an unknown argument makes the result unknown (except
//! `try`, `coalesce` and friends, which skip what they can). `jsonencode` of an object
//! returns the object itself, so that a policy written as `jsonencode({...})` keeps the
//! spans of its statements; interpolating such a value renders it as JSON text.

use std::path::{Path, PathBuf};

use hcl_edit::expr::Expression;

use super::eval::{Eval, MAX_ITEMS, ReadJson, Scope, equal, iterate, num_value, number, to_json, unknown_reason};
use super::text::TextBuilder;
use crate::limits::Limit;
use crate::source::{FileId, Span};
use crate::value::{Entry, Part, Template, Value, ValueKind};

/// Calls function `name` on argument expressions.
pub fn call(
    ev: &Eval,
    name: &str,
    arg_exprs: &[&Expression],
    expand_final: bool,
    file: FileId,
    scope: &Scope,
    span: Span,
) -> Value {
    // Functions that must see unknown or failing arguments one by one.
    match name {
        "try" => return first_known(ev, arg_exprs, file, scope, span),
        "can" => return can(ev, arg_exprs, file, scope, span),
        _ => {}
    }
    let builtin = BUILTINS
        .binary_search_by(|(n, ..)| (*n).cmp(name))
        .ok()
        .and_then(|i| BUILTINS.get(i));
    let mut args: Vec<Value> = arg_exprs.iter().map(|a| ev.expr(a, file, scope)).collect();
    if expand_final && let Some(last) = args.pop() {
        match last.kind {
            ValueKind::List(items) => args.extend(items),
            _ => return ev.unknown_at(span, "the expanded final argument is not a known list"),
        }
    }
    if builtin.is_none_or(|&(_, unknowns, _)| unknowns == Unknowns::Stop)
        && let Some(u) = args.iter().find(|a| a.is_unknown())
    {
        let reason = unknown_reason(u).unwrap_or("unknown");
        return ev.unknown_at(span, format!("an argument of {name}() is not known: {reason}"));
    }
    let Some(&(_, _, builtin)) = builtin else {
        return ev.unknown_at(span, format!("function {name}() is not evaluated"));
    };
    builtin(&Call { ev, name, args, span })
}

/// `try`: the first argument that evaluates to a known value.
fn first_known(ev: &Eval, arg_exprs: &[&Expression], file: FileId, scope: &Scope, span: Span) -> Value {
    let mut last = None;
    for a in arg_exprs {
        let v = ev.expr(a, file, scope);
        if !v.is_unknown() {
            return v;
        }
        last = Some(v);
    }
    last.unwrap_or_else(|| ev.unknown_at(span, "try() with no arguments"))
}

/// `can`: whether the argument evaluates (an unknown one leaves it undecided).
fn can(ev: &Eval, arg_exprs: &[&Expression], file: FileId, scope: &Scope, span: Span) -> Value {
    match arg_exprs.first().map(|a| ev.expr(a, file, scope)) {
        Some(v) if !v.is_unknown() => Value::new(ValueKind::Bool(true), span),
        _ => ev.unknown_at(span, "can() of a value that is not known"),
    }
}

/// Whether a function is called when an argument is unknown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unknowns {
    /// Any unknown argument makes the result unknown, without calling the function.
    Stop,
    /// The function sees unknown arguments and decides (`coalesce` skips what it can).
    Pass,
}

type Builtin = fn(&Call<'_, '_>) -> Value;

/// The evaluated functions, sorted by name (a test keeps them sorted).
const BUILTINS: &[(&str, Unknowns, Builtin)] = &[
    ("abs", Unknowns::Stop, abs),
    ("chomp", Unknowns::Stop, trim),
    ("coalesce", Unknowns::Pass, coalesce),
    ("coalescelist", Unknowns::Pass, coalescelist),
    ("compact", Unknowns::Stop, compact),
    ("concat", Unknowns::Stop, concat),
    ("contains", Unknowns::Stop, contains),
    ("distinct", Unknowns::Stop, distinct_list),
    ("element", Unknowns::Stop, element),
    ("file", Unknowns::Stop, file),
    ("fileexists", Unknowns::Stop, fileexists),
    ("flatten", Unknowns::Stop, flatten_list),
    ("format", Unknowns::Stop, format_call),
    ("formatlist", Unknowns::Stop, formatlist_call),
    ("join", Unknowns::Stop, join),
    ("jsondecode", Unknowns::Stop, jsondecode),
    ("jsonencode", Unknowns::Stop, jsonencode),
    ("keys", Unknowns::Stop, keys_or_values),
    ("length", Unknowns::Stop, length),
    ("lookup", Unknowns::Stop, lookup),
    ("lower", Unknowns::Stop, change_case),
    ("max", Unknowns::Stop, max_or_min),
    ("merge", Unknowns::Stop, merge),
    ("min", Unknowns::Stop, max_or_min),
    ("nonsensitive", Unknowns::Pass, first_argument),
    ("one", Unknowns::Stop, one),
    ("range", Unknowns::Stop, range),
    ("replace", Unknowns::Stop, replace),
    ("reverse", Unknowns::Stop, reverse),
    ("sensitive", Unknowns::Pass, first_argument),
    ("sort", Unknowns::Stop, sort),
    ("split", Unknowns::Stop, split),
    ("templatefile", Unknowns::Stop, templatefile),
    ("tobool", Unknowns::Stop, tobool),
    ("tolist", Unknowns::Stop, to_collection),
    ("tomap", Unknowns::Pass, first_argument),
    ("tonumber", Unknowns::Stop, tonumber),
    ("toset", Unknowns::Stop, to_collection),
    ("tostring", Unknowns::Pass, first_argument),
    ("trimprefix", Unknowns::Stop, trim_affix),
    ("trimspace", Unknowns::Stop, trim),
    ("trimsuffix", Unknowns::Stop, trim_affix),
    ("upper", Unknowns::Stop, change_case),
    ("values", Unknowns::Stop, keys_or_values),
    ("zipmap", Unknowns::Stop, zipmap),
];

/// One call of a built-in: its evaluated arguments, and how to build its result.
struct Call<'a, 'e> {
    ev: &'a Eval<'e>,
    name: &'a str,
    args: Vec<Value>,
    span: Span,
}

impl Call<'_, '_> {
    fn arg(&self, i: usize) -> Option<&Value> {
        self.args.get(i)
    }
    /// Argument `i` as a fully known string.
    fn lit(&self, i: usize) -> Option<String> {
        self.arg(i)
            .and_then(Value::to_template)
            .and_then(|t| t.as_literal().map(str::to_string))
    }
    fn list_arg(&self, i: usize) -> Option<&[Value]> {
        self.arg(i).and_then(Value::as_list)
    }
    fn list(&self, items: Vec<Value>) -> Value {
        Value::new(ValueKind::List(items), self.span)
    }
    /// A string result, refused past the template length limit.
    fn string(&self, t: Template) -> Value {
        let limit = self.limit();
        let len: usize = t
            .parts()
            .iter()
            .map(|p| if let Part::Lit(l) = p { l.len() } else { 0 })
            .sum();
        if len > limit {
            return self.ev.text_too_long(self.span, len, limit);
        }
        Value::new(ValueKind::Str(t), self.span)
    }
    /// The longest string a template may build (`[limits] template-length`).
    fn limit(&self) -> usize {
        self.ev.ctx.sources.limits().template_length
    }
    fn bool(&self, b: bool) -> Value {
        Value::new(ValueKind::Bool(b), self.span)
    }
    fn number(&self, n: f64) -> Value {
        num_value(n, self.span)
    }
    /// The unknown result of a call that cannot be evaluated, saying why.
    /// A limit exceeded is also a load error at the call.
    fn fail(&self, reason: &str) -> Value {
        let message = format!("{}(): {reason}", self.name);
        if Limit::is_exceeded_message(reason) {
            self.ev.errors.borrow_mut().push(crate::model::LoadError {
                path: self.ev.ctx.sources.path(self.span),
                span: Some(self.span),
                message: message.clone(),
            });
        }
        self.ev.unknown_at(self.span, message)
    }
}

fn first_argument(c: &Call<'_, '_>) -> Value {
    c.arg(0).cloned().unwrap_or_else(|| c.fail("missing argument"))
}

fn coalesce(c: &Call<'_, '_>) -> Value {
    for a in &c.args {
        match &a.kind {
            ValueKind::Unknown(_) => return a.clone(),
            ValueKind::Null => {}
            ValueKind::Str(t) if t.as_literal() == Some("") => {}
            _ => return a.clone(),
        }
    }
    c.fail("no non-empty argument")
}

fn coalescelist(c: &Call<'_, '_>) -> Value {
    for a in &c.args {
        match &a.kind {
            ValueKind::Unknown(_) => return a.clone(),
            ValueKind::List(items) if items.is_empty() => {}
            _ => return a.clone(),
        }
    }
    c.fail("no non-empty list")
}

fn jsonencode(c: &Call<'_, '_>) -> Value {
    match c.arg(0) {
        Some(v) if matches!(v.kind, ValueKind::List(_) | ValueKind::Map(_)) => v.clone(),
        Some(v) => c.string(to_json(v)),
        None => c.fail("missing argument"),
    }
}

fn jsondecode(c: &Call<'_, '_>) -> Value {
    match c.arg(0) {
        Some(v) if matches!(v.kind, ValueKind::List(_) | ValueKind::Map(_)) => v.clone(),
        Some(v) => match v.as_template() {
            Some(t) => match c.ev.read_json(v, t, false) {
                ReadJson::Value(decoded) | ReadJson::Unknown(decoded) => decoded,
                ReadJson::Invalid(e) => c.fail(&format!("not valid JSON: {}", e.value)),
            },
            None => c.fail("argument is not a string"),
        },
        None => c.fail("missing argument"),
    }
}

fn format_call(c: &Call<'_, '_>) -> Value {
    match format(&c.args, c.limit()) {
        Ok(t) => c.string(t),
        Err(why) => c.fail(&why.to_string()),
    }
}

fn formatlist_call(c: &Call<'_, '_>) -> Value {
    formatlist(&c.args, c.span, c.limit()).unwrap_or_else(|why| c.fail(&why.to_string()))
}

fn join(c: &Call<'_, '_>) -> Value {
    let Some(sep) = c.arg(0).and_then(Value::to_template) else {
        return c.fail("separator is not a string");
    };
    let mut out = Template::default();
    let mut first = true;
    for l in c.args.iter().skip(1) {
        let Some(items) = l.as_list() else {
            return c.fail("argument is not a list");
        };
        for item in items {
            let Some(t) = item.to_template() else {
                return c.fail("element is not a string");
            };
            if !first {
                out.push_template(&sep);
            }
            first = false;
            out.push_template(&t);
        }
    }
    c.string(out)
}

fn split(c: &Call<'_, '_>) -> Value {
    match (c.lit(0), c.lit(1)) {
        (Some(sep), Some(s)) if !sep.is_empty() => {
            c.list(s.split(sep.as_str()).map(|p| Value::str(p, c.span)).collect())
        }
        _ => c.fail("arguments are not known strings"),
    }
}

fn concat(c: &Call<'_, '_>) -> Value {
    let mut out = Vec::new();
    for a in &c.args {
        match a.as_list() {
            Some(items) => out.extend(items.iter().cloned()),
            None => return c.fail("argument is not a list"),
        }
    }
    c.list(out)
}

fn merge(c: &Call<'_, '_>) -> Value {
    let mut entries: Vec<Entry> = Vec::new();
    for a in &c.args {
        match &a.kind {
            ValueKind::Map(es) => {
                for e in es {
                    entries.retain(|x| x.key != e.key);
                    entries.push(e.clone());
                }
            }
            ValueKind::Null => {}
            _ => return c.fail("argument is not a map"),
        }
    }
    Value::new(ValueKind::Map(entries), c.span)
}

fn lookup(c: &Call<'_, '_>) -> Value {
    match (c.arg(0), c.lit(1)) {
        (Some(m), Some(k)) if matches!(m.kind, ValueKind::Map(_)) => m
            .get(&k)
            .cloned()
            .or_else(|| c.arg(2).cloned())
            .unwrap_or_else(|| c.fail("key not found and no default")),
        _ => c.fail("arguments are not a map and a known key"),
    }
}

fn element(c: &Call<'_, '_>) -> Value {
    match (c.list_arg(0), c.arg(1).and_then(number)) {
        (Some(items), Some(i)) if !items.is_empty() && i >= 0.0 => items
            .get(i as usize % items.len())
            .cloned()
            .unwrap_or_else(|| c.fail("index out of range")),
        _ => c.fail("arguments are not a non-empty list and an index"),
    }
}

fn length(c: &Call<'_, '_>) -> Value {
    match c.arg(0).map(|a| &a.kind) {
        Some(ValueKind::List(items)) => c.number(items.len() as f64),
        Some(ValueKind::Map(entries)) => c.number(entries.len() as f64),
        Some(ValueKind::Str(t)) => match t.as_literal() {
            Some(s) => c.number(s.chars().count() as f64),
            None => c.fail("the string is not fully known"),
        },
        _ => c.fail("argument has no length"),
    }
}

/// `lower` and `upper`: the literal parts change case; symbols stay.
fn change_case(c: &Call<'_, '_>) -> Value {
    let Some(t) = c.arg(0).and_then(Value::to_template) else {
        return c.fail("argument is not a string");
    };
    let mut out = Template::default();
    for part in t.parts() {
        match part {
            Part::Lit(s) if c.name == "lower" => out.push_str(&s.to_lowercase()),
            Part::Lit(s) => out.push_str(&s.to_uppercase()),
            Part::Sym(sym) => out.push_sym(sym.clone()),
        }
    }
    c.string(out)
}

fn replace(c: &Call<'_, '_>) -> Value {
    match (c.lit(0), c.lit(1), c.lit(2)) {
        (_, Some(from), _) if is_regex_pattern(&from) => c.fail(&format!(
            "the search string {from} is a regular expression, which kdsguard does not evaluate"
        )),
        (Some(s), Some(from), Some(to)) => {
            if from.is_empty() {
                return c.fail("empty search string");
            }
            let out = s.replace(from.as_str(), &to);
            if out.len() > c.limit() {
                return c.ev.text_too_long(c.span, out.len(), c.limit());
            }
            Value::str(out, c.span)
        }
        (None, _, _) => c.fail("the string is not a fully known literal"),
        (_, None, _) => c.fail("the search string is not a known literal"),
        (_, _, None) => c.fail("the replacement is not a known literal"),
    }
}

/// `trimprefix` and `trimsuffix`, on the first or last literal part.
fn trim_affix(c: &Call<'_, '_>) -> Value {
    let (Some(t), Some(affix)) = (c.arg(0).and_then(Value::to_template), c.lit(1)) else {
        return c.fail("arguments are not strings");
    };
    let parts = t.parts();
    let mut out = Template::default();
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Lit(s) if c.name == "trimprefix" && i == 0 => {
                out.push_str(s.strip_prefix(affix.as_str()).unwrap_or(s))
            }
            Part::Lit(s) if c.name == "trimsuffix" && i + 1 == parts.len() => {
                out.push_str(s.strip_suffix(affix.as_str()).unwrap_or(s))
            }
            Part::Lit(s) => out.push_str(s),
            Part::Sym(sym) => out.push_sym(sym.clone()),
        }
    }
    c.string(out)
}

/// `trimspace` and `chomp`.
fn trim(c: &Call<'_, '_>) -> Value {
    match c.lit(0) {
        Some(s) if c.name == "trimspace" => Value::str(s.trim(), c.span),
        Some(s) => Value::str(s.trim_end_matches(['\n', '\r']), c.span),
        None => c.fail("argument is not a known string"),
    }
}

/// `tolist` and `toset` (which drops repeated elements).
fn to_collection(c: &Call<'_, '_>) -> Value {
    match c.arg(0).map(|v| (v, &v.kind)) {
        Some((_, ValueKind::List(items))) if c.name == "toset" => c.list(distinct(items)),
        Some((v, ValueKind::List(_))) => v.clone(),
        Some(_) => c.fail("argument is not a list"),
        None => c.fail("missing argument"),
    }
}

fn tonumber(c: &Call<'_, '_>) -> Value {
    match c.arg(0).and_then(number) {
        Some(n) => c.number(n),
        None => c.fail("argument is not a number"),
    }
}

fn tobool(c: &Call<'_, '_>) -> Value {
    match c.arg(0).and_then(Value::as_bool) {
        Some(b) => c.bool(b),
        None => c.fail("argument is not a boolean"),
    }
}

fn flatten_list(c: &Call<'_, '_>) -> Value {
    let Some(v) = c.arg(0) else {
        return c.fail("missing argument");
    };
    let mut out = Vec::new();
    if flatten(v, &mut out, 0) {
        c.list(out)
    } else {
        c.fail("argument is not a list of known lists")
    }
}

fn distinct_list(c: &Call<'_, '_>) -> Value {
    match c.list_arg(0) {
        Some(items) => c.list(distinct(items)),
        None => c.fail("argument is not a list"),
    }
}

fn compact(c: &Call<'_, '_>) -> Value {
    match c.list_arg(0) {
        Some(items) => c.list(
            items
                .iter()
                .filter(|i| !matches!(&i.kind, ValueKind::Null) && i.as_str() != Some(""))
                .cloned()
                .collect(),
        ),
        None => c.fail("argument is not a list"),
    }
}

fn contains(c: &Call<'_, '_>) -> Value {
    let (Some(items), Some(x)) = (c.list_arg(0), c.arg(1)) else {
        return c.fail("arguments are not a list and a value");
    };
    let mut undecided = false;
    for item in items {
        match equal(item, x) {
            Some(true) => return c.bool(true),
            Some(false) => {}
            None => undecided = true,
        }
    }
    if undecided {
        c.fail("an element is not known")
    } else {
        c.bool(false)
    }
}

fn keys_or_values(c: &Call<'_, '_>) -> Value {
    match c.arg(0).and_then(iterate) {
        Some(pairs) if matches!(c.arg(0).map(|a| &a.kind), Some(ValueKind::Map(_))) => c.list(
            pairs
                .into_iter()
                .map(|(k, v)| if c.name == "keys" { k } else { v })
                .collect(),
        ),
        _ => c.fail("argument is not a map"),
    }
}

fn zipmap(c: &Call<'_, '_>) -> Value {
    let (Some(ks), Some(vs)) = (c.list_arg(0), c.list_arg(1)) else {
        return c.fail("arguments are not lists");
    };
    let mut entries = Vec::new();
    for (k, v) in ks.iter().zip(vs) {
        let Some(key) = k.as_str() else {
            return c.fail("a key is not a known string");
        };
        entries.push(Entry {
            key: key.to_string(),
            key_span: k.span,
            value: v.clone(),
        });
    }
    Value::new(ValueKind::Map(entries), c.span)
}

fn one(c: &Call<'_, '_>) -> Value {
    match c.list_arg(0) {
        Some([]) => Value::new(ValueKind::Null, c.span),
        Some([x]) => x.clone(),
        _ => c.fail("argument is not a list of at most one element"),
    }
}

fn reverse(c: &Call<'_, '_>) -> Value {
    match c.list_arg(0) {
        Some(items) => c.list(items.iter().rev().cloned().collect()),
        None => c.fail("argument is not a list"),
    }
}

fn sort(c: &Call<'_, '_>) -> Value {
    let Some(items) = c.list_arg(0) else {
        return c.fail("argument is not a list");
    };
    let mut keyed: Vec<(String, Value)> = Vec::new();
    for item in items {
        match item.to_template().as_ref().and_then(Template::as_literal) {
            Some(s) => keyed.push((s.to_string(), item.clone())),
            None => return c.fail("an element is not a known string"),
        }
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    c.list(keyed.into_iter().map(|(_, v)| v).collect())
}

fn range(c: &Call<'_, '_>) -> Value {
    let nums: Vec<f64> = c.args.iter().filter_map(number).collect();
    let (start, end, step) = match nums.as_slice() {
        [e] => (0.0, *e, 1.0),
        [s, e] => (*s, *e, if s <= e { 1.0 } else { -1.0 }),
        [s, e, st] => (*s, *e, *st),
        _ => return c.fail("arguments are not numbers"),
    };
    if step == 0.0 {
        return c.fail("step is zero");
    }
    let count = ((end - start) / step).ceil();
    if count > MAX_ITEMS as f64 {
        return c.fail(&format!(
            "{count} elements are more than the {MAX_ITEMS} kdsguard evaluates one by one"
        ));
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        out.push(c.number(x));
        x += step;
    }
    c.list(out)
}

/// `max` and `min`.
fn max_or_min(c: &Call<'_, '_>) -> Value {
    let nums: Option<Vec<f64>> = c.args.iter().map(number).collect();
    match nums {
        Some(ns) if !ns.is_empty() => {
            let max = c.name == "max";
            let start = if max { f64::MIN } else { f64::MAX };
            let r = ns
                .iter()
                .copied()
                .fold(start, |a, b| if max { a.max(b) } else { a.min(b) });
            c.number(r)
        }
        _ => c.fail("arguments are not numbers"),
    }
}

fn abs(c: &Call<'_, '_>) -> Value {
    match c.arg(0).and_then(number) {
        Some(n) => c.number(n.abs()),
        None => c.fail("argument is not a number"),
    }
}

fn file(c: &Call<'_, '_>) -> Value {
    let Some(path) = c.lit(0) else {
        return c.fail("the path is not known");
    };
    match c.ev.read_confined(&path, c.span) {
        Ok((id, text)) => {
            let mut b = TextBuilder::new();
            let offsets = (0..text.len()).map(|i| u32::try_from(i).unwrap_or(u32::MAX)).collect();
            b.push_exact(&text, id, offsets);
            c.ev.finish_text_public(b, Span::new(id, 0, text.len()))
        }
        Err(why) => c.fail(why.message()),
    }
}

fn templatefile(c: &Call<'_, '_>) -> Value {
    let (Some(path), Some(vars)) = (c.lit(0), c.arg(1)) else {
        return c.fail("the path is not known");
    };
    match c.ev.read_confined(&path, c.span) {
        Ok((id, text)) => c.ev.render_template_file(id, &text, vars, c.span),
        Err(why) => c.fail(why.message()),
    }
}

fn fileexists(c: &Call<'_, '_>) -> Value {
    match c.lit(0) {
        Some(path) => match c.ev.read_confined(&path, c.span) {
            Ok(_) => c.bool(true),
            Err(Unread::Missing(_)) => c.bool(false),
            Err(Unread::Refused(why)) => c.fail(&why),
        },
        None => c.fail("the path is not known"),
    }
}

fn distinct(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.iter().any(|o| equal(o, item) == Some(true)) {
            out.push(item.clone());
        }
    }
    out
}

fn flatten(v: &Value, out: &mut Vec<Value>, depth: usize) -> bool {
    if depth > 32 || out.len() > MAX_ITEMS {
        return false;
    }
    match &v.kind {
        ValueKind::List(items) => items.iter().all(|i| flatten(i, out, depth + 1)),
        ValueKind::Unknown(_) => false,
        _ if depth == 0 => false,
        _ => {
            out.push(v.clone());
            true
        }
    }
}

/// `formatlist`: `format` once per element of the list arguments (all of one length);
/// scalar arguments repeat.
fn formatlist(args: &[Value], span: Span, limit: usize) -> Result<Value, FormatError> {
    let mut len: Option<usize> = None;
    for a in args.iter().skip(1) {
        if let Some(items) = a.as_list() {
            match len {
                Some(n) if n != items.len() => return Err(FormatError::UnequalLists),
                _ => len = Some(items.len()),
            }
        }
    }
    let n = len.unwrap_or(1);
    if n > MAX_ITEMS {
        return Err(FormatError::TooMany(n));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let row: Vec<Value> = args
            .iter()
            .enumerate()
            .map(|(k, a)| match a.as_list() {
                Some(items) if k > 0 => items.get(i).cloned().unwrap_or_else(|| a.clone()),
                _ => a.clone(),
            })
            .collect();
        out.push(Value::new(ValueKind::Str(format(&row, limit)?), span));
    }
    Ok(Value::new(ValueKind::List(out), span))
}

/// Terraform's `format`: verbs `%s %d %v %#v %q %t %f %e %g %x %X %o %b %%`, with
/// flags, width, precision and explicit argument indexes (`%[2]s`). A string argument
/// with symbols is kept symbolic under `%s`/`%v` without width.
fn format(args: &[Value], limit: usize) -> Result<Template, FormatError> {
    let spec = args.first().and_then(Value::as_str).ok_or(FormatError::UnknownFormat)?;
    let mut out = Template::default();
    let mut next = 1;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push_str(c.encode_utf8(&mut [0; 4]));
            continue;
        }
        let verb = Verb::parse(&mut chars)?;
        if verb.width > limit || verb.precision.is_some_and(|p| p > limit) {
            return Err(FormatError::Limit(
                Limit::TemplateLength.exceeded("a width or precision is longer than the longest string", limit),
            ));
        }
        if verb.verb == '%' {
            out.push_str("%");
            continue;
        }
        next = verb.index.unwrap_or(next);
        let arg = args.get(next).ok_or(FormatError::TooFewArguments)?;
        next += 1;
        verb.render(arg, &mut out)?;
        if out
            .parts()
            .iter()
            .map(|p| if let Part::Lit(l) = p { l.len() } else { 0 })
            .sum::<usize>()
            > limit
        {
            return Err(FormatError::Limit(
                Limit::TemplateLength.exceeded("the result is too long", limit),
            ));
        }
    }
    Ok(out)
}

/// Why `format` or `formatlist` gives no value: the text of the call's note or error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum FormatError {
    #[error("the lists are not of one length")]
    UnequalLists,
    #[error("{0} elements are more than the {max} kdsguard evaluates one by one", max = MAX_ITEMS)]
    TooMany(usize),
    #[error("the format is not a known string")]
    UnknownFormat,
    /// A limit exceeded, in [`Limit::exceeded`]'s words.
    #[error("{0}")]
    Limit(String),
    #[error("too few arguments")]
    TooFewArguments,
    #[error("a bad argument index")]
    BadIndex,
    #[error("the format ends in `%`")]
    TrailingPercent,
    /// `%s`/`%v` of a value that is not text (its type).
    #[error("%{verb} of a {type_name}")]
    NotText { verb: char, type_name: &'static str },
    #[error("%t of a value that is not a boolean")]
    NotBoolean,
    #[error("verb %{0} is not supported")]
    Unsupported(char),
    #[error("%{0} of a value that is not a number")]
    NotANumber(char),
    #[error("%{0} of a number that is not a whole number")]
    NotWhole(char),
    /// A scalar (its type) that is not fully known.
    #[error("a {0} that is not fully known")]
    UnknownScalar(&'static str),
    #[error("a value that is not fully known")]
    UnknownValue,
}

/// One `%…` of a format string.
struct Verb {
    flags: String,
    width: usize,
    precision: Option<usize>,
    /// An explicit argument index (`%[2]s`).
    index: Option<usize>,
    verb: char,
}

impl Verb {
    /// Reads what follows a `%`.
    fn parse(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Verb, FormatError> {
        let mut take = |accept: &dyn Fn(char) -> bool| {
            let mut s = String::new();
            while let Some(&c) = chars.peek().filter(|c| accept(**c)) {
                s.push(c);
                chars.next();
            }
            s
        };
        let flags = take(&|f| "-+ #0".contains(f));
        // A width or precision too large for a number is refused by the length limit.
        let number = |digits: String| {
            if digits.is_empty() {
                0
            } else {
                digits.parse().unwrap_or(usize::MAX)
            }
        };
        let width = number(take(&|d| d.is_ascii_digit()));
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let digits: String = std::iter::from_fn(|| chars.next_if(char::is_ascii_digit)).collect();
            precision = Some(number(digits));
        }
        let mut index = None;
        if chars.peek() == Some(&'[') {
            chars.next();
            let idx: String = chars.by_ref().take_while(|&d| d != ']').collect();
            index = Some(idx.parse().map_err(|_| FormatError::BadIndex)?);
        }
        let verb = chars.next().ok_or(FormatError::TrailingPercent)?;
        Ok(Verb {
            flags,
            width,
            precision,
            index,
            verb,
        })
    }

    /// Appends `arg` formatted by this verb.
    fn render(&self, arg: &Value, out: &mut Template) -> Result<(), FormatError> {
        let (verb, flags) = (self.verb, self.flags.as_str());
        let text = match verb {
            's' | 'v' if flags.is_empty() && self.width == 0 && self.precision.is_none() => match arg.to_template() {
                Some(t) => {
                    out.push_template(&t);
                    return Ok(());
                }
                None if verb == 'v' || flags.contains('#') => literal_json(arg)?,
                None => {
                    return Err(FormatError::NotText {
                        verb,
                        type_name: arg.type_name(),
                    });
                }
            },
            'v' if flags.contains('#') => literal_json(arg)?,
            's' | 'v' => {
                let s = known_text(arg)?;
                match self.precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'q' => literal_json(&Value::new(ValueKind::Str(Template::lit(known_text(arg)?)), arg.span))?,
            't' => arg.as_bool().ok_or(FormatError::NotBoolean)?.to_string(),
            'd' | 'x' | 'X' | 'o' | 'b' => self.integer(arg)?,
            'f' | 'e' | 'g' => self.float(arg)?,
            other => return Err(FormatError::Unsupported(other)),
        };
        self.pad(&text, out);
        Ok(())
    }

    fn integer(&self, arg: &Value) -> Result<String, FormatError> {
        let verb = self.verb;
        let n = number(arg).ok_or(FormatError::NotANumber(verb))?;
        if n.fract() != 0.0 || n.abs() >= 9.0e15 {
            return Err(FormatError::NotWhole(verb));
        }
        let i = n as i64;
        let sign = if i < 0 {
            "-"
        } else if self.flags.contains('+') {
            "+"
        } else {
            ""
        };
        let mag = i.unsigned_abs();
        let digits = match verb {
            'x' => format!("{mag:x}"),
            'X' => format!("{mag:X}"),
            'o' => format!("{mag:o}"),
            'b' => format!("{mag:b}"),
            _ => mag.to_string(),
        };
        Ok(format!("{sign}{digits}"))
    }

    fn float(&self, arg: &Value) -> Result<String, FormatError> {
        let verb = self.verb;
        let n = number(arg).ok_or(FormatError::NotANumber(verb))?;
        let p = self.precision.unwrap_or(6);
        let body = match verb {
            'f' => format!("{n:.p$}"),
            'e' => format!("{n:.p$e}"),
            _ => n.to_string(),
        };
        Ok(if self.flags.contains('+') && n >= 0.0 {
            format!("+{body}")
        } else {
            body
        })
    }

    /// Pads `text` to the width: left-aligned with `-`, zero-filled after the sign with `0`
    /// (numbers only), else right-aligned.
    fn pad(&self, text: &str, out: &mut Template) {
        let pad = self.width.saturating_sub(text.chars().count());
        if self.flags.contains('-') {
            out.push_str(text);
            out.push_str(&" ".repeat(pad));
        } else if self.flags.contains('0') && !matches!(self.verb, 's' | 'v' | 'q' | 't') {
            let (sign, digits) = match text.strip_prefix(['-', '+']) {
                Some(rest) => (text.get(..1).unwrap_or_default(), rest),
                None => ("", text),
            };
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(text);
        }
    }
}

/// Whether a `replace` search string is a `/regex/` (Terraform's convention).
fn is_regex_pattern(s: &str) -> bool {
    s.len() > 1 && s.starts_with('/') && s.ends_with('/')
}

/// A fully known scalar as text.
fn known_text(v: &Value) -> Result<String, FormatError> {
    v.to_template()
        .and_then(|t| t.as_literal().map(str::to_string))
        .ok_or_else(|| FormatError::UnknownScalar(v.type_name()))
}

/// A fully known value as JSON text (`%#v`, `%q`).
fn literal_json(v: &Value) -> Result<String, FormatError> {
    to_json(v)
        .as_literal()
        .map(str::to_string)
        .ok_or(FormatError::UnknownValue)
}

/// Why `file()` and its kin read nothing.
pub(crate) enum Unread {
    /// Nothing is there: `fileexists()` is false.
    Missing(String),
    /// Outside the analysis root, a symlink loop, or unreadable: unknown (and an error).
    Refused(String),
}

impl Unread {
    pub fn message(&self) -> &str {
        match self {
            Unread::Missing(m) | Unread::Refused(m) => m,
        }
    }
}

/// Whether a refusal names something that is there: a file outside the root, or a loop
/// (a path that only folds outside the root lexically names nothing).
fn real_escape(refusal: &crate::load::confine::Refusal) -> bool {
    match refusal {
        crate::load::confine::Refusal::Outside { resolved } => resolved.exists(),
        crate::load::confine::Refusal::Loop => true,
        crate::load::confine::Refusal::Missing => false,
    }
}

impl Eval<'_> {
    /// Reads a file named by `file()`/`templatefile()`/`fileexists()`, confined to the
    /// analysis root. A path outside it (or a symlink loop) is also a load error at `span`.
    pub(crate) fn read_confined(&self, path: &str, span: Span) -> Result<(FileId, String), Unread> {
        use crate::load::confine::{Refusal, resolve_inside};
        let p = Path::new(path);
        let candidates: Vec<PathBuf> = if p.is_absolute() {
            vec![p.to_path_buf()]
        } else {
            vec![self.ctx.cwd.join(p), self.m.dir.join(p)]
        };
        let mut refusal = Refusal::Missing;
        // Whether some candidate lies inside the root with nothing there: the file is then
        // only missing, unless another candidate really is a file (or a loop) outside it.
        let mut missing_inside = false;
        for c in candidates {
            match resolve_inside(&c, &self.ctx.root) {
                Ok(full) if full.is_file() => {
                    let display = crate::paths::display_path(&full, &self.ctx.cwd);
                    let (id, text) = match crate::load::read_source(&full, &display, self.ctx.sources) {
                        Ok(read) => read,
                        Err(e) => return Err(self.refuse(span, format!("`{path}`: {}", e.message))),
                    };
                    self.add_text(id, text.clone());
                    return Ok((id, text.to_string()));
                }
                Ok(_) | Err(Refusal::Missing) => missing_inside = true,
                // The first refusal, unless a later one names something really there.
                Err(r) if !real_escape(&refusal) && (refusal == Refusal::Missing || real_escape(&r)) => refusal = r,
                Err(_) => {}
            }
        }
        if missing_inside && !real_escape(&refusal) {
            refusal = Refusal::Missing;
        }
        let message = refusal.message(path, &self.ctx.root, &self.ctx.cwd);
        if !refusal.is_error() {
            return Err(Unread::Missing(message));
        }
        Err(self.refuse(span, message))
    }

    /// Records why a named file is not read as a load error at `span`.
    fn refuse(&self, span: Span, message: String) -> Unread {
        self.errors.borrow_mut().push(crate::model::LoadError {
            path: self.ctx.sources.path(span),
            span: Some(span),
            message: message.clone(),
        });
        Unread::Refused(message)
    }

    /// Renders a `templatefile` with its variables.
    pub(crate) fn render_template_file(&self, id: FileId, text: &str, vars: &Value, span: Span) -> Value {
        let tpl = match hcl_edit::parser::parse_template(text) {
            Ok(t) => t,
            Err(e) => {
                return self.unknown_at(
                    span,
                    format!("templatefile(): the template does not parse: {}", e.message()),
                );
            }
        };
        let bindings: Vec<(String, Value)> = vars
            .entries()
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect();
        let root = Scope::root();
        let scope = root.with_all(bindings);
        let whole = Span::new(id, 0, text.len());
        let mut v = self.template(&tpl, id, &scope, whole, true);
        if !matches!(v.kind, ValueKind::Str(_)) {
            v.span = whole;
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_errors_say_what_is_wrong() {
        let s = Span::builtin();
        let why = |args: Vec<Value>| format(&args, 1 << 20).err().map(|e| e.to_string());
        assert_eq!(
            why(vec![Value::str("%y", s), Value::str("a", s)]).as_deref(),
            Some("verb %y is not supported")
        );
        assert_eq!(why(vec![Value::str("%", s)]).as_deref(), Some("the format ends in `%`"));
        assert_eq!(
            why(vec![Value::str("%d", s), Value::str("a", s)]).as_deref(),
            Some("%d of a value that is not a number")
        );
        assert_eq!(
            FormatError::TooMany(MAX_ITEMS + 1).to_string(),
            format!(
                "{} elements are more than the {MAX_ITEMS} kdsguard evaluates one by one",
                MAX_ITEMS + 1
            )
        );
        let lists = vec![
            Value::str("%s", s),
            Value::new(ValueKind::List(vec![Value::str("a", s)]), s),
            Value::new(ValueKind::List(Vec::new()), s),
        ];
        assert_eq!(
            formatlist(&lists, s, 1 << 20).err().map(|e| e.to_string()).as_deref(),
            Some("the lists are not of one length")
        );
    }

    #[test]
    fn the_function_table_is_sorted_and_names_each_function_once() {
        for pair in BUILTINS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} must come after {}", pair[0].0, pair[1].0);
        }
    }

    #[test]
    fn format_verbs_flags_width_precision_and_indexes() {
        let s = Span::builtin();
        let args = |spec: &str, rest: Vec<Value>| {
            let mut v = vec![Value::str(spec, s)];
            v.extend(rest);
            v
        };
        let text = |spec: &str, rest: Vec<Value>| format(&args(spec, rest), 1 << 20).map(|t| t.to_string());
        assert_eq!(
            text("%s-%d", vec![Value::str("a", s), num_value(7.0, s)]).as_deref(),
            Ok("a-7")
        );
        assert_eq!(
            text(
                "%05d|%-4s|%x",
                vec![num_value(-42.0, s), Value::str("ab", s), num_value(255.0, s)]
            )
            .as_deref(),
            Ok("-0042|ab  |ff")
        );
        assert_eq!(
            text("%.2f %+d", vec![num_value(1.23456, s), num_value(5.0, s)]).as_deref(),
            Ok("1.23 +5")
        );
        assert_eq!(
            text("%[2]s %[1]s %%", vec![Value::str("x", s), Value::str("y", s)]).as_deref(),
            Ok("y x %")
        );
        assert_eq!(
            text("%.1s|%q", vec![Value::str("hello", s), Value::str("q", s)]).as_deref(),
            Ok("h|\"q\"")
        );
        assert!(text("%d", vec![num_value(1.5, s)]).is_err());
        assert!(text("%s %s", vec![Value::str("only", s)]).is_err());
        assert!(text("%", vec![]).is_err());
        assert!(text("%y", vec![Value::str("a", s)]).is_err());
    }
}
