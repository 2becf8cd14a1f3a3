//! Everything a run found ([`Analysis`]): what reports, queries, the language server and
//! baselines read. Also the base revision of a PR-mode run ([`Base`]), which the pipeline
//! compares head with. The pipeline that fills them in is `pipeline.rs`.

use crate::capability::Decisions;
use crate::compare::{BaseParts, Delta, Parts};
use crate::finding::{Finding, Identity};
use crate::graph::Graph;
use crate::model::{Diagnostic, LoadError, Severity};
use crate::reach::Reach;
use crate::slr::SlrStatus;
use crate::source::SourceMap;
use crate::suppress::Suppressed;

/// Everything a run found; reports read only this.
#[derive(Debug)]
pub struct Analysis {
    pub sources: SourceMap,
    pub graph: Graph,
    /// Every capability decision, over sets of tables.
    pub decisions: Decisions,
    /// Access through other principals: steps and indirect decisions.
    pub reach: Reach,
    /// Each service-linked role's protection status (per [`Graph::slrs`]).
    pub slrs: Vec<SlrStatus>,
    /// Time per phase, in pipeline order (`check --timings`).
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// Sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    /// Load and policy diagnostics (notes and warnings about templates).
    pub diagnostics: Vec<Diagnostic>,
    pub assumptions: Vec<String>,
    /// Findings hidden by a suppression (with its reason).
    pub suppressed: Vec<Suppressed>,
    /// Findings hidden because the baseline lists them.
    pub baselined: Vec<Finding>,
    /// Identities relative to the analysis root (baseline keys, fingerprints, deltas).
    pub identity: Identity,
    /// What a change adds and removes (`check --diff-base`); `findings` then holds only
    /// the findings new at head.
    pub delta: Option<Delta>,
}

impl Analysis {
    /// The exit code `semantics.md` fixes: 2 if an input failed to load, 1 if a finding is
    /// at or above `fail_on`, else 0.
    pub fn exit_code(&self, fail_on: Severity) -> u8 {
        if !self.errors.is_empty() {
            2
        } else if self.findings.iter().any(|f| f.severity >= fail_on) {
            1
        } else {
            0
        }
    }
}

/// The base revision of a PR-mode run, read and analysed.
pub struct Base {
    /// The revision as given (`origin/main`, a SHA).
    pub rev: String,
    /// The commit it resolved to (full hex id).
    pub commit: String,
    /// The base's analysis; `None` when none of the paths existed there (an empty base).
    pub analysis: Option<Analysis>,
}

impl Base {
    /// What the comparison reads of the base ([`crate::compare::access`]).
    pub fn parts(&self) -> BaseParts<'_> {
        BaseParts {
            rev: &self.rev,
            commit: &self.commit,
            parts: self.analysis.as_ref().map(|a| Parts {
                graph: &a.graph,
                decisions: &a.decisions,
                reach: &a.reach,
                identity: &a.identity,
            }),
            errors: self.analysis.as_ref().map_or(0, |a| a.errors.len()),
        }
    }
}
