//! `terraform show -json` plan files.

use std::path::Path;

use crate::load::read_source;
use crate::model::{Diagnostic, Input, InputKind};
use crate::source::{SourceMap, Span};

/// Loads a plan file (not analysed yet: a note says so).
pub fn load(file: &Path, display: &str, sources: &SourceMap) -> Input {
    let mut input = Input::new(display, InputKind::TerraformPlan);
    match read_source(file, display, sources) {
        Ok((id, _)) => input
            .diagnostics
            .push(Diagnostic::note("plan files are not analysed yet", Span::new(id, 0, 0))),
        Err(e) => input.errors.push(e),
    }
    input
}
