// The whole loop on the example taxonomy, as the main job runs it before opening the editor: fixture models (an
// untrained teacher GGUF and student folder, made here: nothing is downloaded), then `taxonomy-studio pipeline` on two
// leaves of the workspace copy (a freeform skill and a knowledge leaf), its run folder inside the workspace's
// .taxonomy-studio/runs so the Jobs view lists it and report.md opens from there.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Leaves of examples/taxonomy the loop trains on: one of each pipeline that needs no context generation. */
export const loopLeaves = ['compositional_skills/writing/freeform/poetry/night_sky_haiku', 'knowledge/astronomy/observatories/kestrel_hill/instruments'];

export interface LoopResult {
  ok: boolean;
  runDir: string;
  report?: string;
  seconds: number;
}

function cli(repo: string, args: string[], what: string): void {
  const r = spawnSync(process.execPath, [join(repo, 'dist', 'cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

/** Writes the fixture teacher (GGUF) and student (Hugging Face folder) under `dir` once; later runs reuse them. */
export function fixtureModels(repo: string, dir: string): { teacher: string; student: string } {
  const student = join(dir, 'student');
  const teacherHf = join(dir, 'teacher-hf');
  const teacher = join(dir, 'teacher.gguf');
  if (!existsSync(student)) cli(repo, ['fixture-model', '--out', student, '--size', 'tiny', '--seed', '1'], 'writing the fixture student');
  if (!existsSync(teacher)) {
    if (!existsSync(teacherHf)) cli(repo, ['fixture-model', '--out', teacherHf, '--size', 'tiny', '--seed', '2'], 'writing the fixture teacher');
    cli(repo, ['convert', teacherHf, '--out', teacher, '--type', 'f16'], 'converting the fixture teacher to GGUF');
  }
  return { teacher, student };
}

/**
 * Runs the pipeline on `taxonomy` (a workspace copy) with its output streamed to this terminal. Never throws for a
 * failed loop: the caller opens the editor either way and says where the run folder is.
 */
export async function runExampleLoop(repo: string, taxonomy: string, models: { teacher: string; student: string }): Promise<LoopResult> {
  const runDir = join(taxonomy, '.taxonomy-studio', 'runs', 'example-loop');
  const args = [
    join(repo, 'dist', 'cli.js'),
    'pipeline',
    taxonomy,
    '--teacher',
    models.teacher,
    '--student',
    models.student,
    '--out',
    runDir,
    ...loopLeaves.flatMap((l) => ['--leaf', join(taxonomy, l)]),
    // Small enough to finish in a few minutes on two cores; the models are untrained, so the figures show the
    // machinery, not quality.
    '--samples-per-seed',
    '2',
    '--eval-max-tokens',
    '32',
    '--parallel',
    '4',
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    process.stdout.write(s);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  const report = stdout.split('\n').map((l) => l.trim()).find((l) => l.endsWith('report.md') && existsSync(l));
  return { ok: code === 0 && report !== undefined, runDir, ...(report ? { report } : {}), seconds };
}
