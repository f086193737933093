// Builds what the real-VS-Code tests load: the extension bundles, the example's document repository, the .vsix
// (packaged by scripts/package.mjs exactly as for release), and the extension-host test suites, compiled apart from the extension.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

function step(repo: string, what: string, args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export function buildExtension(repo: string): void {
  step(repo, 'building the bundles (scripts/build.mjs)', ['scripts/build.mjs']);
  // The knowledge leaves point at ../knowledge-docs-repo; without it they report missing documents.
  step(repo, 'building the example document repository (npm run example)', ['--import', 'tsx', 'scripts/make-example-docs-repo.ts']);
}

/**
 * Packages the extension into `out` exactly as `npm run package` does (scripts/package.mjs: the linux-x64 .vsix with
 * the engine's runtime packages staged inside) and returns its path.
 */
export function packageVsix(repo: string, out: string): string {
  const said = step(repo, 'packaging the .vsix (scripts/package.mjs)', ['scripts/package.mjs', '--out', out, '--stage', join(dirname(out), 'package-stage')]);
  // Its own lines (what was staged, the .vsix size), not vsce's file listing.
  for (const line of said.split('\n')) if (line.startsWith('package: ')) process.stdout.write(`${line}\n`);
  return out;
}

/** Compiles test/e2e/suite/*.ts to out/e2e/suite/*.js (vscode and mocha come from the host and node_modules). */
export async function buildSuites(repo: string): Promise<string> {
  const src = join(repo, 'test', 'e2e', 'suite');
  const outdir = join(repo, 'out', 'e2e', 'suite');
  // index.js loads every *.test.js here: a suite deleted from the sources must not run from an old build.
  rmSync(outdir, { recursive: true, force: true });
  const entries = readdirSync(src)
    .filter((n) => n === 'index.ts' || n.endsWith('.test.ts'))
    .map((n) => join(src, n));
  await build({
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return join(outdir, 'index.js');
}

/** A copy of the example taxonomy beside a copy of its document repository, so `../knowledge-docs-repo` resolves. */
export function copyExample(repo: string, into: string): string {
  cpSync(join(repo, 'examples', 'taxonomy'), join(into, 'taxonomy'), { recursive: true });
  cpSync(join(repo, 'examples', 'knowledge-docs-repo'), join(into, 'knowledge-docs-repo'), { recursive: true });
  return join(into, 'taxonomy');
}
