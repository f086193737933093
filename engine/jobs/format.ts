// Words for progress, shared by the terminal renderer and the editor's notifications and Jobs view.
import type { JobProgress } from '../rpc/protocol';

/** 3 -> "0:03", 187 -> "3:07", 4000 -> "1:06:40". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Per second when at least one a second, else per minute, else per hour: "4.5 units/s", "12 samples/min". */
export function formatRate(rate: number, unit: string): string {
  const [value, per] = rate >= 1 ? [rate, 's'] : rate * 60 >= 1 ? [rate * 60, 'min'] : [rate * 3600, 'h'];
  const shown = value >= 10 ? String(Math.round(value)) : value.toFixed(1);
  return `${shown} ${unit}/${per}`;
}

/** The percentage finished, rounded down so that 100% means done; undefined without a total. */
export function percentDone(p: Pick<JobProgress, 'done' | 'total'>): number | undefined {
  if (p.total === undefined) return undefined;
  if (p.total <= 0) return 100;
  return Math.min(100, Math.floor((p.done / p.total) * 100));
}

/** "9/20 units (45%), 4.5 units/s, ETA 0:03": counts, then rate and ETA when known. */
export function formatProgress(p: JobProgress): string {
  const percent = percentDone(p);
  const parts = [p.total === undefined ? `${p.done} ${p.unit}` : `${p.done}/${p.total} ${p.unit} (${percent}%)`];
  if (p.rate !== undefined) parts.push(formatRate(p.rate, p.unit));
  if (p.etaSeconds !== undefined && p.done !== p.total) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  return parts.join(', ');
}
