//! `count` / `for_each`: the instances of resources and module calls, their keys,
//! addresses and scopes (with a merged plan deciding what the configuration does not).

use hcl_edit::structure::Body;

use super::{Eval, Res, Scope, map_value, number, unknown_reason};
use crate::source::{FileId, Span};
use crate::value::{Template, Value, ValueKind};

/// Which instance of a resource: no `count`/`for_each`, a count index, a for_each key, or
/// the single stand-in instance of an unknown collection.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum InstKey {
    None,
    Int(usize),
    Str(String),
    Unknown,
}

impl InstKey {
    pub fn suffix(&self) -> String {
        match self {
            InstKey::None | InstKey::Unknown => String::new(),
            InstKey::Int(i) => format!("[{i}]"),
            InstKey::Str(k) => format!("[\"{}\"]", k.replace('\\', "\\\\").replace('"', "\\\"")),
        }
    }
}

/// The instances of a resource.
#[derive(Clone, Debug)]
pub(crate) enum Expansion {
    Single,
    Count(usize),
    Each(Vec<(String, Value)>),
    /// The collection is unknown: one stand-in instance; the value says why.
    Unknown(Value),
}

impl<'s> Eval<'s> {
    /// The instances of module call `index` (its `count` / `for_each`).
    pub(crate) fn module_expansion(&self, index: usize) -> Expansion {
        if let Some(e) = self.module_expansions.borrow().get(&index) {
            return e.clone();
        }
        let mut e = match self.m.calls.get(index) {
            Some(call) => meta_expansion(self, &call.block.body, call.file),
            None => Expansion::Single,
        };
        if let (Expansion::Unknown(why), Some(call)) = (&e, self.m.calls.get(index))
            && let Some(from_plan) = self.plan_expansion(&format!("{}module.{}", self.m.prefix, call.name), true, why)
        {
            e = from_plan;
        }
        self.module_expansions.borrow_mut().insert(index, e.clone());
        e
    }

    /// The instances of resource `idx`.
    pub fn expansion(&self, idx: usize) -> Expansion {
        if let Some(e) = self.expansions.borrow().get(&idx) {
            return e.clone();
        }
        let e = self.compute_expansion(idx);
        self.expansions.borrow_mut().insert(idx, e.clone());
        e
    }

    fn compute_expansion(&self, idx: usize) -> Expansion {
        let Some(res) = self.m.resources.get(idx) else {
            return Expansion::Single;
        };
        let e = meta_expansion(self, &res.block.body, res.file);
        if let Expansion::Unknown(why) = &e
            && let Some(from_plan) = self.plan_expansion(&self.address(res, &InstKey::None), false, why)
        {
            return from_plan;
        }
        e
    }

    /// The instances a merged plan lists for a resource whose `count`/`for_each` the
    /// configuration alone does not decide.
    /// `base` is the resource (or, with `module`, the module call) address without key.
    fn plan_expansion(&self, base: &str, module: bool, why: &Value) -> Option<Expansion> {
        if self.ctx.plan.is_empty() {
            return None;
        }
        let mut ints = Vec::new();
        let mut strs = Vec::new();
        for address in self.ctx.plan.keys() {
            let Some(rest) = address.strip_prefix(base) else {
                continue;
            };
            let index = match (module, rest.find("].")) {
                (false, _) => rest,
                (true, Some(end)) => rest.get(..=end).unwrap_or_default(),
                (true, None) => continue,
            };
            match parse_index(index) {
                Some(InstKey::Int(i)) => ints.push(i),
                Some(InstKey::Str(k)) => strs.push(k),
                _ => {}
            }
        }
        if !ints.is_empty() && strs.is_empty() {
            ints.sort_unstable();
            ints.dedup();
            let n = ints.len();
            return (ints.iter().copied().eq(0..n)).then_some(Expansion::Count(n));
        }
        if !strs.is_empty() && ints.is_empty() {
            strs.sort();
            strs.dedup();
            let reason = unknown_reason(why).unwrap_or("not known");
            let items = strs
                .into_iter()
                .map(|k| {
                    let v = Value::unknown(
                        format!("{base}[\"{k}\"].each.value"),
                        format!("the plan lists this instance, but its each.value is not known: {reason}"),
                        why.span,
                    );
                    (k, v)
                })
                .collect();
            return Some(Expansion::Each(items));
        }
        None
    }

    /// The scope of one instance (`count.index`, `each.key`, `each.value`).
    pub(crate) fn instance_scope<'p>(
        &self,
        parent: &'p Scope<'p>,
        expansion: &Expansion,
        key: &InstKey,
        owner: &str,
        span: Span,
    ) -> Scope<'p> {
        match (expansion, key) {
            (Expansion::Count(_), InstKey::Int(i)) => parent.with(
                "count",
                map_value(
                    vec![("index", Value::new(ValueKind::Number(i.to_string()), span))],
                    span,
                ),
            ),
            (Expansion::Each(items), InstKey::Str(k)) => {
                let value = items
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| Value::new(ValueKind::Null, span));
                parent.with(
                    "each",
                    map_value(vec![("key", Value::str(k.clone(), span)), ("value", value)], span),
                )
            }
            (Expansion::Unknown(why), _) => {
                let reason = unknown_reason(why).unwrap_or("the collection is not known").to_string();
                let u = |what: &str| Value::unknown(format!("{owner}.{what}"), reason.clone(), why.span);
                let frame = map_value(
                    vec![
                        ("index", u("count.index")),
                        ("key", u("each.key")),
                        ("value", u("each.value")),
                    ],
                    span,
                );
                // Both names, since we do not know which meta-argument was used.
                parent.with_all(vec![("count".to_string(), frame.clone()), ("each".to_string(), frame)])
            }
            _ => parent.with_all(Vec::new()),
        }
    }

    /// All instance keys of a resource.
    pub(crate) fn instance_keys(expansion: &Expansion) -> Vec<InstKey> {
        match expansion {
            Expansion::Single => vec![InstKey::None],
            Expansion::Count(n) => (0..*n).map(InstKey::Int).collect(),
            Expansion::Each(items) => items.iter().map(|(k, _)| InstKey::Str(k.clone())).collect(),
            Expansion::Unknown(_) => vec![InstKey::Unknown],
        }
    }

    /// The address of an instance (with module prefix and index).
    pub fn address(&self, res: &Res, key: &InstKey) -> String {
        // Built by pushing the parts: addresses are made for every instance and every
        // reference read, and `format!` cost several times as much.
        let data = if res.data { "data." } else { "" };
        let mut out = String::with_capacity(self.m.prefix.len() + data.len() + res.rtype.len() + res.name.len() + 1);
        for part in [self.m.prefix.as_str(), data, res.rtype.as_str(), ".", res.name.as_str()] {
            out.push_str(part);
        }
        if !matches!(key, InstKey::None | InstKey::Unknown) {
            out.push_str(&key.suffix());
        }
        out
    }
}

/// `count` / `for_each` of a block body, evaluated in module scope. One set to `null` is
/// taken as not set (Terraform itself rejects a null `count` or `for_each`; a single
/// instance is the reading that keeps every grant of the block).
pub(crate) fn meta_expansion(ev: &Eval, body: &Body, file: FileId) -> Expansion {
    let root = Scope::root();
    let set = |name: &str| {
        body.get_attribute(name)
            .map(|attr| ev.expr(&attr.value, file, &root))
            .filter(|v| !matches!(v.kind, ValueKind::Null))
    };
    let limit = ev.ctx.sources.limits().instances;
    if let Some(v) = set("count") {
        return match number(&v) {
            Some(n) if n >= 0.0 && n <= limit as f64 => Expansion::Count(n as usize),
            Some(n) if n > limit as f64 => ev.too_many_instances(&v, &format!("count is {n}"), limit),
            Some(_) => Expansion::Unknown(Value::unknown(ev.text(v.span), "count is out of range", v.span)),
            None if v.is_unknown() => Expansion::Unknown(v),
            None => Expansion::Unknown(Value::unknown(ev.text(v.span), "count is not a number", v.span)),
        };
    }
    if let Some(v) = set("for_each") {
        return match &v.kind {
            ValueKind::Map(entries) if entries.len() > limit => {
                ev.too_many_instances(&v, &format!("for_each has {} elements", entries.len()), limit)
            }
            ValueKind::List(items) if items.len() > limit => {
                ev.too_many_instances(&v, &format!("for_each has {} elements", items.len()), limit)
            }
            ValueKind::Map(entries) => {
                let mut items: Vec<(String, Value)> = Vec::new();
                for e in entries {
                    items.retain(|(k, _)| *k != e.key);
                    items.push((e.key.clone(), e.value.clone()));
                }
                items.sort_by(|a, b| a.0.cmp(&b.0));
                Expansion::Each(items)
            }
            ValueKind::List(items) => {
                let mut keys = Vec::new();
                for item in items {
                    match item.to_template().as_ref().and_then(Template::as_literal) {
                        Some(k) => keys.push((k.to_string(), item.clone())),
                        None => {
                            return Expansion::Unknown(Value::unknown(
                                ev.text(v.span),
                                "a for_each element is not a known string",
                                v.span,
                            ));
                        }
                    }
                }
                keys.sort_by(|a, b| a.0.cmp(&b.0));
                keys.dedup_by(|a, b| a.0 == b.0);
                Expansion::Each(keys)
            }
            ValueKind::Unknown(_) => Expansion::Unknown(v),
            _ => Expansion::Unknown(Value::unknown(ev.text(v.span), "for_each is not a map or set", v.span)),
        };
    }
    Expansion::Single
}

impl Eval<'_> {
    /// The expansion of a `count`/`for_each` past the instance limit: unknown, and a load
    /// error at the expression naming the limit.
    fn too_many_instances(&self, v: &Value, what: &str, limit: usize) -> Expansion {
        let message = crate::limits::Limit::Instances.exceeded(&format!("{what}; the block is not expanded"), limit);
        self.errors.borrow_mut().push(crate::model::LoadError {
            path: self.ctx.sources.path(v.span),
            span: Some(v.span),
            message: message.clone(),
        });
        Expansion::Unknown(Value::unknown(self.text(v.span), message, v.span))
    }
}

/// `[0]` or `["key"]` (the whole string) as an instance key.
pub(crate) fn parse_index(s: &str) -> Option<InstKey> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    if let Some(q) = inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
        return Some(InstKey::Str(q.replace("\\\"", "\"").replace("\\\\", "\\")));
    }
    inner.parse().ok().map(InstKey::Int)
}
