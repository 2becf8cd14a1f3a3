//! Baselines: findings accepted once are not reported again. Keyed by rule, principal,
//! resource and capability relative to the analysis root (never by line or typed path), so
//! edits that move code, and runs from another folder, keep them matched.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, Base};
use crate::capability::Decisions;
use crate::error::BaselineError;
use crate::finding::{Finding, Identity};
use crate::graph::Graph;

pub(crate) const SCHEMA: &str = "kdsguard.baseline/v1";

/// One accepted finding.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Entry {
    pub rule: String,
    #[serde(default)]
    pub principal: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub capability: Option<String>,
}

#[derive(Serialize, Deserialize, Debug)]
pub(crate) struct Baseline {
    pub schema: String,
    pub findings: Vec<Entry>,
}

/// The key a finding is baselined by: its ids relative to the analysis root (never the
/// path typed or the cwd). There is one replication role per account, so findings about it
/// keep one key whether or not (or wherever) the templates declare it, unless several are
/// declared: each then keeps its own. `decisions` says which capabilities are about the role.
pub fn key(f: &Finding, ids: &Identity, graph: &Graph, decisions: &Decisions) -> Entry {
    let about_role = f.capability.is_some_and(|c| decisions.capability(c).about_slr());
    Entry {
        rule: f.rule.to_string(),
        principal: f.principal.map(|p| ids.id(&graph.principals[p].id)),
        resource: f.resource.map(|r| ids.resource(r, about_role, graph)),
        capability: f.capability.map(|c| decisions.cap_name(c).to_string()),
    }
}

/// Writes the run's findings (including those a baseline hid) as a baseline.
pub fn write(a: &Analysis, path: &Path) -> std::io::Result<()> {
    let findings: BTreeSet<Entry> = a
        .findings
        .iter()
        .chain(a.baselined.iter())
        .map(|f| key(f, &a.identity, &a.graph, &a.decisions))
        .collect();
    let b = Baseline {
        schema: SCHEMA.to_string(),
        findings: findings.into_iter().collect(),
    };
    let mut text = serde_json::to_string_pretty(&b).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(path, text)
}

/// Reads a baseline file; the error names the file and what is wrong.
pub fn read(path: &Path, display: &str) -> Result<BTreeSet<Entry>, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|error| BaselineError::Unreadable {
        display: display.to_string(),
        error,
    })?;
    let b: Baseline = serde_json::from_str(&text).map_err(|error| BaselineError::Malformed {
        display: display.to_string(),
        line: error.line(),
        column: error.column(),
        error,
    })?;
    if b.schema != SCHEMA {
        return Err(BaselineError::Schema {
            display: display.to_string(),
            found: b.schema,
            expected: SCHEMA,
        });
    }
    Ok(b.findings.into_iter().collect())
}

/// PR mode (`check --diff-base`): keeps in `findings` only those whose baseline key the
/// base revision did not have (as a multiset); returns how many were dropped.
pub(crate) fn keep_new(
    findings: &mut Vec<Finding>,
    ids: &Identity,
    graph: &Graph,
    decisions: &Decisions,
    base: &Base,
) -> usize {
    let mut known: BTreeMap<Entry, usize> = BTreeMap::new();
    if let Some(b) = &base.analysis {
        for f in &b.findings {
            *known.entry(key(f, &b.identity, &b.graph, &b.decisions)).or_default() += 1;
        }
    }
    let before = findings.len();
    findings.retain(|f| match known.get_mut(&key(f, ids, graph, decisions)) {
        Some(n) if *n > 0 => {
            *n -= 1;
            false
        }
        _ => true,
    });
    before - findings.len()
}
