// The question put to the author before a run: what the engine's `generate --estimate` found, in one sentence.
// No vscode import.

import type { EstimateResult } from '../../engine/sdg/pipelines/estimate';

/** What `generate --estimate --json` prints, as far as the editor reads it (a type import: no engine code loads). */
export type RunEstimate = Omit<EstimateResult, 'calls'>;

const number = new Intl.NumberFormat('en-US');

function roundTokens(n: number): string {
  if (n >= 10_000) return number.format(Math.round(n / 1000) * 1000);
  return number.format(Math.round(n));
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} seconds`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} minutes`;
  return `${(seconds / 3600).toFixed(1)} hours`;
}

/** "Generate 150 samples for 3 leaves: about 120,000 teacher tokens, ~12 minutes. Start?" and the details below it. */
export function estimateMessage(e: RunEstimate): { message: string; detail: string } {
  const leaves = `${e.leaves.length} lea${e.leaves.length === 1 ? 'f' : 'ves'}`;
  const message = `Generate ${number.format(e.units)} candidate samples for ${leaves}: about ${roundTokens(e.tokensIn + e.tokensOut)} teacher tokens, ~${formatDuration(e.seconds)}. Start?`;
  const detail = [
    `Teacher ${e.teacher}: ${e.model || 'model'}${e.contextSize ? `, context ${number.format(e.contextSize)} tokens` : ''}.`,
    `From ${e.calibrationUnits} calibration unit${e.calibrationUnits === 1 ? '' : 's'} in ${e.calibrationSeconds.toFixed(1)} s (at most ${number.format(e.tokensIn)} tokens in, ${number.format(e.tokensOut)} out).`,
    ...e.warnings.map((w) => `Warning: ${w}`),
    ...(e.skipped.length ? [`Skipped (${e.skipped.length}): ${e.skipped.map((s) => `${s.leaf}: ${s.reason}`).join('; ')}`] : []),
  ].join('\n');
  return { message, detail };
}
