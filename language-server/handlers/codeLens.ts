// Code lenses: at the top of a leaf its size ("5 seed examples · 1,240 words"), "Check taxonomy", and the authoring
// commands that apply ("Upgrade to version 3" for a v1/v2 leaf, "Create attribution.txt" for knowledge without one);
// on seed_examples "Generate data for this leaf" and "Preview data"; on each seed its own size ("180 words · 3 Q&A").
// The commands run in the extension; the lens only names them.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileOfUri } from '../documents';
import type { CodeLens, Command } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { spanAtPath, type ParsedLeaf } from '../../engine/taxonomy/leaf';
import { leafWords, seedWords } from '../../engine/taxonomy/leafWords';

export const showLeafStatisticsCommand = 'taxonomyStudio.showLeafStatistics';
export const checkTaxonomyCommand = 'taxonomyStudio.checkTaxonomy';
export const upgradeLeafCommand = 'taxonomyStudio.upgradeLeaf';
export const createAttributionCommand = 'taxonomyStudio.createAttribution';
export const generateLeafDataCommand = 'taxonomyStudio.generateLeafData';
export const previewLeafDataCommand = 'taxonomyStudio.previewLeafData';

/** What the statistics command receives (second argument, after the document URI). */
export interface LeafStatistics {
  seedExamples: number;
  questionsAndAnswers: number;
  words: number;
  /** Per seed, in order. */
  seeds: { words: number; questionsAndAnswers: number; line: number }[];
}

export function leafStatistics(doc: TextDocument, leaf: ParsedLeaf): LeafStatistics {
  const seeds = leafWords(leaf).seeds.map((s) => ({ words: seedWords(s), questionsAndAnswers: s.qas.length, line: doc.positionAt(s.span.start).line }));
  return {
    seedExamples: seeds.length,
    questionsAndAnswers: seeds.reduce((n, s) => n + s.questionsAndAnswers, 0),
    words: seeds.reduce((n, s) => n + s.words, 0),
    seeds,
  };
}

const number = new Intl.NumberFormat('en-US');

function plural(n: number, one: string, many: string): string {
  return `${number.format(n)} ${n === 1 ? one : many}`;
}

export function codeLenses(doc: TextDocument, leaf: ParsedLeaf): CodeLens[] {
  if (leaf.binary || !leaf.root) return [];
  const stats = leafStatistics(doc, leaf);
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const statsCommand = (title: string): Command => ({ title, command: showLeafStatisticsCommand, arguments: [doc.uri, stats] });
  const lenses: CodeLens[] = [
    { range: top, command: statsCommand(`${plural(stats.seedExamples, 'seed example', 'seed examples')} · ${plural(stats.words, 'word', 'words')}`) },
    { range: top, command: { title: 'Check taxonomy', command: checkTaxonomyCommand, arguments: [doc.uri] } },
  ];
  if (leaf.version < 3 && leaf.schema) {
    lenses.push({ range: top, command: { title: 'Upgrade to version 3', command: upgradeLeafCommand, arguments: [doc.uri] } });
  }
  if (leaf.kind === 'knowledge' && !hasAttribution(doc.uri)) {
    lenses.push({ range: top, command: { title: 'Create attribution.txt', command: createAttributionCommand, arguments: [doc.uri] } });
  }
  // Generation starts from the seeds: its lenses sit on seed_examples, for a leaf saved on disk (the engine reads it).
  if (stats.seedExamples > 0 && fileOfUri(doc.uri) !== undefined) {
    const at = { line: doc.positionAt(spanAtPath(leaf, ['seed_examples'], 'key').start).line, character: 0 };
    const range = { start: at, end: at };
    lenses.push(
      { range, command: { title: 'Generate data for this leaf', command: generateLeafDataCommand, arguments: [doc.uri] } },
      { range, command: { title: 'Preview data', command: previewLeafDataCommand, arguments: [doc.uri] } },
    );
  }
  for (const seed of stats.seeds) {
    const at = { line: seed.line, character: 0 };
    lenses.push({
      range: { start: at, end: at },
      command: statsCommand(`${plural(seed.words, 'word', 'words')} · ${number.format(seed.questionsAndAnswers)} Q&A`),
    });
  }
  return lenses;
}

/** attribution.txt beside a leaf on disk (an unsaved leaf has nowhere to put one yet, so no lens). */
function hasAttribution(uri: string): boolean {
  const file = fileOfUri(uri);
  return file === undefined || existsSync(join(dirname(file), 'attribution.txt'));
}
