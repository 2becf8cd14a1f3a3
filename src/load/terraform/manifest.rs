//! `.terraform/modules/modules.json`: where `terraform init` put registry and git modules.
//!
//! The manifest maps a module key (`a.b` for `module.a.module.b`, instance keys left out)
//! to the source it was installed from and the folder it was installed into, relative to
//! the root module. Only folders below the root module's `.terraform/modules/` are used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::load::{error_at, read_source};
use crate::model::{Diagnostic, Input};
use crate::paths::display_path;
use crate::source::SourceMap;
use crate::value::{Value, ValueKind};

/// Where the manifest sits, relative to the root module folder.
pub(crate) const MANIFEST_PATH: &str = ".terraform/modules/modules.json";
/// The folder installed modules must be in, relative to the root module folder.
const INSTALL_DIR: &str = ".terraform/modules";

/// One installed module.
#[derive(Clone, Debug)]
pub(crate) struct Installed {
    /// The source the module was installed from (`registry.terraform.io/org/name/aws`).
    pub source: String,
    /// The folder as written in the manifest (`.terraform/modules/vpc`).
    pub dir: String,
}

/// The modules `terraform init` installed for one root module.
#[derive(Clone, Debug)]
pub(crate) struct Manifest {
    /// The root module folder the manifest's `Dir`s are relative to.
    pub root_dir: PathBuf,
    /// Installed modules by key.
    pub modules: BTreeMap<String, Installed>,
}

/// Where an installed module's folder is, or why it cannot be used.
pub(crate) enum Located {
    Dir(PathBuf),
    Refused(String),
}

impl Manifest {
    /// Reads the manifest of the root module in `dir`, when there is one. Syntax errors
    /// become load errors; entries that are not understood become notes.
    pub fn read(dir: &Path, cwd: &Path, sources: &SourceMap, input: &mut Input) -> Option<Manifest> {
        let path = dir.join(MANIFEST_PATH);
        if !path.is_file() {
            return None;
        }
        let shown = display_path(&path, cwd);
        let (file, text) = match read_source(&path, &shown, sources) {
            Ok(x) => x,
            Err(e) => {
                input.errors.push(e);
                return None;
            }
        };
        let doc = match crate::json::parse(&text, file, 0) {
            Ok(v) => v,
            Err(e) => {
                input.errors.push(error_at(
                    &shown,
                    file,
                    e.offset,
                    format!("JSON syntax error in the module manifest: {}", e.message),
                ));
                return None;
            }
        };
        let mut manifest = Manifest {
            root_dir: dir.to_path_buf(),
            modules: BTreeMap::new(),
        };
        let Some(list) = doc.get("Modules").and_then(Value::as_list) else {
            input.diagnostics.push(Diagnostic::note(
                "the module manifest has no `Modules` list; installed modules are not loaded",
                doc.span,
            ));
            return Some(manifest);
        };
        for entry in list {
            let field = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_string);
            let (Some(key), Some(source), Some(dir)) = (field("Key"), field("Source"), field("Dir")) else {
                input.diagnostics.push(Diagnostic::note(
                    "module manifest entry without a string `Key`, `Source` and `Dir`; it is ignored",
                    entry.span,
                ));
                continue;
            };
            if key.is_empty() || !matches!(entry.kind, ValueKind::Map(_)) {
                continue;
            }
            // The first entry of a key wins, as for duplicate declarations elsewhere.
            manifest.modules.entry(key).or_insert(Installed { source, dir });
        }
        Some(manifest)
    }

    /// The folder of installed module `key`, confined to `.terraform/modules/` of the root
    /// module (links resolved); `None` when the manifest does not list the key.
    pub(crate) fn locate(&self, key: &str) -> Option<(Located, &Installed)> {
        let installed = self.modules.get(key)?;
        let base = self.root_dir.join(INSTALL_DIR);
        let Ok(base) = base.canonicalize() else {
            return Some((Located::Refused(format!("{INSTALL_DIR} was not found")), installed));
        };
        let dir = self.root_dir.join(&installed.dir);
        let located = match dir.canonicalize() {
            Ok(c) if c.starts_with(&base) && c.is_dir() => Located::Dir(dir),
            Ok(c) if c.starts_with(&base) => Located::Refused(format!("{} is not a folder", installed.dir)),
            Ok(_) => Located::Refused(format!("{} is outside {INSTALL_DIR}", installed.dir)),
            Err(_) => Located::Refused(format!("folder {} was not found", installed.dir)),
        };
        Some((located, installed))
    }
}

/// Whether the source a module was installed from is the one the configuration names:
/// registry sources are recorded with their host.
pub(crate) fn same_source(configured: &str, recorded: &str) -> bool {
    let strip = |s: &str| {
        s.strip_prefix("registry.terraform.io/")
            .or_else(|| s.strip_prefix("registry.opentofu.org/"))
            .unwrap_or(s)
            .to_string()
    };
    configured == recorded || strip(configured) == strip(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn registry_sources_match_with_or_without_host() {
        assert!(same_source("org/name/aws", "registry.terraform.io/org/name/aws"));
        assert!(same_source(
            "git::https://x/y.git?ref=v1",
            "git::https://x/y.git?ref=v1"
        ));
        assert!(!same_source("org/name/aws", "registry.terraform.io/org/other/aws"));
    }

    #[test]
    fn manifest_entries_and_confinement() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let root = tmp.path().join("root");
        let _ = std::fs::create_dir_all(root.join(".terraform/modules/vpc"));
        let _ = std::fs::create_dir_all(tmp.path().join("elsewhere"));
        let _ = std::fs::write(
            root.join(MANIFEST_PATH),
            r#"{"Modules":[{"Key":"","Source":"","Dir":"."},
{"Key":"vpc","Source":"registry.terraform.io/o/vpc/aws","Version":"1.0.0","Dir":".terraform/modules/vpc"},
{"Key":"out","Source":"git::https://x","Dir":"../elsewhere"},
{"Key":"gone","Source":"git::https://y","Dir":".terraform/modules/gone"},
{"Key":7}]}"#,
        );
        let sources = SourceMap::new();
        let mut input = Input::new(".", crate::model::InputKind::Terraform);
        let m = Manifest::read(&root, tmp.path(), &sources, &mut input);
        let Some(m) = m else { unreachable!("manifest not read") };
        assert_eq!(m.modules.keys().collect::<Vec<_>>(), ["gone", "out", "vpc"]);
        assert_eq!(input.diagnostics.len(), 1, "{:?}", input.diagnostics);
        assert!(matches!(m.locate("vpc"), Some((Located::Dir(_), _))));
        assert!(matches!(m.locate("out"), Some((Located::Refused(why), _)) if why.contains("outside")));
        assert!(matches!(m.locate("gone"), Some((Located::Refused(why), _)) if why.contains("not found")));
        assert!(m.locate("absent").is_none());
    }

    #[test]
    fn broken_manifest_is_a_load_error_with_position() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let _ = std::fs::create_dir_all(tmp.path().join(".terraform/modules"));
        let _ = std::fs::write(tmp.path().join(MANIFEST_PATH), "{\"Modules\": [\n  {\"Key\": }\n]}");
        let sources = SourceMap::new();
        let mut input = Input::new(".", crate::model::InputKind::Terraform);
        assert!(Manifest::read(tmp.path(), tmp.path(), &sources, &mut input).is_none());
        assert_eq!(input.errors.len(), 1);
        let span = input.errors[0].span.unwrap_or(Span::builtin());
        let lc = sources.start(span).map(|lc| (lc.line, lc.column));
        assert_eq!(lc, Some((2, 11)), "{:?}", input.errors);
    }
}
