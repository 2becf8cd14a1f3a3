//! Nested stacks: `AWS::CloudFormation::Stack` (and SAM's `AWS::Serverless::Application`)
//! whose template is a local file, loaded into the parent's input.
//!
//! **Invariant:** a child template is read only from below the root template's folder,
//! never twice on one chain (cycles), and no deeper than the module depth limit. Its
//! template must resolve inside the analysis root (symlinks followed); outside, a symlink
//! loop, a cycle or too deep is a load error. Its
//! records' addresses are prefixed with `<LogicalId>/`, and its opaque ids with the whole
//! chain of logical ids, so equal names in two stacks stay distinct. Anything else (an
//! S3 or HTTP URL, a missing file) is a note. `Fn::GetAtt <Stack>.Outputs.<Name>` in the
//! parent reads the child's output, evaluated with the same scope and parameters as the
//! loaded child, so it names the same records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Nesting;
use super::intrinsics::{Evaluator, StackOutput, StackOutputs};
use super::resources::{Loader, Resource};
use crate::limits::Limit;
use crate::load::LoadOptions;
use crate::load::confine::Refusal;
use crate::model::{Input, PolicyRef, TableRef, Target};
use crate::source::Span;
use crate::value::{Entry, Value};

/// Loads the child template of a nested-stack resource, or notes why it is not read.
pub fn stack(loader: &mut Loader<'_, '_>, r: &Resource<'_>, url_prop: &str) {
    let located = match locate(loader.nesting, r.id, url_prop, r.get(url_prop), r.entry.key_span) {
        Ok(located) => located,
        Err(NotRead { message, span, error }) => {
            if error {
                loader.input.errors.push(crate::model::LoadError {
                    path: loader.sources.path(span),
                    span: Some(span),
                    message,
                });
            } else {
                loader.note(message, span);
            }
            return;
        }
    };
    let display = located.display.clone();
    let (file, text) = match crate::load::read_source(&located.candidate, &display, loader.sources) {
        Ok(x) => x,
        Err(e) => {
            loader.input.errors.push(e);
            return;
        }
    };
    let params: BTreeMap<String, Value> = r
        .get("Parameters")
        .map(Value::entries)
        .unwrap_or_default()
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    let child_nesting = child_nesting(loader.nesting, r.id, located, params);
    // The root's `--parameter` values are not the child's: it gets the stack's `Parameters`.
    let mut child = super::load_nested(
        &display,
        file,
        &text,
        &LoadOptions::default(),
        loader.sources,
        &child_nesting,
    );
    prefix_addresses(&mut child, &format!("{}/", r.id));
    merge(loader.input, child, display);
}

/// SAM's local `CodeUri`/`DefinitionUri` (code and definitions `sam package` uploads):
/// kdsguard reads neither, but a literal local path must still resolve inside the analysis
/// root; outside (or a symlink loop) is a load error at the property.
pub(crate) fn confine_code_uris(loader: &mut Loader<'_, '_>, r: &Resource<'_>) {
    let (Some(dir), Some(root)) = (
        loader.nesting.path.as_deref().and_then(Path::parent),
        loader.nesting.confine.as_deref(),
    ) else {
        return;
    };
    for prop in ["CodeUri", "DefinitionUri"] {
        let Some(v) = r.get(prop) else { continue };
        let Some(uri) = v.as_str() else { continue };
        if uri.contains("://") || uri.starts_with("s3:") {
            continue;
        }
        let candidate = crate::paths::normalize(&dir.join(uri));
        match crate::load::confine::resolve_inside(&candidate, root) {
            Ok(_) | Err(Refusal::Missing) => {}
            Err(refusal) => {
                let message = refusal.message(uri, root, &loader.nesting.cwd);
                loader.input.errors.push(crate::model::LoadError {
                    path: loader.sources.path(v.span),
                    span: Some(v.span),
                    message: format!("`{}` {prop}: {message}", r.id),
                });
            }
        }
    }
}

/// The `Outputs` of stack `id`'s child template, each evaluated in the child's scope (its
/// parameters as the stack passes them, its opaque ids scoped like the loaded child's),
/// or why the template is not read.
pub(crate) fn outputs(ev: &mut Evaluator<'_>, id: &str) -> Result<StackOutputs, Unread> {
    let Some(ctx) = ev.stacks else {
        return Err(Unread::NotHere);
    };
    let (ty, id_span) = match ev.resources.get(id) {
        Some(info) => (info.ty.clone(), info.id_span),
        None => return Err(Unread::NotDeclared(id.to_string())),
    };
    let url_prop = if ty == "AWS::Serverless::Application" {
        "Location"
    } else {
        "TemplateURL"
    };
    let url = ev.prop(id, url_prop);
    let located = locate(ctx.nesting, id, url_prop, url.as_ref(), id_span).map_err(|n| Unread::NotFound(n.message))?;
    let params: BTreeMap<String, Value> = ev
        .prop(id, "Parameters")
        .as_ref()
        .map(Value::entries)
        .unwrap_or_default()
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    let display = located.display.clone();
    let (file, text) =
        crate::load::read_source(&located.candidate, &display, ctx.sources).map_err(|e| Unread::Unreadable {
            display: display.clone(),
            message: e.message,
        })?;
    let child_nesting = child_nesting(ctx.nesting, id, located, params);
    // Parse problems and notes about the rest of the child are reported by its own load.
    let mut ignored = Vec::new();
    let parsed =
        super::parse_text(&text, file, &mut ignored, ctx.sources.limits()).map_err(|why| Unread::Unparsed {
            display: display.clone(),
            why,
        })?;
    if let Err(why) = super::classify(&parsed) {
        // As when the child is loaded: a mapping is a template with nothing kdsguard reads.
        if !matches!(parsed.kind, crate::value::ValueKind::Map(_)) {
            return Err(Unread::NotATemplate { display, why });
        }
    }
    let root = if super::foreach::present(&parsed) {
        let mut looper = super::resources::evaluator(&parsed, &LoadOptions::default(), false);
        super::resources::scope_evaluator(&mut looper, &child_nesting, ctx.sources);
        super::foreach::expand(&parsed, &mut looper).0
    } else {
        parsed
    };
    let sam = super::resources::transforms(&root, &mut ignored);
    let mut child = super::resources::evaluator(&root, &LoadOptions::default(), sam);
    super::resources::scope_evaluator(&mut child, &child_nesting, ctx.sources);
    let mut outputs = BTreeMap::new();
    let entries: &[Entry] = root.get("Outputs").map(Value::entries).unwrap_or_default();
    for e in entries {
        let before = child.diagnostics.len();
        let exists = match e.value.get("Condition") {
            Some(cond) => match cond.as_str() {
                Some(name) => child.condition(name, cond.span).map(|b| (b, name.to_string())),
                None => None,
            },
            None => Some((true, String::new())),
        };
        let value = match (exists, e.value.get("Value")) {
            (Some((false, cond)), _) => Some(Value::unknown(
                format!("Outputs.{}", e.key),
                format!(
                    "output `{}` of `{display}` does not exist: its condition `{cond}` is false",
                    e.key
                ),
                e.key_span,
            )),
            (_, Some(v)) => child.resolve(v),
            (_, None) => Some(Value::unknown(
                format!("Outputs.{}", e.key),
                format!("output `{}` of `{display}` has no `Value`", e.key),
                e.key_span,
            )),
        };
        let diagnostics = child.diagnostics.split_off(before.min(child.diagnostics.len()));
        outputs.insert(e.key.clone(), StackOutput { value, diagnostics });
    }
    Ok(StackOutputs { display, outputs })
}

/// Why a nested stack's child template is not read for its outputs (the reason of the
/// opaque value `Fn::GetAtt <Stack>.Outputs.<Name>` then gives).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unread {
    #[error("nested templates are not read here")]
    NotHere,
    /// The stack's logical id names no resource.
    #[error("`{0}` is not declared")]
    NotDeclared(String),
    /// Where the template is not found or may not be read from (the note's words).
    #[error("{0}")]
    NotFound(String),
    #[error("`{display}` cannot be read: {message}")]
    Unreadable { display: String, message: String },
    #[error("`{display}`: {why}")]
    Unparsed { display: String, why: super::Unparsed },
    #[error("`{display}` is not a CloudFormation template: {why}")]
    NotATemplate { display: String, why: super::NotATemplate },
}

/// A nested stack's child template found on disk, below the root template's folder.
struct Located {
    candidate: PathBuf,
    canonical: PathBuf,
    display: String,
}

/// Why a child template is not read: a note, or a load error (`error`).
struct NotRead {
    message: String,
    span: Span,
    error: bool,
}

impl From<(String, Span)> for NotRead {
    fn from((message, span): (String, Span)) -> NotRead {
        NotRead {
            message,
            span,
            error: false,
        }
    }
}

/// Finds stack `id`'s child template from its `url_prop` value, or says why it is not
/// read.
fn locate(nesting: &Nesting, id: &str, url_prop: &str, url: Option<&Value>, id_span: Span) -> Result<Located, NotRead> {
    let what = format!("nested stack `{id}`");
    let Some(url) = url else {
        return Err((
            format!("{what} names no `{url_prop}`; its resources are not seen"),
            id_span,
        )
            .into());
    };
    let Some(url_text) = url.as_str() else {
        return Err((
            format!(
                "{what}: `{url_prop}` is not a literal path (it is known only at deployment); its resources are not seen"
            ),
            url.span,
        ).into());
    };
    if url_text.contains("://") || url_text.starts_with("s3:") {
        return Err((
            format!(
                "{what} reads its template from `{url_text}`, which is not a local file; its resources are not seen"
            ),
            url.span,
        )
            .into());
    }
    let Some(dir) = nesting.path.as_deref().and_then(Path::parent) else {
        return Err((
            format!(
                "{what}: the parent template's folder is not known, so `{url_text}` is not read; its resources are not seen"
            ),
            url.span,
        ).into());
    };
    let candidate = crate::paths::normalize(&dir.join(url_text));
    let error = |message: String| NotRead {
        message,
        span: url.span,
        error: true,
    };
    let root = nesting.confine.clone().unwrap_or_else(|| dir.to_path_buf());
    let canonical = match crate::load::confine::resolve_inside(&candidate, &root) {
        Ok(c) if c.is_file() => c,
        Ok(_) | Err(Refusal::Missing) => {
            return Err((
                format!(
                    "{what}: template `{url_text}` is not found beside the parent template; its resources are not seen"
                ),
                url.span,
            )
                .into());
        }
        Err(refusal) => {
            return Err(error(format!(
                "{what}: {}",
                refusal.message(url_text, &root, &nesting.cwd)
            )));
        }
    };
    if nesting.chain.contains(&canonical) {
        return Err(error(format!(
            "{what}: template `{url_text}` contains itself (a cycle: {}); it is not read again",
            nesting
                .chain
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|p| p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" → ")
        )));
    }
    if nesting.chain.len() > nesting.depth_limit {
        return Err(error(Limit::ModuleDepth.exceeded(
            &format!("{what} is nested {} stacks deep; it is not read", nesting.chain.len()),
            nesting.depth_limit,
        )));
    }
    Ok(Located {
        candidate,
        canonical,
        display: child_display(&nesting.display, url_text),
    })
}

/// Where the child of stack `id` sits, and the parameter values it is given.
fn child_nesting(nesting: &Nesting, id: &str, located: Located, params: BTreeMap<String, Value>) -> Nesting {
    let mut chain = nesting.chain.clone();
    chain.push(located.canonical);
    Nesting {
        path: Some(located.candidate),
        display: located.display,
        confine: nesting.confine.clone(),
        depth_limit: nesting.depth_limit,
        scope: format!("{}{id}/", nesting.scope),
        chain,
        params: Some(params),
        cwd: nesting.cwd.clone(),
    }
}

/// The display path of `url` relative to the parent's display path.
fn child_display(parent: &str, url: &str) -> String {
    let dir = Path::new(parent).parent().unwrap_or(Path::new(""));
    crate::paths::normalize(&dir.join(url))
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
        .replace("//", "/")
}

/// Every address the child declares, and every reference to one, gets `prefix`.
fn prefix_addresses(input: &mut Input, prefix: &str) {
    let p = |a: &mut String| a.insert_str(0, prefix);
    input.principals.iter_mut().for_each(|x| p(&mut x.address));
    input.groups.iter_mut().for_each(|x| p(&mut x.address));
    input.policies.iter_mut().for_each(|x| p(&mut x.address));
    input.tables.iter_mut().for_each(|x| p(&mut x.address));
    input.streams.iter_mut().for_each(|x| p(&mut x.address));
    input.keys.iter_mut().for_each(|x| p(&mut x.address));
    input.slrs.iter_mut().for_each(|x| p(&mut x.address));
    for d in &mut input.destinations {
        p(&mut d.address);
        if let TableRef::Address(a) = &mut d.table {
            p(a);
        }
    }
    for a in &mut input.attachments {
        if let PolicyRef::Address(x) = &mut a.policy {
            p(x);
        }
        if let Target::Address(x) = &mut a.target {
            p(x);
        }
    }
    input.construct_paths = std::mem::take(&mut input.construct_paths)
        .into_iter()
        .map(|(k, v)| (format!("{prefix}{k}"), v))
        .collect();
}

fn merge(parent: &mut Input, mut child: Input, display: String) {
    parent.principals.append(&mut child.principals);
    parent.groups.append(&mut child.groups);
    parent.memberships.append(&mut child.memberships);
    parent.policies.append(&mut child.policies);
    parent.attachments.append(&mut child.attachments);
    parent.tables.append(&mut child.tables);
    parent.streams.append(&mut child.streams);
    parent.destinations.append(&mut child.destinations);
    parent.keys.append(&mut child.keys);
    parent.slrs.append(&mut child.slrs);
    parent.diagnostics.append(&mut child.diagnostics);
    parent.errors.append(&mut child.errors);
    parent.suppressions.append(&mut child.suppressions);
    parent.construct_paths.append(&mut child.construct_paths);
    // Child templates are part of this input: discovery need not analyse them again.
    parent.module_dirs.push(display);
    parent.module_dirs.append(&mut child.module_dirs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_display_paths_are_relative_to_the_parent() {
        assert_eq!(
            child_display("infra/parent.yaml", "./nested/child.yaml"),
            "infra/nested/child.yaml"
        );
        assert_eq!(child_display("parent.yaml", "child.yaml"), "child.yaml");
        assert_eq!(child_display("a/b/p.yaml", "../c.yaml"), "a/c.yaml");
    }
}
