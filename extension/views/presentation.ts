// What the Taxonomy and Gaps views and the status bar item show, as plain data: labels, descriptions, icon ids,
// tooltips, gap groups. No vscode import, so unit tests hold the views' text to exact strings.
import { relative } from 'node:path';
import type { ChangedLeaf, ChangeKind } from '../../engine/taxonomy/changed';
import { gapKinds, gapKindTitles, type Gap, type GapKind } from '../../engine/taxonomy/gaps';
import type { LeafKind } from '../../engine/taxonomy/leaf';
import { stateOf, type Counts, type TreeNode } from '../../engine/taxonomy/tree';

const number = new Intl.NumberFormat('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${number.format(n)} ${n === 1 ? one : many}`;

export const kindLabels: Record<LeafKind, string> = {
  knowledge: 'Knowledge',
  foundational_skills: 'Foundational skills',
  compositional_skills: 'Compositional skills',
};

/** Codicon of a kind root. */
export const kindIcons: Record<LeafKind, string> = {
  knowledge: 'book',
  foundational_skills: 'symbol-namespace',
  compositional_skills: 'symbol-method',
};

export interface NodePresentation {
  label: string;
  description: string;
  /** Codicon id and, for state icons, the theme color id that tints it. */
  icon: { id: string; color?: string };
  tooltip: string;
  collapsible: boolean;
  /** The leaf file a click opens. */
  opens?: string;
  contextValue: string;
}

/** "12 leaves · 64 seeds", and for a single leaf "5 seeds · 1,240 words". */
export function describeCounts(node: TreeNode): string {
  const c = node.counts;
  if (node.type === 'leaf' && node.children.size === 0) return `${plural(c.seeds, 'seed')} · ${plural(c.words, 'word')}`;
  return `${plural(c.leaves, 'leaf', 'leaves')} · ${plural(c.seeds, 'seed')}`;
}

function stateLine(c: Counts): string {
  if (c.errors === 0 && c.warnings === 0) return 'No errors or warnings';
  return `${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')}`;
}

export function stateIcon(c: Counts): { id: string; color?: string } {
  switch (stateOf(c)) {
    case 'error':
      return { id: 'error', color: 'list.errorForeground' };
    case 'warning':
      return { id: 'warning', color: 'list.warningForeground' };
    default:
      return { id: 'pass', color: 'testing.iconPassed' };
  }
}

const changeLabels: Record<ChangeKind, string> = { added: 'added', modified: 'modified', untracked: 'untracked' };

/** Codicon and tint of a leaf that is valid but changed against the git base. */
const changeIcons: Record<ChangeKind, { id: string; color: string }> = {
  added: { id: 'diff-added', color: 'gitDecoration.addedResourceForeground' },
  untracked: { id: 'diff-added', color: 'gitDecoration.untrackedResourceForeground' },
  modified: { id: 'diff-modified', color: 'gitDecoration.modifiedResourceForeground' },
};

/**
 * A tree node as the Taxonomy view shows it. `change` is the leaf's state against the git base, when it differs:
 * errors and warnings keep their icon (they matter more), a clean changed leaf shows the change instead of a tick.
 */
export function presentNode(node: TreeNode, change?: { kind: ChangeKind; base: string }): NodePresentation {
  const c = node.counts;
  const leaf = node.leaf;
  const lines: string[] = [];
  if (node.type === 'kind') {
    const kind = node.name as LeafKind;
    lines.push(kindLabels[kind], `${plural(c.leaves, 'leaf', 'leaves')} · ${plural(c.seeds, 'seed example')} · ${plural(c.words, 'word')}`, stateLine(c));
    return {
      label: kindLabels[kind],
      description: describeCounts(node),
      icon: c.errors || c.warnings ? stateIcon(c) : { id: kindIcons[kind] },
      tooltip: lines.join('\n'),
      collapsible: true,
      contextValue: 'kind',
      opens: leaf?.file,
    };
  }
  if (leaf) {
    lines.push(leaf.leafPath + (leaf.file.endsWith('qna.yaml') ? '' : ` (${leaf.file})`));
    if (leaf.description) lines.push(leaf.description);
    lines.push(`Schema version ${leaf.version} · ${plural(leaf.seeds, 'seed example')} · ${plural(leaf.words, 'word')}`);
    lines.push(stateLine({ ...c, errors: leaf.errors, warnings: leaf.warnings }));
    if (change) lines.push(`${changeLabels[change.kind][0].toUpperCase()}${changeLabels[change.kind].slice(1)} since ${change.base}`);
    if (node.children.size > 0) lines.push(`Below: ${plural(c.leaves - 1, 'more leaf', 'more leaves')}`);
  } else {
    lines.push(node.id, `${plural(c.leaves, 'leaf', 'leaves')} · ${plural(c.seeds, 'seed example')} · ${plural(c.words, 'word')}`, stateLine(c));
  }
  const clean = !c.errors && !c.warnings;
  return {
    label: node.name,
    description: describeCounts(node) + (leaf && change ? ` · ${changeLabels[change.kind]}` : ''),
    icon: leaf && change && clean ? changeIcons[change.kind] : leaf || !clean ? stateIcon(c) : { id: 'folder' },
    tooltip: lines.join('\n'),
    collapsible: node.children.size > 0,
    opens: leaf?.file,
    contextValue: leaf ? 'leaf' : 'folder',
  };
}

/** Kind roots first by kind order, then folders and leaves by name. */
export function sortedChildren(node: TreeNode): TreeNode[] {
  return [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The status bar text, e.g. "$(check) taxonomy: 0 errors, 2 warnings". */
export function statusText(c: Counts): string {
  return `$(${c.errors ? 'error' : 'check'}) taxonomy: ${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')}`;
}

export function statusTooltip(c: Counts): string {
  return `${plural(c.leaves, 'leaf', 'leaves')}, ${plural(c.seeds, 'seed example')}. Click to check the whole taxonomy (documents included).`;
}

export interface GapGroup {
  kind: GapKind;
  label: string;
  gaps: Gap[];
}

/** Gaps grouped by kind in the report's order; kinds with no gap are left out. */
export function groupGaps(gaps: readonly Gap[]): GapGroup[] {
  return gapKinds
    .map((kind) => ({ kind, label: gapKindTitles[kind], gaps: gaps.filter((g) => g.kind === kind) }))
    .filter((g) => g.gaps.length > 0);
}

export interface GapPresentation {
  label: string;
  description: string;
  tooltip: string;
  icon: string;
}

export function presentGap(gap: Gap, root: string): GapPresentation {
  const l = gap.location;
  const place = 'file' in l ? `${relative(root, l.file)}:${l.line}` : `${relative(root, l.folder)}/`;
  return {
    label: place,
    description: gap.message,
    tooltip: `${gap.message}\n${place}`,
    icon: gap.severity === 'error' ? 'error' : gap.severity === 'warning' ? 'warning' : 'info',
  };
}

export interface ChangedLeafPresentation {
  label: string;
  description: string;
  tooltip: string;
  icon: { id: string; color: string };
}

/** A row of the Changed Leaves view: the leaf path from its kind folder, how it changed, and its state. */
export function presentChangedLeaf(leaf: ChangedLeaf, base: string, node: TreeNode | undefined): ChangedLeafPresentation {
  const path = leaf.path.replace(/\/qna\.yaml$/, '');
  const counts = node?.leaf ? { ...node.counts, errors: node.leaf.errors, warnings: node.leaf.warnings } : undefined;
  const state = counts ? stateLine(counts) : 'Not read yet';
  return {
    label: path,
    description: counts ? `${changeLabels[leaf.change]} · ${plural(node!.leaf!.seeds, 'seed')}` : changeLabels[leaf.change],
    tooltip: `${leaf.path}\n${changeLabels[leaf.change][0].toUpperCase()}${changeLabels[leaf.change].slice(1)} since ${base}\n${state}`,
    icon: counts && (counts.errors || counts.warnings) ? (stateIcon(counts) as { id: string; color: string }) : changeIcons[leaf.change],
  };
}
