// Runs the whole loop on a copy of the example taxonomy with fixture models (scripts/e2e/exampleLoop.ts), then opens
// that copy in code-server with the packaged extension installed, on 127.0.0.1, and prints the URL to open. Same tools,
// cache and isolated profile as npm run test:e2e; Ctrl+C stops everything.
//   node --import tsx scripts/e2e/serve.ts [--no-loop]
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cacheDir, ensureTools } from './tools';
import { installExtension, makeProfile, startCodeServer } from './codeServer';
import { buildExtension, copyExample, packageVsix } from './package';
import { fixtureModels, loopLeaves, runExampleLoop } from './exampleLoop';

async function main(): Promise<void> {
  const repo = resolve(__dirname, '..', '..');
  const cache = cacheDir(repo);
  const tools = ensureTools(cache);
  const dir = join(cache, 'serve');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  buildExtension(repo);
  const profile = makeProfile(join(dir, 'profile'), tools);
  installExtension(tools, profile, packageVsix(repo, join(dir, 'taxonomy-studio.vsix')));
  const workspace = copyExample(repo, join(dir, 'workspace'));
  let loopLine = 'The loop was skipped (--no-loop).';
  if (!process.argv.includes('--no-loop')) {
    process.stdout.write(`Running the whole loop (check, generate, train, export, evaluate) on ${loopLeaves.join(' and ')} with untrained fixture models…\n`);
    try {
      const loop = await runExampleLoop(repo, workspace, fixtureModels(repo, join(cache, 'loop-models')));
      const took = `${Math.round(loop.seconds)} s`;
      loopLine = loop.ok
        ? `The loop finished in ${took}; its report: ${loop.report} (Taxonomy Studio's Jobs view lists the run).`
        : `The loop failed after ${took}; what it finished is in ${loop.runDir} (see the messages above).`;
    } catch (err) {
      // The editor opens anyway: the loop is a demonstration, not a precondition.
      loopLine = `The loop could not start: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const server = await startCodeServer(tools, profile, join(dir, 'code-server.log'), { testDriver: false });
  process.on('exit', () => server.stop());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => process.exit(0));
  process.stdout.write(
    `Taxonomy Studio in code-server (a copy of examples/taxonomy; edits stay in ${workspace}):\n\n` +
      `  ${server.url}/?folder=${encodeURIComponent(workspace)}\n\n${loopLine}\nLog: ${join(dir, 'code-server.log')}. Ctrl+C stops it.\n`,
  );
  // Keep running until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
