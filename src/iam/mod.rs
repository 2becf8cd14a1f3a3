//! IAM semantics: policy documents, wildcard and ARN matching, conditions, and the
//! evaluation of one request against layered policies. The only module that knows what a
//! policy means.

pub(crate) mod actions;
pub(crate) mod arn;
pub mod class;
pub(crate) mod condition;
// What is known of a request's condition keys: read through `condition` (which
// re-exports `Context` and `Lookup`), not named outside `iam`.
mod context;
pub mod eval;
pub(crate) mod index;
pub(crate) mod key_policy;
pub mod pattern;
pub mod policy;
pub(crate) mod principal;
pub mod reach;

/// A policy's id in the run's graph: what proofs name their policy by.
pub use eval::PolicyId;
