// Extension entry point: builds the context, registers the command table and starts the language server. Activation
// does nothing heavy (commands load on first use) and shows its own errors rather than failing silently.
import * as vscode from 'vscode';
import { commandId, commands, type CommandFactory, type CommandName } from './commands/index';
import { Ctx } from './ctx';
import { registerChat } from './chat/index';
import { registerJobs } from './jobs/index';
import { registerViews } from './views/index';

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): void {
  try {
    ctx = new Ctx(context);
    registerCommands(ctx);
    registerViews(ctx); // registers the views; the taxonomy loads after activation
    registerJobs(ctx); // the Jobs view; jobs start only from commands
    registerChat(ctx, context); // the chat view, panel serializer and Ask-this-leaf lens; no network until used
  } catch (err) {
    // Without a context there is no log yet; the message is all the user gets.
    void vscode.window.showErrorMessage(`Taxonomy Studio failed to activate: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  const started = ctx;
  // After activation returns: loading the language client bundle and spawning the server need not delay the window.
  setImmediate(() => {
    if (ctx !== started) return;
    void started.start().catch((err: unknown) => started.showError('the language server did not start', err));
    // A generate or pipeline run resumed from the Jobs view after a reload needs its teacher's key from SecretStorage.
    void import('./commands/generate').then((m) => m.registerResumeSecrets(started));
  });
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}

function registerCommands(ctx: Ctx): void {
  for (const name of Object.keys(commands) as CommandName[]) {
    let handler: ReturnType<CommandFactory> | undefined;
    ctx.pushExtCleanup(
      vscode.commands.registerCommand(commandId(name), async (...args: unknown[]) => {
        try {
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
