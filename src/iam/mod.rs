//! IAM semantics: policy documents, wildcard and ARN matching, conditions, and the
//! evaluation of one request against layered policies. The only module that knows what a
//! policy means.

pub mod actions;
pub mod arn;
pub mod class;
pub mod condition;
pub mod context;
pub mod eval;
pub mod index;
pub mod key_policy;
pub mod pattern;
pub mod policy;
pub mod principal;
pub mod reach;
