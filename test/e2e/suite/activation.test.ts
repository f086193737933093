// The packaged extension as a user gets it: how long activation takes (from the extension host's own performance
// marks; the figure is in the test's title in the e2e log), that activation loads none of the engine's heavy
// packages, and that the engine inside the installed folder runs on its own: copied where no node_modules is
// reachable and run with NODE_PATH unset, it writes a model, converts it to GGUF, trains a LoRA step on
// onnxruntime, answers a chat request through node-llama-cpp and reads a PDF with pdfjs.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import { makePdf } from '../../unit/sdg/pdfFixture';
import { extensionId, until } from './util';

/** The engine's packages that only commands may load: their JavaScript folders and their native libraries. */
const heavyPackages = ['node-llama-cpp', '@node-llama-cpp', 'onnxruntime-node', 'onnxruntime-common', 'pdfjs-dist', '@napi-rs'];
const heavyLibraries = [/llama-addon\.node$/, /libllama/, /libggml/, /onnxruntime_binding\.node$/, /libonnxruntime/, /skia\..*\.node$/];

interface Mark {
  name: string;
  startTime: number;
}

/** The extension host's marks (vs/base/common/performance keeps them on globalThis in Node). */
function hostMarks(): Mark[] {
  const perf = (globalThis as { MonacoPerformanceMarks?: { getMarks(): Mark[] } }).MonacoPerformanceMarks;
  assert.ok(perf, 'the extension host keeps no performance marks (MonacoPerformanceMarks): this VS Code build changed how it records activation');
  return perf.getMarks();
}

function markTime(marks: Mark[], name: string, id = extensionId): number {
  const m = marks.find((x) => x.name === `${name}/${id}`);
  assert.ok(m, `no ${name} mark for ${id}: marks are ${marks.map((x) => x.name).filter((n) => n.includes(id)).join(', ') || 'none for it'}`);
  return m.startTime;
}

/**
 * How long the host waited between loading an extension's code and calling its activate(): VS Code loads the code
 * and the extension's context (globalState and workspaceState, fetched from the workbench) side by side and calls
 * activate() once both are there. The wait is VS Code's, the same for every extension activated then.
 */
function contextWait(marks: Mark[], id: string): number | undefined {
  const at = (name: string) => marks.find((x) => x.name === `code/extHost/${name}/${id}`)?.startTime;
  const loaded = at('didLoadExtensionCode');
  const called = at('willActivateExtension');
  return loaded !== undefined && called !== undefined ? called - loaded : undefined;
}

suite('Packaged extension', () => {
  test('activates and reports how long it took', async function () {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext, `${extensionId} is not installed`);
    await ext.activate();
    const marks = hostMarks();
    const loadStart = markTime(marks, 'code/extHost/willLoadExtensionCode');
    const loadEnd = markTime(marks, 'code/extHost/didLoadExtensionCode');
    const activateStart = markTime(marks, 'code/extHost/willActivateExtension');
    const activateEnd = markTime(marks, 'code/extHost/didActivateExtension');
    assert.ok(loadStart <= loadEnd && loadEnd <= activateStart && activateStart <= activateEnd, 'activation marks out of order');
    // What VS Code counts as an extension's activation time (Running Extensions, the extension's page): loading its
    // code plus the activate() call.
    const activation = loadEnd - loadStart + (activateEnd - activateStart);
    const others = [...new Set(marks.map((m) => /^code\/extHost\/didLoadExtensionCode\/(.+)$/.exec(m.name)?.[1]).filter((id): id is string => !!id && id !== extensionId))]
      .map((id) => contextWait(marks, id))
      .filter((w): w is number => w !== undefined)
      .sort((a, b) => a - b);
    const median = others.length ? `${Math.round(others[others.length >> 1])} ms` : 'none measured';
    // The figures go in the title the harness prints (the host's console reaches only the browser). The 200 ms goal
    // is a figure to watch, not an assertion: timing on a shared machine is no test.
    this.test!.title =
      `activates in ${Math.round(activation)} ms as VS Code counts it (loading dist/extension.js ${Math.round(loadEnd - loadStart)} ms + activate() ${Math.round(activateEnd - activateStart)} ms; goal < 200 ms); ` +
      `${Math.round(activateEnd - loadStart)} ms from load to activated, of which VS Code waited ${Math.round(activateStart - loadEnd)} ms for the extension's context ` +
      `(median wait of the ${others.length} other extensions activated in this host: ${median})`;
  });

  test('activation loads none of the engine packages (node-llama-cpp, onnxruntime-node, pdfjs-dist)', async () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext?.isActive, 'the extension is not active');
    const inPackage = (p: string) => heavyPackages.some((h) => p.includes(`/node_modules/${h}/`));
    const required = Object.keys(require.cache).filter(inPackage);
    assert.deepEqual(required, [], 'modules of the engine packages in the extension host');
    const report = process.report?.getReport() as { sharedObjects?: string[] } | undefined;
    assert.ok(report?.sharedObjects, 'process.report lists no shared objects');
    assert.deepEqual(report.sharedObjects.filter((so) => heavyLibraries.some((r) => r.test(so))), [], 'native libraries of the engine packages in the extension host');
    // No bundle the extension host loads (dist/extension.js and those it loads later) may name them: they are the
    // engine's, which runs in child processes.
    const dist = join(ext.extensionPath, 'dist');
    const engineSide = ['cli.js', 'quant-worker.js', 'language-server.js', 'chat-webview.js'];
    const bundles = [...readdirSync(dist).filter((n) => n.endsWith('.js') && !engineSide.includes(n)), ...readdirSync(join(dist, 'commands')).map((n) => `commands/${n}`)];
    assert.ok(bundles.includes('extension.js') && bundles.includes('views.js') && bundles.includes('commands/pipeline.js'), `the extension's bundles: ${bundles.join(', ')}`);
    for (const f of bundles) {
      const text = readFileSync(join(dist, f), 'utf8');
      for (const p of ['node-llama-cpp', 'onnxruntime-node', 'pdfjs-dist']) {
        assert.ok(!new RegExp(`(require|import)\\(["']${p}`).test(text), `dist/${f} loads ${p}`);
      }
    }
  });

  suite('the engine in the installed folder, copied out of reach of any node_modules', () => {
    let root = '';
    let cli = '';
    // As the extension runs the engine: this host's runtime as plain Node; NODE_PATH would reach other packages.
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    delete env.NODE_PATH;

    suiteSetup(() => {
      const ext = vscode.extensions.getExtension(extensionId);
      assert.ok(ext, `${extensionId} is not installed`);
      root = mkdtempSync(join(outsideAnyNodeModules(), 'taxonomy-studio-engine-'));
      cpSync(ext.extensionPath, join(root, 'ext'), { recursive: true });
      cli = join(root, 'ext', 'dist', 'cli.js');
    });
    suiteTeardown(() => {
      if (root) rmSync(root, { recursive: true, force: true });
    });

    function engine(...args: string[]): string {
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, `taxonomy-studio ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`);
      return r.stdout + r.stderr;
    }

    test('writes a tiny model, converts it to GGUF, trains a LoRA step (onnxruntime-node) and exports the adapter', () => {
      engine('fixture-model', '--out', join(root, 'hf'), '--size', 'tiny');
      engine('convert', join(root, 'hf'), '--out', join(root, 'model.gguf'), '--type', 'q8_0', '--threads', '1');
      const data = Array.from({ length: 4 }, (_, i) =>
        JSON.stringify({ messages: [{ role: 'user', content: `Name star ${i}.` }, { role: 'assistant', content: `Star ${i} is Vega.` }] }),
      );
      writeFileSync(join(root, 'data.jsonl'), data.join('\n') + '\n');
      const trained = engine('train', '--model', join(root, 'hf'), '--data', join(root, 'data.jsonl'), '--out', join(root, 'train'), '--eval-fraction', '0');
      assert.match(trained, /adapter after 1 steps on 4 samples/);
      assert.ok(existsSync(join(root, 'train', 'adapter', 'adapter_model.safetensors')), `no adapter in ${join(root, 'train')}:\n${trained}`);
      engine('export-adapter', join(root, 'train', 'adapter'), '--base', join(root, 'hf'), '--out', join(root, 'adapter.gguf'));
    });

    test('serves the GGUF with the adapter through node-llama-cpp and answers a chat request', async () => {
      const child: ChildProcess = spawn(
        process.execPath,
        [cli, 'serve', '--model', join(root, 'model.gguf'), '--adapter', join(root, 'adapter.gguf'), '--port', '0', '--threads', '1', '--gpu', 'off', '--parallel', '1'],
        { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let said = '';
      let exited: number | null | undefined;
      child.stdout?.on('data', (b: Buffer) => (said += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (said += b.toString()));
      const gone = new Promise<void>((resolve) => child.on('exit', (code) => ((exited = code), resolve())));
      try {
        const url = await until('serve to print its URL', () => {
          if (exited !== undefined) throw new Error(`serve exited with ${exited}:\n${said}`);
          return /http:\/\/127\.0\.0\.1:\d+\/v1/.exec(said)?.[0];
        }, 60_000);
        const res = await fetch(`${url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'tuned', messages: [{ role: 'user', content: 'Name star 1.' }], max_tokens: 4, temperature: 0 }),
        });
        assert.equal(res.status, 200, await res.clone().text());
        const body = (await res.json()) as { model: string; usage: { completion_tokens: number }; choices: { message: { role: string } }[] };
        assert.equal(body.model, 'tuned');
        assert.equal(body.choices[0]?.message.role, 'assistant');
        assert.ok(body.usage.completion_tokens >= 1 && body.usage.completion_tokens <= 4, `completion tokens ${body.usage.completion_tokens}`);
      } finally {
        child.kill('SIGTERM');
        await gone;
      }
    });

    test('reads a PDF text layer with the pdfjs-dist it ships', () => {
      const pdf = join(root, 'notes.pdf');
      writeFileSync(pdf, makePdf([[['Spectrograph notes.', 'Resolving power about 1,000.']]]));
      // A module inside the copy resolves pdfjs-dist as dist/cli.js does (engine/sdg/documents.ts imports these two).
      const probe = join(root, 'ext', 'dist', 'pdf-probe.mjs');
      writeFileSync(
        probe,
        [
          "import { readFileSync } from 'node:fs';",
          "const lib = await import('pdfjs-dist/legacy/build/pdf.min.mjs');",
          "globalThis.pdfjsWorker = await import('pdfjs-dist/legacy/build/pdf.worker.min.mjs');",
          'const doc = await lib.getDocument({ data: new Uint8Array(readFileSync(process.argv[2])), isEvalSupported: false, disableFontFace: true, verbosity: 0 }).promise;',
          'const text = await (await doc.getPage(1)).getTextContent();',
          "console.log(JSON.stringify({ from: import.meta.resolve('pdfjs-dist/legacy/build/pdf.min.mjs'), text: text.items.map((i) => i.str) }));",
        ].join('\n'),
      );
      const r = spawnSync(process.execPath, [probe, pdf], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `the PDF probe exited with ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { from: string; text: string[] };
      assert.ok(out.from.startsWith(`file://${join(root, 'ext', 'dist', 'node_modules', 'pdfjs-dist')}/`), `pdfjs-dist came from ${out.from}`);
      assert.deepEqual(out.text, ['Spectrograph notes.', 'Resolving power about 1,000.']);
    });
  });
});

/**
 * A temporary folder none of whose ancestors holds a node_modules, so packages can only resolve from the copy. The
 * host's TMPDIR is inside the harness's cache (inside the repository), so the system's /tmp comes next.
 */
function outsideAnyNodeModules(): string {
  const reachable = (dir: string): boolean => {
    for (let d = dir; ; d = dirname(d)) {
      if (existsSync(join(d, 'node_modules'))) return true;
      if (dirname(d) === d) return false;
    }
  };
  const found = [tmpdir(), '/tmp', '/var/tmp'].find((d) => existsSync(d) && !reachable(d));
  assert.ok(found, `every temporary folder (${tmpdir()}, /tmp, /var/tmp) has a node_modules above it`);
  return found;
}
