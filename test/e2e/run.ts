// `npm run test:e2e`: the extension in a real VS Code (code-server + headless chromium). Installs the tools into a
// cache folder on first use, packages and installs the .vsix into a fresh isolated profile, opens copies of the
// example taxonomy, runs the extension-host suites and the UI checks, and ends with "N passed, N failed".
//
//   npm run test:e2e [-- --grep PATTERN]    only the extension-host tests whose full title matches PATTERN (a regular
//                                           expression, as mocha's --grep), and no UI checks
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { cacheDir, ensureTools } from '../../scripts/e2e/tools';
import { installExtension, makeProfile, startCodeServer, type Server } from '../../scripts/e2e/codeServer';
import { buildExtension, buildSuites, copyExample, packageVsix } from '../../scripts/e2e/package';
import { runExtensionTests } from './extensionHost';
import { openBrowser, type CheckResult } from './browser';
import { declaredViews, runUiChecks, uiChecks, uiOldLeaf } from './ui';

const repo = resolve(__dirname, '..', '..');
const started = Date.now();

function log(msg: string): void {
  process.stdout.write(`[e2e ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
}

function parseArgs(argv: string[]): { grep?: string } {
  const i = argv.indexOf('--grep');
  if (i >= 0 && !argv[i + 1]) throw new Error('--grep needs a pattern: npm run test:e2e -- --grep "Packaged extension"');
  const unknown = argv.filter((_, j) => i < 0 || (j !== i && j !== i + 1));
  if (unknown.length) throw new Error(`unexpected argument '${unknown[0]}' (usage: npm run test:e2e [-- --grep PATTERN])`);
  return i >= 0 ? { grep: argv[i + 1] } : {};
}

async function main(): Promise<number> {
  const { grep } = parseArgs(process.argv.slice(2));
  const cache = cacheDir(repo);
  const tools = ensureTools(cache);
  log('tools ready');

  // Everything of one run lives here and is removed first: each run starts from a fresh profile and workspace.
  const runDir = join(cache, 'run');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const screenshots = join(repo, 'test', 'e2e', 'screenshots');
  rmSync(screenshots, { recursive: true, force: true });
  mkdirSync(screenshots, { recursive: true });

  buildExtension(repo);
  const vsix = packageVsix(repo, join(runDir, 'taxonomy-studio.vsix'));
  const testsIndex = await buildSuites(repo);
  log('extension built and packaged');

  const resultsFile = join(runDir, 'extension-host-results.json');
  const profile = makeProfile(join(runDir, 'profile'), tools, { TAXONOMY_STUDIO_E2E_RESULTS: resultsFile, ...(grep ? { TAXONOMY_STUDIO_E2E_GREP: grep } : {}) });
  installExtension(tools, profile, vsix);
  const installed = readdirSync(profile.extensions).find((n) => n.startsWith('taxonomy-studio.taxonomy-studio-'));
  if (!installed) throw new Error(`the .vsix did not install into ${profile.extensions}`);
  const extensionDir = join(profile.extensions, installed);
  const wsTests = copyExample(repo, join(runDir, 'ws-tests'));
  const wsUi = copyExample(repo, join(runDir, 'ws-ui'));
  prepareUiWorkspace(wsUi);

  let server: Server | undefined;
  const stop = () => server?.stop();
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      stop();
      process.exit(130);
    });
  }
  const results: CheckResult[] = [];
  try {
    server = await startCodeServer(tools, profile, join(runDir, 'code-server.log'), { testDriver: true });
    log(`code-server on ${server.url} (log: ${join(runDir, 'code-server.log')})`);

    results.push(
      ...(await runExtensionTests({
        serverUrl: server.url,
        chromium: tools.chromium,
        browserDir: join(runDir, 'chromium-tests'),
        env: profile.env,
        extensionDir,
        testsIndex,
        workspace: wsTests,
        resultsFile,
        timeoutMs: 240_000,
      })),
    );
    log('extension host suites done');
    if (grep) {
      log(`UI checks skipped (--grep ${grep})`);
      return report(results);
    }

    const views = declaredViews(JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8')));
    if (!views) log('the manifest declares no Taxonomy Studio views: the tree view is not checked');
    const { context, page } = await openBrowser(tools.chromium, join(runDir, 'chromium-ui'), profile.env);
    try {
      results.push(...(await runUiChecks(page, uiChecks(server.url, wsUi, views), screenshots)));
    } finally {
      await context.close();
    }
    log(`UI checks done (screenshots in ${screenshots})`);
  } finally {
    stop();
  }
  log(existsSync(screenshots) ? 'done' : 'done (no screenshots)');
  return report(results);
}

/** Prints each result and the "N passed, N failed" line; the exit code. */
function report(results: CheckResult[]): number {
  for (const r of results) {
    process.stdout.write(`${r.ok ? 'ok' : 'FAILED'}  ${r.name}\n`);
    if (r.error) process.stdout.write(`${r.error.replace(/^/gm, '      ')}\n`);
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  if (results.length === 0) {
    process.stdout.write('0 passed, 1 failed\n');
    return 1;
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

/**
 * The UI workspace gets a leaf with gaps (schema version 2, three seeds) for the Gaps view, and becomes a git
 * repository on `main` with everything committed, so the Changed Leaves view lists exactly what the checks add.
 */
function prepareUiWorkspace(taxonomy: string): void {
  const oldLeaf = join(taxonomy, ...uiOldLeaf.split('/'));
  mkdirSync(dirname(oldLeaf), { recursive: true });
  writeFileSync(
    oldLeaf,
    'version: 2\ncreated_by: e2e\ntask_description: Write limericks about the night sky.\nseed_examples:\n' +
      ['the Moon', 'a comet', 'Orion']
        .map((t) => `  - question: Write a limerick about ${t}.\n    answer: |\n      A limerick about ${t}\n      in five lines of verse.\n`)
        .join(''),
  );
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.com' };
  const git = (...args: string[]) => execFileSync('git', ['-C', taxonomy, ...args], { env, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'example taxonomy');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exit(1);
  },
);
