//! References: `var`, `local`, `path`, resources and data sources, module outputs.

use std::rc::Rc;
use std::sync::Arc;

use hcl_edit::expr::TraversalOperator;

use super::{Eval, Expansion, InstKey, Res, Scope, Slot, number, unknown_reason};
use crate::load::terraform::text::TextBuilder;
use crate::source::{FileId, Span};
use crate::value::{Entry, Origin, Value, ValueKind};

impl<'s> Eval<'s> {
    /// Resolves `name` followed by traversal operators.
    pub(super) fn variable(
        &self,
        name: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        if let Some(v) = scope.lookup(name) {
            return self.read_ops(v, ops, file, scope, span);
        }
        let attr = |i: usize| -> Option<&str> {
            match ops.get(i).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
                _ => None,
            }
        };
        let rest_from = |i: usize| ops.get(i..).unwrap_or_default();
        match name {
            "var" => match attr(0) {
                Some(v) => {
                    let value = self.var(v, span);
                    self.apply_ops(value, rest_from(1), file, scope, span)
                }
                None => self.unknown_at(span, "`var` needs an attribute"),
            },
            "local" => match attr(0) {
                Some(l) => {
                    let value = self.local(l, span);
                    self.apply_ops(value, rest_from(1), file, scope, span)
                }
                None => self.unknown_at(span, "`local` needs an attribute"),
            },
            "path" => match attr(0) {
                Some("module") | Some("root") | Some("cwd") => {
                    let mut b = TextBuilder::new();
                    b.push_whole(&self.m.display, span);
                    let v = Value::new(ValueKind::Str(b.template), span);
                    self.apply_ops(v, rest_from(1), file, scope, span)
                }
                _ => self.unknown_at(span, "unknown `path` attribute"),
            },
            "terraform" => self.unknown_at(span, "the Terraform workspace is not known statically"),
            "self" => self.unknown_at(span, "`self` is not modelled"),
            "count" | "each" => self.unknown_at(span, format!("`{name}` is not set here")),
            "data" => match (attr(0), attr(1)) {
                (Some(t), Some(n)) => self.resource_ref(true, t, n, rest_from(2), file, scope, span),
                _ => self.unknown_at(span, "incomplete data source reference"),
            },
            "module" => match attr(0) {
                Some(m) => self.module_ref(m, rest_from(1), file, scope, span),
                None => self.unknown_at(span, "incomplete module reference"),
            },
            rtype => match attr(0) {
                Some(n) => self.resource_ref(false, rtype, n, rest_from(1), file, scope, span),
                None => self.unknown_at(span, format!("`{rtype}` is not defined")),
            },
        }
    }

    /// A variable's value: given input, else default, else unknown.
    pub fn var(&self, name: &str, span: Span) -> Value {
        if let Some(v) = self.m.inputs.get(name) {
            return v.clone();
        }
        match self.m.variables.get(name) {
            Some((Some(default), file, _)) => self.expr(default, *file, &Scope::root()),
            Some((None, _, _)) => self.unknown_at(span, format!("variable {name} has no value")),
            None => self.unknown_at(span, format!("variable {name} is not declared")),
        }
    }

    fn local(&self, name: &str, span: Span) -> Value {
        match self.locals.borrow().get(name) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(Slot::Busy) => return self.unknown_at(span, format!("local.{name} refers to itself (cycle)")),
            None => {}
        }
        let Some((e, file, _)) = self.m.locals.get(name) else {
            return self.unknown_at(span, format!("local.{name} is not declared"));
        };
        self.locals.borrow_mut().insert(name.to_string(), Slot::Busy);
        let v = self.expr(e, *file, &Scope::root());
        self.locals.borrow_mut().insert(name.to_string(), Slot::Done(v.clone()));
        v
    }

    /// `module.<name>` followed by traversal operators: an output of a single module,
    /// of one instance (`module.m[0].out`), or the objects of all instances.
    fn module_ref(
        &self,
        name: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        let Some(index) = self.m.calls.iter().position(|c| c.name == name) else {
            return self.unknown_at(span, format!("module {name} is not declared in this module"));
        };
        let expansion = self.module_expansion(index);
        let output_of = |child: Option<Rc<Eval<'s>>>, rest: &[hcl_edit::Decorated<TraversalOperator>]| match child {
            None => self.unknown_at(span, format!("module {name} is not loaded")),
            Some(child) => match rest.first().map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(out)) => {
                    let v = child.output(out.as_str(), span);
                    self.apply_ops(v, rest.get(1..).unwrap_or_default(), file, scope, span)
                }
                _ => {
                    let v = child.outputs_object(span);
                    self.apply_ops(v, rest, file, scope, span)
                }
            },
        };
        match (&expansion, ops.first().map(|o| o.value())) {
            (Expansion::Single, _) => output_of(self.child_instance(name, &InstKey::None), ops),
            (Expansion::Unknown(why), _) => {
                let reason = unknown_reason(why).unwrap_or("not known").to_string();
                self.unknown_at(span, format!("the instances of module {name} are not known: {reason}"))
            }
            (_, Some(TraversalOperator::Index(ie))) => {
                let iv = self.expr(ie, file, scope);
                let key = match &expansion {
                    Expansion::Count(_) => number(&iv).map(|n| InstKey::Int(n.max(0.0) as usize)),
                    _ => iv
                        .to_template()
                        .and_then(|t| t.as_literal().map(|s| InstKey::Str(s.to_string()))),
                };
                match key {
                    Some(k) if Self::instance_keys(&expansion).contains(&k) => {
                        output_of(self.child_instance(name, &k), ops.get(1..).unwrap_or_default())
                    }
                    Some(_) => self.unknown_at(span, format!("module {name} has no such instance")),
                    None => self.unknown_at(span, "the module instance index is not known"),
                }
            }
            (_, Some(TraversalOperator::LegacyIndex(i))) => {
                let k = InstKey::Int(usize::try_from(*i.value()).unwrap_or(usize::MAX));
                output_of(self.child_instance(name, &k), ops.get(1..).unwrap_or_default())
            }
            (Expansion::Count(_) | Expansion::Each(_), _) => {
                let all = self.all_instances(&expansion, span, |k| match self.child_instance(name, k) {
                    Some(c) => c.outputs_object(span),
                    None => self.unknown_at(span, format!("module {name} is not loaded")),
                });
                self.apply_ops(all, ops, file, scope, span)
            }
        }
    }

    /// All outputs of this module as one object (`module.m` used as a value).
    pub(crate) fn outputs_object(&self, span: Span) -> Value {
        let names: Vec<String> = self.m.outputs.keys().cloned().collect();
        let entries = names
            .into_iter()
            .map(|n| {
                let value = self.output(&n, span);
                Entry {
                    key: n,
                    key_span: span,
                    value,
                }
            })
            .collect();
        Value::new(ValueKind::Map(entries), span)
    }

    pub fn output(&self, name: &str, span: Span) -> Value {
        match self.outputs.borrow().get(name) {
            Some(Slot::Done(v)) => return v.clone(),
            Some(Slot::Busy) => return Value::unknown(name, "module output refers to itself (cycle)", span),
            None => {}
        }
        let Some((e, file, _)) = self.m.outputs.get(name) else {
            return Value::unknown(name, format!("the module has no output {name}"), span);
        };
        self.outputs.borrow_mut().insert(name.to_string(), Slot::Busy);
        let v = self.expr(e, *file, &Scope::root());
        self.outputs
            .borrow_mut()
            .insert(name.to_string(), Slot::Done(v.clone()));
        v
    }

    /// The evaluator of one instance of the child module called `name`, loading it on
    /// first use.
    pub(crate) fn child_instance(&self, name: &str, key: &InstKey) -> Option<Rc<Eval<'s>>> {
        let slot_key = format!("{name}{}", key.suffix());
        if let Some(slot) = self.children.borrow().get(&slot_key) {
            return slot.clone();
        }
        // Mark as in progress so a cycle through the call's own arguments ends.
        self.children.borrow_mut().insert(slot_key.clone(), None);
        let index = self.m.calls.iter().position(|c| c.name == name)?;
        let maker = self.make_child.clone()?;
        let child = maker(self, index, key).map(Rc::new);
        self.children.borrow_mut().insert(slot_key, child.clone());
        child
    }

    /// A resource instance's object as a reference reads it: each attribute carries the
    /// instance's identity ([`Origin`]), so that a name or ARN read from it still says
    /// which resource it belongs to.
    fn identified_object(&self, idx: usize, key: &InstKey) -> Rc<Value> {
        if let Some(v) = self.identified.borrow().get(&(idx, key.clone())) {
            return Rc::clone(v);
        }
        let mut obj = Rc::unwrap_or_clone(self.instance_object(idx, key));
        let Some(res) = self.m.resources.get(idx) else {
            return Rc::new(obj);
        };
        if let ValueKind::Map(entries) = &mut obj.kind {
            if is_policy_document(res)
                && let Some(at) = entries.iter().position(|e| e.key == "json")
            {
                let minified = Entry {
                    key: "minified_json".to_string(),
                    ..entries[at].clone()
                };
                entries.insert(at + 1, minified);
            }
            let whose = self.origin(res, key, "");
            for e in entries {
                e.value.origin = Some(Arc::new(Origin {
                    attribute: e.key.clone(),
                    ..whose.clone()
                }));
            }
            // A map is the instance's final object (a cycle gives an unknown): keep it.
            let obj = Rc::new(obj);
            self.identified.borrow_mut().insert((idx, key.clone()), Rc::clone(&obj));
            return obj;
        }
        Rc::new(obj)
    }

    /// `ops` applied to an instance's object ([`Self::identified_object`]), read in place.
    fn read_instance(
        &self,
        idx: usize,
        key: &InstKey,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        // The common case, one attribute read (`aws_iam_policy.p.arn`), takes that attribute
        // alone and marks it: the whole object is not copied to mark every attribute.
        // An attribute the object does not hold reads as not known, with or without marks.
        if let Some(TraversalOperator::GetAttr(attr)) = ops.first().map(|o| o.value()) {
            let obj = self.instance_object(idx, key);
            if let (Some(res), ValueKind::Map(_)) = (self.m.resources.get(idx), &obj.kind) {
                return match obj.entry(stored_as(res, attr.as_str())) {
                    Some(found) => {
                        let mut value = found.value.clone();
                        value.origin = Some(Arc::new(self.origin(res, key, attr.as_str())));
                        self.apply_ops(value, ops.get(1..).unwrap_or_default(), file, scope, span)
                    }
                    None => self.read_ops(&obj, ops, file, scope, span),
                };
            }
        }
        self.read_ops(&self.identified_object(idx, key), ops, file, scope, span)
    }

    /// Where an attribute of a resource instance comes from.
    fn origin(&self, res: &Res, key: &InstKey, attribute: &str) -> Origin {
        Origin {
            address: self.address(res, key),
            rtype: if res.data {
                format!("data.{}", res.rtype)
            } else {
                res.rtype.clone()
            },
            attribute: attribute.to_string(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn resource_ref(
        &self,
        data: bool,
        rtype: &str,
        name: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        file: FileId,
        scope: &Scope,
        span: Span,
    ) -> Value {
        let Some(&idx) = self.m.index.get(&(data, rtype.to_string(), name.to_string())) else {
            let what = if data {
                format!("data.{rtype}.{name}")
            } else {
                format!("{rtype}.{name}")
            };
            return self.unknown_at(span, format!("{what} is not declared in this module"));
        };
        let expansion = self.expansion(idx);
        match (&expansion, ops.first().map(|o| o.value())) {
            (Expansion::Single, _) => self.read_instance(idx, &InstKey::None, ops, file, scope, span),
            (_, Some(TraversalOperator::Index(ie))) => {
                let key = match &expansion {
                    Expansion::Unknown(_) => Some(InstKey::Unknown),
                    Expansion::Count(_) => {
                        let iv = self.expr(ie, file, scope);
                        number(&iv).map(|n| InstKey::Int(n.max(0.0) as usize))
                    }
                    _ => {
                        let iv = self.expr(ie, file, scope);
                        iv.to_template()
                            .and_then(|t| t.as_literal().map(|s| InstKey::Str(s.to_string())))
                    }
                };
                match key {
                    Some(k) if Self::instance_keys(&expansion).contains(&k) => {
                        self.read_instance(idx, &k, ops.get(1..).unwrap_or_default(), file, scope, span)
                    }
                    Some(_) => self.unknown_at(span, "no such instance"),
                    None => self.unknown_at(span, "the instance index is not known"),
                }
            }
            (_, Some(TraversalOperator::LegacyIndex(i))) => {
                let k = match &expansion {
                    Expansion::Unknown(_) => InstKey::Unknown,
                    _ => InstKey::Int(usize::try_from(*i.value()).unwrap_or(usize::MAX)),
                };
                self.read_instance(idx, &k, ops.get(1..).unwrap_or_default(), file, scope, span)
            }
            (Expansion::Unknown(why), _) => {
                let reason = unknown_reason(why).unwrap_or("not known").to_string();
                self.unknown_at(span, format!("the instances of {rtype}.{name} are not known: {reason}"))
            }
            (Expansion::Count(_) | Expansion::Each(_), _) => {
                let all = self.all_instances(&expansion, span, |k| {
                    Rc::unwrap_or_clone(self.identified_object(idx, k))
                });
                self.apply_ops(all, ops, file, scope, span)
            }
        }
    }

    /// Every instance of a `count` or `for_each` expansion as one value (a resource or
    /// module used without an index): a list by `count` index, an object by `for_each` key,
    /// each instance's value from `one`.
    fn all_instances(&self, expansion: &Expansion, span: Span, mut one: impl FnMut(&InstKey) -> Value) -> Value {
        let keys = Self::instance_keys(expansion);
        let kind = match expansion {
            Expansion::Each(_) => ValueKind::Map(
                keys.iter()
                    .filter_map(|k| match k {
                        InstKey::Str(s) => Some(Entry {
                            key: s.clone(),
                            key_span: span,
                            value: one(k),
                        }),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => ValueKind::List(keys.iter().map(&mut one).collect()),
        };
        Value::new(kind, span)
    }
}

/// An `aws_iam_policy_document` data source, whose `json` and `minified_json` are one
/// document (the object holds it once, as `json`).
pub(super) fn is_policy_document(res: &Res) -> bool {
    res.data && res.rtype == "aws_iam_policy_document"
}

/// The key an attribute is held under in a resource's object.
fn stored_as<'a>(res: &Res, attr: &'a str) -> &'a str {
    if attr == "minified_json" && is_policy_document(res) {
        "json"
    } else {
        attr
    }
}
