// The messages between the chat webview (media/chat/main.ts) and the extension host (session.ts), declared once.
// The webview keeps the conversation (its state survives reloads); the host owns the network: it lists models,
// builds the messages, streams answers and exports tables. No vscode import.
import type { Provenance } from '../../engine/provenance/record';
import type { AskReport } from './report';
import type { Exchange, Sampling } from './messages';
import type { Usage } from './sse';

export interface ModelOption {
  /** Stable id for the picker: endpoint and model together. */
  key: string;
  endpoint: string;
  model: string;
  /** "base · Served", "gpt-x · My vLLM". */
  label: string;
  /** What produced the model, when its server says (taxonomy-studio serve reads it from the model files). */
  provenance?: Provenance;
}

export function modelKey(endpoint: string, model: string): string {
  return JSON.stringify([endpoint, model]);
}

export type FromWebview =
  | { type: 'ready' }
  | { type: 'refreshModels' }
  /** Answer the last exchange with `model`; earlier exchanges carry this model's answers. */
  | { type: 'generate'; id: string; model: string; system: string; exchanges: Exchange[]; sampling: Sampling }
  /** Stop one answer, or every answer in flight without an id. */
  | { type: 'stop'; id?: string }
  | { type: 'restartServer' }
  | { type: 'exportReport'; format: 'csv' | 'markdown' }
  | { type: 'closeReport' };

export type ToWebview =
  | { type: 'models'; models: ModelOption[]; problems: string[]; compare?: [string, string]; preferred?: string }
  | { type: 'delta'; id: string; text: string }
  | { type: 'done'; id: string; finishReason?: string; usage?: Usage }
  | { type: 'stopped'; id: string }
  /** `unreachable`: the endpoint does not answer; `canRestart`: it is the Serve Model job's, which can be started again. */
  | { type: 'failed'; id: string; message: string; unreachable: boolean; canRestart: boolean }
  | { type: 'report'; report: AskReport; running: boolean }
  | { type: 'notice'; text: string; level: 'info' | 'error' };
