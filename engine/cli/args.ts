// A thin layer over node's built-in util.parseArgs: typed option tables per command, and usage errors the CLI turns
// into exit code 2 with the command's usage line.
import { parseArgs as nodeParseArgs } from 'node:util';

export interface OptionSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** For string options: the placeholder shown in help, e.g. "<dir>". */
  valueName?: string;
  /** A string option that may be given several times; its value is every occurrence, in order. */
  multiple?: boolean;
  description: string;
}

export type OptionTable = Record<string, OptionSpec>;

export type OptionValues<T extends OptionTable> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K] extends { multiple: true } ? string[] : string;
};

export interface ParsedArgs<T extends OptionTable> {
  values: OptionValues<T>;
  positionals: string[];
}

/** Bad usage: the message says what was wrong; the CLI adds the usage line and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs<T extends OptionTable>(argv: readonly string[], table: T): ParsedArgs<T> {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(table)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple && spec.type === 'string' ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = nodeParseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as OptionValues<T>, positionals };
  } catch (err) {
    throw new UsageError(usageMessage(err as Error & { code?: string }));
  }
}

function usageMessage(err: Error & { code?: string }): string {
  // "Option '-a, --adapter <value>' argument missing": name the long form.
  const quoted = /'(?:-\w, )?(-[^' ]+)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message) ? `option ${quoted ?? ''} needs a value`.trim() : err.message.split('\n')[0];
    default:
      return err.message.split('\n')[0];
  }
}

/** Help lines for an option table, aligned. */
export function describeOptions(table: OptionTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? '<value>'}` : ''}${spec.multiple ? ' …' : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`).join('\n');
}
