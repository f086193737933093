// Extension entry point: builds the context, registers the command table and starts the language server. Activation
// loads only this bundle (dist/extension.js): the views, the Jobs view and the chat register from their own bundles
// right after activate returns, each command area loads on its first command (scripts/build.mjs splits them), and
// activate shows its own errors rather than failing silently.
import * as vscode from 'vscode';
import { commandId, commands, type CommandFactory, type CommandName } from './commands/index';
import { Ctx } from './ctx';

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): void {
  try {
    ctx = new Ctx(context);
    registerCommands(ctx, context);
  } catch (err) {
    // Without a context there is no log yet; the message is all the user gets.
    void vscode.window.showErrorMessage(`Taxonomy Studio failed to activate: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  const started = ctx;
  // After activation returns: loading the language client bundle, spawning the server and loading the views need
  // not delay the window.
  setImmediate(() => {
    if (ctx !== started) return;
    void started.start().catch((err: unknown) => started.showError('the language server did not start', err));
    void registerAreas(started, context).catch((err: unknown) => started.showError('the views did not load', err));
  });
}

const areas = new WeakMap<Ctx, Promise<void>>();

/**
 * The Taxonomy, Gaps and Changed Leaves views with the status bar item (the taxonomy loads after them), the Jobs view,
 * and the chat view, panel serializer and Ask-this-leaf lens (no network until used), each from its own bundle; once
 * per context, right after activation or before the first command runs, whichever comes first.
 */
function registerAreas(ctx: Ctx, context: vscode.ExtensionContext): Promise<void> {
  let registered = areas.get(ctx);
  if (!registered) {
    registered = Promise.all([import('./views/index'), import('./jobs/index'), import('./chat/index'), import('./commands/generate')]).then(([views, jobs, chat, generate]) => {
      views.registerViews(ctx);
      jobs.registerJobs(ctx);
      chat.registerChat(ctx, context);
      // A generate or pipeline run resumed from the Jobs view after a reload needs its teacher's key from SecretStorage.
      generate.registerResumeSecrets(ctx);
    });
    areas.set(ctx, registered);
  }
  return registered;
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}

function registerCommands(ctx: Ctx, context: vscode.ExtensionContext): void {
  for (const name of Object.keys(commands) as CommandName[]) {
    let handler: ReturnType<CommandFactory> | undefined;
    ctx.pushExtCleanup(
      vscode.commands.registerCommand(commandId(name), async (...args: unknown[]) => {
        try {
          // Commands find the views, jobs and chat through the context.
          await registerAreas(ctx, context);
          handler ??= (await commands[name]())(ctx);
          return await handler(...(args as never[]));
        } catch (err) {
          ctx.showError(`${commandTitle(name)} failed`, err);
        }
      }),
    );
  }
}

/** "checkTaxonomy" -> "Check taxonomy", for error messages. */
function commandTitle(name: CommandName): string {
  const words = name.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
