// The Get Started walkthrough in package.json: open example → fix a leaf → generate → train → chat, each step with
// its markdown shipped in the .vsix and completed by the commands its buttons run.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import picomatch from 'picomatch';

const repo = resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string };
  completionEvents: string[];
}

const walkthroughs = manifest.contributes.walkthroughs as { id: string; steps: Step[] }[];
const steps = walkthroughs.find((w) => w.id === 'gettingStarted')?.steps ?? [];

test('the steps go open example, fix a leaf, generate, train, chat', () => {
  assert.deepEqual(steps.map((s) => s.id), ['openExample', 'fixLeaf', 'generate', 'train', 'chat']);
});

test('each step has a markdown page that exists, is not empty and ships in the .vsix', () => {
  const ignored = picomatch(
    readFileSync(join(repo, '.vscodeignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
    { dot: true },
  );
  for (const s of steps) {
    const page = s.media.markdown;
    assert.ok(page, `${s.id} has no markdown media`);
    assert.ok(existsSync(join(repo, page)), `${page} is missing`);
    assert.match(readFileSync(join(repo, page), 'utf8'), /^# \S/, `${page} starts with a heading`);
    assert.ok(!ignored(page), `${page} is left out of the .vsix by .vscodeignore`);
  }
});

test("every button completes its step: each command link in a description is among the step's completion events", () => {
  for (const s of steps) {
    const buttons = [...s.description.matchAll(/\]\(command:([\w.]+)\)/g)].map((m) => m[1]);
    assert.ok(buttons.length > 0, `${s.id} has no button`);
    for (const b of buttons) assert.ok(s.completionEvents.includes(`onCommand:${b}`), `${s.id}: the ${b} button does not complete the step`);
    for (const e of s.completionEvents) assert.match(e, /^onCommand:taxonomyStudio\.\w+$/);
  }
});
