// Builds the optional native quantization kernels (native/quant, a Node-API addon) into dist/native/quant.node with
// node-gyp. Optional means: without a C++ compiler, make or node-gyp, or when the build fails, this says so and exits 0,
// and the engine uses its TypeScript kernels (engine/gguf/quant/native.ts). `--strict` exits 1 instead (CI).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = path.join(repo, 'native', 'quant');
const out = path.join(repo, 'dist', 'native', 'quant.node');
const strict = process.argv.includes('--strict');
const tag = 'native quantization kernels';

function skip(why) {
  console.log(`${tag}: not built: ${why}; the TypeScript kernels will be used`);
  fs.rmSync(out, { force: true }); // never leave kernels behind that do not match the sources
  process.exit(strict ? 1 : 0);
}

function has(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

/** node-gyp as npm bundles it: beside the npm running this script, or beside this node. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = path.dirname(path.dirname(process.execPath));
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(repo, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => fs.existsSync(c));
}

const cxx = process.env.CXX ?? 'c++';
if (!has(cxx) && !has('g++') && !has('clang++')) skip('no C++ compiler found (install g++ or clang++ and make, then run npm run build:native)');
if (!has('make')) skip('make not found (install make, then run npm run build:native)');
const gyp = findNodeGyp();
if (!gyp) skip('node-gyp not found (it comes with npm; or npm install -g node-gyp)');

// Headers: the ones installed with this node when present, so no download is needed (npm passes .npmrc's nodedir
// as npm_config_nodedir, which node-gyp reads by itself).
const args = [gyp];
const prefix = path.dirname(path.dirname(process.execPath));
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const run = (step) => spawnSync(process.execPath, [...args, step, `--directory=${addonDir}`], { encoding: 'utf8' });
const t0 = Date.now();
// `configure` once (and when binding.gyp changes); `build` is make, which recompiles only what changed.
const makefile = path.join(addonDir, 'build', 'Makefile');
if (!fs.existsSync(makefile) || fs.statSync(makefile).mtimeMs < fs.statSync(path.join(addonDir, 'binding.gyp')).mtimeMs) {
  const r = run('configure');
  if (r.status !== 0) skip(`node-gyp configure failed:\n${tail(r)}`);
}
const r = run('build');
if (r.status !== 0) skip(`the compiler failed:\n${tail(r)}`);

const built = path.join(addonDir, 'build', 'Release', 'quant.node');
fs.mkdirSync(path.dirname(out), { recursive: true });
// Copy then rename: a process that has the old file loaded keeps its mapping.
fs.copyFileSync(built, `${out}.tmp`);
fs.renameSync(`${out}.tmp`, out);
try {
  const mod = { exports: {} };
  process.dlopen(mod, out);
  console.log(`${tag}: ${path.relative(repo, out)} (${mod.exports.isa} on this machine, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
} catch (err) {
  skip(`the built addon does not load: ${err.message}`);
}

function tail(r) {
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
}
