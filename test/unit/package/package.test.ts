// scripts/package.mjs without vsce: which installed packages the engine needs at run time (resolved as Node does,
// other platforms and build-only dependencies left out), which of their files ship, the staging copy, and the zip
// central directory it measures the .vsix with. The real packaging runs in `npm run test:e2e`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { forTarget, keepFile, runtimeClosure, stagePackages, zipEntries } from '../../../scripts/package.mjs';

const repo = resolve(__dirname, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'ts-package-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function pkg(nodeModules: string, dir: string, manifest: Record<string, unknown>, files: Record<string, string> = {}): void {
  const at = join(nodeModules, dir);
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, 'package.json'), JSON.stringify({ version: '1.0.0', ...manifest }));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(at, f)), { recursive: true });
    writeFileSync(join(at, f), text);
  }
}

describe('runtime closure', () => {
  const nm = join(tmp, 'closure', 'node_modules');
  pkg(nm, 'node-llama-cpp', {
    name: 'node-llama-cpp',
    dependencies: { chalk: '^5', 'cmake-js': '^8' },
    optionalDependencies: { '@node-llama-cpp/linux-x64': '1', '@node-llama-cpp/linux-x64-cuda': '1', '@node-llama-cpp/mac-x64': '1' },
  });
  pkg(nm, 'node-llama-cpp/node_modules/chalk', { name: 'chalk', version: '5.0.0' });
  pkg(nm, 'chalk', { name: 'chalk', version: '4.0.0' });
  pkg(nm, 'cmake-js', { name: 'cmake-js', dependencies: { tar: '^6' } });
  pkg(nm, 'tar', { name: 'tar' });
  pkg(nm, '@node-llama-cpp/linux-x64', { name: '@node-llama-cpp/linux-x64', os: ['linux'], cpu: ['x64'] });
  pkg(nm, '@node-llama-cpp/linux-x64-cuda', { name: '@node-llama-cpp/linux-x64-cuda', os: ['linux'], cpu: ['x64'] });
  pkg(nm, 'onnxruntime-node', { name: 'onnxruntime-node', dependencies: { 'onnxruntime-common': '1', 'adm-zip': '1', 'global-agent': '1' } });
  pkg(nm, 'onnxruntime-common', { name: 'onnxruntime-common', dependencies: { chalk: '^4' } });
  pkg(nm, 'pdfjs-dist', { name: 'pdfjs-dist', optionalDependencies: { '@napi-rs/canvas': '1' } });
  pkg(nm, '@napi-rs/canvas', {
    name: '@napi-rs/canvas',
    optionalDependencies: { '@napi-rs/canvas-linux-x64-gnu': '1', '@napi-rs/canvas-linux-x64-musl': '1', '@napi-rs/canvas-win32-x64-msvc': '1' },
  });
  pkg(nm, '@napi-rs/canvas-linux-x64-gnu', { name: '@napi-rs/canvas-linux-x64-gnu', os: ['linux'], cpu: ['x64'], libc: ['glibc'] });
  pkg(nm, '@napi-rs/canvas-linux-x64-musl', { name: '@napi-rs/canvas-linux-x64-musl', os: ['linux'], cpu: ['x64'], libc: ['musl'] });
  pkg(nm, '@napi-rs/canvas-win32-x64-msvc', { name: '@napi-rs/canvas-win32-x64-msvc', os: ['win32'], cpu: ['x64'] });

  test('follows dependencies as Node resolves them; drops other platforms, GPU builds and build-only packages', () => {
    const dirs = runtimeClosure(nm).map((p) => p.dir);
    assert.deepEqual(dirs, [
      '@napi-rs/canvas',
      '@napi-rs/canvas-linux-x64-gnu',
      '@node-llama-cpp/linux-x64',
      'chalk',
      'node-llama-cpp',
      'node-llama-cpp/node_modules/chalk',
      'onnxruntime-common',
      'onnxruntime-node',
      'pdfjs-dist',
    ]);
  });

  test('a missing required dependency names who needs it; a missing optional one is left out', () => {
    const broken = join(tmp, 'broken', 'node_modules');
    pkg(broken, 'node-llama-cpp', { name: 'node-llama-cpp', dependencies: { ipull: '^3' }, optionalDependencies: { '@node-llama-cpp/linux-x64': '1' } });
    assert.throws(() => runtimeClosure(broken, ['node-llama-cpp']), /^Error: ipull \(needed by node-llama-cpp\) is not installed: run npm ci/);
    pkg(broken, 'ipull', { name: 'ipull' });
    assert.deepEqual(runtimeClosure(broken, ['node-llama-cpp']).map((p) => p.dir), ['ipull', 'node-llama-cpp']);
  });

  test("npm's os/cpu/libc rules", () => {
    assert.equal(forTarget('x', {}), true);
    assert.equal(forTarget('x', { os: ['linux', 'darwin'] }), true);
    assert.equal(forTarget('x', { os: ['!win32'] }), true);
    assert.equal(forTarget('x', { os: ['!linux'] }), false);
    assert.equal(forTarget('x', { cpu: ['arm64'] }), false);
    assert.equal(forTarget('x', { libc: ['musl'] }), false);
    assert.equal(forTarget('@node-llama-cpp/linux-x64-vulkan', { os: ['linux'], cpu: ['x64'] }), false);
  });

  test("the repository's own node_modules: the CPU build of node-llama-cpp and onnxruntime-common ship, GPU builds and install-only packages do not", () => {
    const names = runtimeClosure(join(repo, 'node_modules')).map((p) => p.name);
    for (const n of ['node-llama-cpp', '@node-llama-cpp/linux-x64', 'onnxruntime-node', 'onnxruntime-common', 'pdfjs-dist', 'lifecycle-utils']) {
      assert.ok(names.includes(n), `${n} missing from ${names.join(', ')}`);
    }
    for (const n of ['@node-llama-cpp/linux-x64-cuda', '@node-llama-cpp/linux-x64-vulkan', '@node-llama-cpp/linux-arm64', 'adm-zip', 'global-agent', 'cmake-js', 'typescript']) {
      assert.ok(!names.includes(n), `${n} would ship`);
    }
  });
});

describe('files that ship', () => {
  test('licences stay; maps, TypeScript, docs and tests go', () => {
    assert.equal(keepFile('chalk', 'license'), true);
    assert.equal(keepFile('chalk', 'LICENSE.md'), true);
    assert.equal(keepFile('chalk', 'source/index.js'), true);
    assert.equal(keepFile('chalk', 'source/index.js.map'), false);
    assert.equal(keepFile('chalk', 'source/index.d.ts'), false);
    assert.equal(keepFile('onnxruntime-common', 'lib/tensor.ts'), false);
    assert.equal(keepFile('chalk', 'readme.md'), false);
    assert.equal(keepFile('chalk', 'test/a.js'), false);
    assert.equal(keepFile('chalk', 'lib/docs/a.js'), false);
  });

  test('node-llama-cpp: grammars and release descriptors of llama/, not its sources, build files or git bundle', () => {
    assert.equal(keepFile('node-llama-cpp', 'dist/index.js'), true);
    assert.equal(keepFile('node-llama-cpp', 'llama/binariesGithubRelease.json'), true);
    assert.equal(keepFile('node-llama-cpp', 'llama/grammars/json.gbnf'), true);
    assert.equal(keepFile('node-llama-cpp', 'llama/gitRelease.bundle'), false);
    assert.equal(keepFile('node-llama-cpp', 'llama/addon/addon.cpp'), false);
    assert.equal(keepFile('node-llama-cpp', 'llama/CMakeLists.txt'), false);
    assert.equal(keepFile('node-llama-cpp', 'templates/x/package.json'), false);
  });

  test('onnxruntime-node: the linux/x64 binding only; pdfjs-dist: the legacy build and its worker only', () => {
    assert.equal(keepFile('onnxruntime-node', 'dist/binding.js'), true);
    assert.equal(keepFile('onnxruntime-node', 'bin/napi-v6/linux/x64/libonnxruntime.so.1'), true);
    assert.equal(keepFile('onnxruntime-node', 'bin/napi-v6/linux/arm64/libonnxruntime.so.1'), false);
    assert.equal(keepFile('onnxruntime-node', 'bin/napi-v6/win32/x64/onnxruntime.dll'), false);
    assert.equal(keepFile('onnxruntime-node', 'lib/binding.ts'), false);
    assert.equal(keepFile('onnxruntime-node', 'script/install.js'), false);
    assert.equal(keepFile('pdfjs-dist', 'legacy/build/pdf.min.mjs'), true);
    assert.equal(keepFile('pdfjs-dist', 'legacy/build/pdf.worker.min.mjs'), true);
    assert.equal(keepFile('pdfjs-dist', 'package.json'), true);
    assert.equal(keepFile('pdfjs-dist', 'build/pdf.mjs'), false);
    assert.equal(keepFile('pdfjs-dist', 'cmaps/UniJIS-UCS2-H.bcmap'), false);
  });

  test('staging copies the kept files, keeps nested packages in place and skips links', () => {
    const nm = join(tmp, 'stage-src', 'node_modules');
    pkg(nm, 'onnxruntime-node', { name: 'onnxruntime-node' }, {
      'dist/index.js': 'module.exports = 1;\n',
      'dist/index.js.map': '{}',
      'bin/napi-v6/linux/x64/onnxruntime_binding.node': 'ELF',
      'bin/napi-v6/darwin/arm64/onnxruntime_binding.node': 'MACHO',
    });
    pkg(nm, 'onnxruntime-node/node_modules/inner', { name: 'inner' }, { 'index.js': 'x' });
    mkdirSync(join(nm, 'onnxruntime-node', 'node_modules', '.bin'), { recursive: true });
    symlinkSync('../inner/index.js', join(nm, 'onnxruntime-node', 'node_modules', '.bin', 'inner'));
    const into = join(tmp, 'stage-out', 'node_modules');
    const staged = stagePackages(nm, [{ name: 'onnxruntime-node', dir: 'onnxruntime-node' }, { name: 'inner', dir: 'onnxruntime-node/node_modules/inner' }], into);
    assert.equal(staged.files, 5); // two package.json, dist/index.js, the linux binding, inner/index.js
    assert.equal(readFileSync(join(into, 'onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node'), 'utf8'), 'ELF');
    assert.equal(existsSync(join(into, 'onnxruntime-node/bin/napi-v6/darwin')), false);
    assert.equal(existsSync(join(into, 'onnxruntime-node/dist/index.js.map')), false);
    assert.equal(readFileSync(join(into, 'onnxruntime-node/node_modules/inner/index.js'), 'utf8'), 'x');
    assert.equal(existsSync(join(into, 'onnxruntime-node/node_modules/.bin')), false);
  });
});

/** A zip written here, independently of the reader: one local header and one central entry per file, then the end. */
function writeZip(files: { name: string; data: Buffer; deflate: boolean }[], comment = ''): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const body = f.deflate ? deflateRawSync(f.data) : f.data;
    const name = Buffer.from(f.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(f.deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(f.deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(Buffer.byteLength(comment), 20);
  return Buffer.concat([...locals, cd, end, Buffer.from(comment)]);
}

describe('zip central directory', () => {
  test('names and sizes of every entry, stored or deflated, with an archive comment', () => {
    const text = Buffer.from('the night sky '.repeat(200));
    const zip = writeZip(
      [
        { name: 'extension/package.json', data: Buffer.from('{}'), deflate: false },
        { name: 'extension/dist/cli.js', data: text, deflate: true },
      ],
      'a comment',
    );
    const entries = zipEntries(zip);
    assert.deepEqual(entries.map((e) => [e.name, e.size]), [
      ['extension/package.json', 2],
      ['extension/dist/cli.js', text.length],
    ]);
    assert.ok(entries[1].compressed < text.length, 'the deflated entry is smaller');
  });

  test('not a zip: says so', () => {
    assert.throws(() => zipEntries(Buffer.alloc(100)), /not a zip file: no end of central directory record/);
  });
});
