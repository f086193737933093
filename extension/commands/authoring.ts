// Commands that write leaves: a new leaf, the upgrade to schema version 3 and attribution.txt, from the editor, the
// palette or a Gaps view item (whose fix names them). The planning is the engine's; here it becomes an edit or a file.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { attributionFileName, attributionTemplate, knownAttribution } from '../../engine/taxonomy/attribution';
import type { Gap } from '../../engine/taxonomy/gaps';
import { leafKinds, parseLeaf } from '../../engine/taxonomy/leaf';
import { examplePath, leafPathProblem, leafSkeleton, newAttribution, newLeafKinds, newLeafStart, normalizeLeafPath } from '../../engine/taxonomy/newLeaf';
import { planUpgrade } from '../../engine/taxonomy/upgrade';
import { settingKeys } from '../config';
import type { Ctx } from '../ctx';
import { runEngine } from '../engine';
import { taxonomyRootOf } from '../taxonomyRoots';
import { workspaceTaxonomyRoots } from '../workspaceTaxonomies';

/** What a command about one leaf may be handed: a URI (string or object), a Gaps view item, or nothing (the active editor). */
type LeafTarget = string | vscode.Uri | Gap | undefined;

function leafUri(target: LeafTarget, commandTitle: string): vscode.Uri {
  if (typeof target === 'string') return vscode.Uri.parse(target);
  if (target instanceof vscode.Uri) return target;
  if (target && typeof target === 'object' && 'location' in target && 'file' in target.location) return vscode.Uri.file(target.location.file);
  const active = vscode.window.activeTextEditor?.document;
  if (active && path.posix.basename(active.uri.path) === 'qna.yaml') return active.uri;
  throw new Error(`${commandTitle} works on a qna.yaml leaf: open one in the editor, or run it from the Gaps view.`);
}

/** "Upgrade Leaf to Version 3": the engine's upgrade applied as one undoable edit; what is left to write is said after. */
export function upgradeLeaf(_ctx: Ctx) {
  return async (target?: LeafTarget): Promise<void> => {
    const uri = leafUri(target, 'Upgrade Leaf to Version 3');
    const document = await vscode.workspace.openTextDocument(uri);
    const name = vscode.workspace.asRelativePath(uri);
    const leaf = parseLeaf(document.getText(), uri.scheme === 'file' ? uri.fsPath : undefined);
    if (leaf.version === 3 && leaf.versionDeclared) {
      void vscode.window.showInformationMessage(`${name} is already in schema version 3; nothing to upgrade.`);
      return;
    }
    const plan = planUpgrade(leaf);
    if (!plan) {
      void vscode.window.showWarningMessage(
        `${name} cannot be upgraded as it stands: fix its YAML errors and declare version 1 or 2 (see the Problems panel), then run the upgrade again.`,
      );
      return;
    }
    const wasDirty = document.isDirty;
    const edit = new vscode.WorkspaceEdit();
    for (const e of plan.edits) {
      edit.replace(uri, new vscode.Range(document.positionAt(e.span.start), document.positionAt(e.span.end)), e.newText);
    }
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`the editor refused the upgrade edits for ${name}; is the file read-only?`);
    // A leaf upgraded from the Gaps view was not being edited: save it so the views see the new version at once.
    if (!wasDirty) await document.save();
    await vscode.window.showTextDocument(document);
    const left = /\(then (.*)\)$/.exec(plan.title)?.[1];
    void vscode.window.showInformationMessage(left ? `Upgraded ${name} to schema version 3. Now ${left}.` : `Upgraded ${name} to schema version 3.`);
  };
}

/** "Create attribution.txt": beside a knowledge leaf, with what the leaf knows (repo, commit) filled in; never overwrites. */
export function createAttribution(_ctx: Ctx) {
  return async (target?: LeafTarget): Promise<void> => {
    const uri = leafUri(target, 'Create attribution.txt');
    if (uri.scheme !== 'file') throw new Error(`${attributionFileName} is written beside a leaf saved on disk; save ${uri.path} first.`);
    const file = vscode.Uri.file(path.join(path.dirname(uri.fsPath), attributionFileName));
    const exists = await vscode.workspace.fs.stat(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const document = await vscode.workspace.openTextDocument(uri);
      const leaf = parseLeaf(document.getText(), uri.fsPath);
      await vscode.workspace.fs.writeFile(file, Buffer.from(attributionTemplate(knownAttribution(leaf)), 'utf8'));
    }
    await vscode.window.showTextDocument(file);
    void vscode.window.showInformationMessage(
      exists
        ? `${vscode.workspace.asRelativePath(file)} already exists; it is left as it was.`
        : `Created ${vscode.workspace.asRelativePath(file)}: fill in the title, link, revision, license and creators of the source work.`,
    );
  };
}

/**
 * "New Leaf…": kind, then path, then a version 3 skeleton (and attribution.txt for knowledge), opened at its first
 * TODO. From a Taxonomy view folder (a node with an id) the kinds and the path start from that folder.
 */
export function newLeaf(ctx: Ctx) {
  return async (node?: { id?: unknown }): Promise<void> => {
    const root = await taxonomyRootForNewLeaf(ctx);
    if (!root) return;
    const start = typeof node?.id === 'string' ? newLeafStart(node.id) : undefined;
    const offered = newLeafKinds.filter((k) => !start || start.kinds.includes(k.id));
    const picked =
      offered.length === 1
        ? { info: offered[0] }
        : await vscode.window.showQuickPick(
            offered.map((k) => ({ label: k.label, detail: k.detail, info: k })),
            { title: 'New Leaf (1/2)', placeHolder: 'What kind of leaf?' },
          );
    if (!picked) return;
    const kind = picked.info;
    const folder = path.join(root, kind.folder);
    const leafExists = (rel: string) => existsSync(path.join(folder, ...rel.split('/'), 'qna.yaml'));
    const input = await vscode.window.showInputBox({
      title: 'New Leaf (2/2)',
      prompt: `Folder path under ${vscode.workspace.asRelativePath(folder)}/ (lowercase letters, digits and underscores, "/" between folders)`,
      placeHolder: examplePath(kind.id),
      value: start?.path,
      validateInput: (value) => (value.trim() === '' ? undefined : leafPathProblem(value, kind.id, { leafExists })),
    });
    if (input === undefined) return;
    // An empty path passes the box's check (so it shows no error before typing), but not this one.
    const problem = leafPathProblem(input, kind.id, { leafExists });
    if (problem) throw new Error(problem);
    const dir = path.join(folder, ...normalizeLeafPath(input).split('/'));
    const text = leafSkeleton(kind.id, { createdBy: await gitUserName(root), limits: ctx.config.limits, version: ctx.config.schemaVersion });
    await mkdir(dir, { recursive: true });
    const leafFile = path.join(dir, 'qna.yaml');
    await writeFile(leafFile, text, { encoding: 'utf8', flag: 'wx' });
    const attribution = path.join(dir, attributionFileName);
    if (kind.folder === 'knowledge' && !existsSync(attribution)) await writeFile(attribution, newAttribution(), 'utf8');

    const editor = await vscode.window.showTextDocument(vscode.Uri.file(leafFile));
    const first = editor.document.positionAt(text.indexOf('TODO'));
    editor.selection = new vscode.Selection(first, editor.document.lineAt(first.line).range.end);
    editor.revealRange(editor.selection);
    const also = kind.folder === 'knowledge' ? ` and ${attributionFileName}` : '';
    void vscode.window.showInformationMessage(`Created ${vscode.workspace.asRelativePath(leafFile)}${also}: replace each TODO (the Problems panel lists them).`);
  };
}

/** The same taxonomy Check Taxonomy would use: the setting, the active leaf's, a workspace folder's, or one found in it. */
async function taxonomyRootForNewLeaf(ctx: Ctx): Promise<string | undefined> {
  const configured = ctx.config.taxonomyRoot;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`the setting ${settingKeys.taxonomyRoot} is "${configured}", which does not exist. Fix the setting, or clear it to use the workspace's taxonomy.`);
    return configured;
  }
  const active = vscode.window.activeTextEditor?.document.uri;
  const activeRoot = active?.scheme === 'file' ? taxonomyRootOf(active.fsPath) : undefined;
  if (activeRoot) return activeRoot;
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  let roots = await workspaceTaxonomyRoots();
  // No taxonomy yet: the new leaf starts one in a workspace folder.
  const fresh = roots.length === 0;
  if (fresh) roots = folders;
  if (roots.length === 0) throw new Error('New Leaf needs a folder to write to: open your taxonomy folder (or an empty folder to start one) first.');
  if (roots.length === 1 && !fresh) return roots[0];
  const chosen = await vscode.window.showQuickPick(
    roots.map((r) => ({ label: vscode.workspace.asRelativePath(r) || path.basename(r), description: fresh ? 'start a taxonomy here' : r, root: r })),
    { title: 'New Leaf', placeHolder: fresh ? 'No taxonomy found: start one in which folder?' : 'Which taxonomy gets the new leaf?' },
  );
  return chosen?.root;
}

/** git's user.name where the taxonomy is, for created_by; undefined without git or without the setting. */
function gitUserName(cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['config', 'user.name'], { cwd, timeout: 3000 }, (err, stdout) => resolve(err ? undefined : stdout.trim() || undefined));
  });
}

/**
 * "Create Taxonomy" (the Taxonomy view's welcome button): the three kind folders in a workspace folder, or in a folder
 * the user picks when none is open (which is then opened), followed by New Leaf so the taxonomy gets its first leaf.
 */
export function createTaxonomy(ctx: Ctx) {
  return async (): Promise<void> => {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    let root: string | undefined;
    if (folders.length === 1) root = folders[0];
    else if (folders.length > 1) {
      root = (
        await vscode.window.showQuickPick(
          folders.map((f) => ({ label: path.basename(f), description: f, root: f })),
          { title: 'Create Taxonomy', placeHolder: 'In which workspace folder?' },
        )
      )?.root;
    } else {
      const [picked] =
        (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Create Taxonomy Here', title: 'Create Taxonomy' })) ?? [];
      root = picked?.fsPath;
    }
    if (!root) return;
    for (const kind of leafKinds) await mkdir(path.join(root, kind), { recursive: true });
    if (!folders.includes(root)) {
      // Opening a folder restarts the extension host; New Leaf is one click away in the view that opens.
      await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(root));
      return;
    }
    await ctx.taxonomy?.reload();
    await vscode.commands.executeCommand('taxonomyStudio.newLeaf');
  };
}

/** "Open Example": writes the example taxonomy and its document repository into a folder of the user's, and opens it. */
export function openExample(ctx: Ctx) {
  return async (): Promise<void> => {
    const [parent] =
      (await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Put the Example Here',
        title: 'Open Example: where should the example taxonomy go?',
      })) ?? [];
    if (!parent) return;
    let out = path.join(parent.fsPath, 'taxonomy-studio-example');
    for (let n = 2; existsSync(out); n++) out = path.join(parent.fsPath, `taxonomy-studio-example-${n}`);
    const engine = await ctx.resolveEngine();
    const result = await runEngine(engine, ['example', '--out', out], { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(result.stderr.trim().replace(/^taxonomy-studio example: /, '') || `the engine exited with ${result.code ?? result.signal}`);
    const taxonomy = result.stdout.trim();
    const hasFolders = (vscode.workspace.workspaceFolders ?? []).length > 0;
    await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(taxonomy), { forceNewWindow: hasFolders });
  };
}
