// Worker-thread entry of QuantPool: converts chunks of tensor data between types. Bundled on its own as
// dist/quant-worker.js; under tsx the pool starts this file directly.
import { parentPort } from 'node:worker_threads';
import { convert, QuantizeError } from './index';
import type { ChunkReply, ChunkRequest } from './pool';

const port = parentPort;
if (!port) throw new Error('engine/gguf/quant/worker.ts runs as a worker thread of QuantPool, not on its own');

port.on('message', (req: ChunkRequest) => {
  try {
    convert(req.from, req.to, new Uint8Array(req.input), new Uint8Array(req.output));
    const reply: ChunkReply = { id: req.id, output: req.output, input: req.input };
    port.postMessage(reply, [req.output, req.input]);
  } catch (err) {
    const reply: ChunkReply =
      err instanceof QuantizeError
        ? { id: req.id, error: err.message, quantize: { typeName: err.typeName, index: err.index, value: err.value } }
        : { id: req.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    port.postMessage(reply);
  }
});
