//! The library's own failures: an internal error that is not about the user's input, a
//! capability catalogue that cannot be read, or a run ended early on request.

/// Why a run failed without a report: a broken built-in data file, or a run ended by
/// [`Config::cancel`](crate::settings::Config::cancel).
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    /// The run was ended by [`Config::cancel`](crate::settings::Config::cancel).
    #[error("{}", CANCELLED)]
    Cancelled,
    /// The capability catalogue (bundled, or the run's own) cannot be read.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The rule catalogue cannot be read (`rules::run`, `rules::catalogue`).
    #[error(transparent)]
    Rules(#[from] RuleDataError),
    /// The baseline file cannot be read (`baseline::read`).
    #[error(transparent)]
    Baseline(#[from] BaselineError),
}

/// A compiled-in rule's data (`rules/<ID>.toml`) that cannot be read.
#[derive(Clone, Debug, thiserror::Error)]
#[error("rule data: {0}")]
pub struct RuleDataError(#[from] pub toml::de::Error);

/// Why a baseline file cannot be used; each names the file as the user wrote it.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{display}: cannot read baseline: {error}")]
    Unreadable { display: String, error: std::io::Error },
    #[error("{display}:{line}:{column}: not a kdsguard baseline: {error}")]
    Malformed {
        display: String,
        line: usize,
        column: usize,
        error: serde_json::Error,
    },
    #[error("{display}: baseline schema is {found:?}, expected {expected:?}")]
    Schema {
        display: String,
        found: String,
        expected: &'static str,
    },
}

/// The message of a cancelled run's [`InternalError`] ([`InternalError::Cancelled`]).
pub const CANCELLED: &str = "the analysis was cancelled";

impl InternalError {
    /// Whether the run was ended by [`Config::cancel`](crate::settings::Config::cancel).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, InternalError::Cancelled)
    }
}

/// Why capability definitions (`rules/capabilities.toml`'s format) cannot be read; each
/// names the text (`display`).
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// Not TOML of the catalogue's shape.
    #[error("{display}: {error}")]
    Syntax { display: String, error: toml::de::Error },
    /// Two capabilities share an id.
    #[error("{display}: capability `{id}` is defined twice")]
    DefinedTwice { display: String, id: String },
    /// A capability without exactly one primary requirement.
    #[error("{display}: capability `{id}` has {primaries} requirements marked `primary = true`; it needs exactly one")]
    Primaries {
        display: String,
        id: String,
        primaries: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_run_says_so_and_is_told_apart_by_its_variant() {
        assert_eq!(InternalError::Cancelled.to_string(), CANCELLED);
        assert!(InternalError::Cancelled.is_cancelled());
        // The same words from elsewhere are not a cancellation.
        let baseline = BaselineError::Schema {
            display: CANCELLED.to_string(),
            found: String::new(),
            expected: "",
        };
        assert!(!InternalError::Baseline(baseline).is_cancelled());
        let schema = BaselineError::Schema {
            display: "b.json".to_string(),
            found: "v0".to_string(),
            expected: "kdsguard.baseline/v1",
        };
        assert_eq!(
            InternalError::Baseline(schema).to_string(),
            "b.json: baseline schema is \"v0\", expected \"kdsguard.baseline/v1\""
        );
    }

    #[test]
    fn catalogue_errors_name_the_text_and_the_capability() {
        let twice = CatalogueError::DefinedTwice {
            display: "mine.toml".into(),
            id: "describe".into(),
        };
        assert_eq!(twice.to_string(), "mine.toml: capability `describe` is defined twice");
        // Wrapped, the message is the same and adds no cause to a chain.
        let internal = InternalError::from(twice);
        assert_eq!(
            internal.to_string(),
            "mine.toml: capability `describe` is defined twice"
        );
        assert!(std::error::Error::source(&internal).is_none());
    }
}
