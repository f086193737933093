// The chat webview: conversation, model picker, compare mode, settings and the "Ask this leaf" table. It keeps the
// conversation in the webview state (so it survives reloads and hidden views) and asks the extension host for
// everything that touches the network (extension/chat/protocol.ts). Model output is markdown: rendered with marked,
// then sanitised with DOMPurify before it reaches the DOM, and the page's CSP forbids inline and remote content.
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import type { AskReport } from '../../extension/chat/report';
import type { Exchange, Sampling } from '../../extension/chat/messages';
import type { FromWebview, ModelOption, ToWebview } from '../../extension/chat/protocol';
import { provenanceView } from './provenance';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

type AnswerStatus = 'streaming' | 'done' | 'stopped' | 'failed';

interface Answer {
  model: string;
  label: string;
  text: string;
  status: AnswerStatus;
  error?: string;
  canRestart?: boolean;
  tokens?: number;
}

interface Turn {
  id: number;
  user: string;
  answers: Answer[];
}

interface State {
  version: 1;
  system: string;
  sampling: Sampling;
  model: string;
  compare: boolean;
  compareModels: [string, string];
  turns: Turn[];
  nextId: number;
  draft: string;
  settingsOpen: boolean;
}

const fresh: State = {
  version: 1,
  system: '',
  sampling: { temperature: 0.7, top_p: 0.95, max_tokens: 512 },
  model: '',
  compare: false,
  compareModels: ['', ''],
  turns: [],
  nextId: 1,
  draft: '',
  settingsOpen: false,
};

function restore(): State {
  const saved = vscode.getState() as Partial<State> | undefined;
  if (!saved || saved.version !== 1) return structuredClone(fresh);
  const state = { ...structuredClone(fresh), ...saved } as State;
  // An answer cut by a reload is not coming back.
  for (const t of state.turns) for (const a of t.answers) if (a.status === 'streaming') a.status = 'stopped';
  return state;
}

const state = restore();
let models: ModelOption[] = [];
let problems: string[] = [];
let report: { report: AskReport; running: boolean } | undefined;
let editing: number | undefined;
/** Model keys whose provenance record is opened (kept across re-renders). */
const openProvenance = new Set<string>();

const save = () => vscode.setState(state);
const post = (m: FromWebview) => vscode.postMessage(m);

// ---- markdown ------------------------------------------------------------------------------------------------------

marked.setOptions({ gfm: true, breaks: false });

/** Model output as safe HTML: no scripts, handlers, styles, forms, frames or images (the CSP blocks them too). */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false });
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['style', 'img', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'video', 'audio', 'svg', 'math'],
    FORBID_ATTR: ['style', 'srcset', 'action', 'formaction'],
  });
}

// ---- DOM helpers ---------------------------------------------------------------------------------------------------

type Attrs = Record<string, string | boolean | undefined | ((e: Event) => void)>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | undefined | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}

function button(label: string, onClick: () => void, opts: { title?: string; primary?: boolean; id?: string; disabled?: boolean } = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: opts.primary ? 'primary' : 'secondary', title: opts.title ?? label, 'aria-label': opts.title ?? label, id: opts.id, disabled: opts.disabled, onclick: () => onClick() }, label);
}

const labelOf = (key: string) => models.find((m) => m.key === key)?.label ?? (key ? (JSON.parse(key) as string[])[1] : 'no model');

// ---- sending -------------------------------------------------------------------------------------------------------

const streaming = () => state.turns.some((t) => t.answers.some((a) => a.status === 'streaming'));

function targets(): string[] {
  return state.compare ? [...state.compareModels] : [state.model];
}

/** This column's view of the conversation up to `turnIndex`: each user message and this column's answer. */
function exchangesFor(turnIndex: number, column: number): Exchange[] {
  return state.turns.slice(0, turnIndex + 1).map((t, i) => ({
    user: t.user,
    ...(i < turnIndex ? { answer: (t.answers[column] ?? t.answers[0])?.text ?? '' } : {}),
  }));
}

function ask(turnIndex: number): void {
  const turn = state.turns[turnIndex];
  const wanted = targets();
  if (wanted.some((k) => !k)) {
    problems = [...problems.filter((p) => !p.startsWith('Pick a model')), 'Pick a model first (start one with "Serve Model…", or add an endpoint in the taxonomyStudio.chat.endpoints setting).'];
    render();
    return;
  }
  turn.answers = wanted.map((model) => ({ model, label: labelOf(model), text: '', status: 'streaming' as const }));
  turn.answers.forEach((a, column) => {
    post({ type: 'generate', id: `${turn.id}:${column}`, model: a.model, system: state.system, exchanges: exchangesFor(turnIndex, column), sampling: state.sampling });
  });
  save();
  render();
}

function send(): void {
  const text = state.draft.trim();
  if (!text || streaming()) return;
  state.turns.push({ id: state.nextId++, user: text, answers: [] });
  state.draft = '';
  ask(state.turns.length - 1);
  focusInput();
}

function regenerate(): void {
  if (streaming() || state.turns.length === 0) return;
  ask(state.turns.length - 1);
}

function resend(turnIndex: number, text: string): void {
  if (streaming() || !text.trim()) return;
  state.turns.splice(turnIndex + 1);
  state.turns[turnIndex].user = text.trim();
  editing = undefined;
  ask(turnIndex);
}

function stop(): void {
  post({ type: 'stop' });
}

function answerAt(id: string): Answer | undefined {
  const [turnId, column] = id.split(':').map(Number);
  return state.turns.find((t) => t.id === turnId)?.answers[column];
}

// ---- rendering -----------------------------------------------------------------------------------------------------

const app = document.getElementById('app')!;
let pendingDeltas = new Set<string>();
let frame = 0;

function focusInput(): void {
  requestAnimationFrame(() => document.getElementById('prompt')?.focus());
}

function modelSelect(id: string, value: string, label: string, onChange: (v: string) => void): HTMLElement {
  const select = h('select', { id, 'aria-label': label, onchange: (e) => onChange((e.target as HTMLSelectElement).value) });
  if (models.length === 0) select.append(h('option', { value: '' }, 'no models'));
  for (const m of models) select.append(h('option', { value: m.key, selected: m.key === value }, m.label));
  if (value && !models.some((m) => m.key === value)) select.append(h('option', { value, selected: true }, `${labelOf(value)} (not available)`));
  return h('label', { class: 'picker' }, h('span', {}, label), select);
}

function header(): HTMLElement {
  const pickers = state.compare
    ? [
        modelSelect('model-a', state.compareModels[0], 'Left', (v) => ((state.compareModels[0] = v), save(), render())),
        modelSelect('model-b', state.compareModels[1], 'Right', (v) => ((state.compareModels[1] = v), save(), render())),
      ]
    : [modelSelect('model', state.model, 'Model', (v) => ((state.model = v), save(), render()))];
  const compare = h('label', { class: 'toggle' }, h('input', { type: 'checkbox', id: 'compare', checked: state.compare, onchange: (e) => ((state.compare = (e.target as HTMLInputElement).checked), save(), render()) }), 'Compare');
  return h(
    'header',
    { class: 'toolbar' },
    ...pickers,
    compare,
    button('↻', () => post({ type: 'refreshModels' }), { title: 'Refresh models' }),
    button('⚙', () => ((state.settingsOpen = !state.settingsOpen), save(), render()), { title: state.settingsOpen ? 'Hide settings' : 'Show settings' }),
    button('New chat', () => {
      if (streaming()) stop();
      state.turns = [];
      editing = undefined;
      save();
      render();
      focusInput();
    }, { title: 'New chat (clears the conversation)' }),
  );
}

/** What each selected model was made from, when its server says; nothing for models without a record. */
function provenanceBar(): HTMLElement | undefined {
  const shown = [...new Set(targets())].map((k) => models.find((m) => m.key === k)).filter((m): m is ModelOption & Required<Pick<ModelOption, 'provenance'>> => m?.provenance !== undefined);
  if (shown.length === 0) return undefined;
  return h(
    'section',
    { class: 'provenance-bar', 'aria-label': 'Model provenance' },
    ...shown.map((m) =>
      provenanceView<HTMLElement>(document, m.provenance, {
        label: m.label,
        open: openProvenance.has(m.key),
        onToggle: (open) => (open ? openProvenance.add(m.key) : openProvenance.delete(m.key)),
      }),
    ),
  );
}

function numberField(key: keyof Sampling, label: string, step: string, min: string, max: string): HTMLElement {
  return h(
    'label',
    { class: 'field' },
    h('span', {}, label),
    h('input', {
      type: 'number',
      id: `sampling-${key}`,
      step,
      min,
      max,
      value: String(state.sampling[key]),
      onchange: (e) => {
        const v = Number((e.target as HTMLInputElement).value);
        if (Number.isFinite(v)) state.sampling[key] = v;
        save();
      },
    }),
  );
}

function settings(): HTMLElement | undefined {
  if (!state.settingsOpen) return undefined;
  return h(
    'section',
    { class: 'settings', 'aria-label': 'Chat settings' },
    h('label', { class: 'field wide' }, h('span', {}, 'System prompt'), h('textarea', { id: 'system', rows: '3', placeholder: 'Optional instructions sent before the conversation', oninput: (e) => ((state.system = (e.target as HTMLTextAreaElement).value), save()) }, state.system)),
    h('div', { class: 'row' }, numberField('temperature', 'Temperature', '0.05', '0', '2'), numberField('top_p', 'Top p', '0.05', '0', '1'), numberField('max_tokens', 'Max tokens', '1', '1', '1000000')),
  );
}

function answerView(turn: Turn, a: Answer, column: number, last: boolean): HTMLElement {
  const body = h('div', { class: 'markdown', id: `answer-${turn.id}-${column}` });
  body.innerHTML = renderMarkdown(a.text);
  const status =
    a.status === 'streaming'
      ? h('span', { class: 'status', 'aria-live': 'polite' }, 'answering…')
      : a.status === 'stopped'
        ? h('span', { class: 'status' }, 'stopped')
        : a.status === 'done' && a.tokens !== undefined
          ? h('span', { class: 'status' }, `${a.tokens} tokens`)
          : undefined;
  const error =
    a.status === 'failed'
      ? h(
          'div',
          { class: 'error', role: 'alert' },
          h('span', {}, a.error ?? 'the request failed'),
          a.canRestart ? button('Restart server', () => post({ type: 'restartServer' }), { title: 'Start the Serve Model job again with the same model' }) : undefined,
          last ? button('Retry', regenerate) : undefined,
        )
      : undefined;
  return h('div', { class: 'answer', 'data-status': a.status }, h('div', { class: 'who' }, a.label, status), body, error);
}

function turnView(turn: Turn, index: number): HTMLElement {
  const last = index === state.turns.length - 1;
  let user: HTMLElement;
  if (editing === turn.id) {
    const area = h('textarea', { id: `edit-${turn.id}`, rows: '3', 'aria-label': 'Edit message' }, turn.user) as HTMLTextAreaElement;
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        resend(index, area.value);
      } else if (e.key === 'Escape') {
        editing = undefined;
        render();
      }
    });
    user = h('div', { class: 'user editing' }, area, h('div', { class: 'actions' }, button('Send', () => resend(index, area.value), { primary: true, title: 'Send the edited message (later messages are dropped)' }), button('Cancel', () => ((editing = undefined), render()))));
    requestAnimationFrame(() => area.focus());
  } else {
    user = h(
      'div',
      { class: 'user' },
      h('div', { class: 'text' }, turn.user),
      h('div', { class: 'actions' }, button('Edit', () => ((editing = turn.id), render()), { title: 'Edit and resend this message', disabled: streaming() }), last && turn.answers.length > 0 ? button('Regenerate', regenerate, { title: 'Answer the last message again', disabled: streaming() }) : undefined),
    );
  }
  const answers = h('div', { class: `answers columns-${Math.max(1, turn.answers.length)}` }, ...turn.answers.map((a, c) => answerView(turn, a, c, last)));
  return h('article', { class: 'turn', 'aria-label': `Message ${index + 1}` }, user, answers);
}

function composer(): HTMLElement {
  const area = h('textarea', { id: 'prompt', rows: '3', placeholder: 'Ask something (Enter sends, Shift+Enter for a new line)', 'aria-label': 'Message' }, state.draft) as HTMLTextAreaElement;
  area.addEventListener('input', () => {
    state.draft = area.value;
    save();
  });
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  const busy = streaming();
  return h('footer', { class: 'composer' }, area, h('div', { class: 'actions' }, busy ? button('Stop', stop, { id: 'stop', title: 'Stop the answer' }) : button('Send', send, { id: 'send', primary: true, title: 'Send (Enter)' })));
}

function reportView(): HTMLElement | undefined {
  if (!report) return undefined;
  const r = report.report;
  const score = (s: number | undefined) => (s === undefined ? '…' : s.toFixed(2));
  const table = h(
    'table',
    { class: 'report' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Question'), h('th', { scope: 'col' }, 'Expected'), ...r.models.map((m) => h('th', { scope: 'col' }, `${m} (F1)`)))),
    h(
      'tbody',
      {},
      ...r.rows.map((row) => {
        const cells = r.models.map((m) => {
          const a = row.answers[m];
          const cell = h('td', {});
          if (!a) cell.append(h('span', { class: 'status' }, 'waiting…'));
          else if (a.error) cell.append(h('span', { class: 'error' }, a.error));
          else {
            const md = h('div', { class: 'markdown' });
            md.innerHTML = renderMarkdown(a.text);
            cell.append(h('span', { class: 'score', title: 'token-set F1 against the expected answer' }, score(a.score)), md);
          }
          return cell;
        });
        const origin = row.heldOut
          ? h('span', { class: 'held-out', title: `A generated question training held out (${row.heldOut})` }, 'held-out')
          : h('span', { class: 'seed' }, `seed ${row.seed}`);
        return h('tr', row.heldOut ? { class: 'held-out-row' } : {}, h('td', {}, origin, ' ', row.question), h('td', {}, row.expected), ...cells);
      }),
    ),
  );
  return h(
    'section',
    { class: 'report-panel', 'aria-label': 'Ask this leaf' },
    h(
      'div',
      { class: 'toolbar' },
      h('strong', {}, `Ask this leaf: ${r.leaf}`),
      report.running ? h('span', { class: 'status', 'aria-live': 'polite' }, 'asking…') : undefined,
      button('Export CSV', () => post({ type: 'exportReport', format: 'csv' }), { disabled: report.running }),
      button('Export Markdown', () => post({ type: 'exportReport', format: 'markdown' }), { disabled: report.running }),
      button('Close', () => ((report = undefined), post({ type: 'closeReport' }), render()), { title: 'Close the table' }),
    ),
    r.note ? h('p', { class: 'report-note', role: 'note' }, r.note) : undefined,
    h('div', { class: 'table-wrap' }, table),
  );
}

function render(): void {
  const scroller = document.getElementById('conversation');
  const atBottom = !scroller || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  const active = document.activeElement as HTMLInputElement | HTMLTextAreaElement | null;
  const focused = active?.id;
  const selection = active && 'selectionStart' in active ? [active.selectionStart, active.selectionEnd] : undefined;
  const conversation = h(
    'main',
    { id: 'conversation', 'aria-live': 'off' },
    ...(state.turns.length === 0 ? [h('p', { class: 'empty' }, models.length ? 'Pick a model and ask something. Compare sends the same message to two models side by side.' : 'No models yet: run "Taxonomy Studio: Serve Model…" or add an endpoint in the taxonomyStudio.chat.endpoints setting.')] : state.turns.map(turnView)),
  );
  app.replaceChildren(
    header(),
    provenanceBar() ?? '',
    ...problems.map((p) => h('div', { class: 'problem', role: 'status' }, p)),
    settings() ?? '',
    reportView() ?? '',
    conversation,
    composer(),
  );
  if (atBottom) conversation.scrollTop = conversation.scrollHeight;
  if (focused) {
    const el = document.getElementById(focused) as HTMLTextAreaElement | null;
    el?.focus();
    // Typing goes on where it was: a re-render (an answer ending) must not move the caret.
    if (el && selection && typeof selection[0] === 'number' && 'setSelectionRange' in el) {
      try {
        el.setSelectionRange(selection[0], selection[1] ?? selection[0]);
      } catch {
        // number inputs have no selection
      }
    }
  }
}

/** Deltas re-render only their answer, once per frame. */
function flushDeltas(): void {
  frame = 0;
  for (const id of pendingDeltas) {
    const a = answerAt(id);
    const [turnId, column] = id.split(':');
    const el = document.getElementById(`answer-${turnId}-${column}`);
    if (a && el) el.innerHTML = renderMarkdown(a.text);
  }
  pendingDeltas = new Set();
  const scroller = document.getElementById('conversation');
  if (scroller && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120) scroller.scrollTop = scroller.scrollHeight;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'models': {
      models = m.models;
      problems = m.problems;
      const keys = models.map((x) => x.key);
      if (!keys.includes(state.model)) state.model = m.preferred && keys.includes(m.preferred) ? m.preferred : (keys[0] ?? '');
      if (m.compare) {
        for (const i of [0, 1] as const) if (!keys.includes(state.compareModels[i])) state.compareModels[i] = m.compare[i];
      } else {
        for (const i of [0, 1] as const) if (!keys.includes(state.compareModels[i])) state.compareModels[i] = keys[i] ?? keys[0] ?? '';
      }
      save();
      render();
      return;
    }
    case 'delta': {
      const a = answerAt(m.id);
      if (!a) return;
      a.text += m.text;
      pendingDeltas.add(m.id);
      frame ||= requestAnimationFrame(flushDeltas);
      return;
    }
    case 'done':
    case 'stopped':
    case 'failed': {
      const a = answerAt(m.id);
      if (!a) return;
      a.status = m.type === 'done' ? 'done' : m.type === 'stopped' ? 'stopped' : 'failed';
      if (m.type === 'done' && m.usage) a.tokens = m.usage.completionTokens;
      if (m.type === 'failed') {
        a.error = m.message;
        a.canRestart = m.canRestart;
      }
      save();
      render();
      if (!streaming()) focusInput();
      return;
    }
    case 'report':
      report = { report: m.report, running: m.running };
      render();
      return;
    case 'notice':
      problems = [...problems, m.text];
      render();
      return;
  }
});

render();
post({ type: 'ready' });
