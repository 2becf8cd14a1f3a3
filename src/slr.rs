//! The protection status of each service-linked role (capabilities.md, "Protection of the
//! service-linked role"), computed once from the decisions and reach; reports render it.

use crate::capability::Decisions;
use crate::graph::{Graph, PrincipalClass, SlrNode};
use crate::iam::eval::Outcome;
use crate::model::Protection;
use crate::reach::Reach;
use crate::source::SourceMap;

/// The three statuses of the spec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Unprotected,
    Protected,
    NotDeletableInScope,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unprotected => "unprotected",
            Status::Protected => "protected",
            Status::NotDeletableInScope => "not_deletable_in_scope",
        }
    }
}

/// One SLR's status, who can delete it (directly or through other principals), and why.
#[derive(Clone, Debug)]
pub struct SlrStatus {
    pub status: Status,
    /// Principal indexes, sorted by id.
    pub deletable_by: Vec<usize>,
    /// Which of them can only through other principals.
    pub indirect: Vec<usize>,
    pub reasons: Vec<String>,
}

/// Most declaring places named in words; the rest are counted.
const NAMED_DECLARATIONS: usize = 3;

/// The SLR `k` named once, for people: "the account's replication role, declared at
/// a.yaml:46 and main.tf:57" (every declaration is the same role: capabilities.md, "One per
/// account"). With several accounts, the account is named.
pub fn words(graph: &Graph, sources: &SourceMap, k: usize) -> String {
    let whose = short_words(graph, k);
    let Some(s) = graph.slrs.get(k) else {
        return whose;
    };
    if !s.declared() {
        return format!("{whose} (not declared in the inputs)");
    }
    let places: Vec<String> = s
        .declarations
        .iter()
        .take(NAMED_DECLARATIONS)
        .map(|d| {
            let line = sources.start(d.span).map_or(1, |lc| lc.line);
            format!("{}:{line}", sources.path(d.span))
        })
        .collect();
    let rest = s.declarations.len() - places.len();
    let listed = match (places.as_slice(), rest) {
        ([one], _) => one.clone(),
        (all, 0) => match all.split_last() {
            Some((last, head)) => format!("{} and {last}", head.join(", ")),
            None => String::new(),
        },
        (all, n) => format!("{} and {n} more", all.join(", ")),
    };
    format!("{whose}, declared at {listed}")
}

/// The SLR `k` in a few words, where [`words`] has already placed it: "the account's
/// replication role" ("account 111122223333's replication role" with several accounts).
pub(crate) fn short_words(graph: &Graph, k: usize) -> String {
    match graph.slrs.get(k).map(|s| (&s.account, graph.slrs.len() > 1)) {
        Some((Some(account), true)) => format!("account {account}'s replication role"),
        _ => "the account's replication role".to_string(),
    }
}

/// The status of every SLR of the run, in [`Graph::slrs`] order.
pub(crate) fn statuses(graph: &Graph, decisions: &Decisions, reach: &Reach) -> Vec<SlrStatus> {
    graph
        .slrs
        .iter()
        .enumerate()
        .map(|(k, s)| status(graph, decisions, reach, k, s))
        .collect()
}

fn status(graph: &Graph, decisions: &Decisions, reach: &Reach, k: usize, s: &SlrNode) -> SlrStatus {
    let delete = decisions.cap("delete-slr");
    let direct = |p: usize| {
        delete
            .and_then(|c| decisions.on_slr(p, c, k))
            .map(|x| decisions.decision(x).outcome)
    };
    let through = |p: usize| delete.and_then(|c| reach.on_slr(p, c, k)).map(|x| x.outcome);
    let mut deletable_by = Vec::new();
    let mut indirect = Vec::new();
    for p in 0..graph.principals.len() {
        if direct(p).is_some_and(Outcome::can) {
            deletable_by.push(p);
        } else if through(p).is_some_and(Outcome::can) {
            deletable_by.push(p);
            indirect.push(p);
        }
    }
    deletable_by.sort_by(|a, b| graph.principals[*a].id.cmp(&graph.principals[*b].id));
    let mut reasons = Vec::new();
    for &p in &deletable_by {
        let id = &graph.principals[p].id;
        match (indirect.contains(&p), delete.and_then(|c| reach.on_slr(p, c, k))) {
            (true, Some(x)) => {
                let holder = &graph.principals[reach.principal_of(x.holder)].id;
                reasons.push(format!(
                    "{id} can call iam:DeleteServiceLinkedRole on it through {holder}"
                ));
            }
            _ => reasons.push(format!("{id} can call iam:DeleteServiceLinkedRole on it")),
        }
    }
    // Each declaration is a resource its tool can delete: one unprotected is enough.
    let mut lifecycle_unprotected = false;
    let several = s.declarations.len() > 1;
    for d in &s.declarations {
        let at = if several {
            format!(" ({})", d.address)
        } else {
            String::new()
        };
        match &d.protection {
            Protection::Unprotected => {
                reasons.push(format!(
                    "declared as a managed resource without deletion protection{at}"
                ));
                lifecycle_unprotected = true;
            }
            Protection::Unknown(_) => {
                reasons.push(format!(
                    "its deletion protection depends on a value that could not be resolved{at}"
                ));
                lifecycle_unprotected = true;
            }
            Protection::NotShown => {
                reasons.push(format!(
                    "declared in a plan, which cannot show lifecycle protection{at}"
                ));
            }
            Protection::Protected(_) => {}
        }
    }
    let n = graph.principals.len();
    let denied_for_all = n > 0 && (0..n).all(|p| direct(p).is_none_or(|o| o == Outcome::Denied));
    let status = if !deletable_by.is_empty() || lifecycle_unprotected {
        Status::Unprotected
    } else if denied_for_all && graph.principals.iter().all(|p| p.class != PrincipalClass::ExternalRole) {
        reasons.push("an explicit Deny of iam:DeleteServiceLinkedRole applies to every analysed principal".to_string());
        Status::Protected
    } else {
        reasons.push(
            "no analysed principal can delete it, but nothing guards it against principals outside the inputs"
                .to_string(),
        );
        Status::NotDeletableInScope
    };
    SlrStatus {
        status,
        deletable_by,
        indirect,
        reasons,
    }
}
