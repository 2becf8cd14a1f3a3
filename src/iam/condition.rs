//! Condition blocks against a request context, three-valued.
//!
//! A key the context knows is decided; a key known to be absent follows AWS's rules for
//! missing keys (`...IfExists` and negated operators hold, `Null: true` holds,
//! `ForAllValues:` holds, the rest do not); any other key is undecided and makes the
//! statement `conditional`. A service-specific key that the action can never carry (per
//! the bundled action catalogue) is absent. Every operator family of AWS's "IAM JSON
//! policy elements: Condition operators" page is decided: String, Numeric, Date, Bool,
//! Binary, IP address, ARN and Null, with `IfExists` and the set qualifiers.

use std::cmp::Ordering;
use std::net::IpAddr;

use crate::iam::actions;
use crate::iam::pattern::{Mode, Tri, match_resource_with, match_string, text_tokens};
use crate::iam::policy::Condition;
use crate::value::Template;

pub use crate::iam::context::Context;
pub(crate) use crate::iam::context::Lookup;

/// An operator family and how its values compare.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    String(Mode),
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// A comparison of a context value (left) with a policy value (right).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Le => o != Ordering::Greater,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Ge => o != Ordering::Less,
        }
    }
}

/// A parsed condition operator.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Operator {
    pub family: Family,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    pub set: Option<SetOp>,
}

/// The multivalued-key qualifiers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SetOp {
    AnyValue,
    AllValues,
}

/// Parses an operator name such as `ForAnyValue:StringNotLikeIfExists`; `None` when AWS
/// has no such operator.
pub(crate) fn parse_operator(op: &str) -> Option<Operator> {
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
        "StringEquals" => (Family::String(Mode::Exact), false),
        "StringNotEquals" => (Family::String(Mode::Exact), true),
        "StringEqualsIgnoreCase" => (Family::String(Mode::IgnoreCase), false),
        "StringNotEqualsIgnoreCase" => (Family::String(Mode::IgnoreCase), true),
        "StringLike" => (Family::String(Mode::Like), false),
        "StringNotLike" => (Family::String(Mode::Like), true),
        "NumericEquals" => (Family::Numeric(Cmp::Eq), false),
        "NumericNotEquals" => (Family::Numeric(Cmp::Eq), true),
        "NumericLessThan" => (Family::Numeric(Cmp::Lt), false),
        "NumericLessThanEquals" => (Family::Numeric(Cmp::Le), false),
        "NumericGreaterThan" => (Family::Numeric(Cmp::Gt), false),
        "NumericGreaterThanEquals" => (Family::Numeric(Cmp::Ge), false),
        "DateEquals" => (Family::Date(Cmp::Eq), false),
        "DateNotEquals" => (Family::Date(Cmp::Eq), true),
        "DateLessThan" => (Family::Date(Cmp::Lt), false),
        "DateLessThanEquals" => (Family::Date(Cmp::Le), false),
        "DateGreaterThan" => (Family::Date(Cmp::Gt), false),
        "DateGreaterThanEquals" => (Family::Date(Cmp::Ge), false),
        "Bool" => (Family::Bool, false),
        "BinaryEquals" => (Family::Binary, false),
        "IpAddress" => (Family::Ip, false),
        "NotIpAddress" => (Family::Ip, true),
        // ArnEquals and ArnLike behave alike: each of the six parts may use wildcards.
        "ArnEquals" | "ArnLike" => (Family::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Family::Arn, true),
        // `Null` takes no qualifier and no `IfExists`.
        "Null" if !if_exists && set.is_none() => (Family::Null, false),
        _ => return None,
    };
    Some(Operator {
        family,
        negated,
        if_exists,
        set,
    })
}

/// Why a policy value cannot be compared by its operator (for diagnostics), if so.
pub(crate) fn invalid_value(family: Family, value: &str) -> Option<&'static str> {
    let bad = match family {
        Family::Numeric(_) => number(value).is_none(),
        Family::Date(_) => date(value).is_none(),
        Family::Bool | Family::Null => !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false"),
        Family::Ip => cidr(value).is_none(),
        Family::Binary => base64(value).is_none(),
        Family::String(_) | Family::Arn => false,
    };
    bad.then_some(match family {
        Family::Numeric(_) => "is not a number",
        Family::Date(_) => "is not an ISO 8601 date or epoch time",
        Family::Bool | Family::Null => "is not true or false",
        Family::Ip => "is not an IP address or CIDR block",
        Family::Binary => "is not base64",
        Family::String(_) | Family::Arn => "",
    })
}

/// Evaluates one condition test. `policy_variables` says whether `${...}` in values are
/// policy variables (Version 2012-10-17) rather than literal text; `action` (the request's
/// action) lets a service key the action can never carry count as absent.
pub fn evaluate(cond: &Condition, ctx: &Context, policy_variables: bool, action: &str) -> Tri {
    if cond.unknown.is_some() {
        return Tri::Maybe;
    }
    let Some(op) = parse_operator(&cond.operator) else {
        // An operator AWS does not know makes the policy invalid; be conservative.
        return Tri::Maybe;
    };
    let lookup = if never_carried(&cond.key, action) {
        Lookup::Absent
    } else {
        ctx.lookup(&cond.key)
    };
    let vars = policy_variables.then_some(ctx);
    match lookup {
        Lookup::Unknown => Tri::Maybe,
        Lookup::Absent => absent(&op, cond),
        Lookup::Present(_) if op.family == Family::Null => {
            // `Null: false` holds when the key is present.
            values_bool(cond)
                .map(|want_null| Tri::from_bool(!want_null))
                .unwrap_or(Tri::Maybe)
        }
        Lookup::Present(values) => present(&op, cond, values, vars),
    }
}

/// A service key (`<service>:...`) that the catalogue says the action cannot carry.
fn never_carried(key: &str, action: &str) -> bool {
    let Some((key_service, _)) = key.split_once(':') else {
        return false;
    };
    if key_service.eq_ignore_ascii_case("aws") {
        return false;
    }
    let Some((service, _)) = action.split_once(':') else {
        return false;
    };
    if !actions::CATALOGUED_SERVICES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(service))
    {
        return false;
    }
    match actions::action_info(action) {
        Some(info) => !info.condition_keys.iter().any(|k| k.eq_ignore_ascii_case(key)),
        None => false,
    }
}

fn absent(op: &Operator, cond: &Condition) -> Tri {
    if op.family == Family::Null {
        return values_bool(cond).map(Tri::from_bool).unwrap_or(Tri::Maybe);
    }
    match op.set {
        // "ForAllValues returns true if the key is missing" (Condition operators:
        // multivalued context keys).
        Some(SetOp::AllValues) => Tri::Yes,
        Some(SetOp::AnyValue) => Tri::from_bool(op.if_exists),
        None => Tri::from_bool(op.if_exists || op.negated),
    }
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

fn present(op: &Operator, cond: &Condition, ctx_values: &[Template], vars: Option<&Context>) -> Tri {
    // Does one context value match any of the policy's values?
    let one = |cv: &Template| -> Tri {
        let mut best = Tri::No;
        for pv in &cond.values {
            best = best.or(compare(op.family, &pv.text, cv, vars));
            if best == Tri::Yes {
                break;
            }
        }
        best
    };
    let neg = |t: Tri| if op.negated { t.negate() } else { t };
    match op.set {
        None => neg(ctx_values.iter().map(one).fold(Tri::No, Tri::or)),
        Some(SetOp::AnyValue) => ctx_values.iter().map(|v| neg(one(v))).fold(Tri::No, Tri::or),
        Some(SetOp::AllValues) => ctx_values.iter().map(|v| neg(one(v))).fold(Tri::Yes, Tri::and),
    }
}

fn compare(family: Family, pattern: &Template, value: &Template, vars: Option<&Context>) -> Tri {
    match family {
        Family::String(mode) => match_string(pattern, value, mode, vars).0,
        Family::Arn => match_resource_with(pattern, &text_tokens(value), vars).0,
        _ => {
            let (Some(p), Some(v)) = (pattern.as_literal(), value.as_literal()) else {
                // A symbolic account or region is not a number, date or address we know.
                return Tri::Maybe;
            };
            Tri::from_bool(compare_literal(family, p, v))
        }
    }
}

fn compare_literal(family: Family, p: &str, v: &str) -> bool {
    match family {
        Family::Numeric(cmp) => match (number(v), number(p)) {
            (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| cmp.holds(o)),
            _ => false,
        },
        Family::Date(cmp) => match (date(v), date(p)) {
            (Some(a), Some(b)) => cmp.holds(a.cmp(&b)),
            _ => false,
        },
        Family::Bool => p.eq_ignore_ascii_case(v),
        Family::Binary => match (base64(p), base64(v)) {
            (Some(a), Some(b)) => a == b,
            _ => p == v,
        },
        Family::Ip => match (cidr(p), address(v)) {
            (Some(net), Some(ip)) => net.contains(ip),
            _ => false,
        },
        Family::String(_) | Family::Arn | Family::Null => false,
    }
}

/// A decimal number (integer or with a fraction); no `inf`/`nan`/hex.
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == '.') || body.matches('.').count() > 1 {
        return None;
    }
    if !body.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<f64>().ok()
}

/// A date as milliseconds since the epoch: ISO 8601 (`2020-01-01`, `2020-01-01T12:00Z`,
/// `2020-01-01T12:00:00.5+02:00`) or epoch seconds.
fn date(s: &str) -> Option<i128> {
    let s = s.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse::<i128>().ok().map(|secs| secs * 1000);
    }
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = s.get(from..from + n)?;
        part.chars().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let year = digits(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(5, 2)?;
    let day = digits(8, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut millis: i128 = i128::from(days_from_civil(year, month, day)) * 86_400_000;
    let mut rest = &s[10..];
    if let Some(time) = rest.strip_prefix(['T', 't', ' ']) {
        let hh = time.get(0..2)?.parse::<i64>().ok()?;
        if time.get(2..3) != Some(":") {
            return None;
        }
        let mm = time.get(3..5)?.parse::<i64>().ok()?;
        let mut used = 5;
        let mut secs = 0i64;
        let mut frac_ms = 0i64;
        if time.get(5..6) == Some(":") {
            secs = time.get(6..8)?.parse::<i64>().ok()?;
            used = 8;
            if time.get(8..9) == Some(".") {
                let frac: String = time[9..].chars().take_while(char::is_ascii_digit).collect();
                if frac.is_empty() {
                    return None;
                }
                let ms: String = frac.chars().chain("000".chars()).take(3).collect();
                frac_ms = ms.parse().ok()?;
                used = 9 + frac.len();
            }
        }
        if hh > 24 || mm > 59 || secs > 60 {
            return None;
        }
        millis += i128::from(((hh * 60 + mm) * 60 + secs) * 1000 + frac_ms);
        rest = &time[used..];
    }
    match rest {
        "" | "Z" | "z" => {}
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let z = zone[1..].replace(':', "");
            if z.len() != 4 || !z.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let zh: i64 = z[..2].parse().ok()?;
            let zm: i64 = z[2..].parse().ok()?;
            millis -= i128::from(sign * (zh * 60 + zm) * 60_000);
        }
    }
    Some(millis)
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An IP network.
#[derive(Clone, Copy, Debug)]
struct Cidr {
    addr: IpAddr,
    prefix: u32,
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u128::from(u32::from(n)), self.prefix, 32) == masked(u128::from(u32::from(a)), self.prefix, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), self.prefix, 128) == masked(u128::from(a), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u32, width: u32) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let shift = width.saturating_sub(prefix);
    (bits >> shift) << shift
}

fn cidr(s: &str) -> Option<Cidr> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u32>().ok()?)),
        None => (s.parse::<IpAddr>().ok()?, None),
    };
    let width = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(width);
    (prefix <= width).then_some(Cidr { addr, prefix })
}

/// A request's address (a `/n` suffix, if any, is ignored).
fn address(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.split_once('/').map_or(s, |(a, _)| a).parse().ok()
}

/// Decodes standard base64 (padding optional).
fn base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
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
                .map(|v| Pat::new(Template::lit(*v), Span::builtin()))
                .collect(),
            unknown: None,
        }
    }

    fn eval(c: &Condition, ctx: &Context) -> Tri {
        evaluate(c, ctx, true, "s3:GetObject")
    }

    fn with(key: &str, values: &[&str]) -> Context {
        let mut ctx = Context::new();
        ctx.set(key, values.iter().map(|v| Template::lit(*v)).collect());
        ctx
    }

    #[test]
    fn known_keys_are_decided() {
        let ctx = with("iam:AWSServiceName", &["kinesisreplication.dynamodb.amazonaws.com"]);
        let c = cond(
            "StringLike",
            "iam:AWSServiceName",
            &["kinesisreplication.dynamodb.amazonaws.com"],
        );
        assert_eq!(eval(&c, &ctx), Tri::Yes);
        let c = cond(
            "StringEquals",
            "iam:awsservicename",
            &["elasticmapreduce.amazonaws.com"],
        );
        assert_eq!(eval(&c, &ctx), Tri::No);
        let c = cond("StringLike", "iam:AWSServiceName", &["*.dynamodb.amazonaws.com"]);
        assert_eq!(eval(&c, &ctx), Tri::Yes);
        let c = cond(
            "StringNotEquals",
            "iam:AWSServiceName",
            &["kinesisreplication.dynamodb.amazonaws.com"],
        );
        assert_eq!(eval(&c, &ctx), Tri::No);
    }

    #[test]
    fn unknown_keys_are_undecided_and_absent_keys_follow_aws() {
        let mut ctx = Context::new();
        let c = cond("Bool", "aws:MultiFactorAuthPresent", &["true"]);
        assert_eq!(eval(&c, &ctx), Tri::Maybe);
        ctx.set_absent("aws:MultiFactorAuthPresent");
        assert_eq!(eval(&c, &ctx), Tri::No);
        let c = cond("BoolIfExists", "aws:MultiFactorAuthPresent", &["true"]);
        assert_eq!(eval(&c, &ctx), Tri::Yes);
        let c = cond("StringNotEquals", "aws:MultiFactorAuthPresent", &["x"]);
        assert_eq!(eval(&c, &ctx), Tri::Yes);
        let c = cond("Null", "aws:MultiFactorAuthPresent", &["true"]);
        assert_eq!(eval(&c, &ctx), Tri::Yes);
        let c = cond("ForAllValues:StringEquals", "aws:MultiFactorAuthPresent", &["x"]);
        assert_eq!(eval(&c, &ctx), Tri::Yes);
        let c = cond("ForAnyValue:StringEquals", "aws:MultiFactorAuthPresent", &["x"]);
        assert_eq!(eval(&c, &ctx), Tri::No);
    }

    #[test]
    fn numbers_dates_addresses_and_binary() {
        let ctx = with("s3:max-keys", &["10"]);
        assert_eq!(
            eval(&cond("NumericLessThanEquals", "s3:max-keys", &["10"]), &ctx),
            Tri::Yes
        );
        assert_eq!(eval(&cond("NumericLessThan", "s3:max-keys", &["10"]), &ctx), Tri::No);
        assert_eq!(eval(&cond("NumericNotEquals", "s3:max-keys", &["10.0"]), &ctx), Tri::No);
        let ctx = with("aws:CurrentTime", &["2024-06-01T12:00:00Z"]);
        assert_eq!(
            eval(&cond("DateGreaterThan", "aws:CurrentTime", &["2024-01-01"]), &ctx),
            Tri::Yes
        );
        assert_eq!(
            eval(&cond("DateLessThan", "aws:CurrentTime", &["1704067200"]), &ctx),
            Tri::No
        );
        assert_eq!(
            eval(
                &cond("DateEquals", "aws:CurrentTime", &["2024-06-01T14:00:00+02:00"]),
                &ctx
            ),
            Tri::Yes
        );
        let ctx = with("aws:SourceIp", &["203.0.113.7"]);
        assert_eq!(
            eval(&cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]), &ctx),
            Tri::Yes
        );
        assert_eq!(
            eval(&cond("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"]), &ctx),
            Tri::No
        );
        assert_eq!(
            eval(&cond("IpAddress", "aws:SourceIp", &["2001:db8::/32"]), &ctx),
            Tri::No
        );
        let ctx = with("aws:SourceIp", &["2001:db8::1"]);
        assert_eq!(
            eval(&cond("IpAddress", "aws:SourceIp", &["2001:db8::/32"]), &ctx),
            Tri::Yes
        );
        let ctx = with("k:b", &["QmluYXJ5"]);
        assert_eq!(eval(&cond("BinaryEquals", "k:b", &["QmluYXJ5"]), &ctx), Tri::Yes);
    }

    #[test]
    fn set_qualifiers() {
        let ctx = with("aws:TagKeys", &["env", "team"]);
        assert_eq!(
            eval(
                &cond("ForAllValues:StringEquals", "aws:TagKeys", &["env", "team", "x"]),
                &ctx
            ),
            Tri::Yes
        );
        assert_eq!(
            eval(&cond("ForAllValues:StringEquals", "aws:TagKeys", &["env"]), &ctx),
            Tri::No
        );
        assert_eq!(
            eval(&cond("ForAnyValue:StringEquals", "aws:TagKeys", &["team"]), &ctx),
            Tri::Yes
        );
        assert_eq!(
            eval(&cond("ForAnyValue:StringNotEquals", "aws:TagKeys", &["team"]), &ctx),
            Tri::Yes
        );
    }

    #[test]
    fn policy_variables_are_substituted_under_2012() {
        let mut ctx = with("aws:username", &["alice"]);
        ctx.set("aws:PrincipalTag/team", vec![Template::lit("blue")]);
        let c = cond("StringEquals", "aws:PrincipalTag/team", &["${aws:username}"]);
        assert_eq!(eval(&c, &ctx), Tri::No);
        let c = cond("StringLike", "aws:username", &["${aws:username}"]);
        assert_eq!(eval(&c, &ctx), Tri::Yes);
        assert_eq!(evaluate(&c, &ctx, false, "s3:GetObject"), Tri::No);
        let c = cond("StringEquals", "aws:username", &["${aws:nope, 'alice'}"]);
        ctx.strict = true;
        assert_eq!(eval(&c, &ctx), Tri::Yes);
        let star = with("k:v", &["a*"]);
        assert_eq!(eval(&cond("StringLike", "k:v", &["a${*}"]), &star), Tri::Yes);
        let other = with("k:v", &["ab"]);
        assert_eq!(eval(&cond("StringLike", "k:v", &["a${*}"]), &other), Tri::No);
    }

    #[test]
    fn invalid_values_are_named() {
        assert!(invalid_value(Family::Numeric(Cmp::Eq), "ten").is_some());
        assert!(invalid_value(Family::Date(Cmp::Eq), "2020-13-01").is_some());
        assert!(invalid_value(Family::Ip, "10.0.0.0/33").is_some());
        assert!(invalid_value(Family::Ip, "10.0.0.0/8").is_none());
        assert!(parse_operator("StringEqualz").is_none());
        assert!(parse_operator("NullIfExists").is_none());
    }
}
