// The kdsguard client: starts `kdsguard lsp` (the language server, over stdio) for the
// Terraform, YAML and JSON files of the workspace, and restarts it when `kdsguard.path`
// changes. Everything else (diagnostics, hovers, code actions, go to definition) is the
// server's.

import * as path from "path";
import * as vscode from "vscode";
import { Executable, LanguageClient, LanguageClientOptions } from "vscode-languageclient/node";

/** The server's command line after the executable: nothing but the subcommand. */
const SERVER_ARGS = ["lsp"];

let client: LanguageClient | undefined;

/**
 * The executable named by `kdsguard.path`: a bare name is looked up on PATH; a relative
 * path is taken from the first workspace folder.
 */
function serverCommand(): string {
  const configured = vscode.workspace.getConfiguration("kdsguard").get<string>("path", "kdsguard").trim();
  const command = configured === "" ? "kdsguard" : configured;
  const folder = vscode.workspace.workspaceFolders?.[0];
  const hasSeparator = command.includes("/") || command.includes("\\");
  if (hasSeparator && !path.isAbsolute(command) && folder !== undefined && folder.uri.scheme === "file") {
    return path.join(folder.uri.fsPath, command);
  }
  return command;
}

async function startClient(channel: vscode.OutputChannel): Promise<void> {
  const command = serverCommand();
  // No `transport` here: stdio is the server's only transport, and without one the client
  // spawns it and speaks over stdio (with one, it would add `--stdio`, which the server
  // accepts and ignores).
  const server: Executable = { command, args: SERVER_ARGS };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "terraform" },
      { scheme: "file", language: "yaml" },
      { scheme: "file", language: "json" },
    ],
    outputChannel: channel,
  };
  const next = new LanguageClient("kdsguard", "kdsguard", server, clientOptions);
  client = next;
  channel.appendLine(`starting ${command} ${SERVER_ARGS.join(" ")}`);
  try {
    await next.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    channel.appendLine(`cannot start ${command} ${SERVER_ARGS.join(" ")}: ${message}`);
    void vscode.window.showErrorMessage(
      `kdsguard: cannot start \`${command} ${SERVER_ARGS.join(" ")}\` (${message}). ` +
        "Install kdsguard or set `kdsguard.path` to the executable.",
    );
  }
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined && running.needsStop()) {
    await running.stop();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = vscode.window.createOutputChannel("kdsguard");
  context.subscriptions.push(channel);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("kdsguard.path")) {
        channel.appendLine("kdsguard.path changed: restarting the server");
        await stopClient();
        await startClient(channel);
      }
    }),
  );
  await startClient(channel);
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
