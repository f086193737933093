// `taxonomy-studio example --out DIR`: the example taxonomy and its document repository, to try the tool on.
import { resolve } from 'node:path';
import { findExamplesDir, writeExampleTaxonomy } from '../../examples/exampleTaxonomy';
import { UsageError } from '../args';
import { defineCommand } from './command';

export const exampleCommand = defineCommand({
  name: 'example',
  summary: 'Write the example taxonomy (and its document repository) to a folder',
  usage: 'example --out <dir>',
  description: [
    'Writes <dir>/taxonomy, twelve leaves about a fictional observatory (knowledge, foundational and compositional',
    'skills), and <dir>/knowledge-docs-repo, a git repository at the commit the knowledge leaves name, so every check',
    'passes and every document resolves. <dir> must not exist or be empty. Needs git.',
  ].join('\n'),
  options: {
    out: { type: 'string', valueName: '<dir>', description: 'Folder to create' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (!values.out) throw new UsageError('example needs --out <dir>');
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const examples = findExamplesDir();
    if (!examples) {
      ctx.stderr('taxonomy-studio example: the examples folder is missing from this installation (looked beside the program); reinstall Taxonomy Studio\n');
      return 1;
    }
    try {
      const written = writeExampleTaxonomy(resolve(ctx.cwd, values.out), examples);
      ctx.stdout(`${written.taxonomy}\n`);
      ctx.stderr(`wrote the example taxonomy to ${written.taxonomy} and its documents to ${written.docsRepo}\n`);
      return 0;
    } catch (err) {
      ctx.stderr(`taxonomy-studio example: ${(err as Error).message}\n`);
      return 1;
    }
  },
});
