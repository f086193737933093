// The workspace taxonomy as the views see it: one TaxonomyTree, loaded after activation (never during it), kept
// current one leaf at a time from a file watcher and document saves, and a gap report computed on demand.
import { basename, dirname, join, sep } from 'node:path';
import * as vscode from 'vscode';
import { changedLeaves, type ChangedLeavesResult, type ChangeKind } from '../../engine/taxonomy/changed';
import { defaultRepoCacheDir, type DocumentOptions } from '../../engine/taxonomy/documents';
import { gapReport, type Gap } from '../../engine/taxonomy/gaps';
import { locateInTaxonomy } from '../../engine/taxonomy/leaf';
import { TaxonomyTree, type TreeNode } from '../../engine/taxonomy/tree';
import { MissingPathError, walkTaxonomy } from '../../engine/taxonomy/taxonomy';
import { findEmptyFolders, loadTaxonomyTree, readLeafForTree } from '../../engine/taxonomy/treeLoader';
import { settingKeys } from '../config';
import type { Ctx } from '../ctx';
import { hasTaxonomyKey } from './ids';
import { isTaxonomyRoot, taxonomyRootOf } from '../taxonomyRoots';
import { leafGlob } from '../workspaceTaxonomies';


export type TreeChange = { nodes: TreeNode[] } | { all: true };

export class TaxonomyModel implements vscode.Disposable {
  root: string | undefined;
  tree: TaxonomyTree | undefined;
  private emptyFolders: string[] = [];
  private gaps: Gap[] | undefined;
  private readonly pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<TreeChange>();
  /** Fired after the tree changed: the changed nodes still in the tree, or everything. */
  readonly onDidChange = this.changed.event;
  private readonly progress = new vscode.EventEmitter<string | undefined>();
  /** A line for the views while a load runs ("Reading leaves… 1,200 of 10,000"), undefined when done. */
  readonly onDidChangeProgress = this.progress.event;
  private readonly changesChanged = new vscode.EventEmitter<void>();
  /** Fired when the list of leaves changed against the git base was computed again. */
  readonly onDidChangeChanges = this.changesChanged.event;
  /** The leaves changed against the git base, or why there is no such list; undefined until first computed. */
  changes: ChangedLeavesResult | undefined;
  private changeByFile = new Map<string, ChangeKind>();
  private changesTimer: NodeJS.Timeout | undefined;
  private changesRun = 0;
  private readonly disposables: vscode.Disposable[] = [this.changed, this.progress, this.changesChanged];
  private loading: Promise<void> | undefined;
  private abortLoad: AbortController | undefined;
  private folderWatcher: vscode.Disposable | undefined;
  private foldersChanged = false;

  constructor(private readonly ctx: Ctx) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/{qna.yaml,attribution.txt}');
    this.disposables.push(
      watcher,
      watcher.onDidCreate((uri) => this.queue(uri.fsPath)),
      watcher.onDidChange((uri) => this.queue(uri.fsPath)),
      watcher.onDidDelete((uri) => this.queue(uri.fsPath)),
      vscode.workspace.onDidSaveTextDocument((doc) => this.queue(doc.uri.fsPath)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reload()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        // Another root, or other limits (which change every leaf's findings and the seed minimum): load again.
        if (e.affectsConfiguration(settingKeys.taxonomyRoot) || e.affectsConfiguration('taxonomyStudio.limits')) void this.reload();
        else if (e.affectsConfiguration(settingKeys.gitBase)) this.scheduleChanges(0);
        if (e.affectsConfiguration(settingKeys.schemaVersion)) {
          this.gaps = undefined;
          this.changed.fire({ all: true });
        }
      }),
      // Commits, checkouts and pulls happen outside the editor: look again when the window comes back.
      vscode.window.onDidChangeWindowState((state) => {
        if (state.focused) this.scheduleChanges();
      }),
    );
  }

  /** The leaf's change against the git base, if any. */
  changeOf(file: string): ChangeKind | undefined {
    return this.changeByFile.get(file);
  }

  /** Computes the changed leaves again after `delayMs` (coalescing bursts of saves). */
  scheduleChanges(delayMs = 400): void {
    if (this.changesTimer) clearTimeout(this.changesTimer);
    this.changesTimer = setTimeout(() => {
      this.changesTimer = undefined;
      void this.computeChanges();
    }, delayMs);
  }

  private async computeChanges(): Promise<void> {
    const run = ++this.changesRun;
    const root = this.root;
    let result: ChangedLeavesResult | undefined;
    if (root) {
      result = await changedLeaves(root, { base: this.ctx.config.gitBase || undefined }).catch((err: unknown) => ({
        status: 'notGit' as const,
        reason: `git could not list the changed leaves: ${(err as Error).message}`,
      }));
    }
    if (run !== this.changesRun) return; // a newer computation started meanwhile
    this.changes = result;
    this.changeByFile = new Map(result?.status === 'ok' ? result.leaves.map((l) => [l.file, l.change]) : []);
    this.changesChanged.fire();
  }

  private documentOptions(): DocumentOptions {
    return { repoCacheDir: this.ctx.config.repoCacheDir || defaultRepoCacheDir() };
  }

  /** Starts (or restarts) a full load; resolves when it is done. Errors are shown, not thrown. */
  reload(): Promise<void> {
    this.abortLoad?.abort();
    const abort = (this.abortLoad = new AbortController());
    this.loading = this.load(abort.signal)
      .catch((err: unknown) => {
        if (!abort.signal.aborted) this.ctx.showError('loading the taxonomy failed', err);
      })
      .finally(() => {
        if (!abort.signal.aborted) this.progress.fire(undefined);
      });
    return this.loading;
  }

  private async load(signal: AbortSignal): Promise<void> {
    const root = await this.findRoot();
    if (!root) {
      this.root = undefined;
      this.tree = undefined;
      void vscode.commands.executeCommand('setContext', hasTaxonomyKey, false);
      this.changed.fire({ all: true });
      this.scheduleChanges(0);
      return;
    }
    const started = Date.now();
    this.progress.fire('Reading the taxonomy…');
    const count = new Intl.NumberFormat('en-US');
    const loaded = await loadTaxonomyTree(root, {
      limits: this.ctx.config.limits,
      documents: this.documentOptions(),
      signal,
      onProgress: (done, total) => this.progress.fire(`Reading leaves… ${count.format(done)} of ${count.format(total)}`),
    }).catch((err: unknown) => {
      if (err instanceof MissingPathError) {
        throw new Error(`the setting ${settingKeys.taxonomyRoot} names ${root}, which does not exist. Fix the setting, or clear it to find the taxonomy in the workspace.`);
      }
      throw err;
    });
    signal.throwIfAborted();
    this.root = root;
    this.tree = loaded.tree;
    this.emptyFolders = loaded.emptyFolders;
    this.gaps = undefined;
    this.watchFolders(root);
    void vscode.commands.executeCommand('setContext', hasTaxonomyKey, true);
    this.ctx.log.info(`Taxonomy ${root}: ${loaded.tree.leafCount} leaves loaded in ${Date.now() - started} ms`);
    this.changed.fire({ all: true });
    this.scheduleChanges(0);
  }

  /** The taxonomyRoot setting, else a workspace folder that is a taxonomy, else the root of the first leaf found. */
  private async findRoot(): Promise<string | undefined> {
    if (this.ctx.config.taxonomyRoot) return this.ctx.config.taxonomyRoot;
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (isTaxonomyRoot(folder.uri.fsPath)) return folder.uri.fsPath;
    }
    const [first] = await vscode.workspace.findFiles(leafGlob, '**/node_modules/**', 1);
    return first ? taxonomyRootOf(first.fsPath) : undefined;
  }

  gapReport(): Gap[] {
    if (!this.tree) return [];
    this.gaps ??= gapReport(this.tree, {
      limits: this.ctx.config.limits,
      emptyFolders: this.emptyFolders,
      skillSchemaVersion: this.ctx.config.schemaVersion,
    });
    return this.gaps;
  }

  private queue(file: string): void {
    const name = basename(file);
    // attribution.txt changes the leaf beside it.
    const leafFile = name === 'attribution.txt' ? join(dirname(file), 'qna.yaml') : file;
    if (!isLeafFileName(leafFile)) return;
    this.pending.add(leafFile);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => void this.flush(), 150);
  }

  /**
   * Folders come and go whole (a rename, a delete, a checkout): the leaf watcher hears nothing of the files inside,
   * so a folder event queues the leaves found below it, or the leaves the tree had below it.
   */
  private watchFolders(root: string): void {
    this.folderWatcher?.dispose();
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, '**'), false, true, false);
    this.folderWatcher = vscode.Disposable.from(
      watcher,
      watcher.onDidCreate(async (uri) => {
        if (isLeafFileName(uri.fsPath)) return;
        const stat = await vscode.workspace.fs.stat(uri).then(
          (s) => s,
          () => undefined,
        );
        if (stat?.type !== vscode.FileType.Directory) return;
        this.foldersChanged = true;
        const { files } = await walkTaxonomy([uri.fsPath]).catch(() => ({ files: [] as string[] }));
        for (const f of files) this.pending.add(f);
        this.scheduleFlush();
      }),
      watcher.onDidDelete((uri) => {
        if (isLeafFileName(uri.fsPath)) return;
        this.foldersChanged = true;
        const prefix = uri.fsPath + sep;
        for (const leaf of this.tree?.leaves() ?? []) if (leaf.file.startsWith(prefix)) this.pending.add(leaf.file);
        this.scheduleFlush();
      }),
    );
  }

  /** Re-reads each queued leaf and updates the tree in place: O(depth) per leaf, never a rescan. */
  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    await this.loading;
    const files = [...this.pending];
    this.pending.clear();
    const foldersChanged = this.foldersChanged;
    this.foldersChanged = false;
    if (!this.tree) {
      // A first leaf in a workspace that had none: load it all.
      if (files.some((f) => basename(f) === 'qna.yaml' && locateInTaxonomy(f).kind)) await this.reload();
      return;
    }
    const tree = this.tree;
    const nodes = new Set<TreeNode>();
    let structural = false;
    for (const file of files) {
      if (taxonomyRootOf(file) !== this.root) continue;
      const exists = await vscode.workspace.fs.stat(vscode.Uri.file(file)).then(
        () => true,
        () => false,
      );
      const rootsBefore = tree.roots.size;
      if (!exists && !tree.nodeOfFile(file)) continue;
      let changed: TreeNode[];
      if (exists) {
        const { text, extras } = await readLeafForTree(file, this.documentOptions());
        changed = tree.updateLeaf(file, text, extras);
      } else changed = tree.updateLeaf(file, undefined);
      if (tree.roots.size !== rootsBefore) structural = true;
      for (const n of changed) nodes.add(n);
    }
    if (foldersChanged && this.root) {
      this.emptyFolders = await findEmptyFolders(this.root);
      structural = true;
    }
    if (files.length > 0) this.scheduleChanges();
    if (nodes.size === 0 && !structural) return;
    this.gaps = undefined;
    if (structural) this.changed.fire({ all: true });
    else this.changed.fire({ nodes: [...nodes].filter((n) => isAttached(tree, n)) });
  }

  dispose(): void {
    this.abortLoad?.abort();
    this.folderWatcher?.dispose();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.changesTimer) clearTimeout(this.changesTimer);
    for (const d of this.disposables) d.dispose();
  }
}

/** A qna.yaml anywhere, or a YAML file under a kind folder (a misnamed leaf, which the walk reports too). */
function isLeafFileName(file: string): boolean {
  return basename(file) === 'qna.yaml' || (/\.ya?ml$/i.test(file) && locateInTaxonomy(file).kind !== undefined);
}

/** Still in the tree (pruning may have removed it): its chain of parents ends at the current kind root. */
function isAttached(tree: TaxonomyTree, node: TreeNode): boolean {
  let n = node;
  while (n.parent) {
    if (n.parent.children.get(n.name) !== n) return false;
    n = n.parent;
  }
  return [...tree.roots.values()].includes(n);
}
