// generate when interrupted: a CLI process killed with SIGKILL mid-run and resumed, and a teacher endpoint that dies
// mid-run. Either way every unit ends up in the ledger exactly once, finished units are never redone (the server sees
// no second request for them), and the datasets equal those of a run that was never interrupted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import type { RunReport } from '../../../engine/sdg/report';
import { startOpenAIServer, type OpenAIServer } from '../../support/openaiServer';
import { copyExample, newTally, scriptedTeacher } from './generateSupport';

const repoRoot = resolve(__dirname, '../../..');
let work: { dir: string; taxonomy: string };
const servers: OpenAIServer[] = [];

before(() => {
  work = copyExample('sdg-resume-');
});
after(async () => {
  for (const s of servers) await s.close();
  rmSync(work.dir, { recursive: true, force: true });
});

async function server(options: Parameters<typeof startOpenAIServer>[0] = {}): Promise<OpenAIServer> {
  const s = await startOpenAIServer({ handler: scriptedTeacher(newTally()), ...options });
  servers.push(s);
  return s;
}

async function cli(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(argv, { stdout: () => undefined, stderr: (t) => (stderr += t), cwd: repoRoot, env: { ...process.env, TERM: 'dumb' } });
  return { code, stderr };
}

function ledgerKeys(run: string): string[] {
  const text = existsSync(join(run, 'ledger.jsonl')) ? readFileSync(join(run, 'ledger.jsonl'), 'utf8') : '';
  return text.split('\n').filter((l) => l.endsWith('}')).map((l) => (JSON.parse(l) as { key: string }).key);
}

/** Each leaf's dataset files by leaf name (the file names carry the run's start time), contents as text. */
function datasets(run: string): Map<string, string> {
  const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')) as RunReport;
  const out = new Map<string, string>();
  for (const leaf of report.leaves) leaf.files.forEach((f, i) => out.set(`${leaf.leaf}#${i}`, readFileSync(join(run, f), 'utf8')));
  return out;
}

/** Units the server was asked to start: each unit's first call (a question, a context, or a knowledge pair). */
function firstCalls(s: OpenAIServer): number {
  return s.requests.filter((r) => r.path === '/v1/chat/completions' && (r.body as { response_format?: { json_schema?: { name?: string } } } | undefined)?.response_format?.json_schema?.name?.match(/^(question|context|question_answer)$/) && !(r.body as { messages: { content: string }[] }).messages.at(-1)!.content.includes('about the context above')).length;
}

describe('generate interrupted', () => {
  test('kill -9 mid-run, then --resume: every unit exactly once, nothing redone, same datasets as an uninterrupted run', async () => {
    const reference = await server();
    const whole = join(work.dir, 'whole');
    const r0 = await cli(['generate', work.taxonomy, '--teacher', reference.url, '--out', whole, '--per-seed', '2', '--calibrate', '0']);
    assert.equal(r0.code, 0, r0.stderr);

    // Slow answers, so the kill lands mid-run.
    const slow = await server({ faultRule: (c) => (c.chatIndex !== undefined ? { type: 'delay', ms: 15 } : undefined) });
    const run = join(work.dir, 'killed');
    const args = ['--import', 'tsx', 'engine/cli/main.ts', 'generate', work.taxonomy, '--teacher', slow.url, '--out', run, '--per-seed', '2', '--calibrate', '0'];
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TERM: 'dumb' } });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(signal ? -1 : code)));
    // Poll the ledger (with a deadline) until some units are committed, then kill without warning.
    const deadline = Date.now() + 60_000;
    while (ledgerKeys(run).length < 20) {
      assert.ok(Date.now() < deadline, `no units committed within 60 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, -1);
    const before = ledgerKeys(run);
    assert.ok(before.length >= 20 && before.length < 124, `killed after ${before.length} units`);
    assert.equal(existsSync(join(run, 'report.json')), false);

    const resumedServer = await server();
    const r1 = await cli(['generate', '--resume', '--out', run, '--teacher', resumedServer.url]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, new RegExp(`resuming .*: ${before.length} units were finished before`));
    const after = ledgerKeys(run);
    assert.equal(after.length, 124);
    assert.equal(new Set(after).size, 124, 'every unit once');
    assert.deepEqual(after.slice(0, before.length), before, 'finished units kept as they were');
    // The resumed attempt asked for exactly the units that were missing.
    assert.equal(firstCalls(resumedServer), 124 - before.length);
    assert.deepEqual(datasets(run), datasets(whole));
  });

  test('a dead endpoint: clear message, exit 1, finished units kept; --resume with a live one completes the run', async () => {
    const dying: { s?: OpenAIServer } = {};
    dying.s = await server({
      faultRule: (c) => {
        if (c.chatIndex === 60) void dying.s!.close();
        return c.chatIndex !== undefined && c.chatIndex >= 60 ? { type: 'close' } : undefined;
      },
    });
    const run = join(work.dir, 'dead');
    const r = await cli(['generate', work.taxonomy, '--teacher', dying.s.url, '--out', run, '--per-seed', '2', '--calibrate', '0', '--retries', '2', '--retry-base-ms', '5']);
    assert.equal(r.code, 1, r.stderr);
    const kept = ledgerKeys(run);
    assert.ok(kept.length > 0 && kept.length < 124, `${kept.length} units before the endpoint died`);
    assert.match(
      r.stderr,
      new RegExp(`taxonomy-studio generate: teacher: (no server at ${dying.s.url.replace(/[/.]/g, '\\$&')}: start it or check --teacher|.*closed the connection).*; the \\d+ finished units are kept, --resume goes on from there\\n`),
    );
    assert.match(r.stderr, /generate failed: the \d+ finished units are kept in .*; fix the cause and continue with --resume/);

    const live = await server();
    const r2 = await cli(['generate', '--resume', '--out', run, '--teacher', live.url]);
    assert.equal(r2.code, 0, r2.stderr);
    const all = ledgerKeys(run);
    assert.equal(all.length, 124);
    assert.equal(new Set(all).size, 124);
    assert.deepEqual(all.slice(0, kept.length), kept);
    assert.ok(readdirSync(run).some((f) => f.startsWith('skills_train_msgs_')));
  });
});
