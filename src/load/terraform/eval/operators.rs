//! Binary operators and the scalar conversions and equality they rely on.

use hcl_edit::expr::BinaryOperator;

use super::{Eval, Scope};
use crate::source::{FileId, Span};
use crate::value::{Value, ValueKind};

/// Which operand is not known and why (`: `var.x` has no value`), so that a condition
/// built from it names the value to pin; empty when no operand says.
fn which_unknown(operands: &[&Value]) -> String {
    for v in operands {
        match &v.kind {
            ValueKind::Unknown(u) => return format!(": `{}` is not known ({})", u.expr, u.reason),
            ValueKind::Str(t) => {
                if let Some(o) = t.opaques().next() {
                    return format!(": `{}` is not known ({})", o.id, o.reason);
                }
            }
            _ => {}
        }
    }
    String::new()
}

impl<'s> Eval<'s> {
    pub(super) fn binary(&self, op: &hcl_edit::expr::BinaryOp, file: FileId, scope: &Scope, span: Span) -> Value {
        let l = self.expr(&op.lhs_expr, file, scope);
        let operator = *op.operator.value();
        // Short-circuit on a decided left operand, as Terraform does for unknowns.
        match (operator, truthy(&l)) {
            (BinaryOperator::And, Some(false)) => return Value::new(ValueKind::Bool(false), span),
            (BinaryOperator::Or, Some(true)) => return Value::new(ValueKind::Bool(true), span),
            _ => {}
        }
        let r = self.expr(&op.rhs_expr, file, scope);
        let bool_v = |b: bool| Value::new(ValueKind::Bool(b), span);
        match operator {
            BinaryOperator::And | BinaryOperator::Or => match (truthy(&l), truthy(&r)) {
                (Some(a), Some(b)) => bool_v(if operator == BinaryOperator::And {
                    a && b
                } else {
                    a || b
                }),
                _ => self.unknown_at(
                    span,
                    format!("operand is not a known boolean{}", which_unknown(&[&l, &r])),
                ),
            },
            BinaryOperator::Eq | BinaryOperator::NotEq => match equal(&l, &r) {
                Some(eq) => bool_v(eq == (operator == BinaryOperator::Eq)),
                None => self.unknown_at(span, format!("operands are not known{}", which_unknown(&[&l, &r]))),
            },
            _ => {
                let (Some(a), Some(b)) = (number(&l), number(&r)) else {
                    return self.unknown_at(span, "operand is not a known number");
                };
                match operator {
                    BinaryOperator::Less => bool_v(a < b),
                    BinaryOperator::LessEq => bool_v(a <= b),
                    BinaryOperator::Greater => bool_v(a > b),
                    BinaryOperator::GreaterEq => bool_v(a >= b),
                    BinaryOperator::Plus => num_value(a + b, span),
                    BinaryOperator::Minus => num_value(a - b, span),
                    BinaryOperator::Mul => num_value(a * b, span),
                    BinaryOperator::Div if b != 0.0 => num_value(a / b, span),
                    BinaryOperator::Mod if b != 0.0 => num_value(a % b, span),
                    _ => self.unknown_at(span, "division by zero"),
                }
            }
        }
    }
}

/// A boolean, when known (Terraform converts "true"/"false" strings).
pub(crate) fn truthy(v: &Value) -> Option<bool> {
    v.as_bool()
}

pub fn number(v: &Value) -> Option<f64> {
    match &v.kind {
        ValueKind::Number(n) => n.parse().ok(),
        ValueKind::Str(t) => t.as_literal()?.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn num_value(n: f64, span: Span) -> Value {
    let text = if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    };
    Value::new(ValueKind::Number(text), span)
}

/// Whether two values are equal, when that is decidable.
pub fn equal(a: &Value, b: &Value) -> Option<bool> {
    match (&a.kind, &b.kind) {
        (ValueKind::Unknown(_), _) | (_, ValueKind::Unknown(_)) => None,
        (ValueKind::Null, ValueKind::Null) => Some(true),
        (ValueKind::Null, _) | (_, ValueKind::Null) => Some(false),
        (ValueKind::Number(_), ValueKind::Number(_)) => Some(number(a)? == number(b)?),
        (ValueKind::Bool(x), ValueKind::Bool(y)) => Some(x == y),
        (ValueKind::Str(x), ValueKind::Str(y)) => {
            if x == y {
                Some(true)
            } else if x.is_literal() && y.is_literal() {
                Some(false)
            } else {
                None
            }
        }
        (ValueKind::List(x), ValueKind::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = true;
            for (p, q) in x.iter().zip(y) {
                all &= equal(p, q)?;
            }
            Some(all)
        }
        (ValueKind::Map(x), ValueKind::Map(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = true;
            for e in x {
                match b.get(&e.key) {
                    Some(other) => all &= equal(&e.value, other)?,
                    None => return Some(false),
                }
            }
            Some(all)
        }
        _ => Some(false),
    }
}
