// `taxonomy-studio pipeline` flags to the pipeline job's args and settings (the shape the editor sends too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../../engine/cli/args';
import { mergeSettings, pipelineArgs, pipelineCommand, pipelineSettings } from '../../../engine/cli/commands/pipeline';
import { pipelineJob } from '../../../engine/pipeline/job';

const parse = (argv: string[]) => parseArgs(argv, pipelineCommand.options);

test('flags become args (paths resolved) and settings (stage objects only when given)', () => {
  const { values, positionals } = parse([
    'tax', '--student', 'hf', '--teacher', 't.gguf', '--out', 'run', '--leaf', 'tax/a', '--leaf', 'tax/b,tax/c',
    '--epochs', '2', '--rank', '4', '--qlora', '--samples-per-seed', '3', '--threads', '1', '--gpu', 'off',
    '--parallel', '8', '--max-tokens', '64', '--lr', '0.01', '--eval-parallel', '3',
  ]);
  const args = pipelineArgs(values, positionals, '/w');
  assert.deepEqual(args, {
    taxonomy: '/w/tax', student: '/w/hf', leaves: ['/w/tax/a', '/w/tax/b', '/w/tax/c'], all: false, allowErrors: false,
    perSeed: 3, epochs: 2, rank: 4, qlora: true,
  });
  const settings = pipelineSettings(values, '/w');
  assert.deepEqual(settings, { teacher: '/w/t.gguf', threads: 1, gpu: 'off', generate: { parallel: 8, maxTokens: 64 }, train: { lr: 0.01 }, evaluate: { parallel: 3 } });
  // What the CLI builds is what the job accepts.
  assert.equal(pipelineJob.parseArgs(args!).perSeed, 3);
  assert.equal(pipelineJob.parseSettings(settings).teacher, '/w/t.gguf');
  // A teacher URL is kept as it is.
  assert.equal(pipelineSettings(parse(['--teacher', 'http://127.0.0.1:8000/v1']).values, '/w').teacher, 'http://127.0.0.1:8000/v1');
});

test('bad usage says what to give', () => {
  assert.equal(pipelineArgs(parse(['--out', 'run']).values, [], '/w'), undefined);
  assert.throws(() => pipelineArgs(parse(['tax']).values, ['tax'], '/w'), (e: unknown) => e instanceof UsageError && /--student <hf-dir>/.test((e as Error).message));
  assert.throws(() => pipelineArgs(parse(['tax', '--student', 'hf', '--all', '--leaf', 'x']).values, ['tax'], '/w'), /either --leaf or --all/);
  assert.throws(() => pipelineArgs(parse(['tax', 'more', '--student', 'hf']).values, ['tax', 'more'], '/w'), /unexpected 'more'/);
  assert.deepEqual(pipelineSettings(parse(['--epochs', '2']).values, '/w'), {}, 'epochs is an arg, not a setting');
  assert.throws(() => pipelineArgs(parse(['tax', '--student', 'hf', '--epochs', '0']).values, ['tax'], '/w'), /--epochs takes a whole number of 1 or more/);
  assert.throws(() => pipelineSettings(parse(['--gpu', 'cuda']).values, '/w'), /--gpu takes auto or off/);
  assert.throws(() => pipelineSettings(parse(['--lr', 'fast']).values, '/w'), /--lr takes a non-negative number/);
});

test('settings given on resume merge into the recorded ones, stage objects key by key', () => {
  const recorded = { teacher: '/t.gguf', threads: 1, generate: { maxTokens: 96, contextSize: 2048 }, train: { lr: 0.01 } };
  const given = pipelineSettings(parse(['--ctx-size', '4096', '--threads', '2']).values, '/w');
  assert.deepEqual(mergeSettings(recorded, given), { teacher: '/t.gguf', threads: 2, generate: { maxTokens: 96, contextSize: 4096 }, train: { lr: 0.01 } });
});
