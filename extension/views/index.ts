// The Taxonomy and Gaps views and the health status bar item, all fed by one TaxonomyModel. Registered at
// activation; the taxonomy itself loads afterwards, so activation never waits on a scan.
import * as vscode from 'vscode';
import type { Gap } from '../../engine/taxonomy/gaps';
import type { TreeNode } from '../../engine/taxonomy/tree';
import type { Ctx } from '../ctx';
import type { ChangedLeaf } from '../../engine/taxonomy/changed';
import { describeChangedResult } from '../../engine/taxonomy/changed';
import { changedViewId, gapsViewId, taxonomyViewId } from './ids';
import { groupGaps, presentChangedLeaf, presentGap, presentNode, sortedChildren, statusText, statusTooltip, type GapGroup } from './presentation';
import { TaxonomyModel } from './taxonomyModel';


class TaxonomyTreeProvider implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly model: TaxonomyModel) {
    model.onDidChange((c) => this.changed.fire('all' in c ? undefined : c.nodes));
    // A new list of changed leaves re-marks leaves anywhere in the tree.
    model.onDidChangeChanges(() => this.changed.fire(undefined));
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) return this.model.tree?.kindRoots() ?? [];
    return sortedChildren(node);
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return node.parent;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const change = node.leaf && this.model.changeOf(node.leaf.file);
    const base = this.model.changes?.status === 'ok' ? this.model.changes.base : '';
    const p = presentNode(node, change ? { kind: change, base } : undefined);
    const item = new vscode.TreeItem(p.label, p.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = p.description;
    item.tooltip = p.tooltip;
    item.iconPath = new vscode.ThemeIcon(p.icon.id, p.icon.color ? new vscode.ThemeColor(p.icon.color) : undefined);
    item.contextValue = p.contextValue;
    if (p.opens) {
      item.resourceUri = vscode.Uri.file(p.opens);
      item.command = { command: 'vscode.open', title: 'Open Leaf', arguments: [vscode.Uri.file(p.opens)] };
    }
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

type GapElement = GapGroup | Gap;

const noGapsMessage = 'No gaps: every leaf has enough seed examples, knowledge has documents and attribution, and no branch lags behind its siblings.';

class GapsProvider implements vscode.TreeDataProvider<GapElement> {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly model: TaxonomyModel) {
    // The report spans the whole taxonomy: recompute it a moment after the last change, not on every keystroke save.
    let timer: NodeJS.Timeout | undefined;
    model.onDidChange(() => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => this.changed.fire(undefined), 300);
    });
  }

  /** Set once the view exists: an empty report says so in the view rather than showing a blank pane. */
  view: vscode.TreeView<GapElement> | undefined;

  getChildren(element?: GapElement): GapElement[] {
    if (element) return 'gaps' in element ? element.gaps : [];
    const groups = groupGaps(this.model.gapReport());
    if (this.view && this.model.tree) this.view.message = groups.length === 0 ? noGapsMessage : undefined;
    return groups;
  }

  getTreeItem(element: GapElement): vscode.TreeItem {
    if ('gaps' in element) {
      const item = new vscode.TreeItem(element.label, vscode.TreeItemCollapsibleState.Expanded);
      item.description = String(element.gaps.length);
      item.id = `gaps:${element.kind}`;
      return item;
    }
    const p = presentGap(element, this.model.root ?? '');
    const item = new vscode.TreeItem(p.label, vscode.TreeItemCollapsibleState.None);
    item.description = p.description;
    item.tooltip = p.tooltip;
    item.iconPath = new vscode.ThemeIcon(p.icon);
    item.contextValue = element.fix ? `gap.fix.${element.fix}` : 'gap';
    const l = element.location;
    if ('file' in l) {
      const at = new vscode.Position(l.line - 1, (l.column ?? 1) - 1);
      item.command = { command: 'vscode.open', title: 'Go to Gap', arguments: [vscode.Uri.file(l.file), { selection: new vscode.Range(at, at) }] };
    } else {
      item.command = { command: 'revealInExplorer', title: 'Reveal Folder', arguments: [vscode.Uri.file(l.folder)] };
    }
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

class ChangedLeavesProvider implements vscode.TreeDataProvider<ChangedLeaf> {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  view: vscode.TreeView<ChangedLeaf> | undefined;

  constructor(private readonly model: TaxonomyModel) {
    model.onDidChangeChanges(() => this.changed.fire(undefined));
    // States (errors, seeds) of listed leaves follow the tree.
    model.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(element?: ChangedLeaf): ChangedLeaf[] {
    if (element) return [];
    const result = this.model.changes;
    if (this.view) {
      this.view.message = !this.model.root
        ? undefined
        : !result
          ? 'Comparing with the git base…'
          : result.status !== 'ok' || result.leaves.length === 0
            ? describeChangedResult(result)
            : undefined;
      this.view.description = result?.status === 'ok' ? `vs ${result.base}` : undefined;
    }
    return result?.status === 'ok' ? result.leaves : [];
  }

  getTreeItem(leaf: ChangedLeaf): vscode.TreeItem {
    const base = this.model.changes?.status === 'ok' ? this.model.changes.base : '';
    const p = presentChangedLeaf(leaf, base, this.model.tree?.nodeOfFile(leaf.file));
    const item = new vscode.TreeItem(p.label, vscode.TreeItemCollapsibleState.None);
    item.id = `changed:${leaf.file}`;
    item.description = p.description;
    item.tooltip = p.tooltip;
    item.iconPath = new vscode.ThemeIcon(p.icon.id, new vscode.ThemeColor(p.icon.color));
    item.resourceUri = vscode.Uri.file(leaf.file);
    item.contextValue = 'changedLeaf';
    item.command = { command: 'vscode.open', title: 'Open Leaf', arguments: [vscode.Uri.file(leaf.file)] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerViews(ctx: Ctx): void {
  const model = new TaxonomyModel(ctx);
  const treeProvider = new TaxonomyTreeProvider(model);
  const gapsProvider = new GapsProvider(model);
  const changedProvider = new ChangedLeavesProvider(model);
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.name = 'Taxonomy Health';
  status.command = 'taxonomyStudio.checkTaxonomy';
  model.onDidChange(() => {
    const tree = model.tree;
    if (!tree) return status.hide();
    const totals = tree.totals();
    status.text = statusText(totals);
    status.tooltip = statusTooltip(totals);
    status.show();
  });
  const treeView = vscode.window.createTreeView(taxonomyViewId, { treeDataProvider: treeProvider, showCollapseAll: true });
  const gapsView = vscode.window.createTreeView(gapsViewId, { treeDataProvider: gapsProvider });
  gapsProvider.view = gapsView;
  const changedView = vscode.window.createTreeView(changedViewId, { treeDataProvider: changedProvider });
  changedProvider.view = changedView;
  model.onDidChangeProgress((message) => {
    treeView.message = message;
    if (message) gapsView.message = message;
  });
  ctx.taxonomy = model;
  for (const d of [model, treeProvider, gapsProvider, changedProvider, status, treeView, gapsView, changedView]) {
    ctx.pushExtCleanup(d);
  }
  // After activation returns: the scan reads every leaf, which takes seconds on a large taxonomy.
  setTimeout(() => void model.reload(), 0);
}
