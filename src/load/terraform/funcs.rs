//! Terraform built-in functions the analyzer evaluates; any other function is unknown.
//!
//! Functions work on known values; an unknown argument makes the result unknown (except
//! `try`, `coalesce` and friends, which skip what they can). `jsonencode` of an object
//! returns the object itself, so that a policy written as `jsonencode({...})` keeps the
//! spans of its statements; interpolating such a value renders it as JSON text.

use std::path::{Path, PathBuf};

use hcl_edit::expr::Expression;

use super::eval::{Eval, MAX_ITEMS, Scope, equal, iterate, num_value, number, to_json, unknown_reason};
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
        "try" => {
            let mut last = None;
            for a in arg_exprs {
                let v = ev.expr(a, file, scope);
                if !v.is_unknown() {
                    return v;
                }
                last = Some(v);
            }
            return last.unwrap_or_else(|| ev.unknown_at(span, "try() with no arguments"));
        }
        "can" => {
            let v = arg_exprs.first().map(|a| ev.expr(a, file, scope));
            return match v {
                Some(v) if !v.is_unknown() => Value::new(ValueKind::Bool(true), span),
                _ => ev.unknown_at(span, "can() of a value that is not known"),
            };
        }
        _ => {}
    }
    let mut args: Vec<Value> = arg_exprs.iter().map(|a| ev.expr(a, file, scope)).collect();
    if expand_final && let Some(last) = args.pop() {
        match last.kind {
            ValueKind::List(items) => args.extend(items),
            _ => return ev.unknown_at(span, "the expanded final argument is not a known list"),
        }
    }
    let unknown_arg = args.iter().find(|a| a.is_unknown()).cloned();
    let fail = |reason: &str| {
        let message = format!("{name}(): {reason}");
        if Limit::is_exceeded_message(reason) {
            ev.errors.borrow_mut().push(crate::model::LoadError {
                path: ev.ctx.sources.path(span),
                span: Some(span),
                message: message.clone(),
            });
        }
        ev.unknown_at(span, message)
    };
    // Functions that tolerate unknown arguments.
    match name {
        "coalesce" => {
            for a in &args {
                match &a.kind {
                    ValueKind::Unknown { .. } => return a.clone(),
                    ValueKind::Null => {}
                    ValueKind::Str(t) if t.as_literal() == Some("") => {}
                    _ => return a.clone(),
                }
            }
            return fail("no non-empty argument");
        }
        "coalescelist" => {
            for a in &args {
                match &a.kind {
                    ValueKind::Unknown { .. } => return a.clone(),
                    ValueKind::List(items) if items.is_empty() => {}
                    _ => return a.clone(),
                }
            }
            return fail("no non-empty list");
        }
        "sensitive" | "nonsensitive" | "tostring" | "tomap" => {
            return args.into_iter().next().unwrap_or_else(|| fail("missing argument"));
        }
        _ => {}
    }
    if let Some(u) = unknown_arg {
        let reason = unknown_reason(&u).unwrap_or("unknown");
        return ev.unknown_at(span, format!("an argument of {name}() is not known: {reason}"));
    }
    let arg = |i: usize| args.get(i);
    let lit = |i: usize| {
        arg(i)
            .and_then(|a| a.to_template())
            .and_then(|t| t.as_literal().map(str::to_string))
    };
    let list = |items: Vec<Value>| Value::new(ValueKind::List(items), span);
    let string = |t: Template| {
        let limit = ev.ctx.sources.limits().template_length;
        let len: usize = t
            .parts()
            .iter()
            .map(|p| if let Part::Lit(l) = p { l.len() } else { 0 })
            .sum();
        if len > limit {
            return ev.text_too_long(span, len, limit);
        }
        Value::new(ValueKind::Str(t), span)
    };
    match name {
        "jsonencode" => match arg(0) {
            Some(v) if matches!(v.kind, ValueKind::List(_) | ValueKind::Map(_)) => v.clone(),
            Some(v) => string(to_json(v)),
            None => fail("missing argument"),
        },
        "jsondecode" => match arg(0) {
            Some(v) if matches!(v.kind, ValueKind::List(_) | ValueKind::Map(_)) => v.clone(),
            Some(v) => match v.as_template() {
                Some(t) => ev
                    .parse_json_string(v, t)
                    .unwrap_or_else(|e| fail(&format!("not valid JSON: {}", e.value))),
                None => fail("argument is not a string"),
            },
            None => fail("missing argument"),
        },
        "format" => match format(&args, ev.ctx.sources.limits().template_length) {
            Ok(t) => string(t),
            Err(why) => fail(&why),
        },
        "formatlist" => {
            formatlist(&args, span, ev.ctx.sources.limits().template_length).unwrap_or_else(|why| fail(&why))
        }
        "join" => {
            let Some(sep) = arg(0).and_then(Value::to_template) else {
                return fail("separator is not a string");
            };
            let mut out = Template::default();
            let mut first = true;
            for l in args.iter().skip(1) {
                let Some(items) = l.as_list() else {
                    return fail("argument is not a list");
                };
                for item in items {
                    let Some(t) = item.to_template() else {
                        return fail("element is not a string");
                    };
                    if !first {
                        out.push_template(&sep);
                    }
                    first = false;
                    out.push_template(&t);
                }
            }
            string(out)
        }
        "split" => match (lit(0), lit(1)) {
            (Some(sep), Some(s)) if !sep.is_empty() => {
                list(s.split(sep.as_str()).map(|p| Value::str(p, span)).collect())
            }
            _ => fail("arguments are not known strings"),
        },
        "concat" => {
            let mut out = Vec::new();
            for a in &args {
                match a.as_list() {
                    Some(items) => out.extend(items.iter().cloned()),
                    None => return fail("argument is not a list"),
                }
            }
            list(out)
        }
        "merge" => {
            let mut entries: Vec<Entry> = Vec::new();
            for a in &args {
                match &a.kind {
                    ValueKind::Map(es) => {
                        for e in es {
                            entries.retain(|x| x.key != e.key);
                            entries.push(e.clone());
                        }
                    }
                    ValueKind::Null => {}
                    _ => return fail("argument is not a map"),
                }
            }
            Value::new(ValueKind::Map(entries), span)
        }
        "lookup" => match (arg(0), lit(1)) {
            (Some(m), Some(k)) if matches!(m.kind, ValueKind::Map(_)) => m
                .get(&k)
                .cloned()
                .or_else(|| arg(2).cloned())
                .unwrap_or_else(|| fail("key not found and no default")),
            _ => fail("arguments are not a map and a known key"),
        },
        "element" => match (arg(0).and_then(Value::as_list), arg(1).and_then(number)) {
            (Some(items), Some(i)) if !items.is_empty() && i >= 0.0 => items
                .get(i as usize % items.len())
                .cloned()
                .unwrap_or_else(|| fail("index out of range")),
            _ => fail("arguments are not a non-empty list and an index"),
        },
        "length" => match arg(0).map(|a| &a.kind) {
            Some(ValueKind::List(items)) => num_value(items.len() as f64, span),
            Some(ValueKind::Map(entries)) => num_value(entries.len() as f64, span),
            Some(ValueKind::Str(t)) => match t.as_literal() {
                Some(s) => num_value(s.chars().count() as f64, span),
                None => fail("the string is not fully known"),
            },
            _ => fail("argument has no length"),
        },
        "lower" | "upper" => match arg(0).and_then(Value::to_template) {
            Some(t) => {
                let mut out = Template::default();
                for part in t.parts() {
                    match part {
                        Part::Lit(s) if name == "lower" => out.push_str(&s.to_lowercase()),
                        Part::Lit(s) => out.push_str(&s.to_uppercase()),
                        Part::Sym(sym) => out.push_sym(sym.clone()),
                    }
                }
                string(out)
            }
            None => fail("argument is not a string"),
        },
        "replace" => match (lit(0), lit(1), lit(2)) {
            (_, Some(from), _) if is_regex_pattern(&from) => fail(&format!(
                "the search string {from} is a regular expression, which kdsguard does not evaluate"
            )),
            (Some(s), Some(from), Some(to)) => {
                if from.is_empty() {
                    return fail("empty search string");
                }
                let out = s.replace(from.as_str(), &to);
                let limit = ev.ctx.sources.limits().template_length;
                if out.len() > limit {
                    return ev.text_too_long(span, out.len(), limit);
                }
                Value::str(out, span)
            }
            (None, _, _) => fail("the string is not a fully known literal"),
            (_, None, _) => fail("the search string is not a known literal"),
            (_, _, None) => fail("the replacement is not a known literal"),
        },
        "trimprefix" | "trimsuffix" => match (arg(0).and_then(Value::to_template), lit(1)) {
            (Some(t), Some(affix)) => {
                let parts = t.parts();
                let mut out = Template::default();
                for (i, part) in parts.iter().enumerate() {
                    match part {
                        Part::Lit(s) if name == "trimprefix" && i == 0 => {
                            out.push_str(s.strip_prefix(affix.as_str()).unwrap_or(s))
                        }
                        Part::Lit(s) if name == "trimsuffix" && i + 1 == parts.len() => {
                            out.push_str(s.strip_suffix(affix.as_str()).unwrap_or(s))
                        }
                        Part::Lit(s) => out.push_str(s),
                        Part::Sym(sym) => out.push_sym(sym.clone()),
                    }
                }
                string(out)
            }
            _ => fail("arguments are not strings"),
        },
        "trimspace" | "chomp" => match lit(0) {
            Some(s) if name == "trimspace" => Value::str(s.trim(), span),
            Some(s) => Value::str(s.trim_end_matches(['\n', '\r']), span),
            None => fail("argument is not a known string"),
        },
        "tolist" | "toset" => match arg(0) {
            Some(v) => match &v.kind {
                ValueKind::List(items) if name == "toset" => list(distinct(items)),
                ValueKind::List(_) => v.clone(),
                _ => fail("argument is not a list"),
            },
            None => fail("missing argument"),
        },
        "tonumber" => match arg(0).and_then(number) {
            Some(n) => num_value(n, span),
            None => fail("argument is not a number"),
        },
        "tobool" => match arg(0).and_then(Value::as_bool) {
            Some(b) => Value::new(ValueKind::Bool(b), span),
            None => fail("argument is not a boolean"),
        },
        "flatten" => match arg(0) {
            Some(v) => {
                let mut out = Vec::new();
                if flatten(v, &mut out, 0) {
                    list(out)
                } else {
                    fail("argument is not a list of known lists")
                }
            }
            None => fail("missing argument"),
        },
        "distinct" => match arg(0).and_then(Value::as_list) {
            Some(items) => list(distinct(items)),
            None => fail("argument is not a list"),
        },
        "compact" => match arg(0).and_then(Value::as_list) {
            Some(items) => list(
                items
                    .iter()
                    .filter(|i| !matches!(&i.kind, ValueKind::Null) && i.as_str() != Some(""))
                    .cloned()
                    .collect(),
            ),
            None => fail("argument is not a list"),
        },
        "contains" => match (arg(0).and_then(Value::as_list), arg(1)) {
            (Some(items), Some(x)) => {
                let mut undecided = false;
                for item in items {
                    match equal(item, x) {
                        Some(true) => return Value::new(ValueKind::Bool(true), span),
                        Some(false) => {}
                        None => undecided = true,
                    }
                }
                if undecided {
                    fail("an element is not known")
                } else {
                    Value::new(ValueKind::Bool(false), span)
                }
            }
            _ => fail("arguments are not a list and a value"),
        },
        "keys" | "values" => match arg(0).and_then(iterate) {
            Some(pairs) if matches!(arg(0).map(|a| &a.kind), Some(ValueKind::Map(_))) => list(
                pairs
                    .into_iter()
                    .map(|(k, v)| if name == "keys" { k } else { v })
                    .collect(),
            ),
            _ => fail("argument is not a map"),
        },
        "zipmap" => match (arg(0).and_then(Value::as_list), arg(1).and_then(Value::as_list)) {
            (Some(ks), Some(vs)) => {
                let mut entries = Vec::new();
                for (k, v) in ks.iter().zip(vs) {
                    let Some(key) = k.as_str() else {
                        return fail("a key is not a known string");
                    };
                    entries.push(Entry {
                        key: key.to_string(),
                        key_span: k.span,
                        value: v.clone(),
                    });
                }
                Value::new(ValueKind::Map(entries), span)
            }
            _ => fail("arguments are not lists"),
        },
        "one" => match arg(0).and_then(Value::as_list) {
            Some([]) => Value::new(ValueKind::Null, span),
            Some([x]) => x.clone(),
            _ => fail("argument is not a list of at most one element"),
        },
        "reverse" => match arg(0).and_then(Value::as_list) {
            Some(items) => list(items.iter().rev().cloned().collect()),
            None => fail("argument is not a list"),
        },
        "sort" => match arg(0).and_then(Value::as_list) {
            Some(items) => {
                let mut keyed: Vec<(String, Value)> = Vec::new();
                for item in items {
                    match item.to_template().as_ref().and_then(Template::as_literal) {
                        Some(s) => keyed.push((s.to_string(), item.clone())),
                        None => return fail("an element is not a known string"),
                    }
                }
                keyed.sort_by(|a, b| a.0.cmp(&b.0));
                list(keyed.into_iter().map(|(_, v)| v).collect())
            }
            None => fail("argument is not a list"),
        },
        "range" => {
            let nums: Vec<f64> = args.iter().filter_map(number).collect();
            let (start, end, step) = match nums.as_slice() {
                [e] => (0.0, *e, 1.0),
                [s, e] => (*s, *e, if s <= e { 1.0 } else { -1.0 }),
                [s, e, st] => (*s, *e, *st),
                _ => return fail("arguments are not numbers"),
            };
            if step == 0.0 {
                return fail("step is zero");
            }
            let mut out = Vec::new();
            let mut x = start;
            while ((step > 0.0 && x < end) || (step < 0.0 && x > end)) && out.len() < MAX_ITEMS {
                out.push(num_value(x, span));
                x += step;
            }
            list(out)
        }
        "max" | "min" => {
            let nums: Option<Vec<f64>> = args.iter().map(number).collect();
            match nums {
                Some(ns) if !ns.is_empty() => {
                    let r = ns
                        .iter()
                        .copied()
                        .fold(if name == "max" { f64::MIN } else { f64::MAX }, |a, b| {
                            if name == "max" { a.max(b) } else { a.min(b) }
                        });
                    num_value(r, span)
                }
                _ => fail("arguments are not numbers"),
            }
        }
        "abs" => match arg(0).and_then(number) {
            Some(n) => num_value(n.abs(), span),
            None => fail("argument is not a number"),
        },
        "file" => match lit(0) {
            Some(path) => match ev.read_confined(&path, span) {
                Ok((id, text)) => {
                    let mut b = TextBuilder::new();
                    let offsets = (0..text.len()).map(|i| u32::try_from(i).unwrap_or(u32::MAX)).collect();
                    b.push_exact(&text, id, offsets);
                    ev.finish_text_public(b, Span::new(id, 0, text.len()))
                }
                Err(why) => fail(why.message()),
            },
            None => fail("the path is not known"),
        },
        "templatefile" => match (lit(0), arg(1)) {
            (Some(path), Some(vars)) => match ev.read_confined(&path, span) {
                Ok((id, text)) => ev.render_template_file(id, &text, vars, span),
                Err(why) => fail(why.message()),
            },
            _ => fail("the path is not known"),
        },
        "fileexists" => match lit(0) {
            Some(path) => match ev.read_confined(&path, span) {
                Ok(_) => Value::new(ValueKind::Bool(true), span),
                Err(Unread::Missing(_)) => Value::new(ValueKind::Bool(false), span),
                Err(Unread::Refused(why)) => fail(&why),
            },
            None => fail("the path is not known"),
        },
        _ => ev.unknown_at(span, format!("function {name}() is not evaluated")),
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
        ValueKind::Unknown { .. } => false,
        _ if depth == 0 => false,
        _ => {
            out.push(v.clone());
            true
        }
    }
}

/// `formatlist`: `format` once per element of the list arguments (all of one length);
/// scalar arguments repeat.
fn formatlist(args: &[Value], span: Span, limit: usize) -> Result<Value, String> {
    let mut len: Option<usize> = None;
    for a in args.iter().skip(1) {
        if let Some(items) = a.as_list() {
            match len {
                Some(n) if n != items.len() => return Err("the lists are not of one length".into()),
                _ => len = Some(items.len()),
            }
        }
    }
    let n = len.unwrap_or(1).min(MAX_ITEMS);
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
fn format(args: &[Value], limit: usize) -> Result<Template, String> {
    let spec = args
        .first()
        .and_then(Value::as_str)
        .ok_or("the format is not a known string")?;
    let mut out = Template::default();
    let mut next = 1;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push_str(c.encode_utf8(&mut [0; 4]));
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek().filter(|f| "-+ #0".contains(**f)) {
            flags.push(f);
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(if p.is_empty() {
                0
            } else {
                p.parse().unwrap_or(usize::MAX)
            });
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            let mut idx = String::new();
            for d in chars.by_ref() {
                if d == ']' {
                    break;
                }
                idx.push(d);
            }
            next = idx.parse().map_err(|_| "a bad argument index")?;
        }
        let verb = chars.next().ok_or("the format ends in `%`")?;
        if verb == '%' {
            out.push_str("%");
            continue;
        }
        let arg = args.get(next).ok_or("too few arguments")?;
        next += 1;
        let width: usize = if width.is_empty() {
            0
        } else {
            width.parse().unwrap_or(usize::MAX)
        };
        if width > limit || precision.is_some_and(|p| p > limit) {
            return Err(Limit::TemplateLength.exceeded("a width or precision is longer than the longest string", limit));
        }
        let text = match verb {
            's' | 'v' if flags.is_empty() && width == 0 && precision.is_none() => match arg.to_template() {
                Some(t) => {
                    out.push_template(&t);
                    continue;
                }
                None if verb == 'v' || flags.contains('#') => literal_json(arg)?,
                None => return Err(format!("%{verb} of a {}", arg.type_name())),
            },
            'v' if flags.contains('#') => literal_json(arg)?,
            's' | 'v' => {
                let s = known_text(arg)?;
                match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'q' => literal_json(&Value::new(ValueKind::Str(Template::lit(known_text(arg)?)), arg.span))?,
            't' => arg.as_bool().ok_or("%t of a value that is not a boolean")?.to_string(),
            'd' | 'x' | 'X' | 'o' | 'b' => {
                let n = number(arg).ok_or(format!("%{verb} of a value that is not a number"))?;
                if n.fract() != 0.0 || n.abs() >= 9.0e15 {
                    return Err(format!("%{verb} of a number that is not a whole number"));
                }
                let i = n as i64;
                let (sign, mag) = (
                    if i < 0 {
                        "-"
                    } else if flags.contains('+') {
                        "+"
                    } else {
                        ""
                    },
                    i.unsigned_abs(),
                );
                let digits = match verb {
                    'x' => format!("{mag:x}"),
                    'X' => format!("{mag:X}"),
                    'o' => format!("{mag:o}"),
                    'b' => format!("{mag:b}"),
                    _ => mag.to_string(),
                };
                format!("{sign}{digits}")
            }
            'f' | 'e' | 'g' => {
                let n = number(arg).ok_or(format!("%{verb} of a value that is not a number"))?;
                let p = precision.unwrap_or(6);
                let body = match verb {
                    'f' => format!("{n:.p$}"),
                    'e' => format!("{n:.p$e}"),
                    _ => n.to_string(),
                };
                if flags.contains('+') && n >= 0.0 {
                    format!("+{body}")
                } else {
                    body
                }
            }
            other => return Err(format!("verb %{other} is not supported")),
        };
        let pad = width.saturating_sub(text.chars().count());
        if flags.contains('-') {
            out.push_str(&text);
            out.push_str(&" ".repeat(pad));
        } else if flags.contains('0') && !matches!(verb, 's' | 'v' | 'q' | 't') {
            let (sign, digits) = match text.strip_prefix(['-', '+']) {
                Some(rest) => (text.get(..1).unwrap_or_default(), rest),
                None => ("", text.as_str()),
            };
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&text);
        }
        if out
            .parts()
            .iter()
            .map(|p| if let Part::Lit(l) = p { l.len() } else { 0 })
            .sum::<usize>()
            > limit
        {
            return Err(Limit::TemplateLength.exceeded("the result is too long", limit));
        }
    }
    Ok(out)
}

/// Whether a `replace` search string is a `/regex/` (Terraform's convention).
fn is_regex_pattern(s: &str) -> bool {
    s.len() > 1 && s.starts_with('/') && s.ends_with('/')
}

/// A fully known scalar as text.
fn known_text(v: &Value) -> Result<String, String> {
    v.to_template()
        .and_then(|t| t.as_literal().map(str::to_string))
        .ok_or_else(|| format!("a {} that is not fully known", v.type_name()))
}

/// A fully known value as JSON text (`%#v`, `%q`).
fn literal_json(v: &Value) -> Result<String, String> {
    to_json(v)
        .as_literal()
        .map(str::to_string)
        .ok_or_else(|| "a value that is not fully known".to_string())
}

/// Why `file()` and its kin read nothing.
pub enum Unread {
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

impl Eval<'_> {
    /// Reads a file named by `file()`/`templatefile()`/`fileexists()`, confined to the
    /// analysis root. A path outside it (or a symlink loop) is also a load error at `span`.
    pub fn read_confined(&self, path: &str, span: Span) -> Result<(FileId, String), Unread> {
        use crate::load::confine::{Refusal, resolve_inside};
        let p = Path::new(path);
        let candidates: Vec<PathBuf> = if p.is_absolute() {
            vec![p.to_path_buf()]
        } else {
            vec![self.ctx.cwd.join(p), self.m.dir.join(p)]
        };
        let mut refusal = Refusal::Missing;
        for c in candidates {
            match resolve_inside(&c, &self.ctx.root) {
                Ok(full) if full.is_file() => {
                    let display = crate::load::display_path(&full, &self.ctx.cwd);
                    let (id, text) = match crate::load::read_source(&full, &display, self.ctx.sources) {
                        Ok(read) => read,
                        Err(e) => return Err(self.refuse(span, format!("`{path}`: {}", e.message))),
                    };
                    self.add_text(id, text.clone());
                    return Ok((id, text.to_string()));
                }
                Ok(_) => {}
                Err(r) if refusal == Refusal::Missing => refusal = r,
                Err(_) => {}
            }
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
    pub fn render_template_file(&self, id: FileId, text: &str, vars: &Value, span: Span) -> Value {
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
