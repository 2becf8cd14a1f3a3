//! KDS013 `indirect-manage`: a principal can enable, disable or update replication only by
//! acting as another principal (assuming a role, or changing a principal's permissions).

use std::collections::BTreeMap;

use crate::capability::{CapId, Covers};
use crate::finding::Finding;
use crate::reach::Indirect;
use crate::rules::{CheckContext, Gathered, RuleMeta, covers_resource, declared_here, finding};

pub fn check(meta: &RuleMeta, ctx: &CheckContext<'_>) -> Vec<Finding> {
    let dec = ctx.decisions;
    let n = dec.table_count();
    // The capabilities that manage replication of tables.
    let manage: Vec<CapId> = dec
        .caps()
        .filter(|(_, c)| c.manages && !c.about_slr())
        .map(|(k, _)| k)
        .collect();
    // One finding per (principal, capability): the union of its indirect table sets.
    let mut gathered: BTreeMap<(usize, CapId), Gathered<&Indirect>> = BTreeMap::new();
    for x in &ctx.reach.indirect {
        if !manage.contains(&x.cap) || !x.outcome.can() {
            continue;
        }
        if let Covers::Tables(set) = &x.covers {
            gathered.entry((x.principal, x.cap)).or_default().add(set, n, x);
        }
    }
    let mut out = Vec::new();
    for ((p, cap), g) in gathered {
        let (tables, first) = g.into_parts();
        let Some(x) = first else { continue };
        let principal = &ctx.graph.principals[p];
        let Some(span) = crate::reach::first_step_span(ctx.reach, x).or(principal.span) else {
            continue;
        };
        let cap_name = dec.cap_name(cap);
        let path = crate::reach::path_words(ctx.graph, ctx.sources, ctx.reach, cap_name, x);
        let how = if x.outcome == crate::iam::eval::Outcome::Allowed {
            "can"
        } else {
            "may be able to"
        };
        let covers = Covers::Tables(tables.clone());
        let mut f = finding(
            meta,
            span,
            format!(
                "{} `{}` {how} {cap_name} replication on {} only by acting as another principal: {path}",
                principal.class.as_str(),
                principal.address,
                dec.phrase(&tables)
            ),
            format!("first step of a path to {cap_name}"),
        );
        f.labels.extend(declared_here(ctx, p));
        f.principal = Some(p);
        f.resource = Some(covers_resource(ctx, &covers));
        f.capability = Some(cap);
        out.push(f);
    }
    out
}
