// What a person sees in the workbench: it loads, a leaf opens with its code lenses, typing an error puts its code
// in the Problems panel, and the quick fix takes it away. Each check saves a screenshot under test/e2e/screenshots/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { startOpenAIServer, type OpenAIServer } from '../support/openaiServer';
import type { CheckResult } from './browser';

const leafFolder = 'night_sky_haiku';
/** A version 2 skill with three seeds that run.ts adds to the UI workspace: two gaps in the Gaps view. */
export const uiOldLeaf = 'compositional_skills/writing/freeform/poetry/old_limerick/qna.yaml';
const newLeafPath = 'reasoning/e2e_puzzles';

interface Check {
  name: string;
  run(page: Page): Promise<void>;
}

async function openLeaf(page: Page, folder: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`${folder}/qna.yaml`);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: 'qna.yaml' }).waitFor({ timeout: 15_000 });
  await page.locator('.editor-instance .view-lines', { hasText: 'version: 3' }).waitFor({ timeout: 15_000 });
}

/** Puts the cursor at the end of the first line of the active editor. */
async function toEndOfFirstLine(page: Page): Promise<void> {
  await page.locator('.editor-instance .view-line').first().click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
}

function problemsWith(page: Page, code: string) {
  return page.locator('.markers-panel').getByText(code);
}

/** The activity-bar container and views the packaged manifest declares. */
export interface DeclaredViews {
  containerTitle: string;
  views: { id: string; name: string }[];
}

export function declaredViews(manifest: { contributes?: { viewsContainers?: { activitybar?: { id: string; title: string }[] }; views?: Record<string, { id: string; name: string }[]> } }): DeclaredViews | undefined {
  const container = manifest.contributes?.viewsContainers?.activitybar?.[0];
  const views = container && manifest.contributes?.views?.[container.id];
  return container && views?.length ? { containerTitle: container.title, views } : undefined;
}

/** The pane of the Taxonomy Studio container whose header says `name`, expanded. */
async function pane(page: Page, name: string) {
  const header = page.locator('.pane-header', { hasText: name }).first();
  await header.waitFor({ timeout: 15_000 });
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  return page.locator('.pane', { has: header }).first();
}

/** Runs a command from the command palette by its title. */
async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** The Gaps, New Leaf and Changed Leaves checks, when the manifest declares those views. */
function authoringChecks(declared: DeclaredViews): Check[] {
  const gaps = declared.views.find((v) => v.id === 'taxonomyStudio.gaps');
  const changed = declared.views.find((v) => v.id === 'taxonomyStudio.changed');
  if (!gaps || !changed) return [];
  return [
    {
      name: `UI: the ${gaps.name} view lists the version 2 leaf, and its inline Upgrade clears the gap`,
      async run(page) {
        const view = await pane(page, gaps.name);
        await view.locator('.monaco-list-row', { hasText: 'Too few seed examples' }).first().waitFor({ timeout: 30_000 });
        const upgradeGroup = view.locator('.monaco-list-row', { hasText: 'Leaves to upgrade to version 3' }).first();
        await upgradeGroup.waitFor({ timeout: 30_000 });
        const item = view.locator('.monaco-list-row', { hasText: 'old_limerick/qna.yaml:1' }).first();
        await item.click();
        // Clicking the item goes to the leaf; its inline action upgrades it.
        await page.locator('.tabs-container .tab.active', { hasText: 'qna.yaml' }).waitFor({ timeout: 15_000 });
        await item.hover();
        await item.locator('.action-label[aria-label="Upgrade Leaf to Version 3"]').click();
        await page.locator('.editor-instance .view-lines', { hasText: 'version: 3' }).waitFor({ timeout: 15_000 });
        await upgradeGroup.waitFor({ state: 'detached', timeout: 30_000 });
        await view.locator('.monaco-list-row', { hasText: 'Too few seed examples' }).first().waitFor({ timeout: 5_000 });
      },
    },
    {
      name: 'UI: New Leaf… asks kind and path, writes the skeleton and opens it at the first TODO',
      async run(page) {
        await runCommand(page, 'Taxonomy Studio: New Leaf…');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Foundational skill' }).first().click();
        const input = page.locator('.quick-input-widget input');
        await page.locator('.quick-input-widget', { hasText: 'New Leaf (2/2)' }).waitFor({ timeout: 15_000 });
        await input.fill(newLeafPath);
        await page.keyboard.press('Enter');
        await page.locator('.tabs-container .tab.active', { hasText: 'qna.yaml' }).waitFor({ timeout: 15_000 });
        await page.locator('.editor-instance .view-lines', { hasText: 'TODO describe what this skill teaches' }).waitFor({ timeout: 15_000 });
        // The placeholders are warnings (QNA112) in the Problems panel, not errors.
        await page.keyboard.press('Control+Shift+M');
        await problemsWith(page, 'QNA112').first().waitFor({ timeout: 30_000 });
      },
    },
    {
      name: `UI: the ${changed.name} view lists the new leaf as untracked against main`,
      async run(page) {
        const view = await pane(page, changed.name);
        const row = view.locator('.monaco-list-row', { hasText: `foundational_skills/${newLeafPath}` }).first();
        await row.waitFor({ timeout: 30_000 });
        await row.getByText('untracked', { exact: false }).first().waitFor({ timeout: 5_000 });
        // The upgraded leaf is modified against main too.
        await view.locator('.monaco-list-row', { hasText: 'old_limerick' }).first().waitFor({ timeout: 30_000 });
      },
    },
  ];
}

/** The tree view's checks, when the manifest declares a "Taxonomy" view (the workspace holds all three kinds). */
function viewChecks(declared: DeclaredViews | undefined): Check[] {
  const tree = declared?.views.find((v) => v.id === 'taxonomyStudio.taxonomy');
  if (!declared || !tree) return [];
  return [
    {
      name: `UI: the "${declared.containerTitle}" activity bar shows the ${tree.name} tree with the three kinds`,
      async run(page) {
        await page.locator(`.activitybar [aria-label*="${declared.containerTitle}"]`).first().click();
        const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: tree.name }) }).first();
        await pane.waitFor({ timeout: 15_000 });
        for (const kind of ['Knowledge', 'Foundational skills', 'Compositional skills']) {
          await pane.locator('.monaco-list-row').getByText(kind, { exact: true }).first().waitFor({ timeout: 30_000 });
        }
        for (const v of declared.views) {
          await page.locator('.pane-header').getByText(v.name, { exact: true }).first().waitFor({ timeout: 15_000 });
        }
      },
    },
  ];
}

/** A prompt whose answer is hostile HTML: the sanitiser and the CSP must leave it inert. */
const maliciousPrompt = 'Show me some HTML';
const maliciousAnswer = '<img src="x" onerror="document.title=\'pwned\'"><script>document.title=\'pwned\'</script><a href="javascript:alert(1)">link</a> **bold** text\n\n```js\nconst answer = 42;\n```\n';

/** The chat webview's document (code-server nests it in two iframes). */
function chatFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
}

/**
 * The chat panel against a real local OpenAI-compatible test server that serves "base" and "tuned" (named in the
 * workspace's taxonomyStudio.chat.endpoints): a streamed answer rendered as markdown, hostile HTML rendered inert,
 * and compare mode answering one prompt with both models side by side.
 */
function chatChecks(workspace: string): Check[] {
  let server: OpenAIServer | undefined;
  return [
    {
      name: 'UI: Open Chat streams a markdown answer from a configured endpoint, and hostile HTML in it stays inert',
      async run(page) {
        server = await startOpenAIServer({
          models: [{ id: 'base' }, { id: 'tuned' }],
          handler: (r) => {
            const last = r.messages[r.messages.length - 1].content;
            return last === maliciousPrompt ? maliciousAnswer : `**${r.model}** answers: ${last}`;
          },
        });
        const settingsFile = join(workspace, '.vscode', 'settings.json');
        mkdirSync(join(workspace, '.vscode'), { recursive: true });
        const settings = existsSync(settingsFile) ? (JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>) : {};
        writeFileSync(settingsFile, JSON.stringify({ ...settings, 'taxonomyStudio.chat.endpoints': [{ name: 'e2e', url: server.url }] }, null, 2));

        await runCommand(page, 'Taxonomy Studio: Open Chat');
        const chat = chatFrame(page);
        await chat.locator('#model option', { hasText: 'base · e2e' }).waitFor({ state: 'attached', timeout: 30_000 });
        await chat.locator('#model').selectOption({ label: 'base · e2e' });
        const prompt = chat.locator('#prompt');
        await prompt.fill('Hello from the e2e test');
        await prompt.press('Enter');
        const answer = chat.locator('.answer .markdown').last();
        await answer.getByText('answers: Hello from the e2e test').waitFor({ timeout: 30_000 });
        await answer.locator('strong', { hasText: 'base' }).waitFor({ timeout: 5_000 });

        await prompt.fill(maliciousPrompt);
        await prompt.press('Enter');
        const hostile = chat.locator('.turn').last().locator('.answer .markdown');
        await hostile.locator('pre code', { hasText: 'const answer = 42;' }).waitFor({ timeout: 30_000 });
        await hostile.locator('strong', { hasText: 'bold' }).waitFor({ timeout: 5_000 });
        const inert = {
          scripts: await chat.locator('#conversation script').count(),
          images: await chat.locator('#conversation img').count(),
          handlers: await chat.locator('#conversation [onerror], #conversation [onclick]').count(),
          jsLinks: await chat.locator('#conversation a[href^="javascript:"]').count(),
        };
        if (inert.scripts + inert.images + inert.handlers + inert.jsLinks !== 0) throw new Error(`hostile HTML survived: ${JSON.stringify(inert)}`);
        if ((await page.title()).includes('pwned')) throw new Error('a script from the model output ran');
      },
    },
    {
      name: 'UI: compare mode sends one prompt to base and tuned and shows both answers side by side',
      async run(page) {
        const chat = chatFrame(page);
        await chat.locator('#compare').check();
        await chat.locator('#model-a option', { hasText: 'base · e2e' }).waitFor({ state: 'attached', timeout: 15_000 });
        await chat.locator('#model-a').selectOption({ label: 'base · e2e' });
        await chat.locator('#model-b').selectOption({ label: 'tuned · e2e' });
        const prompt = chat.locator('#prompt');
        await prompt.fill('Which of you was trained?');
        await prompt.press('Enter');
        const columns = chat.locator('.turn').last().locator('.answers.columns-2 .answer');
        await columns.nth(0).getByText('base answers: Which of you was trained?').waitFor({ timeout: 30_000 });
        await columns.nth(1).getByText('tuned answers: Which of you was trained?').waitFor({ timeout: 30_000 });
        await server?.close();
      },
    },
  ];
}

export function uiChecks(serverUrl: string, workspace: string, declared?: DeclaredViews): Check[] {
  return [
    {
      name: 'UI: the workbench loads the example taxonomy',
      async run(page) {
        await page.goto(`${serverUrl}/?folder=${encodeURIComponent(workspace)}`);
        await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await page.locator('.explorer-folders-view').getByText('knowledge', { exact: true }).waitFor({ timeout: 30_000 });
      },
    },
    {
      name: 'UI: a leaf opens with the "seed examples" code lens',
      async run(page) {
        await openLeaf(page, leafFolder);
        await page.locator('.codelens-decoration').getByText(/\d+ seed examples · [\d,]+ words/).first().waitFor({ timeout: 30_000 });
      },
    },
    {
      name: 'UI: typing trailing spaces shows QNA010 in the Problems panel',
      async run(page) {
        await toEndOfFirstLine(page);
        await page.keyboard.type('   ');
        await page.keyboard.press('Control+Shift+M');
        await problemsWith(page, 'QNA010').first().waitFor({ timeout: 30_000 });
      },
    },
    {
      name: 'UI: the quick fix "Remove trailing spaces" clears QNA010',
      async run(page) {
        await toEndOfFirstLine(page);
        // The quick fix menu opens only once the code actions for the cursor have arrived; ask again until it does.
        const fix = page.locator('.action-widget').getByText('Remove trailing spaces').first();
        for (let attempt = 1; ; attempt++) {
          await page.keyboard.press('Control+.');
          try {
            await fix.waitFor({ timeout: 3_000 });
            break;
          } catch (err) {
            if (attempt === 5) throw err;
            await page.keyboard.press('Escape');
          }
        }
        await fix.click();
        await problemsWith(page, 'QNA010').first().waitFor({ state: 'detached', timeout: 30_000 });
      },
    },
    ...viewChecks(declared),
    ...(declared ? authoringChecks(declared) : []),
    ...chatChecks(workspace),
  ];
}

export async function runUiChecks(page: Page, checks: Check[], screenshots: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [i, check] of checks.entries()) {
    const shot = join(screenshots, `${String(i + 1).padStart(2, '0')}-${check.name.replace(/^UI: /, '').replace(/[^a-z0-9]+/gi, '-').toLowerCase().replace(/-+$/, '')}.png`);
    try {
      // Once a check failed, later ones would only fail for its reason; say so instead of timing out again.
      if (results.some((r) => !r.ok)) throw new Error('not run: an earlier UI check failed');
      await check.run(page);
      results.push({ name: check.name, ok: true });
    } catch (err) {
      // Playwright colours its call logs; the summary is read in CI logs and files.
      results.push({ name: check.name, ok: false, error: (err instanceof Error ? err.message : String(err)).replace(/\x1b\[[0-9;]*m/g, '') });
    }
    await page.screenshot({ path: shot }).catch(() => undefined);
  }
  return results;
}
