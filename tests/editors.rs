//! The VS Code client in `editors/vscode`: its manifest names the file its tsconfig compiles,
//! it starts the server as `kdsguard lsp`, and it type-checks against the dependencies its
//! package-lock.json pins (`npm ci` in a copy of the folder, then `tsc --noEmit`).
//! Without npm the test says it skipped; with `CI` set it fails.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::root;

fn extension_dir() -> PathBuf {
    root().join("editors/vscode")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not plain JSON: {e}", path.display()))
}

/// A relative path without `.` components, for comparing `./out/x.js` with `out/x.js`.
fn normal(path: &str) -> PathBuf {
    Path::new(path)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The folder without what `npm install` and `tsc` leave in it.
fn copy_sources(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name == "node_modules" || name == "out" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_sources(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        }
    }
}

/// `${XDG_CACHE_HOME:-$HOME/.cache}/kdsguard-ci/npm-cache`, beside the other CI tools.
fn npm_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("kdsguard-ci/npm-cache"))
}

fn assert_ran(what: &str, out: &std::io::Result<Output>) {
    let out = out.as_ref().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_vscode_extension_starts_kdsguard_lsp_and_type_checks() {
    let dir = extension_dir();
    let manifest = read_json(&dir.join("package.json"));
    let tsconfig = read_json(&dir.join("tsconfig.json"));
    assert_eq!(manifest["private"], true, "the extension is not published");
    assert_eq!(manifest["engines"]["vscode"], "^1.75.0");
    let setting = &manifest["contributes"]["configuration"]["properties"]["kdsguard.path"];
    assert_eq!(setting["default"], "kdsguard", "{manifest}");

    // `main` is the file tsc writes for src/extension.ts: outDir plus its path under rootDir.
    let options = &tsconfig["compilerOptions"];
    assert_eq!(options["strict"], true, "{tsconfig}");
    let root_dir = options["rootDir"]
        .as_str()
        .unwrap_or_else(|| panic!("tsconfig.json names no rootDir: {tsconfig}"));
    let out_dir = options["outDir"]
        .as_str()
        .unwrap_or_else(|| panic!("tsconfig.json names no outDir: {tsconfig}"));
    let source = normal("src/extension.ts");
    let under_root = source
        .strip_prefix(normal(root_dir))
        .unwrap_or_else(|_| panic!("src/extension.ts is not under rootDir {root_dir}"));
    let compiled = normal(out_dir).join(under_root.with_extension("js"));
    let main = manifest["main"].as_str().unwrap_or_default();
    assert_eq!(normal(main), compiled, "package.json's main is {main:?}");

    // The dependencies are exact versions, and package-lock.json is there for `npm ci`.
    for group in ["dependencies", "devDependencies"] {
        for (name, version) in manifest[group].as_object().into_iter().flatten() {
            let v = version.as_str().unwrap_or_default();
            assert!(
                !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{group}: {name} is not pinned to one version: {version}"
            );
        }
    }
    assert!(
        manifest["dependencies"]["vscode-languageclient"].is_string(),
        "{manifest}"
    );
    let lock = read_json(&dir.join("package-lock.json"));
    assert_eq!(lock["packages"][""]["dependencies"], manifest["dependencies"]);
    assert_eq!(lock["packages"][""]["devDependencies"], manifest["devDependencies"]);

    // The server is `kdsguard lsp`, nothing more: a `transport` on the executable would make
    // vscode-languageclient append `--stdio`, which the subcommand does not take.
    let text = std::fs::read_to_string(dir.join("src/extension.ts")).unwrap_or_else(|e| panic!("{e}"));
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with('*'))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect::<String>()
        .replace('\'', "\"");
    assert!(
        code.contains("[\"lsp\"]"),
        "the extension does not start `kdsguard lsp`"
    );
    assert!(
        code.contains("getConfiguration(\"kdsguard\")"),
        "the kdsguard.path setting is not read"
    );
    assert!(
        !code.contains("transport:") && !code.contains("TransportKind"),
        "{text}"
    );

    // Type-checked as CI would build it, from the lock file.
    if !common::tool_runs("npm", "the type check of editors/vscode needs Node.js and npm") {
        return;
    }
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let work = temp.path().join("vscode");
    copy_sources(&dir, &work);
    let run = |program: &str, args: &[&str]| {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&work)
            .env("npm_config_update_notifier", "false");
        if let Some(cache) = npm_cache() {
            cmd.env("npm_config_cache", cache);
        }
        cmd.output()
    };
    assert_ran("npm ci", &run("npm", &["ci", "--no-audit", "--no-fund"]));
    assert!(work.join("node_modules/typescript").is_dir());
    // --no-install: never fetch a package called `tsc` when the local one is missing.
    assert_ran(
        "tsc --noEmit",
        &run("npx", &["--no-install", "tsc", "--noEmit", "-p", "."]),
    );
}
