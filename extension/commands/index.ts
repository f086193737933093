// Every command the extension contributes, declared once: `taxonomyStudio.<name>` runs the handler of that row.
// Rows load their area module on first use, so activation stays light; main.ts registers them all in one loop.
// No runtime `vscode` import here (only types): test/unit/manifest.test.ts imports this table under plain Node to
// check it against package.json's contributes.commands.
import type { Ctx } from '../ctx';

/** Builds a command's handler for the extension's context; the handler gets the command's arguments. */
export type CommandFactory = (ctx: Ctx) => (...args: never[]) => unknown;

export const commandPrefix = 'taxonomyStudio.';

export const commands = {
  checkTaxonomy: () => import('./check').then((m) => m.checkTaxonomy),
  showLeafStatistics: () => import('./leaf').then((m) => m.showLeafStatistics),
  restartServer: () => import('./server').then((m) => m.restartServer),
  showOutput: () => import('./server').then((m) => m.showOutput),
  newLeaf: () => import('./authoring').then((m) => m.newLeaf),
  upgradeLeaf: () => import('./authoring').then((m) => m.upgradeLeaf),
  createAttribution: () => import('./authoring').then((m) => m.createAttribution),
  createTaxonomy: () => import('./authoring').then((m) => m.createTaxonomy),
  openExample: () => import('./authoring').then((m) => m.openExample),
  refreshChangedLeaves: () => import('./views').then((m) => m.refreshChangedLeaves),
  runDemoJob: () => import('./jobs').then((m) => m.runDemoJob),
  cancelJob: () => import('./jobs').then((m) => m.cancelJob),
  resumeJob: () => import('./jobs').then((m) => m.resumeJob),
  showJobLog: () => import('./jobs').then((m) => m.showJobLog),
  revealJobOutput: () => import('./jobs').then((m) => m.revealJobOutput),
  refreshJobs: () => import('./jobs').then((m) => m.refreshJobs),
  generateData: () => import('./generate').then((m) => m.generateData),
  generateLeafData: () => import('./generate').then((m) => m.generateLeafData),
  previewLeafData: () => import('./generate').then((m) => m.previewLeafData),
  setTeacherApiKey: () => import('./generate').then((m) => m.setTeacherApiKey),
  reviewGeneratedData: () => import('./generate').then((m) => m.reviewGeneratedData),
  applyReview: () => import('./generate').then((m) => m.applyReview),
  runWholeLoop: () => import('./pipeline').then((m) => m.runWholeLoop),
  trainOnGeneratedData: () => import('./train').then((m) => m.trainOnGeneratedData),
  serveModel: () => import('./serve').then((m) => m.serveModel),
  openChat: () => import('./chat').then((m) => m.openChat),
  askLeaf: () => import('./chat').then((m) => m.askLeaf),
  setChatApiKey: () => import('./chat').then((m) => m.setChatApiKey),
} satisfies Record<string, () => Promise<CommandFactory>>;

export type CommandName = keyof typeof commands;

export function commandId(name: CommandName): string {
  return commandPrefix + name;
}
