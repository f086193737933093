// Repeatable CLI options (args.ts `multiple`) and serve's --adapter built on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describeOptions, parseArgs, UsageError } from '../../../engine/cli/args';
import { parseAdapters, serveCommand } from '../../../engine/cli/commands/serve';

const table = {
  adapter: { type: 'string', short: 'a', multiple: true, valueName: '<file>', description: 'repeatable' },
  model: { type: 'string', description: 'single' },
} as const;

test('a multiple option collects every occurrence in order, short and long; a plain one keeps the last value', () => {
  const { values } = parseArgs(['--adapter', 'a.gguf', '-a', 'b.gguf=x', '--model', 'm1', '--model', 'm2', '--adapter=c.gguf'], table);
  assert.deepEqual(values.adapter, ['a.gguf', 'b.gguf=x', 'c.gguf']);
  assert.equal(values.model, 'm2');
  assert.equal(parseArgs(['--model', 'm'], table).values.adapter, undefined);
  assert.throws(() => parseArgs(['--adapter'], table), (e: unknown) => e instanceof UsageError && /option --adapter needs a value/.test(e.message));
});

test('help marks a repeatable option', () => {
  const help = describeOptions(table);
  assert.match(help, /-a, --adapter <file> …\s+repeatable/);
  assert.doesNotMatch(help, /--model <value> …/);
});

test('serve: repeated --adapter serves each adapter under its own id; one unnamed adapter is "tuned"', () => {
  const cwd = '/work/models';
  const argv = ['--model', 'm.gguf', '--adapter', 'one.gguf', '--adapter', 'two.gguf=second'];
  const { values } = parseArgs(argv, serveCommand.options);
  assert.deepEqual(parseAdapters(values.adapter, cwd), [
    { id: 'one', path: resolve(cwd, 'one.gguf') },
    { id: 'second', path: resolve(cwd, 'two.gguf') },
  ]);
  assert.deepEqual(parseAdapters(parseArgs(['-a', 'lora.gguf'], serveCommand.options).values.adapter, cwd), [{ id: 'tuned', path: resolve(cwd, 'lora.gguf') }]);
  // The comma list of earlier versions still works, mixed with repeats.
  assert.deepEqual(
    parseAdapters(['a.gguf,b.gguf', 'c.gguf=c2'], cwd).map((a) => a.id),
    ['a', 'b', 'c2'],
  );
  assert.throws(() => parseAdapters(['x.gguf=base'], cwd), /'base' is the model without adapters/);
});
