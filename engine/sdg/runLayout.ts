// Where a generate run keeps what, relative to its run folder; shared by the job, the review and the editor (which
// imports this without the job's teacher code).
import { leafNodePath } from './datasets';

export const reportFile = 'report.json';
/** The author's review of the run: rejected samples and edits per leaf (engine/sdg/review.ts). */
export const reviewFile = 'review.json';
/** The per-leaf datasets with the review applied, which the mixed files are then made from. */
export const reviewedFolder = 'reviewed';

/** Every sample that passed its unit's filters, appended as units finish (before dedup). */
export function stagingFile(leaf: string): string {
  return `staging/${leafNodePath(leaf)}.jsonl`;
}
