// The extension's view of its `taxonomyStudio.*` settings: one typed getter per setting, read fresh each time so a
// change applies at once. The language server gets the whole section through the client's configuration sync.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Limits } from '../engine/taxonomy/limits';
import { limitsFromSettings } from './checkArgs';

/**
 * The settings the extension itself reads, by full name, besides the limits (checkArgs.ts names those, for Check
 * Taxonomy). The language server reads the limits and the repo cache through the configuration sync, and
 * vscode-languageclient reads `taxonomyStudio.trace.server` by the client's id;
 * test/unit/manifest.test.ts checks that all of them are contributed and that every contributed one is read.
 */
export const settingKeys = {
  repoCacheDir: 'taxonomyStudio.documents.repoCacheDir',
  enginePath: 'taxonomyStudio.engine.path',
  taxonomyRoot: 'taxonomyStudio.taxonomyRoot',
  gitBase: 'taxonomyStudio.gitBase',
  schemaVersion: 'taxonomyStudio.schemaVersion',
} as const;

/** Settings whose change means the engine must be looked up again. */
const engineSettings = [settingKeys.enginePath];

export class Config {
  private pathSetting(key: string): string {
    const raw = (vscode.workspace.getConfiguration().get<string>(key) ?? '').trim();
    if (raw === '') return '';
    const expanded = raw === '~' || raw.startsWith('~/') ? path.join(os.homedir(), raw.slice(1)) : raw;
    if (path.isAbsolute(expanded)) return expanded;
    // Relative paths are taken from the first workspace folder, as a user writing one in settings.json expects.
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return folder ? path.resolve(folder, expanded) : path.resolve(expanded);
  }

  /** Where clones of remote document repositories live; '' lets the engine use its default cache. */
  get repoCacheDir(): string {
    return this.pathSetting(settingKeys.repoCacheDir);
  }

  /** The engine the user pointed us at; '' means the bundled one. */
  get enginePath(): string {
    return this.pathSetting(settingKeys.enginePath);
  }

  /** The folder that holds knowledge/, foundational_skills/, compositional_skills/; '' means "find it". */
  get taxonomyRoot(): string {
    return this.pathSetting(settingKeys.taxonomyRoot);
  }

  /** The git ref the Changed Leaves view compares with; '' means the engine's default (origin/main, main, master). */
  get gitBase(): string {
    return (vscode.workspace.getConfiguration().get<string>(settingKeys.gitBase) ?? '').trim();
  }

  /** Schema version New Leaf writes for skills (knowledge is always 3). */
  get schemaVersion(): 2 | 3 {
    return vscode.workspace.getConfiguration().get<number>(settingKeys.schemaVersion) === 2 ? 2 : 3;
  }

  /** The reviewer limits the user changed from the engine's defaults, for Check Taxonomy's command line. */
  get limits(): Partial<Limits> {
    const config = vscode.workspace.getConfiguration();
    return limitsFromSettings((key) => config.get(key));
  }

  affectsEngine(e: vscode.ConfigurationChangeEvent): boolean {
    return engineSettings.some((key) => e.affectsConfiguration(key));
  }
}
