// A minimal VS Code client for `dynapcnn-dsl lsp` (docs/editors.md): it starts the server
// over stdio for YAML and JSON files and passes the `dynapcnn-dsl.*` settings to it.
"use strict";

const { workspace } = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const folder = workspace.workspaceFolders ? workspace.workspaceFolders[0].uri.fsPath : "";
  const [command, ...args] = workspace.getConfiguration("dynapcnn-dsl").get("command")
    .map((part) => part.replace("${workspaceFolder}", folder));
  client = new LanguageClient(
    "dynapcnn-dsl",
    "dynapcnn-dsl",
    { command, args },
    {
      documentSelector: [
        { scheme: "file", language: "yaml" },
        { scheme: "file", language: "json" },
        { scheme: "untitled", language: "yaml" },
      ],
      synchronize: {
        configurationSection: "dynapcnn-dsl",
        // a changed template or weights file re-checks the open networks
        fileEvents: workspace.createFileSystemWatcher("**/*.{yaml,yml,safetensors,pt,pth,npz}"),
      },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
