// The SSE parser under every way a stream can be cut into chunks, and the reading of chat-completion chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseChatStreamData, SseParser, StreamProtocolError, type SseEvent } from '../../../extension/chat/sse';

function parseAll(chunks: string[]): SseEvent[] {
  const p = new SseParser();
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
}

const stream = [
  ': a comment the server sends to keep the connection open',
  'data: {"a":1}',
  '',
  'event: ping',
  'data:no space',
  '',
  'data: line one',
  'data: line two',
  '',
  'data: [DONE]',
  '',
  'data: never ended by a blank line',
].join('\n');

const expected: SseEvent[] = [{ data: '{"a":1}' }, { event: 'ping', data: 'no space' }, { data: 'line one\nline two' }, { data: '[DONE]' }];

test('events, comments, multi-line data and the event field; an unterminated last event is dropped', () => {
  assert.deepEqual(parseAll([stream]), expected);
});

test('CRLF and CR line ends read as LF, however the stream is split (even between CR and LF)', () => {
  for (const eol of ['\r\n', '\r']) {
    const text = stream.replace(/\n/g, eol);
    assert.deepEqual(parseAll([text]), expected, JSON.stringify(eol));
    assert.deepEqual(parseAll([...text]), expected, `${JSON.stringify(eol)} one character at a time`);
  }
});

test('property: any chunking of a stream gives the same events', () => {
  const text = stream.replace(/\n/g, '\r\n');
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const chunks: string[] = [];
      let at = 0;
      for (const p of points) {
        chunks.push(text.slice(at, p));
        at = p;
      }
      chunks.push(text.slice(at));
      assert.deepEqual(parseAll(chunks), expected);
    }),
  );
});

test('chat chunks: delta text, finish reason, usage, [DONE], mid-stream errors, and junk', () => {
  assert.deepEqual(parseChatStreamData('[DONE]'), { type: 'done' });
  assert.deepEqual(parseChatStreamData('{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}'), { type: 'chunk', delta: '' });
  assert.deepEqual(parseChatStreamData('{"choices":[{"index":0,"delta":{"content":" Hello"},"finish_reason":null}]}'), { type: 'chunk', delta: ' Hello' });
  assert.deepEqual(parseChatStreamData('{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}'), { type: 'chunk', delta: '', finishReason: 'length' });
  assert.deepEqual(parseChatStreamData('{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}'), { type: 'chunk', delta: '', usage: { promptTokens: 7, completionTokens: 3 } });
  // Only the first choice: n > 1 would interleave answers.
  assert.deepEqual(parseChatStreamData('{"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"}}]}'), { type: 'chunk', delta: 'mine' });
  assert.deepEqual(parseChatStreamData('{"error":{"message":"context overflow","type":"invalid_request_error"}}'), { type: 'error', message: 'context overflow' });
  assert.throws(() => parseChatStreamData('{"choices": ['), (e: unknown) => e instanceof StreamProtocolError && /not JSON/.test(e.message));
  assert.throws(() => parseChatStreamData('42'), StreamProtocolError);
});
