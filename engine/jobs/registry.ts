// The job table: job/start and `taxonomy-studio job` run the row with the requested kind. Later jobs (generate,
// train, convert) add a module and a row here.
import { generateJob } from '../sdg/generate';
import { demoCountJob } from './demoCount';
import { UnknownJobKindError } from './errors';
import type { JobKind } from './job';

export const jobKinds: readonly JobKind<any, any, any>[] = [demoCountJob, generateJob];

export function findJobKind(kind: string, table: readonly JobKind<any, any, any>[] = jobKinds): JobKind<any, any, any> {
  const job = table.find((j) => j.kind === kind);
  if (!job) throw new UnknownJobKindError(kind, table.map((j) => j.kind));
  return job;
}
