// demo-count: the smallest real job. It counts n units, one JSON line per unit in counts.jsonl, with a small delay
// each, through the same run folder, progress and cancel machinery as the long jobs. Tests drive the machinery
// with it, and a user can run it to check that the engine runs jobs at all (`taxonomy-studio job demo-count n=20`).
// Three settings stop its first attempt on purpose at a given unit, so tests can cancel, kill or crash it at a known
// point; a resumed attempt runs through.
import { onlyKnown, requiredWholeNumber, wholeNumber } from './args';
import { JobFailure } from './errors';
import { defineJob, delay, untilAborted } from './job';

export const demoCountOutput = 'counts.jsonl';

export interface DemoCountArgs {
  n: number;
}

export interface DemoCountSettings {
  delayMs: number;
  /** Before this unit, wait until cancelled (or killed). */
  holdAt?: number;
  /** Before this unit, throw an uncaught exception: the engine process dies as on a bug. */
  crashAt?: number;
  /** Before this unit, fail the job with a message. */
  failAt?: number;
}

export const demoCountJob = defineJob({
  kind: 'demo-count',
  title: 'Counting (demo)',
  description:
    'demo-count counts n units (args: n), writing one line per unit to counts.jsonl after delayMs milliseconds each ' +
    '(settings: delayMs, default 20). It checks that jobs run, report progress, cancel and resume. ' +
    'The settings holdAt, failAt and crashAt stop its first attempt before that unit: waiting to be cancelled, failing, ' +
    'or crashing the engine; a resumed attempt runs through.',
  unit: 'units',
  parseArgs(raw): DemoCountArgs {
    onlyKnown(raw, ['n'], 'args');
    return { n: requiredWholeNumber(raw, 'n', { max: 10_000_000 }) };
  },
  parseSettings(raw): DemoCountSettings {
    onlyKnown(raw, ['delayMs', 'holdAt', 'crashAt', 'failAt'], 'settings');
    return {
      delayMs: wholeNumber(raw, 'delayMs', { max: 60_000 }) ?? 20,
      holdAt: wholeNumber(raw, 'holdAt'),
      crashAt: wholeNumber(raw, 'crashAt'),
      failAt: wholeNumber(raw, 'failAt'),
    };
  },
  async run(ctx) {
    const { n } = ctx.args;
    const { delayMs } = ctx.settings;
    const { holdAt, crashAt, failAt } = ctx.resumed ? {} : ctx.settings;
    const skipped = ctx.run.completedKeys().size;
    let done = skipped;
    ctx.progress({ done, total: n, stage: 'counting' });
    for (let i = 0; i < n; i++) {
      const key = `unit-${i}`;
      if (ctx.run.isDone(key)) continue;
      if (i === holdAt) {
        ctx.log('info', `holding before unit ${i} (holdAt): waiting to be cancelled`);
        await untilAborted(ctx.signal);
      }
      if (i === crashAt) {
        ctx.log('info', `crashing before unit ${i} (crashAt)`);
        // Outside any promise chain, as a bug in a native callback would: the process dies.
        setImmediate(() => {
          throw new Error(`demo-count: crashed before unit ${i}, as the crashAt setting asked`);
        });
        await new Promise(() => undefined);
      }
      if (i === failAt) throw new JobFailure(`unit ${i} failed, as the failAt setting asked`);
      await delay(delayMs, ctx.signal);
      await ctx.run.commit(key, { [demoCountOutput]: [{ unit: i, square: i * i }] });
      ctx.partial('count', { unit: i });
      ctx.progress({ done: ++done, total: n });
    }
    return { counted: n, resumedFrom: skipped, output: demoCountOutput };
  },
  describe: (s) => `${s.counted} units counted${s.resumedFrom > 0 ? ` (${s.resumedFrom} from an earlier attempt)` : ''}, in ${s.output}`,
});
