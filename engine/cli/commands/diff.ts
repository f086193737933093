// `taxonomy-studio diff [root]`: the leaves added or modified against a git base, as ilab's `taxonomy diff` lists them.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { changedLeaves, defaultGitBase, describeChangedResult } from '../../taxonomy/changed';
import { UsageError } from '../args';
import { displayPath } from './check';
import { defineCommand } from './command';

export const diffCommand = defineCommand({
  name: 'diff',
  summary: 'List the leaves changed against a git base branch',
  usage: 'diff [taxonomy-root] [--base <ref>] [--json]',
  description: [
    'Lists the qna.yaml leaves under the taxonomy root (default: the current folder) that were added or modified since',
    'the merge base of HEAD and the base: committed, staged, unstaged and untracked. These are the leaves a training',
    `run uses by default. The base defaults to ${defaultGitBase}, then main, then master, whichever exists.`,
    '',
    'Exit status: 0 listed (possibly none), 1 not a git repository or no such base, 2 bad usage.',
  ].join('\n'),
  options: {
    base: { type: 'string', valueName: '<ref>', description: `Branch, tag or commit to compare with (default ${defaultGitBase})` },
    json: { type: 'boolean', description: 'Print {base, mergeBase, leaves: [{path, file, change}]}' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length > 1) throw new UsageError('diff takes one taxonomy root');
    const root = resolve(ctx.cwd, positionals[0] ?? '.');
    if (!existsSync(root)) throw new UsageError(`no such folder: ${positionals[0]}`);
    const result = await changedLeaves(root, { base: values.base });
    if (result.status !== 'ok') {
      ctx.stderr(`taxonomy-studio diff: ${result.reason}\n`);
      return 1;
    }
    if (values.json) {
      ctx.stdout(`${JSON.stringify({ base: result.base, mergeBase: result.mergeBase ?? null, leaves: result.leaves }, null, 2)}\n`);
    } else {
      ctx.stdout(result.leaves.map((l) => `${l.change.padEnd(9)} ${displayPath(l.file, ctx.cwd)}\n`).join(''));
      ctx.stderr(`${describeChangedResult(result)}\n`);
    }
    return 0;
  },
});
