// taxonomy-studio: the engine's command-line entry point (bundled to dist/cli.js, declared in package.json `bin`).
import { runCli } from './run';

const controller = new AbortController();
// Listeners stay for the whole run (on, not once): node-llama-cpp's exit hooks re-raise a signal when they are its
// only listener, killing the process before a command has freed its model or kept its finished work. The first
// signal cancels; a second one means "now".
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  });
}

runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  signal: controller.signal,
}).then(
  (code) => {
    // exitCode rather than exit(): let piped stdout drain before the process ends.
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`taxonomy-studio: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 3;
  },
);
