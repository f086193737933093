// What the qna.yaml language server serves and where its pieces are, kept apart from the client code: activation needs
// these names, while vscode-languageclient (the client's bundle, dist/language-client.js) loads only when the server
// starts.

/** Also names the trace setting vscode-languageclient reads: `taxonomyStudio.trace.server`. */
export const clientId = 'taxonomyStudio';
export const settingsSection = 'taxonomyStudio';
export const serverModulePath = 'dist/language-server.js';
/** extension/languageClient.ts bundled on its own (scripts/build.mjs). */
export const clientModulePath = 'dist/language-client.js';

/** qna.yaml leaves, plus YAML files anywhere under a taxonomy kind folder (a misnamed leaf still gets checked). */
export const documentSelector = [
  { language: 'qna-yaml', scheme: 'file' },
  { language: 'qna-yaml', scheme: 'untitled' },
  { language: 'yaml', scheme: 'file', pattern: '**/{knowledge,foundational_skills,compositional_skills}/**/*.{yaml,yml}' },
];
