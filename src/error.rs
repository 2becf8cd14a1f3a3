//! The library's own failures: an internal error that is not about the user's input, or a
//! run ended early on request.

/// An internal failure that is not about the user's input (a broken built-in data file),
/// or a run ended by [`Config::cancel`](crate::settings::Config::cancel).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InternalError(pub String);

/// The message of a cancelled run's [`InternalError`].
pub const CANCELLED: &str = "the analysis was cancelled";

impl InternalError {
    /// Whether the run was ended by [`Config::cancel`](crate::settings::Config::cancel).
    pub fn is_cancelled(&self) -> bool {
        self.0 == CANCELLED
    }
}
