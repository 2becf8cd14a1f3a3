//! `kdsguard simulate`: the IAM evaluator on its own (spec/simulate.md).

use std::io::{BufRead, Write};

use crate::cli::SimulateArgs;

/// Why a simulation could not run at all (a bad request line is an answer, not an error).
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

/// Runs the command; returns the exit code.
pub fn run(args: &SimulateArgs, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<u8, SimulateError> {
    let _ = (args, input, out);
    Err(SimulateError::Usage("simulate is not implemented yet".to_string()))
}
