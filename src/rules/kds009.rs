//! KDS009 `destination-foreign`: a streaming destination's stream is in another account or
//! region than its table (both known), or names a stream that is neither declared nor a
//! well-formed Kinesis stream ARN.

use crate::finding::{Finding, Resource};
use crate::iam::arn;
use crate::rules::{CheckContext, RuleMeta, finding};
use crate::value::{Part, Template};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let pins = &ctx.config.pins;
    let mut out = Vec::new();
    for (t, table) in ctx.graph.tables.iter().enumerate() {
        let (Some(arn), Some(span), None) = (&table.stream_arn, table.destination_span, &table.stream) else {
            continue;
        };
        if arn.opaques().next().is_some() {
            // Unresolved: KDS012's business, not a foreign stream.
            continue;
        }
        let problem = match segments(arn) {
            None => Some(format!(
                "names `{arn}`, which is neither a stream declared in the inputs nor a well-formed Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>)"
            )),
            Some((region, account)) => {
                let table_region = pinned(&table.table.arn, |p| p.region).or(pins.region.clone());
                let table_account = pinned(&table.table.arn, |p| p.account).or(pins.account.clone());
                match (region, account) {
                    (_, Some(acct)) if table_account.as_ref().is_some_and(|t| t != &acct) => Some(format!(
                        "streams to account {acct}, but the table is in account {}",
                        table_account.unwrap_or_default()
                    )),
                    (Some(reg), _) if table_region.as_ref().is_some_and(|t| t != &reg) => Some(format!(
                        "streams to region {reg}, but the table is in region {}",
                        table_region.unwrap_or_default()
                    )),
                    _ => None,
                }
            }
        };
        if let Some(problem) = problem {
            let mut f = finding(
                meta,
                span,
                format!("the streaming destination of table {} {problem}", table.table.name),
                "streaming destination".to_string(),
            );
            f.resource = Some(Resource::Table(t));
            out.push(f);
        }
    }
    out
}

/// For a well-formed Kinesis stream ARN: its region and account when they are literal.
/// Segments the templates leave unknown (the run's region, an unresolved piece) are given
/// the benefit of the doubt.
fn segments(arn: &Template) -> Option<(Option<String>, Option<String>)> {
    let p = arn::parse(arn)?;
    let name = stream_name(&p.resource)?;
    let region_ok = p.region.as_literal().is_none_or(|region| {
        !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    let account_ok = p
        .account
        .as_literal()
        .is_none_or(|account| account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    let name_ok = !name.is_empty()
        && name.iter().all(|part| match part {
            Part::Lit(s) => s.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
            Part::Sym(_) => true,
        });
    let ok = p.partition.as_literal() != Some("")
        && p.service.as_literal() == Some("kinesis")
        && region_ok
        && account_ok
        && name_ok;
    ok.then(|| {
        (
            p.region.as_literal().map(str::to_string),
            p.account.as_literal().map(str::to_string),
        )
    })
}

/// The pieces of a stream's name, from an ARN's resource (`stream/<name>`).
fn stream_name(resource: &Template) -> Option<Vec<Part>> {
    let mut parts = resource.parts().to_vec();
    let Some(Part::Lit(first)) = parts.first_mut() else {
        return None;
    };
    *first = first.strip_prefix("stream/")?.to_string();
    if first.is_empty() {
        parts.remove(0);
    }
    Some(parts)
}

/// The region or account of a table ARN that is literal as a whole.
fn pinned(arn: &Template, segment: fn(arn::Parts) -> Template) -> Option<String> {
    arn.as_literal()?;
    segment(arn::parse(arn)?).as_literal().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Symbol;

    #[test]
    fn stream_arns_are_checked_for_shape() {
        let ok = Template::lit("arn:aws:kinesis:eu-west-1:123456789012:stream/orders");
        assert_eq!(
            segments(&ok),
            Some((Some("eu-west-1".into()), Some("123456789012".into())))
        );
        for bad in [
            "arn:aws:kinesis:eu-west-1:123456789012:table/orders",
            "arn:aws:sqs:eu-west-1:123456789012:stream/orders",
            "orders",
            "arn:aws:kinesis:eu-west-1:1234:stream/orders",
        ] {
            assert_eq!(segments(&Template::lit(bad)), None, "{bad}");
        }
        assert_eq!(
            pinned(&Template::lit("arn:aws:dynamodb:eu-west-1:123456789012:table/t"), |p| p
                .region)
            .as_deref(),
            Some("eu-west-1")
        );
        let mut partly = Template::lit("arn:aws:dynamodb:eu-west-1:");
        partly.push_sym(Symbol::Account);
        partly.push_str(":table/t");
        assert_eq!(pinned(&partly, |p| p.region), None, "only an ARN literal as a whole");
        let mut sym = Template::lit("arn:");
        sym.push_sym(Symbol::Partition);
        sym.push_str(":kinesis:");
        sym.push_sym(Symbol::Region);
        sym.push_str(":");
        sym.push_sym(Symbol::Account);
        sym.push_str(":stream/x");
        assert_eq!(segments(&sym), Some((None, None)));
    }
}
