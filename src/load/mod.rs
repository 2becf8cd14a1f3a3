//! Discovery of inputs and dispatch to the format loaders; the only place that reads files.
//!
//! A directory is walked (honouring `.gitignore`, skipping `.terraform/`, `node_modules/`
//! and `cdk.out` asset folders). A folder with `.tf`/`.tf.json` files is one Terraform
//! module input; a JSON file with `format_version` and `planned_values` is a plan; a
//! YAML/JSON/`.template` file that looks like a CloudFormation template is one. Inputs load
//! in parallel; the result is sorted by input path so output never depends on scheduling.

pub mod cloudformation;
pub(crate) mod confine;
pub(crate) mod document;
pub mod terraform;

/// The JSON reader, below the loaders (the catalogue and `simulate` read JSON too); its
/// path under `load` is kept for callers of `load::json`.
pub use crate::json;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::limits::Limit;
use crate::model::{Input, InputKind, LoadError};
use crate::paths::{display_path, normalize};
use crate::source::{FileId, SourceMap, Span};

/// Files up to this size are read whole to decide what they are; a larger one with a
/// template's extension goes to the CloudFormation loader, which refuses it against the
/// file-size limit unless that was raised.
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Options that change how templates are read (values for variables and parameters).
#[derive(Clone, Default, Debug)]
pub struct LoadOptions {
    /// Terraform `-var NAME=VALUE`, in command-line order (later wins).
    pub tf_vars: Vec<(String, String)>,
    /// Terraform `-var-file` paths.
    pub tf_var_files: Vec<PathBuf>,
    /// Terraform variables from the environment (`TF_VAR_name=value` as `(name, value)`),
    /// below every variable file and `-var`. The caller reads the environment; the
    /// library never does.
    pub tf_env_vars: Vec<(String, String)>,
    /// CloudFormation `--parameter KEY=VALUE`.
    pub cfn_parameters: Vec<(String, String)>,
    /// CloudFormation parameter files (`[{"ParameterKey","ParameterValue"}]` or `{"Parameters": {...}}`).
    pub cfn_parameter_files: Vec<PathBuf>,
    /// Globs over absolute paths of files and folders to leave out (the config reader and
    /// the command line anchor each at its folder: `config::anchor_glob`).
    pub exclude: Vec<String>,
    /// The analysis root ([`crate::root`]): files that templates name (`file()`, module
    /// sources, nested stacks, SAM code) are read only inside it. `None`: each loader falls
    /// back to the git top level of its input, else the input's folder.
    pub root: Option<PathBuf>,
    /// Bounds on size, depth and work.
    pub limits: crate::limits::Limits,
    /// Texts read instead of the files at their paths (an editor's unsaved buffers).
    pub overlay: crate::source::Overlay,
    /// Parsed Terraform files kept from run to run (`kdsguard lsp`); `None`: parse each time.
    pub parse_cache: Option<Arc<terraform::ParseCache>>,
}

/// What discovery found and the loaders produced.
#[derive(Default, Debug)]
pub struct Loaded {
    /// Inputs sorted by path.
    pub inputs: Vec<Input>,
    /// Failures that belong to no input (an explicitly named path that does not exist or
    /// is not a template).
    pub errors: Vec<LoadError>,
    /// Time spent finding and classifying the inputs (the rest of the load is parsing and
    /// evaluating them).
    pub(crate) discover_time: std::time::Duration,
}

/// One input to load, as discovery classified it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Candidate {
    TerraformDir { dir: PathBuf, explicit: bool },
    Plan(PathBuf),
    CloudFormation(PathBuf),
}

/// Discovers and loads every input under `paths`. Display paths are relative to `cwd`.
pub fn load_paths(paths: &[PathBuf], cwd: &Path, options: &LoadOptions, sources: &SourceMap) -> Loaded {
    let mut errors = Vec::new();
    // Parameter files first, so that `--parameter` (later in the list) wins.
    let mut options = options.clone();
    let (mut params, param_errors) = read_parameter_files(&options.cfn_parameter_files, cwd, sources);
    errors.extend(param_errors);
    params.append(&mut options.cfn_parameters);
    options.cfn_parameters = params;
    options.root = Some(crate::root::analysis_root(paths, cwd, options.root.as_deref()));
    let options = &options;
    let discover_start = std::time::Instant::now();
    let mut candidates = Vec::new();
    for path in paths {
        discover(path, cwd, &mut candidates, &mut errors);
    }
    let excluded = exclusions(&options.exclude);
    candidates.retain(|c| {
        let path = match c {
            Candidate::TerraformDir { dir, .. } => dir,
            Candidate::Plan(f) | Candidate::CloudFormation(f) => f,
        };
        !excluded.is_match(absolute(path, cwd))
    });
    candidates.sort();
    candidates.dedup();
    // A plan in a Terraform module folder is merged into that module by its loader.
    let tf_dirs: std::collections::BTreeSet<PathBuf> = candidates
        .iter()
        .filter_map(|c| match c {
            Candidate::TerraformDir { dir, .. } => Some(normalize(dir)),
            _ => None,
        })
        .collect();
    candidates.retain(|c| match c {
        Candidate::Plan(f) => !f.parent().is_some_and(|d| tf_dirs.contains(&normalize(d))),
        _ => true,
    });
    within_total(&mut candidates, cwd, sources.limits().total_bytes, &mut errors);
    let discover_time = discover_start.elapsed();

    let mut inputs: Vec<Input> = candidates
        .par_iter()
        .map(|c| match c {
            Candidate::TerraformDir { dir, .. } => {
                terraform::load_module(dir, &display_path(dir, cwd), cwd, options, sources)
            }
            Candidate::Plan(file) => terraform::load_plan(file, &display_path(file, cwd), sources),
            Candidate::CloudFormation(file) => load_cloudformation_file(file, cwd, options, sources),
        })
        .collect();

    // A module folder that some root calls is analysed through that call, not again as a
    // root of its own, unless it was named explicitly.
    let called: std::collections::BTreeSet<String> =
        inputs.iter().flat_map(|i| i.module_dirs.iter().cloned()).collect();
    let explicit: std::collections::BTreeSet<String> = candidates
        .iter()
        .filter_map(|c| match c {
            Candidate::TerraformDir { dir, explicit: true } => Some(display_path(dir, cwd)),
            _ => None,
        })
        .collect();
    // The same holds for nested CloudFormation stacks loaded through their parent.
    inputs.retain(|i| !called.contains(&i.path) || explicit.contains(&i.path));
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    Loaded {
        inputs,
        errors,
        discover_time,
    }
}

/// Drops the candidates past the total-input limit (in path order, so the same ones
/// every run), each with an error naming the limit.
fn within_total(candidates: &mut Vec<Candidate>, cwd: &Path, limit: u64, errors: &mut Vec<LoadError>) {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut total = 0u64;
    candidates.retain(|c| {
        let (path, bytes) = match c {
            Candidate::TerraformDir { dir, .. } => {
                let files = std::fs::read_dir(dir).map(|rd| {
                    rd.flatten()
                        .filter(|e| e.file_name().to_str().is_some_and(is_terraform_file))
                        .map(|e| size(&e.path()))
                        .sum::<u64>()
                });
                (dir, files.unwrap_or(0))
            }
            Candidate::Plan(f) | Candidate::CloudFormation(f) => (f, size(f)),
        };
        total = total.saturating_add(bytes);
        if total <= limit {
            return true;
        }
        errors.push(LoadError {
            path: display_path(path, cwd),
            span: None,
            message: Limit::TotalBytes.exceeded(
                &format!("this input ({bytes} bytes) brings the inputs of the run to {total} bytes; it is not read"),
                limit,
            ),
        });
        false
    });
}

/// CloudFormation parameter files, in either common shape:
/// `[{"ParameterKey": "K", "ParameterValue": "V"}]` or `{"Parameters": {"K": "V"}}`.
pub(crate) fn read_parameter_files(
    files: &[PathBuf],
    cwd: &Path,
    sources: &SourceMap,
) -> (Vec<(String, String)>, Vec<LoadError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        let full = if f.is_absolute() { f.clone() } else { cwd.join(f) };
        let display = display_path(&full, cwd);
        let (id, text) = match read_source(&full, &display, sources) {
            Ok(x) => x,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let value = match crate::json::parse(&text, id, 0) {
            Ok(v) => v,
            Err(e) => {
                errors.push(error_at(&display, id, e.offset, format!("invalid JSON: {}", e.message)));
                continue;
            }
        };
        let scalar = |v: &crate::value::Value| v.to_template().and_then(|t| t.as_literal().map(str::to_string));
        let shape_error = |span: Span| {
            LoadError {
            path: display.clone(),
            span: Some(span),
            message: "a parameter file is a list of {\"ParameterKey\", \"ParameterValue\"} objects or {\"Parameters\": {...}}".to_string(),
        }
        };
        if let Some(items) = value.as_list() {
            for item in items {
                match (
                    item.get("ParameterKey").and_then(scalar),
                    item.get("ParameterValue").and_then(scalar),
                ) {
                    (Some(k), Some(v)) => out.push((k, v)),
                    _ => errors.push(shape_error(item.span)),
                }
            }
        } else if let Some(params) = value.get("Parameters") {
            for e in params.entries() {
                match scalar(&e.value) {
                    Some(v) => out.push((e.key.clone(), v)),
                    None => errors.push(shape_error(e.value.span)),
                }
            }
        } else {
            errors.push(shape_error(value.span));
        }
    }
    (out, errors)
}

/// Whether `path` (as named on the command line) is left out by the `exclude` globs.
pub(crate) fn is_excluded(path: &Path, cwd: &Path, globs: &[String]) -> bool {
    !globs.is_empty() && exclusions(globs).is_match(absolute(path, cwd))
}

/// The path made absolute and folded, with forward slashes: what `exclude` globs match.
fn absolute(path: &Path, cwd: &Path) -> String {
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    normalize(&full).to_string_lossy().replace('\\', "/")
}

/// The `exclude` globs (already validated by the config reader); a glob also excludes
/// everything below a folder it matches.
fn exclusions(globs: &[String]) -> globset::GlobSet {
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        for pattern in [g.clone(), format!("{}/**", g.trim_end_matches('/'))] {
            if let Ok(glob) = globset::Glob::new(&pattern) {
                b.add(glob);
            }
        }
    }
    b.build().unwrap_or_else(|_| globset::GlobSet::empty())
}

fn load_cloudformation_file(file: &Path, cwd: &Path, options: &LoadOptions, sources: &SourceMap) -> Input {
    let display = display_path(file, cwd);
    match read_source(file, &display, sources) {
        Ok((id, text)) => cloudformation::load_template_file(file, &display, cwd, id, &text, options, sources),
        Err(e) => {
            let mut input = Input::new(display, InputKind::CloudFormation);
            input.errors.push(e);
            input
        }
    }
}

fn discover(path: &Path, cwd: &Path, out: &mut Vec<Candidate>, errors: &mut Vec<LoadError>) {
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let display = display_path(&full, cwd);
    if full.is_dir() {
        if dir_has_terraform(&full) {
            out.push(Candidate::TerraformDir {
                dir: full.clone(),
                explicit: true,
            });
        }
        walk_dir(&full, out);
    } else if full.is_file() {
        let name = full.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if is_terraform_file(name) {
            let dir = full
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| cwd.to_path_buf());
            out.push(Candidate::TerraformDir { dir, explicit: true });
            return;
        }
        match classify_file(&full) {
            Some(c) => out.push(c),
            // Named explicitly, a YAML/JSON file the quick textual look does not take for a
            // template is parsed by the template loader, which decides for certain (a
            // template with an empty `Resources` map, say) or says why it is not one.
            None if has_template_extension(name) => out.push(Candidate::CloudFormation(full.clone())),
            None => errors.push(LoadError {
                path: display,
                span: None,
                message: "not a Terraform configuration, Terraform plan, or CloudFormation template".to_string(),
            }),
        }
    } else {
        errors.push(LoadError {
            path: display,
            span: None,
            message: "no such file or directory".to_string(),
        });
    }
}

fn walk_dir(root: &Path, out: &mut Vec<Candidate>) {
    walk(root, true, out);
    // `cdk init` puts cdk.out in .gitignore, yet its templates are what CDK deploys.
    let cdk_out = root.join("cdk.out");
    if cdk_out.is_dir() {
        walk(&cdk_out, false, out);
    }
}

fn walk(root: &Path, respect_ignore_files: bool, out: &mut Vec<Candidate>) {
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .git_ignore(respect_ignore_files)
        .git_exclude(respect_ignore_files)
        .ignore(respect_ignore_files)
        .parents(respect_ignore_files)
        .hidden(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| {
            let name = e.file_name().to_str().unwrap_or_default();
            !(name == ".terraform" || name == "node_modules" || (name.starts_with("asset.") && is_in_cdk_out(e.path())))
        })
        .build();
    for entry in walker.flatten() {
        let path = entry.path();
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            if path != root && dir_has_terraform(path) {
                out.push(Candidate::TerraformDir {
                    dir: path.to_path_buf(),
                    explicit: false,
                });
            }
        } else if entry.file_type().is_some_and(|t| t.is_file())
            && let Some(c) = classify_file(path)
        {
            out.push(c);
        }
    }
}

fn is_in_cdk_out(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "cdk.out")
}

fn is_terraform_file(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

fn dir_has_terraform(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten()
            .any(|e| e.file_type().is_ok_and(|t| t.is_file()) && e.file_name().to_str().is_some_and(is_terraform_file))
    })
}

/// Whether a file name is one a CloudFormation template (or a plan) may have.
fn has_template_extension(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.ends_with(".json") && !lower.ends_with(".tf.json"))
        || lower.ends_with(".yaml")
        || lower.ends_with(".yml")
        || lower.ends_with(".template")
}

/// Decides from its name and a look at its text whether a file is a plan or a template.
fn classify_file(path: &Path) -> Option<Candidate> {
    let name = path.file_name()?.to_str()?;
    if !has_template_extension(name) {
        return None;
    }
    let is_json = name.to_ascii_lowercase().ends_with(".json");
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_FILE_BYTES {
        // Too large to sniff cheaply: let the CloudFormation loader report it.
        return Some(Candidate::CloudFormation(path.to_path_buf()));
    }
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    if is_json && text.contains("\"format_version\"") && text.contains("\"planned_values\"") {
        return Some(Candidate::Plan(path.to_path_buf()));
    }
    if looks_like_cloudformation(&text) {
        return Some(Candidate::CloudFormation(path.to_path_buf()));
    }
    None
}

/// Whether discovery would take the file for an input: a Terraform file (`.tf`, `.tf.json`),
/// or a YAML/JSON/`.template` file whose text looks like a CloudFormation template or a
/// Terraform plan. For `check --changed-files`, which skips every other changed file.
pub fn is_template_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    (is_terraform_file(name) && path.is_file()) || classify_file(path).is_some()
}

/// Where a suppression comment for a finding that starts on `line` (0-based) of the file
/// `path` goes: the line to insert it before, or `None` where the format has no comments
/// (JSON). A Terraform finding inside a heredoc (whose text is not HCL, and where a `#` line
/// would become part of the text) is covered from above its top-level block instead, which
/// a suppression comment covers whole (`suppress`).
pub(crate) fn suppression_line(path: &str, text: &str, line: usize) -> Option<usize> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        return None;
    }
    if !lower.ends_with(".tf") {
        return Some(line);
    }
    // The heredoc open at `line`, if any: (its first line, its closing marker).
    let mut open: Option<(usize, String)> = None;
    for (k, l) in text.lines().enumerate().take(line + 1) {
        match &open {
            Some((_, marker)) if l.trim() == marker => open = None,
            Some(_) => {}
            None => {
                open = l
                    .trim_end()
                    .rsplit_once("<<")
                    .map(|(_, m)| m.trim_start_matches('-'))
                    .filter(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .map(|m| (k, m.to_string()));
            }
        }
    }
    let Some((start, _)) = open else {
        return Some(line);
    };
    let top = text
        .lines()
        .enumerate()
        .take(start + 1)
        .filter(|(_, l)| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(|(k, _)| k)
        .last();
    Some(top.unwrap_or(start))
}

/// Whether a file with this name and text would be taken for a template (a Terraform file, or
/// text that looks like a CloudFormation template): a cheap test for files discovery has not
/// read (an editor's unsaved buffer).
pub(crate) fn looks_like_template(path: &Path, text: &str) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    is_terraform_file(name) || (has_template_extension(name) && looks_like_cloudformation(text))
}

/// A cheap textual test; the loader decides for certain.
pub(crate) fn looks_like_cloudformation(text: &str) -> bool {
    text.contains("AWSTemplateFormatVersion")
        || (text.contains("Resources") && (text.contains("AWS::") || text.contains("Custom::")))
}

/// Reads a file as UTF-8 (a leading BOM removed), registers it, and returns its id and text.
pub(crate) fn read_source(path: &Path, display: &str, sources: &SourceMap) -> Result<(FileId, Arc<str>), LoadError> {
    let err = |message: String| LoadError {
        path: display.to_string(),
        span: None,
        message,
    };
    let limit = sources.limits().file_bytes;
    let too_large = |len: u64| err(Limit::FileBytes.exceeded(&format!("file is {len} bytes"), limit));
    let text: Arc<str> = match sources.unsaved(path) {
        Some(text) if text.len() as u64 > limit => return Err(too_large(text.len() as u64)),
        Some(text) => match text.strip_prefix('\u{feff}') {
            Some(rest) => Arc::from(rest),
            None => text,
        },
        None => {
            let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
            if meta.len() > limit {
                return Err(too_large(meta.len()));
            }
            let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let offset = e.utf8_error().valid_up_to();
                err(format!("not valid UTF-8 (at byte {offset})"))
            })?;
            let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
            Arc::from(text)
        }
    };
    let id = sources.add(display, text.clone());
    // No template format allows a raw NUL, and YAML would read it as the end of the stream.
    if let Some(at) = text.find('\0') {
        return Err(error_at(display, id, at, "contains a NUL byte; a template is text"));
    }
    Ok((id, text))
}

/// A load error at a byte offset of a registered file.
pub(crate) fn error_at(display: &str, file: FileId, offset: usize, message: impl Into<String>) -> LoadError {
    LoadError {
        path: display.to_string(),
        span: Some(Span::new(file, offset, offset)),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_files_are_templates_by_name_or_content() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            path
        };
        assert!(is_template_file(&write("main.tf", "")));
        assert!(is_template_file(&write("main.tf.json", "{}")));
        let stack = "AWSTemplateFormatVersion: 2010-09-09\nResources: {}\n";
        assert!(is_template_file(&write("stack.yml", stack)));
        assert!(!is_template_file(&write("package.json", r#"{"name": "x"}"#)));
        assert!(!is_template_file(&write("ci.yml", "on: push\njobs: {}\n")));
        assert!(!is_template_file(&write("notes.md", "Resources AWS::")));
        assert!(!is_template_file(&dir.path().join("missing.tf")));
    }

    #[test]
    fn cloudformation_sniffing() {
        assert!(looks_like_cloudformation("AWSTemplateFormatVersion: 2010-09-09\n"));
        assert!(looks_like_cloudformation(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n"
        ));
        assert!(!looks_like_cloudformation("name: ci\non: push\n"));
    }

    #[test]
    fn an_explicit_yaml_or_json_file_is_decided_by_the_template_loader() {
        let Ok(dir) = tempfile::tempdir() else {
            unreachable!("a temporary folder")
        };
        let _ = std::fs::write(dir.path().join("empty.json"), "{\"Resources\": {}}\n");
        let _ = std::fs::write(dir.path().join("notes.txt"), "hello\n");
        let sources = SourceMap::new();
        let options = LoadOptions::default();
        // Named: a template with no resources.
        let loaded = load_paths(&[PathBuf::from("empty.json")], dir.path(), &options, &sources);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.inputs.len(), 1);
        assert!(loaded.inputs[0].errors.is_empty(), "{:?}", loaded.inputs[0].errors);
        // In a walk: skipped, as the quick look does not take it for a template.
        let walked = load_paths(&[PathBuf::from(".")], dir.path(), &options, &sources);
        assert!(walked.inputs.is_empty() && walked.errors.is_empty());
        // Another kind of file, named: still an error.
        let other = load_paths(&[PathBuf::from("notes.txt")], dir.path(), &options, &sources);
        assert_eq!(other.errors.len(), 1);
    }
}
