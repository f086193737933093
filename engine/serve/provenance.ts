// What each served model id was made from: the provenance record (engine/provenance) of the base model file and of
// each adapter file, read once at start. GET /v1/models gives it as an extra `provenance` field of a model object;
// OpenAI clients ignore fields they do not know, and the chat panel shows it.
import { readProvenance, type Provenance } from '../provenance/index';
import type { AdapterSpec } from './modelHost';

/** By model id, the record of the file it serves; ids whose file has none (or a damaged one) are absent. */
export async function servedProvenance(base: { id: string; path: string }, adapters: readonly AdapterSpec[], log?: (line: string) => void): Promise<Map<string, Provenance>> {
  const out = new Map<string, Provenance>();
  for (const { id, path } of [base, ...adapters]) {
    try {
      const found = await readProvenance(path);
      if (found) out.set(id, found.provenance);
    } catch (err) {
      // A damaged record must not stop the model from being served; the operator hears why it is missing.
      log?.(`${id}: provenance not shown: ${(err as Error).message}`);
    }
  }
  return out;
}
