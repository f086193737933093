// The record a training run leaves in its adapter folder (provenance.json, sidecar.ts): the base model, the dataset and,
// when the data is a generate run folder, the leaves and teacher that run recorded. export-adapter and the pipeline
// embed it in the GGUF they write.
import { stat } from 'node:fs/promises';
import { readRunRecord } from '../jobs/runDir';
import { baseModelHash, datasetHash, leafHash } from './hash';
import { makeProvenance, type LeafHash, type Provenance } from './record';

export async function trainingProvenance(modelDir: string, data: string, settings: Record<string, unknown>): Promise<Provenance> {
  const record = (await stat(data)).isDirectory() ? await readRunRecord(data).catch(() => undefined) : undefined;
  const generate = record?.kind === 'generate' ? record : undefined;
  const taxonomy = typeof generate?.args.taxonomy === 'string' ? generate.args.taxonomy : undefined;
  const leafFiles = Array.isArray(generate?.args.leaves) ? generate.args.leaves.filter((l): l is string => typeof l === 'string') : [];
  const leaves: LeafHash[] = [];
  for (const file of leafFiles) {
    // A leaf deleted since generation is left out rather than failing a finished training run.
    const hashed = await leafHash(file, taxonomy && file.startsWith(`${taxonomy}/`) ? file.slice(taxonomy.length + 1) : file).catch(() => undefined);
    if (hashed) leaves.push(hashed);
  }
  const teacher = typeof generate?.settings.teacher === 'string' ? generate.settings.teacher : undefined;
  return makeProvenance({
    leaves,
    ...(taxonomy ? { taxonomy } : {}),
    dataset: await datasetHash(data),
    ...(teacher ? { teacher } : {}),
    baseModel: await baseModelHash(modelDir),
    settings,
  });
}
