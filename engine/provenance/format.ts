// The "Provenance" section `taxonomy-studio inspect` prints.
import type { Provenance } from './record';

/** A hash as people compare them: 12 hex digits, keeping the `sha256:` prefix that marks a non-git hash. */
export function shortSha(sha: string): string {
  return sha.startsWith('sha256:') ? `sha256:${sha.slice(7, 19)}` : sha.slice(0, 12);
}

function settingText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Lines (no trailing newline) of the section; `source` says where the record was read. */
export function formatProvenance(prov: Provenance, source: string): string[] {
  const lines = [`Provenance (${source === 'gguf' ? 'in the file' : source}):`];
  lines.push(`  tool       ${prov.tool}, ${prov.createdAt}`);
  if (prov.taxonomy) lines.push(`  taxonomy   ${prov.taxonomy}`);
  if (prov.leaves.length === 0) lines.push('  leaves     (none)');
  else {
    lines.push(`  leaves     ${prov.leaves.length}`);
    for (const l of prov.leaves) lines.push(`    ${shortSha(l.sha).padEnd(19)} ${l.path}`);
  }
  if (prov.dataset) {
    lines.push(`  dataset    ${prov.dataset.path} (sha256 ${prov.dataset.sha256.slice(0, 12)})`);
    for (const f of prov.dataset.files ?? []) lines.push(`    sha256:${f.sha256.slice(0, 12)} ${f.path}`);
  }
  if (prov.teacher) lines.push(`  teacher    ${prov.teacher}`);
  if (prov.baseModel) lines.push(`  base       ${prov.baseModel.path} (${prov.baseModel.hashed} sha256 ${prov.baseModel.sha256.slice(0, 12)})`);
  const settings = Object.entries(prov.settings ?? {});
  if (settings.length) {
    lines.push('  settings');
    const width = Math.max(...settings.map(([k]) => k.length));
    for (const [k, v] of settings) lines.push(`    ${k.padEnd(width)}  ${settingText(v)}`);
  }
  return lines;
}
