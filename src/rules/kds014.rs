//! KDS014 `suppression-problem`: each problem `suppress::apply` found with a suppression
//! (no reason, expired, unknown rule, malformed, unused), reported at the suppression.
//! It runs after the suppressions are applied, since "suppresses nothing" depends on the
//! other rules' findings; its own findings cannot be suppressed.

use crate::finding::Finding;
use crate::rules::{RuleMeta, finding};
use crate::suppress::{Problem, ProblemKind};

pub fn check(meta: &RuleMeta, problems: &[Problem]) -> Vec<Finding> {
    problems
        .iter()
        .map(|p| {
            let label = match p.kind {
                ProblemKind::NoReason => "no reason: this suppression does not work",
                ProblemKind::Expired => "expired: this suppression no longer works",
                ProblemKind::UnknownRule => "names a rule that does not exist",
                ProblemKind::Malformed => "not in the canonical form",
                ProblemKind::Unused => "suppresses nothing",
            };
            finding(meta, p.span, p.message.clone(), label.to_string())
        })
        .collect()
}
