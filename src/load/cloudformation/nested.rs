//! Nested stacks: `AWS::CloudFormation::Stack` (and SAM's `AWS::Serverless::Application`)
//! whose template is a local file, loaded into the parent's input.
//!
//! **Invariant:** a child template is read only from below the root template's folder,
//! never twice on one chain (cycles), and no deeper than [`MAX_NESTING`] levels. Its
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
use crate::load::LoadOptions;
use crate::model::{Input, PolicyRef, TableRef, Target};
use crate::source::Span;
use crate::value::{Entry, Value};

/// How many stacks deep nested templates are read.
pub const MAX_NESTING: usize = 8;

/// Loads the child template of a nested-stack resource, or notes why it is not read.
pub fn stack(loader: &mut Loader<'_, '_>, r: &Resource<'_>, url_prop: &str) {
    let located = match locate(loader.nesting, r.id, url_prop, r.get(url_prop), r.entry.key_span) {
        Ok(located) => located,
        Err((message, span)) => {
            loader.note(message, span);
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

/// The `Outputs` of stack `id`'s child template, each evaluated in the child's scope (its
/// parameters as the stack passes them, its opaque ids scoped like the loaded child's),
/// or why the template is not read.
pub(crate) fn outputs(ev: &mut Evaluator<'_>, id: &str) -> Result<StackOutputs, String> {
    let Some(ctx) = ev.stacks else {
        return Err("nested templates are not read here".to_string());
    };
    let (ty, id_span) = match ev.resources.get(id) {
        Some(info) => (info.ty.clone(), info.id_span),
        None => return Err(format!("`{id}` is not declared")),
    };
    let url_prop = if ty == "AWS::Serverless::Application" {
        "Location"
    } else {
        "TemplateURL"
    };
    let url = ev.prop(id, url_prop);
    let located = locate(ctx.nesting, id, url_prop, url.as_ref(), id_span).map_err(|(message, _)| message)?;
    let params: BTreeMap<String, Value> = ev
        .prop(id, "Parameters")
        .as_ref()
        .map(Value::entries)
        .unwrap_or_default()
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    let display = located.display.clone();
    let (file, text) = crate::load::read_source(&located.candidate, &display, ctx.sources)
        .map_err(|e| format!("`{display}` cannot be read: {}", e.message))?;
    let child_nesting = child_nesting(ctx.nesting, id, located, params);
    // Parse problems and notes about the rest of the child are reported by its own load.
    let mut ignored = Vec::new();
    let parsed = super::parse_text(&text, file, &mut ignored).map_err(|(_, m)| format!("`{display}`: {m}"))?;
    if let Err(why) = super::classify(&parsed) {
        // As when the child is loaded: a mapping is a template with nothing kdsguard reads.
        if !matches!(parsed.kind, crate::value::ValueKind::Map(_)) {
            return Err(format!("`{display}` is not a CloudFormation template: {why}"));
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

/// A nested stack's child template found on disk, below the root template's folder.
struct Located {
    candidate: PathBuf,
    canonical: PathBuf,
    display: String,
}

/// Finds stack `id`'s child template from its `url_prop` value, or says why it is not
/// read (a note's message and where it points).
fn locate(
    nesting: &Nesting,
    id: &str,
    url_prop: &str,
    url: Option<&Value>,
    id_span: Span,
) -> Result<Located, (String, Span)> {
    let what = format!("nested stack `{id}`");
    let Some(url) = url else {
        return Err((
            format!("{what} names no `{url_prop}`; its resources are not seen"),
            id_span,
        ));
    };
    let Some(url_text) = url.as_str() else {
        return Err((
            format!(
                "{what}: `{url_prop}` is not a literal path (it is known only at deployment); its resources are not seen"
            ),
            url.span,
        ));
    };
    if url_text.contains("://") || url_text.starts_with("s3:") {
        return Err((
            format!(
                "{what} reads its template from `{url_text}`, which is not a local file; its resources are not seen"
            ),
            url.span,
        ));
    }
    let Some(dir) = nesting.path.as_deref().and_then(Path::parent) else {
        return Err((
            format!(
                "{what}: the parent template's folder is not known, so `{url_text}` is not read; its resources are not seen"
            ),
            url.span,
        ));
    };
    let candidate = crate::load::normalize(&dir.join(url_text));
    let canonical = match std::fs::canonicalize(&candidate) {
        Ok(c) if c.is_file() => c,
        _ => {
            return Err((
                format!(
                    "{what}: template `{url_text}` is not found beside the parent template; its resources are not seen"
                ),
                url.span,
            ));
        }
    };
    if !nesting.confine.as_ref().is_some_and(|c| canonical.starts_with(c)) {
        return Err((
            format!("{what}: template `{url_text}` is outside the root template's folder; it is not read"),
            url.span,
        ));
    }
    if nesting.chain.contains(&canonical) {
        return Err((
            format!("{what}: template `{url_text}` contains itself (a cycle); it is not read again"),
            url.span,
        ));
    }
    if nesting.chain.len() > MAX_NESTING {
        return Err((
            format!("{what} is nested more than {MAX_NESTING} stacks deep; it is not read"),
            url.span,
        ));
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
        scope: format!("{}{id}/", nesting.scope),
        chain,
        params: Some(params),
    }
}

/// The display path of `url` relative to the parent's display path.
fn child_display(parent: &str, url: &str) -> String {
    let dir = Path::new(parent).parent().unwrap_or(Path::new(""));
    crate::load::normalize(&dir.join(url))
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
