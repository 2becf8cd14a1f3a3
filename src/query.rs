//! Queries over the decisions: who-can, can, why — each answer with its proof path.

use serde::Serialize;

use crate::Analysis;
use crate::cli::QueryCommand;

/// A query's answer (wire type for `--format json`).
#[derive(Serialize, Debug)]
pub struct Answer {
    pub query: String,
}

/// Answers a query; an error names what was not found (a principal, table, capability).
pub fn answer(a: &Analysis, q: &QueryCommand) -> Result<Answer, String> {
    let _ = (a, q);
    Err("queries are not implemented yet".to_string())
}

pub fn render_json(answer: &Answer) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(answer)?;
    s.push('\n');
    Ok(s)
}

pub fn render_human(a: &Analysis, answer: &Answer) -> String {
    let _ = a;
    format!("{}\n", answer.query)
}
