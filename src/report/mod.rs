//! Reports: each reads the [`crate::analysis::Analysis`] and has its own wire types.

pub(crate) mod concise;
pub(crate) mod delta_words;
pub mod format;
pub mod github;
pub mod graph;
pub mod human;
pub mod json;
pub(crate) mod junit;
pub mod query;
pub(crate) mod reach_words;
pub mod sarif;

use crate::model::RuleId;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The rule catalogue cannot be read (`rules::catalogue`).
    #[error(transparent)]
    Rules(#[from] crate::error::RuleDataError),
    /// The report could not be serialised.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// The project's repository (`Cargo.toml`'s `repository`), empty while it has none.
pub(crate) const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// A rule's page for readers outside this repository: from `docs-url` (a base URL, or a
/// template with `{id}`), else in the project's repository once `Cargo.toml` names it,
/// else none (reports then say `kdsguard explain ID`).
pub fn rule_url(docs_url: Option<&str>, id: RuleId) -> Option<String> {
    match docs_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) if u.contains("{id}") => Some(u.replace("{id}", &id.to_string())),
        Some(u) => Some(format!("{}/{id}.md", u.trim_end_matches('/'))),
        None if !REPOSITORY.is_empty() => Some(format!(
            "{}/blob/main/docs/rules/{id}.md",
            REPOSITORY.trim_end_matches('/')
        )),
        None => None,
    }
}

/// Where a reader learns more about a rule, in every report: its page (see [`rule_url`]),
/// else the command that prints it.
pub(crate) fn rule_pointer(docs_url: Option<&str>, id: RuleId) -> String {
    rule_url(docs_url, id).unwrap_or_else(|| format!("kdsguard explain {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_urls_follow_the_docs_url() {
        assert_eq!(
            rule_url(Some("https://docs.example/rules/"), RuleId::new(4)).as_deref(),
            Some("https://docs.example/rules/KDS004.md")
        );
        assert_eq!(
            rule_url(Some("https://docs.example/r/{id}.html"), RuleId::new(4)).as_deref(),
            Some("https://docs.example/r/KDS004.html")
        );
        if REPOSITORY.is_empty() {
            assert_eq!(rule_url(None, RuleId::new(4)), None);
        }
    }
}
