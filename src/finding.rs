//! `Finding`: the one type every output (human, JSON, SARIF) reads.

use crate::model::Severity;
use crate::source::Span;

/// A labelled place in a template that matters to a finding.
#[derive(Clone, PartialEq, Debug)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A rule's verdict at one place.
#[derive(Clone, PartialEq, Debug)]
pub struct Finding {
    pub rule: String,
    pub name: String,
    pub severity: Severity,
    pub message: String,
    /// Where the finding points (the statement, action string, or declaration).
    pub span: Span,
    /// The primary label's text, then further labelled places.
    pub label: String,
    pub labels: Vec<Label>,
    /// Ids of the principal and resource concerned, where there is one.
    pub principal: Option<String>,
    pub resource: Option<String>,
    /// The capability concerned, where there is one (baseline key).
    pub capability: Option<String>,
    pub help: String,
    pub docs: String,
}
