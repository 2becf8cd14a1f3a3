//! KDS009 `destination-foreign`: a streaming destination's stream is in another account or
//! region than its table (both known), or names a stream that is neither declared nor a
//! well-formed Kinesis stream ARN.

use crate::finding::{Finding, Resource};
use crate::rules::{CheckContext, RuleMeta, finding};
use crate::value::{Part, Symbol, Template};

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
                let table_region = pinned(&table.table.arn, 3).or(pins.region.clone());
                let table_account = pinned(&table.table.arn, 4).or(pins.account.clone());
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
fn segments(arn: &Template) -> Option<(Option<String>, Option<String>)> {
    // Render symbols as markers so that the structure can be checked segment by segment.
    let mut text = String::new();
    for part in arn.parts() {
        match part {
            Part::Lit(s) => text.push_str(s),
            Part::Sym(Symbol::Partition) => text.push_str("\u{1}P"),
            Part::Sym(Symbol::Region) => text.push_str("\u{1}R"),
            Part::Sym(Symbol::Account) => text.push_str("\u{1}A"),
            Part::Sym(_) => text.push('\u{1}'),
        }
    }
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn_word, partition, service, region, account, resource] = parts.as_slice() else {
        return None;
    };
    let name = resource.strip_prefix("stream/")?;
    let literal = |s: &str| !s.contains('\u{1}');
    let region_ok = !literal(region)
        || (!region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    let account_ok = !literal(account) || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    let ok = *arn_word == "arn"
        && !partition.is_empty()
        && *service == "kinesis"
        && region_ok
        && account_ok
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-\u{1}".contains(c));
    ok.then(|| {
        (
            literal(region).then(|| region.to_string()),
            literal(account).then(|| account.to_string()),
        )
    })
}

/// A literal ARN segment (`index` 3 region, 4 account) of a table ARN, if literal.
fn pinned(arn: &Template, index: usize) -> Option<String> {
    let text = arn.as_literal()?;
    text.split(':').nth(index).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

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
