//! `kdsguard lsp` driven over stdio as an editor drives it: initialize, didOpen,
//! diagnostics, didChange, hover, definition, codeAction, malformed input, shutdown, exit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::path::{Path, PathBuf};

use common::copy_dir;
use lsp_client::{Client, uri};
use serde_json::{Value, json};

fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("demo");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo"), &root);
    (dir, root)
}

fn initialize(c: &mut Client, root: &Path) {
    let r = c.request(
        "initialize",
        json!({"capabilities": {}, "workspaceFolders": [{"uri": uri(root), "name": "demo"}]}),
    );
    let caps = &r["result"]["capabilities"];
    assert_eq!(caps["textDocumentSync"]["change"], 1, "{r}");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["codeActionProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    c.notify("initialized", json!({}));
}

fn pairs(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    items.iter().map(|(c, l)| (c.to_string(), *l)).collect()
}

#[test]
fn an_editor_session_gets_diagnostics_that_follow_its_unsaved_text() {
    let (_dir, root) = demo();
    let iam = root.join("terraform/iam.tf");
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &root);
    initialize(&mut c, &root);
    // The first run reads the folder from disk.
    let before = c.diagnostics_for(&iam);
    let expected = [
        ("KDS001", 29),
        ("KDS001", 73),
        ("KDS007", 73),
        ("KDS003", 105),
        ("KDS004", 105),
        ("KDS013", 105),
        ("KDS013", 105),
        ("KDS013", 105),
    ];
    assert_eq!(before, pairs(&expected));

    // Each run's phases go to the editor's log of the server.
    let logged = c
        .seen
        .iter()
        .filter(|m| m["method"] == "window/logMessage")
        .map(|m| m["params"]["message"].as_str().unwrap_or_default())
        .collect::<Vec<_>>();
    assert!(
        logged
            .iter()
            .any(|l| l.contains(" analysed: discover ") && l.contains("decisions ")),
        "{logged:?}"
    );

    // The editor opens the file, then narrows `iam:*` without saving.
    let text = std::fs::read_to_string(&iam).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&iam), "languageId": "terraform", "version": 1, "text": text}}),
    );
    // Same text, same diagnostics: nothing is sent again (the next list that arrives is
    // the changed one).
    let narrowed = text.replacen(r#"Action   = "iam:*""#, r#"Action   = "iam:GetRole""#, 1);
    assert_ne!(narrowed, text);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&iam), "version": 2}, "contentChanges": [{"text": narrowed}]}),
    );
    let after = c.diagnostics_for(&iam);
    assert_eq!(
        after,
        pairs(&[("KDS001", 29), ("KDS001", 73), ("KDS007", 73)]),
        "the statement no longer grants IAM writes"
    );
    // Not written to disk.
    assert_eq!(std::fs::read_to_string(&iam).unwrap(), text);

    // Closing the unsaved buffer brings back the file on disk.
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": uri(&iam)}}));
    assert_eq!(c.diagnostics_for(&iam), pairs(&expected));
    c.stop();
}

#[test]
fn hover_definition_and_code_actions_answer_from_the_decisions() {
    let (_dir, root) = demo();
    let iam = root.join("terraform/iam.tf");
    let main = root.join("terraform/main.tf");
    std::fs::write(
        root.join("kdsguard.toml"),
        "docs-url = \"https://rules.example/{id}.html\"\n",
    )
    .unwrap();
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &root);
    initialize(&mut c, &root);
    let diagnostics = c.published_for(&iam);
    let kds004 = diagnostics
        .iter()
        .find(|d| d["code"] == "KDS004")
        .unwrap_or_else(|| panic!("{diagnostics:#?}"));
    assert_eq!(kds004["range"]["start"], json!({"line": 105, "character": 8}));
    assert_eq!(kds004["severity"], 1);
    assert_eq!(kds004["source"], "kdsguard");
    // The rule's page from the config's docs-url, and the principal's declaration.
    assert_eq!(kds004["codeDescription"]["href"], "https://rules.example/KDS004.html");
    // A finding about access through another principal carries the path's steps.
    let kds013 = diagnostics
        .iter()
        .find(|d| d["code"] == "KDS013")
        .unwrap_or_else(|| panic!("{diagnostics:#?}"));
    assert_eq!(
        kds013["relatedInformation"][1],
        json!({"location": {"uri": uri(&iam), "range": {"start": {"line": 105, "character": 8}, "end": {"line": 109, "character": 9}}},
               "message": "step 1: change-permissions (iam:PutRolePolicy) to role `aws_iam_role.ops_admin`"})
    );
    assert!(
        kds004["relatedInformation"].as_array().unwrap().len() == 1,
        "a direct finding has no steps"
    );
    assert_eq!(
        kds004["relatedInformation"],
        json!([{"location": {"uri": uri(&iam), "range": {"start": {"line": 96, "character": 0}, "end": {"line": 96, "character": 37}}},
                "message": "role declared here"}])
    );

    // On the statement granting `iam:*` (line 107, 0-based 106).
    let at = |line: u32, character: u32| json!({"textDocument": {"uri": uri(&iam)}, "position": {"line": line, "character": character}});
    let r = c.request("textDocument/hover", at(106, 12));
    assert_eq!(
        r["result"]["contents"]["value"],
        "**policy statement** (aws_iam_role.ops_admin/inline_policy/iam-admin) takes part in:\n\n\
         - **create-slr** allowed for 1: `aws_iam_role.ops_admin`\n\
         - **delete-slr** allowed for 1: `aws_iam_role.ops_admin`\n",
        "{r}"
    );
    // On the role's name: the principal.
    let r = c.request("textDocument/hover", at(97, 4));
    let text = r["result"]["contents"]["value"].as_str().unwrap().to_string();
    assert!(text.starts_with("**role `aws_iam_role.ops_admin`** can:\n\n"), "{text}");
    assert!(
        text.contains("- **delete-slr**: allowed on the service-linked role\n"),
        "{text}"
    );
    // What it holds only through a path: here by changing its own permissions.
    assert!(
        text.contains("- **disable**: allowed on every undeclared table (*), table Music, table Orders, after changing its own permissions\n"),
        "{text}"
    );
    // Definition on the role: the statement that grants it.
    let r = c.request("textDocument/definition", at(97, 4));
    let locations = r["result"].as_array().unwrap();
    assert!(
        locations
            .iter()
            .any(|l| l["uri"] == uri(&iam).as_str() && l["range"]["start"]["line"] == 105),
        "{r}"
    );
    // Outside any declaration: nothing.
    let r = c.request("textDocument/hover", at(0, 0));
    assert_eq!(r["result"], Value::Null, "{r}");

    // On a table: who can, per capability.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&main)}, "position": {"line": 33, "character": 4}}),
    );
    let text = r["result"]["contents"]["value"].as_str().unwrap().to_string();
    assert!(
        text.starts_with("**table `aws_dynamodb_table.orders`** — who can, on this table:\n\n| capability | directly | through other principals |\n|---|---|---|\n| enable |"),
        "{text}"
    );
    for cap in ["enable", "describe", "disable", "update"] {
        assert!(text.contains(&format!("\n| {cap} | ")), "{cap}: {text}");
    }

    // A quick fix per finding: the canonical suppression comment above it, indented.
    let d = json!({"range": {"start": {"line": 105, "character": 8}, "end": {"line": 109, "character": 9}},
                   "source": "kdsguard", "code": "KDS004", "message": "m"});
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&iam)},
               "range": {"start": {"line": 105, "character": 8}, "end": {"line": 105, "character": 8}},
               "context": {"diagnostics": [d]}}),
    );
    let actions = r["result"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{r}");
    assert_eq!(actions[0]["kind"], "quickfix");
    let edit = &actions[0]["edit"]["changes"][uri(&iam).as_str()][0];
    assert_eq!(edit["range"]["start"], json!({"line": 105, "character": 0}));
    assert_eq!(
        edit["newText"],
        "        # kdsguard:ignore KDS004 reason: <why this is accepted>\n"
    );
    c.stop();
}

#[test]
fn malformed_input_and_a_broken_file_never_end_the_server() {
    let (_dir, root) = demo();
    let iam = root.join("terraform/iam.tf");
    let template = root.join("cloudformation/template.yaml");
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &root);
    // A request before initialize is refused, and the server waits on.
    let r = c.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32002, "{r}");
    initialize(&mut c, &root);
    let template_before = c.diagnostics_for(&template);
    assert!(!template_before.is_empty());

    // A frame that is not JSON: a parse error with a null id.
    c.raw("{this is not json");
    let r = c.response(Value::Null);
    assert_eq!(r["error"]["code"], -32700, "{r}");
    // A request with parameters of the wrong shape, and an unknown method.
    let r = c.request("textDocument/hover", json!({"textDocument": 3}));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request("kdsguard/nonsense", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");

    // The Terraform file stops parsing: it gets its located load error, and the
    // CloudFormation template keeps its diagnostics.
    let text = std::fs::read_to_string(&iam).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&iam), "languageId": "terraform", "version": 1,
                                "text": format!("{text}\nresource \"aws_iam_role\" \"broken\" {{\n")}}),
    );
    let broken = loop {
        let d = c.diagnostics_for(&iam);
        if d.iter().any(|(code, _)| code == "load-error") {
            break d;
        }
    };
    assert!(broken.iter().all(|(code, _)| code == "load-error"), "{broken:?}");
    assert!(broken[0].1 > 100, "the error points into the file: {broken:?}");
    // Only changed lists are sent: the template's, unchanged, is not sent again, and it is
    // still analysed.
    let template_sent: Vec<&Value> = c
        .seen
        .iter()
        .filter(|m| m["params"]["uri"] == uri(&template).as_str())
        .collect();
    assert!(template_sent.is_empty(), "{template_sent:?}");
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&template)}, "position": {"line": 139, "character": 4}}),
    );
    let text = r["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.contains("OpsAdminRole"), "{r}");
    // Still serving.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&iam)}, "position": {"line": 0, "character": 0}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    c.stop();
}

#[test]
fn files_changed_outside_the_editor_and_folder_changes_are_followed() {
    let (_dir, root) = demo();
    let iam = root.join("terraform/iam.tf");
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &root);
    let r = c.request(
        "initialize",
        json!({"capabilities": {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}},
               "workspaceFolders": [{"uri": uri(&root), "name": "demo"}]}),
    );
    assert_eq!(
        r["result"]["capabilities"]["workspace"]["workspaceFolders"],
        json!({"supported": true, "changeNotifications": true})
    );
    c.notify("initialized", json!({}));
    assert_eq!(c.diagnostics_for(&iam).len(), 8);
    // The server asks to hear of templates and configs changed outside the editor.
    let deadline = std::time::Instant::now() + lsp_client::WAIT;
    let registration = loop {
        if let Some(m) = c.seen.iter().find(|m| m["method"] == "client/registerCapability") {
            break m.clone();
        }
        let m = c.next(deadline);
        c.seen.push(m);
    };
    let registered = &registration["params"]["registrations"][0];
    assert_eq!(registered["method"], "workspace/didChangeWatchedFiles");
    let globs: Vec<&str> = registered["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["globPattern"].as_str().unwrap())
        .collect();
    assert_eq!(
        globs,
        ["**/*.{tf,tf.json,tfvars,yaml,yml,json,template}", "**/kdsguard.toml"]
    );
    c.raw(&json!({"jsonrpc": "2.0", "id": registration["id"], "result": null}).to_string());

    // A file changed on disk (not open in the editor).
    let text = std::fs::read_to_string(&iam).unwrap();
    std::fs::write(
        &iam,
        text.replacen(r#"Action   = "iam:*""#, r#"Action   = "iam:GetRole""#, 1),
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&iam), "type": 2}]}),
    );
    assert_eq!(
        c.diagnostics_for(&iam),
        pairs(&[("KDS001", 29), ("KDS001", 73), ("KDS007", 73)])
    );

    // The folder leaves the workspace: its diagnostics are cleared.
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": [{"uri": uri(&root), "name": "demo"}]}}),
    );
    assert_eq!(c.diagnostics_for(&iam), Vec::<(String, u64)>::new());
    c.stop();
}

#[test]
fn exit_without_shutdown_is_exit_status_1() {
    let (_dir, root) = demo();
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &root);
    initialize(&mut c, &root);
    c.notify("exit", json!({}));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = c.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "no exit");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
}

/// Applies a quick fix's single insertion to `text`.
fn apply(text: &str, action: &Value, file: &Path) -> String {
    let edit = &action["edit"]["changes"][uri(file).as_str()][0];
    let line = edit["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert_eq!(edit["range"]["start"], edit["range"]["end"], "an insertion");
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    lines.insert(line, edit["newText"].as_str().unwrap());
    lines.concat()
}

/// What `kdsguard check` reports in `section` (rule ids), run in `root`.
fn check_rules(root: &Path, section: &str) -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kdsguard"))
        .args(["check", "--format", "json", "."])
        .current_dir(root)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report[section]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let f = if f.get("finding").is_some() { &f["finding"] } else { f };
            f["rule"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// The quick fix, applied and saved with a reason, suppresses its finding for `check`: in a
/// `jsonencode` policy (above the statement) and in a heredoc policy (above the block, since a
/// comment line inside the heredoc would become part of the policy's text).
#[test]
fn the_suppression_quick_fix_suppresses_its_finding() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let heredoc = root.join("heredoc.tf");
    let text = [
        "resource \"aws_iam_role\" \"ops\" {",
        "  name               = \"ops\"",
        "  assume_role_policy = \"{}\"",
        "}",
        "",
        "resource \"aws_iam_role_policy\" \"ops\" {",
        "  role   = aws_iam_role.ops.id",
        "  policy = <<POLICY",
        "{",
        "  \"Version\": \"2012-10-17\",",
        "  \"Statement\": [",
        "    { \"Effect\": \"Allow\", \"Action\": \"iam:*\", \"Resource\": \"*\" }",
        "  ]",
        "}",
        "POLICY",
        "}",
        "",
    ]
    .join("\n");
    std::fs::write(&heredoc, &text).unwrap();
    assert!(check_rules(&root, "findings").contains(&"KDS004".to_string()));
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &root);
    initialize(&mut c, &root);
    let diagnostics = c.published_for(&heredoc);
    let kds004 = diagnostics
        .iter()
        .find(|d| d["code"] == "KDS004")
        .unwrap_or_else(|| panic!("{diagnostics:#?}"))
        .clone();
    assert_eq!(kds004["range"]["start"]["line"], 11, "{kds004}");
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&heredoc)}, "range": kds004["range"], "context": {"diagnostics": [kds004]}}),
    );
    let action = &r["result"][0];
    let edit = &action["edit"]["changes"][uri(&heredoc).as_str()][0];
    assert_eq!(
        edit["range"]["start"]["line"], 5,
        "above the block that holds the heredoc: {r}"
    );
    c.stop();
    let fixed = apply(&text, action, &heredoc).replace("<why this is accepted>", "break-glass role, reviewed");
    std::fs::write(&heredoc, &fixed).unwrap();
    let findings = check_rules(&root, "findings");
    assert!(!findings.contains(&"KDS004".to_string()), "{findings:?}");
    assert!(
        !findings.contains(&"KDS014".to_string()),
        "a working suppression: {findings:?}"
    );
    assert!(check_rules(&root, "suppressed").contains(&"KDS004".to_string()));

    // The demo's jsonencode policy: the comment goes right above the statement.
    let (_demo_dir, demo) = demo();
    let iam = demo.join("terraform/iam.tf");
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &demo);
    initialize(&mut c, &demo);
    let diagnostics = c.published_for(&iam);
    let kds004 = diagnostics.iter().find(|d| d["code"] == "KDS004").unwrap().clone();
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&iam)}, "range": kds004["range"], "context": {"diagnostics": [kds004]}}),
    );
    c.stop();
    let count = |rules: Vec<String>| rules.iter().filter(|r| *r == "KDS004").count();
    assert_eq!(count(check_rules(&demo, "findings")), 2, "the template's and iam.tf's");
    let text = std::fs::read_to_string(&iam).unwrap();
    let fixed = apply(&text, &r["result"][0], &iam).replace("<why this is accepted>", "break-glass role, reviewed");
    std::fs::write(&iam, &fixed).unwrap();
    let findings = check_rules(&demo, "findings");
    assert_eq!(count(findings.clone()), 1, "only the template's is left: {findings:?}");
    assert_eq!(count(check_rules(&demo, "suppressed")), 1);
    assert!(
        !findings.contains(&"KDS014".to_string()),
        "a working suppression: {findings:?}"
    );
}

/// Hover on a user that holds a capability only as another principal names that principal.
#[test]
fn hover_names_the_principal_an_indirect_holder_acts_as() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("two-hop");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reach/two-hop"),
        &root,
    );
    let main = root.join("main.tf");
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &root);
    initialize(&mut c, &root);
    c.diagnostics_for(&main);
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&main)}, "position": {"line": 6, "character": 4}}),
    );
    assert_eq!(
        r["result"]["contents"]["value"],
        "**user `aws_iam_user.dev`** can:\n\n- **delete-slr**: allowed on the service-linked role, as `aws_iam_role.admin`\n",
        "{r}"
    );
    c.stop();
}

/// An open template that no run read (new and unsaved) is told so, not left blank; once it is
/// saved it is analysed like any other.
#[test]
fn an_unsaved_new_template_is_said_not_analysed_until_saved() {
    let (_dir, root) = demo();
    let new = root.join("terraform/new.tf");
    let mut c = Client::start(env!("CARGO_BIN_EXE_kdsguard"), &root);
    initialize(&mut c, &root);
    c.diagnostics_for(&root.join("terraform/iam.tf"));
    let text = std::fs::read_to_string(root.join("terraform/iam.tf"))
        .unwrap()
        .replace("ops_admin", "ops_admin_copy");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&new), "languageId": "terraform", "version": 1, "text": text}}),
    );
    let d = c.published_for(&new);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0]["code"], "not-analysed");
    assert_eq!(d[0]["severity"], 3);
    // Saved: read with its module.
    std::fs::write(&new, &text).unwrap();
    c.notify("textDocument/didSave", json!({"textDocument": {"uri": uri(&new)}}));
    let codes: Vec<(String, u64)> = c.diagnostics_for(&new);
    assert!(codes.iter().any(|(code, _)| code == "KDS004"), "{codes:?}");
    assert!(codes.iter().all(|(code, _)| code != "not-analysed"), "{codes:?}");
    c.stop();
}
