//! `kdsguard lsp`: a language server on standard input and output.
//!
//! The editor's workspace folders are analysed as `check` would analyse them (the same
//! kdsguard.toml discovery, suppressions and baseline), reading the editor's unsaved text in
//! place of the files on disk ([`crate::source::Overlay`]). Findings, load errors and notes
//! are published as diagnostics per file (a file only when its list changed); hover, go to definition and code actions read the
//! latest analysis ([`hover`]).
//!
//! One loop on the calling thread owns the state. An analysis runs on a thread of its own,
//! started when the editor has been quiet for [`DEBOUNCE`] after a change; a run that a newer
//! change made stale is cancelled at its next phase ([`crate::settings::Config::cancel`]) and dropped
//! (its diagnostics would point into old text), and the next run starts when it has ended. Requests are answered from the latest finished analysis
//! while a run is going. A request the server cannot read gets an error response; the
//! server never stops for one (nor for a frame that is not JSON-RPC: [`transport`]).
//!
//! Built on `lsp-server` and `lsp-types` (rust-analyzer's scaffold): a synchronous
//! message loop over channels, no async runtime.

mod hover;
mod transport;
mod workspace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeActionOrCommand, CodeActionParams, CodeActionProviderCapability, DidChangeTextDocumentParams,
    DidChangeWorkspaceFoldersParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, HoverProviderCapability, InitializeParams,
    LogMessageParams, MarkupContent, MarkupKind, MessageType, OneOf, PublishDiagnosticsParams, ServerCapabilities,
    ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Url, WorkspaceFoldersServerCapabilities, WorkspaceServerCapabilities,
};

use crate::load::terraform::ParseCache;

use hover::Target;
use workspace::Folder;

/// How long the editor must be quiet after a change before the analysis runs again.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// Serves on standard input and output until the editor says `exit` or closes the stream.
/// `cwd` is the workspace when the editor names none; `env` holds the `TF_VAR_*` variables
/// (name, value), which the library never reads from the environment itself. Returns whether
/// the editor asked for `shutdown` first (the protocol's exit status is 0 then, else 1).
pub fn serve_stdio(cwd: &Path, env: Vec<(String, String)>) -> bool {
    let (in_tx, in_rx) = crossbeam_channel::unbounded::<Message>();
    let (out_tx, out_rx) = crossbeam_channel::unbounded::<Message>();
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        loop {
            match transport::read(&mut input) {
                Ok(transport::Frame::Message(m)) => {
                    if in_tx.send(m).is_err() {
                        break;
                    }
                }
                Ok(transport::Frame::Malformed(why)) => {
                    let _ = transport::write_parse_error(&mut std::io::stdout().lock(), &why);
                }
                Ok(transport::Frame::End) | Err(_) => break,
            }
        }
    });
    let writer = std::thread::spawn(move || {
        for m in out_rx {
            let mut out = std::io::stdout().lock();
            if transport::write(&mut out, &m).is_err() {
                break;
            }
        }
    });
    let result = serve(&in_rx, out_tx, cwd, env);
    // The sender is gone with `serve`: the writer ends once it has written what is queued.
    // The reader may be blocked on standard input; the process ends without waiting for it.
    let _ = writer.join();
    result
}

/// What the loop does after a message.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Exit,
}

/// Each folder's diagnostics by file (empty for a folder whose run failed).
type FolderDiagnostics = Vec<BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>>;

/// A run's change count, its result, and its diagnostics (made on the run's thread).
type Finished = (u64, workspace::Runs, FolderDiagnostics);

/// The server's state, owned by the loop.
struct State {
    out: Sender<Message>,
    folders: Vec<PathBuf>,
    env: Arc<Vec<(String, String)>>,
    /// The editor's open documents, by absolute path.
    docs: BTreeMap<PathBuf, Arc<str>>,
    /// The latest finished analysis of each folder.
    runs: workspace::Runs,
    /// What the editor has been sent, per file (files without diagnostics left out).
    published: BTreeMap<Url, Vec<lsp_types::Diagnostic>>,
    /// Counts the editor's changes; a run remembers the count it started at.
    changes: u64,
    /// When the next run may start (`None`: nothing to do).
    due: Option<Instant>,
    /// The change count of the running analysis.
    running: Option<u64>,
    /// Set to end the running analysis early once a change has made it stale.
    cancel: Arc<AtomicBool>,
    /// Per folder, its parsed Terraform files, reused while their text stays the same.
    parsed: BTreeMap<PathBuf, Arc<ParseCache>>,
    done: (Sender<Finished>, Receiver<Finished>),
    shutting_down: bool,
    /// Whether to register for `workspace/didChangeWatchedFiles` once initialized.
    watch: bool,
}

/// Serves over a pair of channels; returns whether `shutdown` came before the end.
fn serve(incoming: &Receiver<Message>, out: Sender<Message>, cwd: &Path, env: Vec<(String, String)>) -> bool {
    let Some((id, init)) = initialize(incoming, &out) else {
        return false;
    };
    let folders = folders(&init, cwd);
    // Whether the editor lets the server ask to hear of files changed outside it.
    let watch = init
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    let response = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": { "name": "kdsguard", "version": env!("CARGO_PKG_VERSION") },
    });
    send(&out, Response::new_ok(id, response).into());
    let mut st = State {
        out,
        folders,
        env: Arc::new(env),
        docs: BTreeMap::new(),
        runs: Vec::new(),
        published: BTreeMap::new(),
        changes: 0,
        due: Some(Instant::now()),
        running: None,
        cancel: Arc::new(AtomicBool::new(false)),
        parsed: BTreeMap::new(),
        done: crossbeam_channel::unbounded(),
        shutting_down: false,
        watch,
    };
    loop {
        let wait = match (st.due, st.running) {
            (Some(due), None) => due.saturating_duration_since(Instant::now()),
            _ => Duration::from_secs(3600),
        };
        let done = st.done.1.clone();
        select! {
            recv(incoming) -> m => match m {
                Ok(m) => {
                    if st.handle(m) == Flow::Exit {
                        return st.shutting_down;
                    }
                }
                Err(_) => return st.shutting_down,
            },
            recv(done) -> r => {
                if let Ok((at, runs, diagnostics)) = r {
                    st.finished(at, runs, diagnostics);
                }
            },
            default(wait) => {},
        }
        if st.running.is_none() && st.due.is_some_and(|d| d <= Instant::now()) && !st.shutting_down {
            st.start();
        }
    }
}

/// Waits for `initialize`, answering other requests with "not initialized". `None`: the
/// stream ended or the editor said `exit` first.
fn initialize(incoming: &Receiver<Message>, out: &Sender<Message>) -> Option<(RequestId, InitializeParams)> {
    loop {
        match incoming.recv().ok()? {
            Message::Request(r) if r.method == "initialize" => {
                match serde_json::from_value::<InitializeParams>(r.params) {
                    Ok(p) => return Some((r.id, p)),
                    Err(e) => send(out, error(r.id, ErrorCode::InvalidParams, format!("initialize: {e}"))),
                }
            }
            Message::Request(r) => send(
                out,
                error(
                    r.id,
                    ErrorCode::ServerNotInitialized,
                    "the server is not initialized".to_string(),
                ),
            ),
            Message::Notification(n) if n.method == "exit" => return None,
            _ => {}
        }
    }
}

/// The workspace folders the editor names, else its root, else `cwd`.
fn folders(init: &InitializeParams, cwd: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = init
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| file_path(&f.uri))
        .collect();
    #[allow(deprecated)] // rootUri: the older clients' only way to name the workspace
    if out.is_empty()
        && let Some(root) = init.root_uri.as_ref().and_then(file_path)
    {
        out.push(root);
    }
    if out.is_empty() {
        out.push(std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf()));
    }
    out.sort();
    out.dedup();
    out
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::FULL),
            save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            ..TextDocumentSyncOptions::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}

/// A `file:` URI as an absolute path.
fn file_path(uri: &Url) -> Option<PathBuf> {
    let path = uri.to_file_path().ok()?;
    std::path::absolute(&path).ok()
}

/// The note on an open template that no run read.
fn not_analysed() -> lsp_types::Diagnostic {
    lsp_types::Diagnostic {
        severity: Some(lsp_types::DiagnosticSeverity::INFORMATION),
        code: Some(lsp_types::NumberOrString::String("not-analysed".to_string())),
        source: Some(workspace::SOURCE.to_string()),
        message: "kdsguard has not analysed this file: it finds templates on disk, so a new file \
                  is read once it is saved; or kdsguard.toml's `exclude` leaves it out"
            .to_string(),
        ..lsp_types::Diagnostic::default()
    }
}

fn send(out: &Sender<Message>, m: Message) {
    // The writer is gone only when the editor has closed the stream; nothing to tell it then.
    let _ = out.send(m);
}

fn error(id: RequestId, code: ErrorCode, message: String) -> Message {
    Response::new_err(id, code as i32, message).into()
}

impl State {
    fn handle(&mut self, m: Message) -> Flow {
        match m {
            Message::Request(r) => {
                let id = r.id.clone();
                let reply = if self.shutting_down && r.method != "shutdown" {
                    error(id, ErrorCode::InvalidRequest, "the server is shutting down".to_string())
                } else {
                    match self.request(r) {
                        Ok(m) => m,
                        Err((code, why)) => error(id, code, why),
                    }
                };
                send(&self.out, reply);
                Flow::Continue
            }
            Message::Notification(n) if n.method == "exit" => Flow::Exit,
            Message::Notification(n) => {
                self.notification(n);
                Flow::Continue
            }
            Message::Response(_) => Flow::Continue,
        }
    }

    fn request(&mut self, r: Request) -> Result<Message, (ErrorCode, String)> {
        fn params<T: serde::de::DeserializeOwned>(r: &Request) -> Result<T, (ErrorCode, String)> {
            serde_json::from_value(r.params.clone())
                .map_err(|e| (ErrorCode::InvalidParams, format!("{}: {e}", r.method)))
        }
        let result = match r.method.as_str() {
            "shutdown" => {
                self.shutting_down = true;
                serde_json::Value::Null
            }
            "textDocument/hover" => {
                let p: HoverParams = params(&r)?;
                let at = &p.text_document_position_params;
                to_json(self.hover(&at.text_document.uri, at.position))
            }
            "textDocument/definition" => {
                let p: GotoDefinitionParams = params(&r)?;
                let at = &p.text_document_position_params;
                to_json(self.definition(&at.text_document.uri, at.position))
            }
            "textDocument/codeAction" => {
                let p: CodeActionParams = params(&r)?;
                let text = self.text(&p.text_document.uri).unwrap_or_default();
                let actions: Vec<CodeActionOrCommand> =
                    hover::code_actions(&p.text_document.uri, &text, &p.context.diagnostics)
                        .into_iter()
                        .map(CodeActionOrCommand::CodeAction)
                        .collect();
                to_json(actions)
            }
            _ => return Err((ErrorCode::MethodNotFound, format!("unknown method {:?}", r.method))),
        };
        Ok(Response::new_ok(r.id, result).into())
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params)
                    && let Some(path) = file_path(&p.text_document.uri)
                {
                    self.docs.insert(path, Arc::from(p.text_document.text));
                    self.changed();
                }
            }
            "textDocument/didChange" => {
                // Full sync: the last change holds the whole text.
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params)
                    && let Some(path) = file_path(&p.text_document.uri)
                    && let Some(change) = p.content_changes.into_iter().last()
                {
                    self.docs.insert(path, Arc::from(change.text));
                    self.changed();
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params)
                    && let Some(path) = file_path(&p.text_document.uri)
                {
                    // The file on disk speaks for it again.
                    self.docs.remove(&path);
                    self.changed();
                }
            }
            "textDocument/didSave" | "workspace/didChangeWatchedFiles" => self.changed(),
            "initialized" if self.watch => {
                // Files changed outside the editor (a branch switch, a generator): templates,
                // variable files and the config.
                let watchers = ["**/*.{tf,tf.json,tfvars,yaml,yml,json,template}", "**/kdsguard.toml"]
                    .map(|glob| serde_json::json!({ "globPattern": glob }));
                let params = serde_json::json!({
                    "registrations": [{
                        "id": "kdsguard-watched-files",
                        "method": "workspace/didChangeWatchedFiles",
                        "registerOptions": { "watchers": watchers },
                    }],
                });
                send(
                    &self.out,
                    Request::new(
                        RequestId::from("kdsguard-watched-files".to_string()),
                        "client/registerCapability".to_string(),
                        params,
                    )
                    .into(),
                );
            }
            "workspace/didChangeWorkspaceFolders" => {
                if let Ok(p) = serde_json::from_value::<DidChangeWorkspaceFoldersParams>(n.params) {
                    for f in p.event.removed.iter().filter_map(|f| file_path(&f.uri)) {
                        self.folders.retain(|x| *x != f);
                        self.parsed.remove(&f);
                    }
                    self.folders
                        .extend(p.event.added.iter().filter_map(|f| file_path(&f.uri)));
                    self.folders.sort();
                    self.folders.dedup();
                    // A removed folder's diagnostics are cleared by the next run.
                    self.changed();
                }
            }
            _ => {}
        }
    }

    /// Something changed: analyse again once the editor has been quiet for [`DEBOUNCE`].
    fn changed(&mut self) {
        self.changes += 1;
        self.due = Some(Instant::now() + DEBOUNCE);
        // A running analysis reads the old text: end it at its next phase.
        self.cancel.store(true, Ordering::Relaxed);
    }

    fn start(&mut self) {
        self.due = None;
        self.running = Some(self.changes);
        let at = self.changes;
        let overlay: crate::source::Overlay = Arc::new(self.docs.clone());
        let folders: Vec<(PathBuf, Arc<ParseCache>)> = self
            .folders
            .iter()
            .map(|f| (f.clone(), Arc::clone(self.parsed.entry(f.clone()).or_default())))
            .collect();
        let env = Arc::clone(&self.env);
        let done = self.done.0.clone();
        self.cancel = Arc::new(AtomicBool::new(false));
        let cancel = Arc::clone(&self.cancel);
        std::thread::spawn(move || {
            let runs: workspace::Runs = folders
                .into_iter()
                .map(|(f, parsed)| {
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        workspace::analyze(&f, Arc::clone(&overlay), &env, Arc::clone(&cancel), parsed)
                    }));
                    let run = match run {
                        Ok(r) => r.map(Arc::new),
                        Err(_) => Err(workspace::FolderError::Panicked),
                    };
                    (f, run)
                })
                .collect();
            let diagnostics: FolderDiagnostics = runs
                .iter()
                .map(|(_, r)| r.as_ref().map(|f| f.diagnostics()).unwrap_or_default())
                .collect();
            let _ = done.send((at, runs, diagnostics));
        });
    }

    fn finished(&mut self, at: u64, runs: workspace::Runs, diagnostics: FolderDiagnostics) {
        self.running = None;
        if at != self.changes {
            // Stale: a change came in while it ran. Run again now (the change's own
            // debounce has passed or will); free the result off this thread.
            self.due.get_or_insert_with(Instant::now);
            std::thread::spawn(move || drop((runs, diagnostics)));
            return;
        }
        let mut by_file: BTreeMap<Url, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        for ((root, run), diagnostics) in runs.iter().zip(diagnostics) {
            match run {
                Ok(folder) => {
                    // The phases' times, for the editor's log of this server.
                    let phases: Vec<String> = folder
                        .analysis
                        .timings
                        .iter()
                        .map(|(name, d)| format!("{name} {} ms", d.as_millis()))
                        .collect();
                    send(
                        &self.out,
                        Notification::new(
                            "window/logMessage".to_string(),
                            LogMessageParams {
                                typ: MessageType::LOG,
                                message: format!("kdsguard: {} analysed: {}", root.display(), phases.join(", ")),
                            },
                        )
                        .into(),
                    );
                    for (path, diagnostics) in diagnostics {
                        if let Ok(uri) = Url::from_file_path(&path) {
                            by_file.entry(uri).or_default().extend(diagnostics);
                        }
                    }
                }
                Err(why) => send(
                    &self.out,
                    Notification::new(
                        "window/showMessage".to_string(),
                        ShowMessageParams {
                            typ: MessageType::ERROR,
                            message: format!("kdsguard: {}: {why}", root.display()),
                        },
                    )
                    .into(),
                ),
            }
        }
        // An open file that looks like a template but no run read says so, rather than
        // showing nothing: it is not on disk yet (discovery reads the disk), or the config
        // leaves it out.
        for (path, text) in &self.docs {
            let inside = self.folders.iter().any(|f| path.starts_with(f));
            let read = runs
                .iter()
                .any(|(_, r)| r.as_ref().is_ok_and(|f| f.file(path).is_some()));
            if inside
                && !read
                && crate::load::looks_like_template(path, text)
                && let Ok(uri) = Url::from_file_path(path)
            {
                by_file.entry(uri).or_default().push(not_analysed());
            }
        }
        // Only what changed is sent: a file whose diagnostics are gone gets an empty list,
        // a file whose list is the same as the editor's is not sent again.
        let cleared: Vec<Url> = self
            .published
            .keys()
            .filter(|u| !by_file.contains_key(*u))
            .cloned()
            .collect();
        for uri in cleared {
            self.published.remove(&uri);
            self.publish(uri, Vec::new());
        }
        for (uri, diagnostics) in by_file {
            if self.published.get(&uri) != Some(&diagnostics) {
                self.publish(uri.clone(), diagnostics.clone());
                self.published.insert(uri, diagnostics);
            }
        }
        // The previous analysis is freed off this thread (hundreds of megabytes of small
        // values in a large estate), so the next change is read at once.
        let previous = std::mem::replace(&mut self.runs, runs);
        std::thread::spawn(move || drop(previous));
    }

    fn publish(&self, uri: Url, diagnostics: Vec<lsp_types::Diagnostic>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        send(
            &self.out,
            Notification::new("textDocument/publishDiagnostics".to_string(), params).into(),
        );
    }

    /// The analysed folder holding the file at `uri`.
    fn folder(&self, uri: &Url) -> Option<(Arc<Folder>, PathBuf)> {
        let path = file_path(uri)?;
        self.runs
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .find(|f| f.file(&path).is_some())
            .map(|f| (Arc::clone(f), path))
    }

    /// The target under the cursor, in the text the latest analysis read.
    fn target(&self, uri: &Url, at: lsp_types::Position) -> Option<(Arc<Folder>, Target)> {
        let (folder, path) = self.folder(uri)?;
        let file = folder.file(&path)?;
        let target = hover::target_at(&folder, &path, workspace::offset(&file.text, at))?;
        Some((folder, target))
    }

    fn hover(&self, uri: &Url, at: lsp_types::Position) -> Option<Hover> {
        let (folder, target) = self.target(uri, at)?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: hover::hover(&folder, target),
            }),
            range: None,
        })
    }

    fn definition(&self, uri: &Url, at: lsp_types::Position) -> Option<GotoDefinitionResponse> {
        match self.target(uri, at)? {
            (folder, Target::Principal(p)) => Some(GotoDefinitionResponse::Array(hover::definition(&folder, p))),
            _ => None,
        }
    }

    /// The text of a document: the editor's, else the file's.
    fn text(&self, uri: &Url) -> Option<Arc<str>> {
        let path = file_path(uri)?;
        if let Some(t) = self.docs.get(&path) {
            return Some(Arc::clone(t));
        }
        std::fs::read_to_string(&path).ok().map(Arc::from)
    }
}

fn to_json<T: serde::Serialize>(v: T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
