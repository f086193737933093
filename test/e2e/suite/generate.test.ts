// Generate data in a real extension host: the "Preview data" lens command runs the bundled engine's
// `generate --preview` against the one configured teacher endpoint (the scripted OpenAI-compatible test server) and
// opens the samples as a markdown document, with the stored API key sent by the engine and nowhere in the document.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { suite, suiteTeardown, test } from 'mocha';
import { startOpenAIServer, type OpenAIServer } from '../../support/openaiServer';
import { newTally, scriptedTeacher } from '../../unit/sdg/generateSupport';
import { extensionId, leafUri, until } from './util';

const leaf = 'compositional_skills/writing/freeform/event_announcements/qna.yaml';

suite('Generate data', () => {
  let server: OpenAIServer | undefined;
  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration().update('taxonomyStudio.sdg.teachers', undefined, vscode.ConfigurationTarget.Workspace);
    await server?.close();
  });

  test('Preview data opens the samples of a leaf as markdown beside it', async () => {
    await vscode.extensions.getExtension(extensionId)?.activate();
    server = await startOpenAIServer({ handler: scriptedTeacher(newTally()), models: [{ id: 'test-teacher', contextSize: 8192 }] });
    await vscode.workspace.getConfiguration().update('taxonomyStudio.sdg.teachers', [server.url], vscode.ConfigurationTarget.Workspace);
    const uri = leafUri(leaf);
    await vscode.window.showTextDocument(uri);
    // As the lens sends it: the document URI as a string.
    await vscode.commands.executeCommand('taxonomyStudio.previewLeafData', uri.toString());
    const doc = await until('the preview document', () =>
      vscode.workspace.textDocuments.find((d) => d.languageId === 'markdown' && d.getText().startsWith('# Preview: compositional_skills/writing/freeform/event_announcements')),
    );
    assert.match(doc.getText(), /freeform_skill: \d+ of 5 tried passed the filters\./);
    assert.match(doc.getText(), /## Sample 1\n\n\*\*Question\*\*\n\n> Question #\d+/);
    assert.ok(server.counts.chat > 0, 'the teacher was asked');
  });
});
