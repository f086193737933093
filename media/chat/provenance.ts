// The chat webview's provenance of a model: a compact line (base model, leaves, dataset, teacher, created) that opens
// into the whole record as `taxonomy-studio inspect` prints it. A <details>/<summary> pair, so it opens with Enter or
// Space like any disclosure; every piece of the record goes in as text (textContent), never as HTML, since a record
// comes from a file anyone could have written.
import { formatProvenance } from '../../engine/provenance/format';
import type { Provenance } from '../../engine/provenance/record';

/** The last part of a path or URL, so the line stays short ("astronomy-run" rather than the whole folder). */
function lastPart(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  return trimmed.split(/[\\/]/).at(-1) || trimmed;
}

/** "2025-01-02 04:05" from an ISO time; anything else as given. */
function shortTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}

/** The compact line's parts, each "name value". */
export function provenanceParts(prov: Provenance): string[] {
  const parts: string[] = [];
  if (prov.baseModel) parts.push(`base ${lastPart(prov.baseModel.path)}`);
  parts.push(prov.leaves.length === 1 ? '1 leaf' : `${prov.leaves.length} leaves`);
  if (prov.dataset) parts.push(`dataset ${lastPart(prov.dataset.path)}`);
  if (prov.teacher) parts.push(`teacher ${/^\w+:\/\//.test(prov.teacher) ? prov.teacher : lastPart(prov.teacher)}`);
  parts.push(`created ${shortTime(prov.createdAt)}`);
  return parts;
}

export function provenanceSummary(prov: Provenance): string {
  return provenanceParts(prov).join(' · ');
}

/** The whole record, the lines `inspect` prints (without its heading). */
export function provenanceDetail(prov: Provenance): string[] {
  return formatProvenance(prov, 'gguf')
    .slice(1)
    .map((l) => l.replace(/^ {2}/, ''));
}

/** The few element features the view uses; the webview passes `document`, a test a double. */
export interface ViewElement {
  className: string;
  textContent: string | null;
  setAttribute(name: string, value: string): void;
  addEventListener(type: 'toggle', listener: () => void): void;
}

export interface ProvenanceViewOptions {
  /** Whose record it is ("tuned · Served"), shown first on the line. */
  label: string;
  open: boolean;
  onToggle(open: boolean): void;
}

/** <details class="provenance"> with the compact line as its summary and the record in a <pre>. */
export function provenanceView<E extends ViewElement & { append(...nodes: E[]): void }>(doc: { createElement(tag: string): E }, prov: Provenance, o: ProvenanceViewOptions): E {
  const details = doc.createElement('details');
  details.className = 'provenance';
  if (o.open) details.setAttribute('open', '');
  details.addEventListener('toggle', () => o.onToggle((details as unknown as { open: boolean }).open));
  const summary = doc.createElement('summary');
  summary.setAttribute('title', `What ${o.label} was made from (Enter shows the whole record)`);
  const who = doc.createElement('span');
  who.className = 'provenance-model';
  who.textContent = o.label;
  const line = doc.createElement('span');
  line.className = 'provenance-line';
  line.textContent = provenanceSummary(prov);
  summary.append(who, line);
  const pre = doc.createElement('pre');
  pre.className = 'provenance-record';
  pre.textContent = provenanceDetail(prov).join('\n');
  details.append(summary, pre);
  return details;
}
