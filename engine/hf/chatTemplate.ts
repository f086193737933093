// Chat templates: the Jinja template a model folder carries (tokenizer_config.json's chat_template, or the
// chat_template.jinja file newer transformers versions save), rendered with @huggingface/jinja as transformers renders
// it. A folder without one gets the default below and a warning to show the user.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { ModelFolderError } from './errors';

/**
 * An InstructLab-style template: each turn opens with its role marker on a line of its own, assistant turns end with
 * the EOS token, and add_generation_prompt opens an assistant turn. eos_token comes from the render call (transformers
 * and node-llama-cpp both pass it), so the template suits any tokenizer.
 */
export const defaultChatTemplate = [
  "{%- for message in messages -%}",
  "{%- if message['role'] == 'system' -%}",
  "{{- '<|system|>\\n' + message['content'] + '\\n' -}}",
  "{%- elif message['role'] == 'user' -%}",
  "{{- '<|user|>\\n' + message['content'] + '\\n' -}}",
  "{%- elif message['role'] == 'assistant' -%}",
  "{{- '<|assistant|>\\n' + message['content'] + eos_token -}}",
  "{%- if not loop.last -%}{{- '\\n' -}}{%- endif -%}",
  "{%- else -%}",
  "{{- raise_exception('unknown role ' + message['role'] + ': this template knows system, user and assistant') -}}",
  "{%- endif -%}",
  "{%- endfor -%}",
  "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}",
].join('\n');

export interface ChatMessage {
  role: string;
  content: string;
}

export interface RenderOptions {
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
  /** Further variables for the template. */
  extra?: Record<string, unknown>;
}

/** Renders a chat template over messages, with the variables transformers passes (messages, special tokens, add_generation_prompt). */
export function renderChatTemplate(template: string, messages: readonly ChatMessage[], options: RenderOptions = {}): string {
  return new Template(template).render({
    ...options.extra,
    messages: messages.map((m) => ({ ...m })),
    bos_token: options.bosToken ?? '',
    eos_token: options.eosToken ?? '',
    add_generation_prompt: options.addGenerationPrompt ?? false,
  });
}

export interface FolderChatTemplate {
  template: string;
  /** The file it came from, or "default". */
  source: string;
  /** Set when the folder has no template and the default is used: a sentence to show the user. */
  warning?: string;
}

/**
 * The chat template of a model folder: chat_template.jinja, else tokenizer_config.json's chat_template (a string, or
 * a list of named templates whose "default" is taken), else the default template with a warning.
 */
export async function chatTemplateOf(folder: string): Promise<FolderChatTemplate> {
  const jinjaFile = join(folder, 'chat_template.jinja');
  const jinja = await readFile(jinjaFile, 'utf8').catch(() => undefined);
  if (jinja !== undefined && jinja.trim()) return { template: jinja, source: jinjaFile };

  const configFile = join(folder, 'tokenizer_config.json');
  const configText = await readFile(configFile, 'utf8').catch(() => undefined);
  let missing: string;
  if (configText === undefined) {
    missing = `${configFile} not found`;
  } else {
    let config: { chat_template?: unknown };
    try {
      config = JSON.parse(configText) as { chat_template?: unknown };
    } catch (err) {
      throw new ModelFolderError(configFile, `is not valid JSON: ${(err as Error).message}`, 'fix the file or copy it again from the model');
    }
    const t = config?.chat_template;
    if (typeof t === 'string' && t.trim()) return { template: t, source: configFile };
    if (Array.isArray(t)) {
      const named = t.find((x) => (x as { name?: unknown })?.name === 'default') as { template?: unknown } | undefined;
      if (typeof named?.template === 'string') return { template: named.template, source: configFile };
      missing = `${configFile} lists chat templates but none named "default"`;
    } else {
      missing = `${configFile} has no chat_template`;
    }
  }
  return {
    template: defaultChatTemplate,
    source: 'default',
    warning:
      `${missing}; using the default <|system|>/<|user|>/<|assistant|> template. ` +
      'Prompts will not match how the model was tuned unless it used this format: add its chat_template to tokenizer_config.json.',
  };
}
