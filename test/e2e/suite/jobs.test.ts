// Jobs in a real extension host: the demo job runs in the bundled engine child and writes its run folder in the
// workspace; Cancel Job stops it keeping the finished units; Resume Job finishes it with every unit once.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { suite, test } from 'mocha';
import { extensionId, taxonomyRoot, until } from './util';

const runsRoot = () => join(taxonomyRoot(), '.taxonomy-studio', 'runs');

function runFolders(): string[] {
  return existsSync(runsRoot()) ? readdirSync(runsRoot()).filter((n) => n.startsWith('demo-count-')).sort() : [];
}

function record(dir: string): { status: string; attempts: number; summary?: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8'));
}

function units(dir: string): number[] {
  const text = existsSync(join(dir, 'counts.jsonl')) ? readFileSync(join(dir, 'counts.jsonl'), 'utf8') : '';
  return text === '' ? [] : text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { unit: number }).unit);
}

suite('Jobs', () => {
  test('the demo job runs in an engine child and succeeds with its run folder in the workspace', async () => {
    await vscode.extensions.getExtension(extensionId)?.activate();
    const before = runFolders();
    await vscode.commands.executeCommand('taxonomyStudio.runDemoJob');
    const added = runFolders().filter((n) => !before.includes(n));
    assert.equal(added.length, 1, `one new run folder in ${runsRoot()}`);
    const dir = join(runsRoot(), added[0]);
    assert.equal(record(dir).status, 'succeeded');
    assert.deepEqual(units(dir), Array.from({ length: 50 }, (_, i) => i));
  });

  test('Cancel Job keeps the finished units; Resume Job finishes the run with every unit once', async () => {
    const before = runFolders();
    const running = vscode.commands.executeCommand('taxonomyStudio.runDemoJob');
    const name = await until('the demo run folder', () => runFolders().find((n) => !before.includes(n)));
    const dir = join(runsRoot(), name);
    await until('five finished units', () => units(dir).length >= 5);
    // The Jobs view hands its row to the command; the row's run folder is what names the job.
    await vscode.commands.executeCommand('taxonomyStudio.cancelJob', { runDir: dir });
    await running;
    const cancelled = record(dir);
    assert.equal(cancelled.status, 'cancelled');
    const kept = units(dir);
    assert.ok(kept.length >= 5 && kept.length < 50, `kept ${kept.length} units`);
    assert.equal(cancelled.summary?.finishedUnits, kept.length);

    await vscode.commands.executeCommand('taxonomyStudio.resumeJob', { runDir: dir, title: 'Counting (demo)' });
    const resumed = record(dir);
    assert.equal(resumed.status, 'succeeded');
    assert.equal(resumed.attempts, 2);
    assert.deepEqual(units(dir), Array.from({ length: 50 }, (_, i) => i));
  });
});
