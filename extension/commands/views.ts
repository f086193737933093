// Commands of the views themselves.
import type { Ctx } from '../ctx';

/** Changed Leaves' refresh button: compare with the git base again now (after a commit or a fetch, say). */
export function refreshChangedLeaves(ctx: Ctx) {
  return (): void => ctx.taxonomy?.scheduleChanges(0);
}
