//! Indirect holders in words, for the human and Markdown outputs: one line per
//! (principal, capability, set of tables) that manages replication or deletes the SLR
//! through other principals, with its path ("`dev` → assumes `ops` (... at iam.tf:8) →
//! `ops` can disable"). Rendering only: the paths come from the analysis.

use crate::analysis::Analysis;
use crate::capability::Covers;

/// One sentence per indirect holder of a capability that `manages` replication (deleting
/// the SLR included), in `indirect` order.
pub fn lines(a: &Analysis) -> Vec<String> {
    let dec = &a.decisions;
    a.reach
        .indirect
        .iter()
        .filter(|x| x.outcome.can() && dec.capability(x.cap).manages)
        .map(|x| {
            let cap = dec.cap_name(x.cap);
            let on = match &x.covers {
                Covers::Tables(set) => dec.phrase(set),
                Covers::Slr(_) => "the service-linked role".to_string(),
            };
            let p = &a.graph.principals[x.principal];
            format!(
                "{} `{}` can {cap} on {on} ({}) through other principals: {}",
                p.class.as_str(),
                p.address,
                x.outcome.as_str(),
                crate::reach::path_words(&a.graph, &a.sources, &a.reach, cap, x)
            )
        })
        .collect()
}

/// The human report's section (empty when nobody holds anything indirectly).
pub fn human(a: &Analysis) -> String {
    let lines = lines(a);
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("Access through other principals:\n");
    for l in lines {
        out.push_str(&format!("  - {l}\n"));
    }
    out.push('\n');
    out
}

/// The Markdown summary's section (empty when nobody holds anything indirectly).
pub fn markdown(a: &Analysis) -> String {
    let lines = lines(a);
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("### Access through other principals\n\n");
    for l in lines {
        out.push_str(&format!("- {}\n", l.replace('|', "\\|")));
    }
    out.push('\n');
    out
}
