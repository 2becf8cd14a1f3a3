//! CloudFormation templates (YAML and JSON, SAM, CDK output) into the model.
//!
//! The text is parsed into spanned [`Value`]s (JSON by `load::json`, YAML by [`yaml`]),
//! checked to be a template, then its resources are mapped to model records with every
//! intrinsic resolved by [`intrinsics::Evaluator`]. Anything not understood becomes a
//! note; a file that does not parse or is not a template becomes a [`LoadError`].

mod document;
mod intrinsics;
mod resources;
mod sam;
mod yaml;

use std::collections::BTreeSet;

use crate::load::{LoadOptions, error_at};
use crate::model::{Diagnostic, Input, InputKind, LoadError};
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Value, ValueKind};

/// Loads one template whose text is already registered as `file`.
pub fn load_template(display: &str, file: FileId, text: &str, options: &LoadOptions, sources: &SourceMap) -> Input {
    let _ = sources;
    let mut input = Input::new(display, InputKind::CloudFormation);
    let root = match parse_text(text, file, &mut input.diagnostics) {
        Ok(root) => root,
        Err((offset, message)) => {
            input.errors.push(error_at(display, file, offset, message));
            return input;
        }
    };
    if let Err(why) = classify(&root) {
        input.errors.push(LoadError {
            path: display.to_string(),
            span: Some(Span::new(file, root.span.start as usize, root.span.start as usize)),
            message: format!("not a CloudFormation template: {why}"),
        });
        return input;
    }
    resources::load(&root, text, file, options, &mut input);
    dedup_diagnostics(&mut input.diagnostics);
    input
}

/// JSON when the text starts like a JSON document, YAML otherwise.
fn parse_text(text: &str, file: FileId, diagnostics: &mut Vec<Diagnostic>) -> Result<Value, (usize, String)> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        crate::load::json::parse(text, file, 0).map_err(|e| (e.offset, format!("invalid JSON: {}", e.message)))
    } else {
        yaml::parse(text, file, diagnostics).map_err(|e| (e.offset, format!("invalid YAML: {}", e.message)))
    }
}

/// Whether a parsed document is a template: a mapping with `AWSTemplateFormatVersion`,
/// or with a `Resources` mapping whose entries have a `Type`.
fn classify(root: &Value) -> Result<(), String> {
    let ValueKind::Map(entries) = &root.kind else {
        return Err(match &root.kind {
            ValueKind::Null => "the file holds no document".to_string(),
            _ => format!("the document is a {}, not a mapping", root.type_name()),
        });
    };
    if entries.iter().any(|e| e.key == "AWSTemplateFormatVersion") {
        return Ok(());
    }
    let Some(resources) = root.get("Resources") else {
        return Err("it has neither `AWSTemplateFormatVersion` nor `Resources`".to_string());
    };
    let typed = resources.entries().iter().any(|e| e.value.get("Type").is_some());
    if typed {
        Ok(())
    } else {
        Err("its `Resources` section has no entry with a `Type`".to_string())
    }
}

/// The same diagnostic can arise twice when a value is evaluated from two places.
fn dedup_diagnostics(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    diagnostics.retain(|d| seen.insert((d.span, d.message.clone())));
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
}
