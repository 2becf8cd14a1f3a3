//! kdsguard: who can enable, change or disable Kinesis Data Streams replication of
//! DynamoDB tables, and who can delete its service-linked role, read statically from
//! Terraform and CloudFormation.
//!
//! [`analyze`] runs the whole pipeline (`pipeline.rs`): discover → load with spans → model →
//! graph → capability decisions → rules → findings. Reports read the returned [`Analysis`].
//! The modules form layers (docs/ARCHITECTURE.md, "Layers"; `tests/architecture.rs` holds
//! them): each imports only its own layer and those below. This root sits on top: it
//! declares the modules and re-exports the entry points.

pub mod analysis;
pub mod baseline;
pub mod capability;
pub mod catalog;
pub mod cli;
pub mod compare;
pub mod config;
pub mod delta;
pub mod error;
pub mod finding;
pub mod graph;
pub mod iam;
pub mod json;
pub mod limits;
pub mod load;
pub mod lsp;
pub mod model;
pub mod paths;
pub mod pipeline;
pub mod query;
pub mod reach;
pub mod reclaim;
pub mod report;
pub mod root;
pub mod rules;
pub mod settings;
pub mod simulate;
pub mod slr;
pub mod source;
pub mod suppress;
pub mod value;

pub use analysis::Analysis;
pub use error::{CANCELLED, InternalError};
pub use pipeline::{analyze, analyze_against};
pub use settings::{Config, Guardrail, RuleLevel};
