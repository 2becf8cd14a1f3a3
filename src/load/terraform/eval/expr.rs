//! Expression dispatch: literals, collections, conditionals, calls, unary operators and
//! `for` expressions, with the shared depth bound.

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, UnaryOperator};

use super::{Eval, MAX_DEPTH, Scope, iterate, num_value, number, truthy, unknown_reason};
use crate::limits::Limit;
use crate::source::{FileId, Span};
use crate::value::{Entry, Value, ValueKind};

impl<'s> Eval<'s> {
    /// Evaluates an expression of file `file` in `scope`.
    pub fn expr(&self, e: &Expression, file: FileId, scope: &Scope) -> Value {
        let span = self.span(file, e.span());
        let depth = &self.ctx.depth;
        if depth.get() >= MAX_DEPTH {
            return self.unknown_at(span, "expression or references nested too deeply");
        }
        let steps = self.ctx.steps.get().saturating_add(1);
        self.ctx.steps.set(steps);
        let limit = self.ctx.sources.limits().eval_steps;
        if steps > limit {
            let message = Limit::EvalSteps.exceeded("evaluation stopped at this expression", limit);
            if steps == limit + 1 {
                // Once per module tree: every later expression is unknown for the same reason.
                self.errors.borrow_mut().push(crate::model::LoadError {
                    path: self.ctx.sources.path(span),
                    span: Some(span),
                    message: message.clone(),
                });
            }
            return self.unknown_at(span, message);
        }
        depth.set(depth.get() + 1);
        let v = self.expr_inner(e, file, scope, span);
        depth.set(depth.get().saturating_sub(1));
        v
    }

    fn expr_inner(&self, e: &Expression, file: FileId, scope: &Scope, span: Span) -> Value {
        match e {
            Expression::Null(_) => Value::new(ValueKind::Null, span),
            Expression::Bool(b) => Value::new(ValueKind::Bool(*b.value()), span),
            Expression::Number(n) => {
                let text = self.text(span);
                let text = if text.is_empty() { n.to_string() } else { text };
                Value::new(ValueKind::Number(text), span)
            }
            Expression::String(s) => self.finish_literal(s.value(), span),
            Expression::Array(a) => {
                if !self.within_items(a.len(), span) {
                    return self.unknown_at(span, "the list is too long to evaluate");
                }
                let items = a.iter().map(|x| self.expr(x, file, scope)).collect();
                Value::new(ValueKind::List(items), span)
            }
            Expression::Object(o) => {
                let mut entries = Vec::new();
                for (k, v) in o.iter() {
                    let key_span = self.span(file, k.span());
                    let key = match k {
                        ObjectKey::Ident(id) => Some(id.as_str().to_string()),
                        ObjectKey::Expression(ke) => {
                            // A parenthesised or bare identifier key is taken literally
                            // unless it is a traversal or call.
                            let kv = self.expr(ke, file, scope);
                            kv.to_template().and_then(|t| t.as_literal().map(str::to_string))
                        }
                    };
                    let value = self.expr(v.expr(), file, scope);
                    match key {
                        Some(key) => entries.push(Entry { key, key_span, value }),
                        None => return self.unknown_at(span, "an object key is not known"),
                    }
                }
                Value::new(ValueKind::Map(entries), span)
            }
            Expression::StringTemplate(t) => self.template(t, file, scope, span, false),
            Expression::HeredocTemplate(h) => self.template(&h.template, file, scope, span, true),
            Expression::Parenthesis(p) => {
                let mut v = self.expr(p.inner(), file, scope);
                v.span = span;
                v
            }
            Expression::Variable(v) => self.variable(v.as_str(), &[], file, scope, span),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => self.variable(v.as_str(), &t.operators, file, scope, span),
                base => {
                    let b = self.expr(base, file, scope);
                    self.apply_ops(b, &t.operators, file, scope, span)
                }
            },
            Expression::Conditional(c) => {
                let cond = self.expr(&c.cond_expr, file, scope);
                match truthy(&cond) {
                    Some(true) => self.expr(&c.true_expr, file, scope),
                    Some(false) => self.expr(&c.false_expr, file, scope),
                    None => {
                        let reason = unknown_reason(&cond).unwrap_or("the condition is not a known boolean");
                        self.unknown_at(span, format!("condition is not known: {reason}"))
                    }
                }
            }
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let full = if call.name.is_namespaced() {
                    let ns: Vec<&str> = call.name.namespace.iter().map(|n| n.as_str()).collect();
                    format!("{}::{name}", ns.join("::"))
                } else {
                    name.to_string()
                };
                let args: Vec<&Expression> = call.args.iter().collect();
                super::super::funcs::call(self, &full, &args, call.args.expand_final(), file, scope, span)
            }
            Expression::UnaryOp(u) => {
                let v = self.expr(&u.expr, file, scope);
                match u.operator.value() {
                    UnaryOperator::Not => match truthy(&v) {
                        Some(b) => Value::new(ValueKind::Bool(!b), span),
                        None => self.unknown_at(span, "operand is not a known boolean"),
                    },
                    UnaryOperator::Neg => match number(&v) {
                        Some(n) => num_value(-n, span),
                        None => self.unknown_at(span, "operand is not a known number"),
                    },
                }
            }
            Expression::BinaryOp(op) => self.binary(op, file, scope, span),
            Expression::ForExpr(f) => self.for_expr(f, file, scope, span),
        }
    }

    fn for_expr(&self, f: &hcl_edit::expr::ForExpr, file: FileId, scope: &Scope, span: Span) -> Value {
        let coll = self.expr(&f.intro.collection_expr, file, scope);
        let Some(items) = iterate(&coll).filter(|items| self.within_items(items.len(), span)) else {
            return self.unknown_at(span, "the collection of the `for` expression is not known");
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut list = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for (k, v) in items {
            let s1;
            let inner = match &key_var {
                Some(kv) => {
                    s1 = scope.with(kv.clone(), k);
                    s1.with(value_var.clone(), v)
                }
                None => scope.with(value_var.clone(), v),
            };
            if let Some(cond) = &f.cond {
                let c = self.expr(&cond.expr, file, &inner);
                match truthy(&c) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return self.unknown_at(span, "the `if` clause of the `for` expression is not known"),
                }
            }
            let value = self.expr(&f.value_expr, file, &inner);
            match &f.key_expr {
                Some(ke) => {
                    let key = self.expr(ke, file, &inner);
                    let Some(key_text) = key.to_template().and_then(|t| t.as_literal().map(str::to_string)) else {
                        return self.unknown_at(span, "a key of the `for` expression is not known");
                    };
                    if f.grouping {
                        if let Some(e) = entries.iter_mut().find(|e| e.key == key_text) {
                            if let ValueKind::List(items) = &mut e.value.kind {
                                items.push(value);
                            }
                        } else {
                            entries.push(Entry {
                                key: key_text,
                                key_span: key.span,
                                value: Value::new(ValueKind::List(vec![value]), key.span),
                            });
                        }
                    } else {
                        entries.retain(|e| e.key != key_text);
                        entries.push(Entry {
                            key: key_text,
                            key_span: key.span,
                            value,
                        });
                    }
                }
                None => list.push(value),
            }
        }
        if f.key_expr.is_some() {
            Value::new(ValueKind::Map(entries), span)
        } else {
            Value::new(ValueKind::List(list), span)
        }
    }
}
