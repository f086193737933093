// The pipeline's first stage: which leaves the loop trains on (the ones changed against the git base, the --leaf
// paths, or all of them) and the editor's checks over them. Errors in a selected leaf stop the pipeline with the
// findings, file:line:col first, unless allowErrors (generate then skips those leaves). Findings of the selected
// leaves go to findings.jsonl; the selection is the committed unit's meta, so every later stage and attempt sees
// the same leaves even if the working tree changes afterwards.
import { relative, sep } from 'node:path';
import { onlyKnown } from '../jobs/args';
import { JobArgsError, JobFailure } from '../jobs/errors';
import { defineJob } from '../jobs/job';
import { changedLeaves, describeChangedResult } from '../taxonomy/changed';
import type { LocatedFinding } from '../taxonomy/findings';
import { checkTaxonomy, MissingPathError } from '../taxonomy/taxonomy';
import { bool, optionalText, requiredText, textList } from './fields';

export interface CheckStageArgs {
  taxonomy: string;
  /** Absolute files or folders; empty: changed leaves (or all with `all`). */
  leaves: string[];
  all: boolean;
  gitBase?: string;
  allowErrors: boolean;
}

export interface CheckStageSettings {
  repoCache?: string;
}

export interface CheckedLeaf {
  /** Absolute path of the qna.yaml. */
  file: string;
  /** Path from the kind folder, as generate and the datasets name leaves. */
  path: string;
  errors: number;
  warnings: number;
}

export interface CheckStageSummary extends Record<string, unknown> {
  /** How the leaves were chosen, in words. */
  selection: string;
  leaves: CheckedLeaf[];
  errors: number;
  warnings: number;
  findings: string;
}

export const findingsFile = 'findings.jsonl';
const unitKey = 'check';

/** "file:line:col CODE message", for the failure message and the report. */
export function findingLine(f: LocatedFinding, root: string): string {
  const rel = relative(root, f.file);
  const shown = rel && !rel.startsWith('..') ? rel.split(sep).join('/') : f.file;
  return `${shown}:${f.line}:${f.column} ${f.severity} ${f.code} ${f.message.replace(/\s*\n\s*/g, ' ')}`;
}

function under(file: string, path: string): boolean {
  return file === path || file.startsWith(path.endsWith(sep) ? path : path + sep);
}

export const checkStageJob = defineJob({
  kind: 'pipeline-check',
  title: 'Checking the taxonomy',
  description: 'pipeline stage: select the leaves (changed, --leaf paths or all) and check them (args: taxonomy, leaves, all, gitBase, allowErrors).',
  unit: 'files',
  parseArgs(raw): CheckStageArgs {
    onlyKnown(raw, ['taxonomy', 'leaves', 'all', 'gitBase', 'allowErrors'], 'args');
    const gitBase = optionalText(raw, 'gitBase');
    const args: CheckStageArgs = { taxonomy: requiredText(raw, 'taxonomy', 'the taxonomy folder'), leaves: textList(raw, 'leaves'), all: bool(raw, 'all'), allowErrors: bool(raw, 'allowErrors'), ...(gitBase ? { gitBase } : {}) };
    if (args.all && args.leaves.length) throw new JobArgsError('all: give either leaves or all, not both');
    return args;
  },
  parseSettings(raw): CheckStageSettings {
    onlyKnown(raw, ['repoCache'], 'settings');
    const repoCache = optionalText(raw, 'repoCache');
    return repoCache ? { repoCache } : {};
  },
  async run(ctx): Promise<CheckStageSummary> {
    const { args, run } = ctx;
    if (run.isDone(unitKey)) return run.completedMeta(unitKey) as CheckStageSummary;

    ctx.progress({ done: 0, stage: 'selecting leaves' });
    let changed: Set<string> | undefined;
    let selection = args.all ? 'every leaf' : args.leaves.length ? `leaves under ${args.leaves.map((p) => relative(args.taxonomy, p) || '.').join(', ')}` : '';
    if (!args.all && !args.leaves.length) {
      const result = await changedLeaves(args.taxonomy, args.gitBase ? { base: args.gitBase } : {});
      if (result.status !== 'ok') throw new JobFailure(`${describeChangedResult(result)}; name the leaves to train on (--leaf PATH) or take them all (--all)`, args.taxonomy);
      if (result.leaves.length === 0) throw new JobFailure(`${describeChangedResult(result)}: nothing to train on; change a leaf, or name leaves (--leaf PATH) or take them all (--all)`, args.taxonomy);
      changed = new Set(result.leaves.map((l) => l.file));
      selection = `leaves changed against ${result.base}`;
    }

    const leaves: CheckedLeaf[] = [];
    const findings: LocatedFinding[] = [];
    let files = 0;
    try {
      for await (const report of checkTaxonomy([args.taxonomy], { repoCacheDir: ctx.settings.repoCache, signal: ctx.signal })) {
        ctx.progress({ done: ++files, stage: 'checking' });
        if (!report.file.endsWith('qna.yaml')) continue;
        if (args.leaves.length && !args.leaves.some((p) => under(report.file, p))) continue;
        if (changed && !changed.has(report.file)) continue;
        const count = (s: string) => report.findings.filter((f) => f.severity === s).length;
        const path = report.leaf?.location.leafPath ?? relative(args.taxonomy, report.file).split(sep).slice(0, -1).join('/');
        leaves.push({ file: report.file, path, errors: report.leaf ? count('error') : Math.max(1, count('error')), warnings: count('warning') });
        findings.push(...report.findings);
      }
    } catch (err) {
      if (err instanceof MissingPathError) throw new JobFailure(`${args.taxonomy}: no such taxonomy folder`, args.taxonomy);
      throw err;
    }
    if (leaves.length === 0) throw new JobFailure(`${args.taxonomy}: no qna.yaml leaf among the ${selection || 'selected leaves'}`, args.taxonomy);
    leaves.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

    const errors = findings.filter((f) => f.severity === 'error');
    const warnings = findings.filter((f) => f.severity === 'warning').length;
    for (const f of errors.slice(0, 20)) ctx.log('error', findingLine(f, args.taxonomy));
    if (errors.length && !args.allowErrors) {
      const bad = leaves.filter((l) => l.errors > 0);
      const shown = errors.slice(0, 5).map((f) => `  ${findingLine(f, args.taxonomy)}`);
      throw new JobFailure(
        `${errors.length} error${errors.length === 1 ? '' : 's'} in ${bad.length} of the ${leaves.length} selected leaves:\n${shown.join('\n')}` +
          `${errors.length > shown.length ? `\n  … and ${errors.length - shown.length} more (check/log.jsonl)` : ''}\n` +
          'fix them and resume (--resume), or run with --allow-errors to train without those leaves',
        errors[0].file,
      );
    }
    const summary: CheckStageSummary = { selection, leaves, errors: errors.length, warnings, findings: findingsFile };
    await run.commit(unitKey, { [findingsFile]: findings }, summary);
    ctx.log('info', `${leaves.length} leaves (${selection}): ${errors.length} errors, ${warnings} warnings`);
    return summary;
  },
  describe: (s) => `${s.leaves.length} leaves checked (${s.selection}): ${s.errors} errors, ${s.warnings} warnings`,
});
