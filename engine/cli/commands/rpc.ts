// `taxonomy-studio rpc`: serves the job protocol (engine/rpc/protocol.ts) on stdin/stdout for the editor, which
// starts one engine per job. stdout carries JSON-RPC only, so anything a library prints goes to stderr instead.
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { format } from 'node:util';
import { serveJobs } from '../../rpc/server';
import { defineCommand } from './command';

export const rpcCommand = defineCommand({
  name: 'rpc',
  summary: 'Serve jobs to the editor over JSON-RPC on stdin/stdout',
  usage: 'rpc',
  description: [
    'Speaks JSON-RPC 2.0 on stdin/stdout: job/start, job/cancel and job/status requests; job/progress, job/log,',
    'job/partial and job/finished notifications. The editor starts one engine per job this way; the same jobs run in',
    "a terminal with `taxonomy-studio job`. Nothing but protocol goes to stdout; libraries' output goes to stderr.",
    '',
    'When stdin closes, or on SIGTERM, running jobs are cancelled (their finished units kept), and the engine exits',
    'once they have stopped.',
  ].join('\n'),
  options: {
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run(_args, ctx) {
    // The protocol owns the real stdout: a console.log from any library would corrupt it.
    for (const method of ['log', 'info', 'debug'] as const) console[method] = (...items: unknown[]) => void process.stderr.write(`${format(...items)}\n`);
    const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
    const server = serveJobs(connection, { signal: ctx.signal });
    connection.listen();
    await server.done;
    connection.dispose();
    // After SIGTERM the client may still hold stdin open; reading it would keep the process alive.
    process.stdin.destroy();
    return 0;
  },
});
