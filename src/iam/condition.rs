//! Condition blocks against a request context, three-valued.
//!
//! A key the context knows is decided; a key known to be absent follows AWS's rules for
//! missing keys (`...IfExists` and negated operators hold, `Null: true` holds, the rest do
//! not); any other key is undecided and makes the statement `conditional`.

use std::collections::{BTreeMap, BTreeSet};

use crate::iam::pattern::{Tri, match_resource, text_tokens};
use crate::iam::policy::Condition;
use crate::value::Template;

/// What is known about a request's condition keys (keys compared case-insensitively).
#[derive(Clone, Default, Debug)]
pub struct Context {
    known: BTreeMap<String, Vec<Template>>,
    absent: BTreeSet<String>,
    /// Keys not in `known` are absent rather than unknown.
    pub strict: bool,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    pub fn set(&mut self, key: &str, values: Vec<Template>) {
        self.known.insert(key.to_ascii_lowercase(), values);
    }

    pub fn set_absent(&mut self, key: &str) {
        self.absent.insert(key.to_ascii_lowercase());
    }

    fn lookup(&self, key: &str) -> Lookup<'_> {
        let k = key.to_ascii_lowercase();
        match self.known.get(&k) {
            Some(v) => Lookup::Present(v),
            None if self.strict || self.absent.contains(&k) => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

enum Lookup<'a> {
    Present(&'a [Template]),
    Absent,
    Unknown,
}

/// The operator families this evaluator decides.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    StringEquals {
        fold: bool,
    },
    StringLike,
    ArnEquals,
    ArnLike,
    Bool,
    Null,
    /// Known to AWS, not decided by this first cut (numeric, date, IP, binary).
    Undecided,
}

struct Operator {
    family: Family,
    negated: bool,
    if_exists: bool,
    set: Option<SetOp>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    AnyValue,
    AllValues,
}

fn parse_operator(op: &str) -> Option<Operator> {
    let (set, rest) = if let Some(r) = op.strip_prefix("ForAnyValue:") {
        (Some(SetOp::AnyValue), r)
    } else if let Some(r) = op.strip_prefix("ForAllValues:") {
        (Some(SetOp::AllValues), r)
    } else {
        (None, op)
    };
    let (rest, if_exists) = match rest.strip_suffix("IfExists") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (family, negated) = match rest {
        "StringEquals" => (Family::StringEquals { fold: false }, false),
        "StringNotEquals" => (Family::StringEquals { fold: false }, true),
        "StringEqualsIgnoreCase" => (Family::StringEquals { fold: true }, false),
        "StringNotEqualsIgnoreCase" => (Family::StringEquals { fold: true }, true),
        "StringLike" => (Family::StringLike, false),
        "StringNotLike" => (Family::StringLike, true),
        "ArnEquals" => (Family::ArnEquals, false),
        "ArnNotEquals" => (Family::ArnEquals, true),
        "ArnLike" => (Family::ArnLike, false),
        "ArnNotLike" => (Family::ArnLike, true),
        "Bool" => (Family::Bool, false),
        "Null" => (Family::Null, false),
        "NumericEquals"
        | "NumericLessThan"
        | "NumericLessThanEquals"
        | "NumericGreaterThan"
        | "NumericGreaterThanEquals"
        | "DateEquals"
        | "DateLessThan"
        | "DateLessThanEquals"
        | "DateGreaterThan"
        | "DateGreaterThanEquals"
        | "IpAddress"
        | "BinaryEquals" => (Family::Undecided, false),
        "NumericNotEquals" | "DateNotEquals" | "NotIpAddress" => (Family::Undecided, true),
        _ => return None,
    };
    Some(Operator {
        family,
        negated,
        if_exists,
        set,
    })
}

/// Evaluates one condition test. `policy_variables` says whether `${...}` in values are
/// policy variables (Version 2012-10-17) rather than literal text.
pub fn evaluate(cond: &Condition, ctx: &Context, policy_variables: bool) -> Tri {
    if cond.unknown.is_some() {
        return Tri::Maybe;
    }
    let Some(op) = parse_operator(&cond.operator) else {
        // An operator AWS does not know makes the policy invalid; be conservative.
        return Tri::Maybe;
    };
    match ctx.lookup(&cond.key) {
        Lookup::Unknown => Tri::Maybe,
        Lookup::Absent => absent(&op, cond),
        Lookup::Present(values) => {
            if op.family == Family::Null {
                // `Null: false` holds when the key is present.
                return values_bool(cond)
                    .map(|want_null| Tri::from_bool(!want_null))
                    .unwrap_or(Tri::Maybe);
            }
            present(&op, cond, values, policy_variables)
        }
    }
}

fn absent(op: &Operator, cond: &Condition) -> Tri {
    if op.family == Family::Null {
        return values_bool(cond).map(Tri::from_bool).unwrap_or(Tri::Maybe);
    }
    if op.set == Some(SetOp::AllValues) {
        return Tri::Yes;
    }
    Tri::from_bool(op.if_exists || op.negated)
}

fn values_bool(cond: &Condition) -> Option<bool> {
    let mut out = None;
    for v in &cond.values {
        match v.text.as_literal().map(str::to_ascii_lowercase).as_deref() {
            Some("true") => out = Some(true),
            Some("false") => out = Some(out.unwrap_or(false)),
            _ => return None,
        }
    }
    out
}

fn present(op: &Operator, cond: &Condition, ctx_values: &[Template], policy_variables: bool) -> Tri {
    if op.family == Family::Undecided {
        return Tri::Maybe;
    }
    // Does one context value match any of the policy's values?
    let one = |cv: &Template| -> Tri {
        cond.values
            .iter()
            .map(|pv| compare(op.family, &pv.text, cv, policy_variables))
            .fold(Tri::No, Tri::or)
    };
    let result = match op.set {
        Some(SetOp::AllValues) => ctx_values.iter().map(one).fold(Tri::Yes, Tri::and),
        _ => ctx_values.iter().map(one).fold(Tri::No, Tri::or),
    };
    if op.negated { result.negate() } else { result }
}

fn compare(family: Family, pattern: &Template, value: &Template, policy_variables: bool) -> Tri {
    let (Some(p), Some(v)) = (pattern.as_literal(), value.as_literal()) else {
        // Symbolic on either side: only like-matching of ARNs understands symbols.
        return match family {
            Family::ArnLike | Family::ArnEquals | Family::StringLike => {
                match_resource(pattern, &text_tokens(value)).and(Tri::Maybe)
            }
            _ => Tri::Maybe,
        };
    };
    if policy_variables && p.contains("${") {
        return Tri::Maybe;
    }
    match family {
        Family::StringEquals { fold: false } => Tri::from_bool(p == v),
        Family::StringEquals { fold: true } => Tri::from_bool(p.eq_ignore_ascii_case(v)),
        Family::StringLike => like(p, v),
        Family::ArnEquals | Family::ArnLike => match_resource(pattern, &text_tokens(value)),
        Family::Bool => Tri::from_bool(p.eq_ignore_ascii_case(v)),
        Family::Null | Family::Undecided => Tri::Maybe,
    }
}

/// `StringLike`: `*` and `?` wildcards, case-sensitive, across the whole string.
fn like(pattern: &str, value: &str) -> Tri {
    // match_resource falls back to a whole-string glob when the value is not ARN-shaped,
    // and matches segment-wise when both are ARNs, which StringLike does not: glob whole.
    let p = Template::lit(pattern.replace(':', "\u{1}"));
    let v = Template::lit(value.replace(':', "\u{1}"));
    match_resource(&p, &text_tokens(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::policy::Pat;
    use crate::source::Span;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: op.into(),
            key: key.into(),
            key_span: Span::builtin(),
            values: values
                .iter()
                .map(|v| Pat {
                    text: Template::lit(*v),
                    span: Span::builtin(),
                })
                .collect(),
            unknown: None,
        }
    }

    #[test]
    fn known_keys_are_decided() {
        let mut ctx = Context::new();
        ctx.set(
            "iam:AWSServiceName",
            vec![Template::lit("kinesisreplication.dynamodb.amazonaws.com")],
        );
        let c = cond(
            "StringLike",
            "iam:AWSServiceName",
            &["kinesisreplication.dynamodb.amazonaws.com"],
        );
        assert_eq!(evaluate(&c, &ctx, true), Tri::Yes);
        let c = cond(
            "StringEquals",
            "iam:awsservicename",
            &["elasticmapreduce.amazonaws.com"],
        );
        assert_eq!(evaluate(&c, &ctx, true), Tri::No);
        let c = cond("StringLike", "iam:AWSServiceName", &["*.dynamodb.amazonaws.com"]);
        assert_eq!(evaluate(&c, &ctx, true), Tri::Yes);
        let c = cond(
            "StringNotEquals",
            "iam:AWSServiceName",
            &["kinesisreplication.dynamodb.amazonaws.com"],
        );
        assert_eq!(evaluate(&c, &ctx, true), Tri::No);
    }

    #[test]
    fn unknown_keys_are_undecided_and_absent_keys_follow_aws() {
        let mut ctx = Context::new();
        let c = cond("Bool", "aws:MultiFactorAuthPresent", &["true"]);
        assert_eq!(evaluate(&c, &ctx, true), Tri::Maybe);
        ctx.set_absent("aws:MultiFactorAuthPresent");
        assert_eq!(evaluate(&c, &ctx, true), Tri::No);
        let c = cond("BoolIfExists", "aws:MultiFactorAuthPresent", &["true"]);
        assert_eq!(evaluate(&c, &ctx, true), Tri::Yes);
        let c = cond("StringNotEquals", "aws:MultiFactorAuthPresent", &["x"]);
        assert_eq!(evaluate(&c, &ctx, true), Tri::Yes);
        let c = cond("Null", "aws:MultiFactorAuthPresent", &["true"]);
        assert_eq!(evaluate(&c, &ctx, true), Tri::Yes);
    }

    #[test]
    fn string_like_spans_colons() {
        assert_eq!(like("arn:aws:*", "arn:aws:iam::1:role/x"), Tri::Yes);
        assert_eq!(like("a?c", "abc"), Tri::Yes);
        assert_eq!(like("a?c", "abbc"), Tri::No);
    }
}
