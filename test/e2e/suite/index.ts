// Entry point the extension host loads through the `extensionTestsPath` payload: runs the mocha suites next to it
// and writes what passed and failed to a JSON file the harness reads (the host's console reaches only the browser).
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export interface SuiteResults {
  /** In the order the tests ran. */
  tests: { title: string; ms: number; error?: string }[];
}

export function run(): Promise<void> {
  const out = process.env.TAXONOMY_STUDIO_E2E_RESULTS;
  if (!out) return Promise.reject(new Error('TAXONOMY_STUDIO_E2E_RESULTS is not set: run these tests with npm run test:e2e'));
  // `npm run test:e2e -- --grep PATTERN` runs only the tests whose full title matches.
  const grep = process.env.TAXONOMY_STUDIO_E2E_GREP;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec', ...(grep ? { grep: new RegExp(grep) } : {}) });
  for (const f of readdirSync(__dirname).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(join(__dirname, f));
  const results: SuiteResults = { tests: [] };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        writeFileSync(out, JSON.stringify(results, null, 2));
        if (failures > 0) reject(new Error(`${failures} extension host tests failed`));
        else resolve();
      });
      runner.on('pass', (t) => results.tests.push({ title: t.fullTitle(), ms: t.duration ?? 0 }));
      runner.on('fail', (t, err: Error) => results.tests.push({ title: t.fullTitle(), ms: t.duration ?? 0, error: err.stack ?? String(err) }));
    } catch (err) {
      results.tests.push({ title: 'loading the suites', ms: 0, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      writeFileSync(out, JSON.stringify(results, null, 2));
      reject(err);
    }
  });
}
