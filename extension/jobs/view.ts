// The Jobs view: one row per run folder (running, finished, failed, cancelled, interrupted), clicking one reveals
// its folder; the context menu (package.json) offers Cancel, Resume, Show Log and Reveal Output by the row's state.
import * as vscode from 'vscode';
import type { JobEntry, JobManager } from './manager';
import { presentJob } from './presentation';

const emptyMessage = 'No jobs yet. Jobs that generate data, train or convert models appear here, each with its run folder.';

export class JobsTreeProvider implements vscode.TreeDataProvider<JobEntry>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };
  view: vscode.TreeView<JobEntry> | undefined;

  constructor(private readonly manager: JobManager) {
    this.subscription = manager.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(element?: JobEntry): JobEntry[] {
    if (element) return [];
    const entries = this.manager.entries();
    if (this.view) this.view.message = entries.length === 0 ? emptyMessage : undefined;
    return entries;
  }

  getTreeItem(entry: JobEntry): vscode.TreeItem {
    const p = presentJob(entry);
    const item = new vscode.TreeItem(p.label, vscode.TreeItemCollapsibleState.None);
    item.id = `job:${entry.runDir}`;
    item.description = p.description;
    item.tooltip = p.tooltip;
    item.iconPath = new vscode.ThemeIcon(p.icon.id, p.icon.color ? new vscode.ThemeColor(p.icon.color) : undefined);
    item.contextValue = p.contextValue;
    item.command = { command: 'taxonomyStudio.revealJobOutput', title: 'Reveal Output', arguments: [entry] };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
