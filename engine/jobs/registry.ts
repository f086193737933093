// The job table: job/start and `taxonomy-studio job` run the row with the requested kind. A job module must not load
// a native binding (onnxruntime, llama.cpp) at import: the table is imported by every command.
import { pipelineJob } from '../pipeline/job';
import { generateJob } from '../sdg/generate';
import { serveJob } from '../serve/job';
import { trainJob } from '../train/job';
import { demoCountJob } from './demoCount';
import { UnknownJobKindError } from './errors';
import type { JobKind } from './job';

export const jobKinds: readonly JobKind<any, any, any>[] = [demoCountJob, generateJob, trainJob, serveJob, pipelineJob];

export function findJobKind(kind: string, table: readonly JobKind<any, any, any>[] = jobKinds): JobKind<any, any, any> {
  const job = table.find((j) => j.kind === kind);
  if (!job) throw new UnknownJobKindError(kind, table.map((j) => j.kind));
  return job;
}
