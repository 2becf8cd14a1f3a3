//! Nested stacks: `AWS::CloudFormation::Stack` (and SAM's `AWS::Serverless::Application`)
//! whose template is a local file, loaded into the parent's input.
//!
//! **Invariant:** a child template is read only from below the root template's folder,
//! never twice on one chain (cycles), and no deeper than [`MAX_NESTING`] levels. Its
//! records' addresses are prefixed with `<LogicalId>/`, and its opaque ids with the whole
//! chain of logical ids, so equal names in two stacks stay distinct. Anything else (an
//! S3 or HTTP URL, a missing file) is a note.

use std::collections::BTreeMap;
use std::path::Path;

use super::Nesting;
use super::resources::{Loader, Resource};
use crate::load::LoadOptions;
use crate::model::{Input, PolicyRef, TableRef, Target};
use crate::value::Value;

/// How many stacks deep nested templates are read.
pub const MAX_NESTING: usize = 8;

/// Loads the child template of a nested-stack resource, or notes why it is not read.
pub fn stack(loader: &mut Loader<'_, '_>, r: &Resource<'_>, url_prop: &str) {
    let what = format!("nested stack `{}`", r.id);
    let Some(url) = r.get(url_prop) else {
        loader.note(
            format!("{what} names no `{url_prop}`; its resources are not seen"),
            r.entry.key_span,
        );
        return;
    };
    let Some(url_text) = url.as_str() else {
        loader.note(
            format!("{what}: `{url_prop}` is not a literal path (it is known only at deployment); its resources are not seen"),
            url.span,
        );
        return;
    };
    if url_text.contains("://") || url_text.starts_with("s3:") {
        loader.note(
            format!(
                "{what} reads its template from `{url_text}`, which is not a local file; its resources are not seen"
            ),
            url.span,
        );
        return;
    }
    let nesting = loader.nesting;
    let Some(dir) = nesting.path.as_deref().and_then(Path::parent) else {
        loader.note(
            format!("{what}: the parent template's folder is not known, so `{url_text}` is not read; its resources are not seen"),
            url.span,
        );
        return;
    };
    let candidate = crate::load::normalize(&dir.join(url_text));
    let canonical = match std::fs::canonicalize(&candidate) {
        Ok(c) if c.is_file() => c,
        _ => {
            loader.note(
                format!(
                    "{what}: template `{url_text}` is not found beside the parent template; its resources are not seen"
                ),
                url.span,
            );
            return;
        }
    };
    if !nesting.confine.as_ref().is_some_and(|c| canonical.starts_with(c)) {
        loader.note(
            format!("{what}: template `{url_text}` is outside the root template's folder; it is not read"),
            url.span,
        );
        return;
    }
    if nesting.chain.contains(&canonical) {
        loader.note(
            format!("{what}: template `{url_text}` contains itself (a cycle); it is not read again"),
            url.span,
        );
        return;
    }
    if nesting.chain.len() > MAX_NESTING {
        loader.note(
            format!("{what} is nested more than {MAX_NESTING} stacks deep; it is not read"),
            url.span,
        );
        return;
    }
    let display = child_display(&nesting.display, url_text);
    let (file, text) = match crate::load::read_source(&candidate, &display, loader.sources) {
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
    let mut chain = nesting.chain.clone();
    chain.push(canonical);
    let child_nesting = Nesting {
        path: Some(candidate),
        display: display.clone(),
        confine: nesting.confine.clone(),
        scope: format!("{}{}/", nesting.scope, r.id),
        chain,
        params: Some(params),
    };
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
