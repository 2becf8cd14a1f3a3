//! Reports: each reads the [`crate::Analysis`] and has its own wire types.

pub mod concise;
pub mod github;
pub mod graph;
pub mod human;
pub mod json;
pub mod sarif;

/// Where a reader learns more about a rule: the one place that decides it, so that a
/// configured documentation URL can replace the command in every report.
pub fn rule_pointer(id: &str) -> String {
    format!("kdsguard explain {id}")
}
