//! KDS006 `manage-via-wildcard`: `disable` or `update` is granted only through a wildcard
//! or `NotAction`, never by naming the action.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::iam::policy::Effect;
use crate::rules::{CheckContext, RuleMeta, declared_here, finding};
use crate::source::Span;

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    // (principal, capability) → the wildcard action strings that grant it.
    let mut hits: BTreeMap<(usize, (String, u32), Span), Vec<String>> = BTreeMap::new();
    for a in ctx.access {
        if !(a.capability == "disable" || a.capability == "update") || !a.outcome.can() {
            continue;
        }
        let allows: Vec<Span> = a
            .requirements
            .iter()
            .filter(|r| r.primary)
            .flat_map(|r| r.decision.because.iter())
            .filter(|b| b.effect == Effect::Allow)
            .filter_map(|b| b.action)
            .filter(|s| !s.is_builtin())
            .collect();
        if allows.is_empty() {
            continue;
        }
        let named = allows.iter().any(|s| {
            ctx.sources
                .get(s.file)
                .and_then(|f| {
                    f.slice(*s)
                        .map(|t| !t.contains('*') && !t.contains('?') && !t.contains("NotAction"))
                })
                .unwrap_or(true)
        });
        if named {
            continue;
        }
        if let Some(first) = allows.iter().min_by_key(|s| (ctx.sources.path(**s), s.start)) {
            hits.entry((a.principal, (ctx.sources.path(*first), first.start), *first))
                .or_default()
                .push(a.capability.clone());
        }
    }
    let mut out = Vec::new();
    for ((p, _, span), mut capabilities) in hits {
        capabilities.dedup();
        let principal = &ctx.graph.principals[p];
        let action = capabilities
            .iter()
            .map(|c| match c.as_str() {
                "disable" => "dynamodb:DisableKinesisStreamingDestination",
                _ => "dynamodb:UpdateKinesisStreamingDestination",
            })
            .collect::<Vec<_>>()
            .join(" and ");
        let capability = capabilities.join(" and ");
        let text = ctx
            .sources
            .get(span.file)
            .and_then(|f| f.slice(span).map(str::to_string))
            .unwrap_or_default();
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` can {capability} replication only through {}: {action} {} never named",
                principal.class.as_str(),
                principal.address,
                text.trim(),
                if capabilities.len() > 1 { "are" } else { "is" }
            ),
            format!("covers {action}"),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(principal.id.clone());
        f.capability = capabilities.first().cloned();
        out.push(f);
    }
    out
}
