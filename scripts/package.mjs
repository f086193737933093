// `npm run package`: the platform-specific .vsix (linux-x64) that installs and runs with no network. The bundles in
// dist/ hold everything but the three packages the engine loads from node_modules at run time (node-llama-cpp and
// onnxruntime-node find their native binaries beside their own files; pdfjs-dist is imported by name). This script
// stages the files .vscodeignore lets through, adds those packages and what they require at run time under
// dist/node_modules (where dist/cli.js resolves them first), keeps only linux-x64 CPU binaries and drops sources,
// docs and build-only parts, then runs vsce on the stage without its npm dependency walk. Run `npm run build` first.
//
//   node scripts/package.mjs [--out FILE.vsix] [--stage DIR]
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extensionBundles } from './build.mjs';

export const target = { vsce: 'linux-x64', os: 'linux', cpu: 'x64', libc: 'glibc' };

/** What dist/cli.js loads from node_modules by name (everything else is bundled into dist/*.js). */
export const runtimeRoots = ['node-llama-cpp', 'onnxruntime-node', 'pdfjs-dist'];

/** Dependencies of those packages that nothing the engine runs needs, and why. */
export const skippedDependencies = {
  'adm-zip': 'onnxruntime-node install script only (it downloads GPU providers)',
  'global-agent': 'onnxruntime-node install script only (proxy support for that download)',
  'cmake-js': 'node-llama-cpp builds llama.cpp from source with it; the engine uses the prebuilt binaries (build: never)',
  'node-addon-api': 'C++ headers for building node-llama-cpp from source',
};

/**
 * Whether an installed dependency is one the target runs: node-llama-cpp's prebuilt binaries only in the CPU build
 * for linux-x64 (the GPU variants are hundreds of megabytes and need drivers); any other platform package by the
 * `os`, `cpu` and `libc` fields npm itself installs by.
 */
export function forTarget(name, pkg) {
  if (name.startsWith('@node-llama-cpp/')) return name === `@node-llama-cpp/${target.vsce}`;
  return fits(pkg.os, target.os) && fits(pkg.cpu, target.cpu) && fits(pkg.libc, target.libc);
}

/** npm's rule for `os`, `cpu` and `libc`: `!x` rules x out; any plain entries name the only values allowed. */
function fits(list, value) {
  if (!Array.isArray(list) || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const allowed = list.filter((v) => !v.startsWith('!'));
  return allowed.length === 0 || allowed.includes(value);
}

/**
 * The packages `roots` need at run time, resolved as Node does (the nearest node_modules walking up from the package
 * that depends on them). Each entry: the package name and its folder relative to `nodeModules`, so nested copies keep
 * their place. A dependency that is not installed is left out when optional and an error otherwise.
 */
export function runtimeClosure(nodeModules, roots = runtimeRoots) {
  const top = dirname(nodeModules);
  const found = new Map();
  const queue = roots.map((name) => ({ name, from: top, optional: false, by: 'dist/cli.js' }));
  while (queue.length > 0) {
    const { name, from, optional, by } = queue.shift();
    if (name in skippedDependencies) continue;
    const dir = resolvePackage(name, from, top);
    if (!dir) {
      if (optional) continue;
      throw new Error(`${name} (needed by ${by}) is not installed: run npm ci, then package again`);
    }
    if (found.has(dir)) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (!forTarget(name, pkg)) continue;
    found.set(dir, { name, dir: relative(nodeModules, dir) });
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false, by: name });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true, by: name });
  }
  return [...found.values()].sort((a, b) => a.dir.localeCompare(b.dir));
}

function resolvePackage(name, from, top) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === top || dirname(dir) === dir) return undefined;
  }
}

const licence = /^(licen[cs]e|notice|copying|thirdpartynotices)/i;

/**
 * Whether a file of a staged package ships; `file` is relative to the package folder, with `/`. What goes: source
 * maps, TypeScript, docs and tests everywhere; per package, what only building or other platforms use.
 */
export function keepFile(name, file) {
  const base = file.slice(file.lastIndexOf('/') + 1);
  if (licence.test(base)) return true;
  // TypeScript (sources and declarations alike) never runs in Node.
  if (/\.(map|ts|mts|cts|md|markdown)$/i.test(base)) return false;
  if (/(^|\/)(test|tests|__tests__|\.github|docs?)\//.test(file)) return false;
  if (/^(\.npmignore|\.eslintrc.*|\.prettierrc.*|tsconfig.*\.json|CHANGELOG.*|HISTORY.*)$/i.test(base)) return false;
  switch (name) {
    case 'node-llama-cpp':
      // llama/ holds the llama.cpp sources and build files (a 34 MB git bundle among them); at run time only the
      // grammars and the release descriptors are read. templates/ scaffolds new projects (`npm create`).
      if (file.startsWith('llama/')) return /^llama\/[^/]+\.json$/.test(file) || /^llama\/grammars\/[^/]+\.gbnf$/.test(file);
      return !file.startsWith('templates/');
    case 'onnxruntime-node':
      // lib/ is the TypeScript source of dist/; script/ installs; bin/ has every platform's binding.
      if (file.startsWith('lib/') || file.startsWith('script/')) return false;
      return !file.startsWith('bin/') || file.startsWith(`bin/napi-v6/${target.os}/${target.cpu}/`);
    case 'pdfjs-dist':
      // documents.ts imports the minified legacy build and its worker; the viewer, other builds, fonts and CMaps
      // (never configured) stay out. (Its optional @napi-rs/canvas ships: the legacy build uses DOMMatrix as it
      // loads, and only that package provides it in Node.)
      return ['package.json', 'legacy/build/pdf.min.mjs', 'legacy/build/pdf.worker.min.mjs'].includes(file);
    default:
      return true;
  }
}

/** Copies the kept files of each package into `into` (a node_modules folder); returns the count and bytes copied. */
export function stagePackages(nodeModules, packages, into) {
  let files = 0;
  let bytes = 0;
  for (const p of packages) {
    const src = join(nodeModules, p.dir);
    const walk = (dir) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const abs = join(dir, entry.name);
        const rel = relative(src, abs).split(sep).join('/');
        // Nested node_modules are packages of their own in the closure; links (.bin) are not shipped.
        if (entry.isDirectory()) {
          if (entry.name !== 'node_modules') walk(abs);
        } else if (entry.isFile() && keepFile(p.name, rel)) {
          const to = join(into, p.dir, rel);
          mkdirSync(dirname(to), { recursive: true });
          cpSync(abs, to);
          files++;
          bytes += statSync(abs).size;
        }
      }
    };
    walk(src);
  }
  return { files, bytes };
}

/** The entries of a zip file from its central directory: name, compressed and uncompressed size. */
export function zipEntries(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`expected a central directory entry at offset ${p}`);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    if (compressed === 0xffffffff || size === 0xffffffff) throw new Error('zip64 entries are not expected in a .vsix');
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    entries.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), compressed, size });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

export function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

// The stage has only what ships; vsce's own default ignores still apply.
const stageIgnore = '# Staged by scripts/package.mjs: everything here ships.\n**/*.map\n';

/** Stages and packages; returns the .vsix path with its size, unpacked size and file count. */
export async function packageExtension(repo, { out, stage, log = () => {} } = {}) {
  const require = createRequire(join(repo, 'package.json'));
  const vsce = require('@vscode/vsce');
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  out = resolve(repo, out ?? `${manifest.name}-${manifest.version}-${target.vsce}.vsix`);
  stage = resolve(repo, stage ?? join('.cache', 'package', 'stage'));
  // The extension's lazily loaded bundles ship like the rest of dist/ (.vscodeignore leaves out only source maps).
  const bundles = extensionBundles(repo).map((b) => b.outfile);
  for (const f of ['dist/cli.js', 'dist/extension.js', 'dist/language-client.js', 'dist/language-server.js', ...bundles]) {
    if (!existsSync(join(repo, f))) throw new Error(`${f} is missing: run npm run build first`);
  }

  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  // What .vscodeignore lets through, exactly as vsce would package the repository itself.
  const files = await vsce.listFiles({ cwd: repo, dependencies: false });
  for (const f of files) {
    const to = join(stage, f);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(repo, f), to);
  }
  const nodeModules = join(repo, 'node_modules');
  const packages = runtimeClosure(nodeModules);
  const staged = stagePackages(nodeModules, packages, join(stage, 'dist', 'node_modules'));
  log(`staged ${files.length} extension files and ${packages.length} runtime packages (${staged.files} files, ${megabytes(staged.bytes)}) in ${relative(repo, stage)}`);
  writeFileSync(join(stage, '.vscodeignore'), stageIgnore);

  mkdirSync(dirname(out), { recursive: true });
  rmSync(out, { force: true });
  await vsce.createVSIX({
    cwd: stage,
    packagePath: out,
    target: target.vsce,
    dependencies: false,
    allowMissingRepository: true,
    skipLicense: true,
    rewriteRelativeLinks: false,
  });
  const entries = zipEntries(readFileSync(out));
  const result = {
    vsix: out,
    bytes: lstatSync(out).size,
    unpackedBytes: entries.reduce((s, e) => s + e.size, 0),
    files: entries.length,
  };
  log(`${relative(repo, out) || basename(out)}: ${megabytes(result.bytes)} (${megabytes(result.unpackedBytes)} unpacked, ${result.files} files, target ${target.vsce})`);
  return result;
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '--out' || a === '-o' || a === '--stage') && argv[i + 1]) opts[a === '--stage' ? 'stage' : 'out'] = argv[++i];
    else throw new Error(`unexpected argument '${a}' (usage: node scripts/package.mjs [--out FILE.vsix] [--stage DIR])`);
  }
  return opts;
}

// No top-level await: the unit tests load this file through require.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  Promise.resolve()
    .then(() => packageExtension(repo, { ...parseArgs(process.argv.slice(2)), log: (m) => console.log(`package: ${m}`) }))
    .catch((err) => {
      console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
