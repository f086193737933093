// TextStream without a model: tokens are strings (or byte arrays for UTF-8 split across tokens), and the checks are
// on what is sent when: stop sequences never reach the client, a tail that may become one waits, a partial
// character waits, and the chunks joined are the whole text.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TextStream } from '../../../engine/serve/textStream';

const joinText = (tokens: readonly string[]) => tokens.join('');

function run(tokens: string[], stops: string[]): { chunks: string[]; stop: boolean; consumed: number } {
  const s = new TextStream<string>(joinText, stops);
  const chunks: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const r = s.push(tokens[i]);
    chunks.push(r.text);
    if (r.stop) return { chunks, stop: true, consumed: i + 1 };
  }
  chunks.push(s.finish());
  return { chunks, stop: false, consumed: tokens.length };
}

describe('TextStream', () => {
  test('without stops every token is sent as it comes', () => {
    assert.deepEqual(run(['Hel', 'lo', ' world'], []), { chunks: ['Hel', 'lo', ' world', ''], stop: false, consumed: 3 });
  });

  test('a stop sequence ends the text just before it, across tokens, and is never sent', () => {
    const r = run(['The ', 'an', 'swer', ' is', ' END', 'ING more'], ['answer is END']);
    assert.deepEqual(r, { chunks: ['The ', '', '', '', ''], stop: true, consumed: 5 });
  });

  test('a tail that could start a stop is held back, then released when it does not', () => {
    const r = run(['ab', 'c', 'X', 'yz'], ['cd']);
    // "c" waits (it starts "cd"); "X" decides it is not a stop.
    assert.deepEqual(r.chunks, ['ab', '', 'cX', 'yz', '']);
    assert.equal(r.stop, false);
  });

  test('the earliest of several stops wins, inside one token', () => {
    const r = run(['one two three'], ['three', 'two']);
    assert.deepEqual(r, { chunks: ['one '], stop: true, consumed: 1 });
  });

  test('a held-back tail is sent when generation ends without a stop', () => {
    assert.deepEqual(run(['x', 'S', 'TO'], ['STOP']).chunks, ['x', '', '', 'STO']);
  });

  test('a character split across tokens waits until whole', () => {
    const bytes = [...Buffer.from('é€!')]; // c3 a9, e2 82 ac, 21
    const decode = (ts: readonly number[]) => Buffer.from(ts).toString('utf8');
    const s = new TextStream<number>(decode);
    const out = bytes.map((b) => s.push(b).text);
    assert.deepEqual(out, ['', 'é', '', '', '€', '!']);
    assert.equal(s.finish(), '');
  });

  test('invalid UTF-8 is given up on after a few tokens and sent as U+FFFD', () => {
    const decode = (ts: readonly number[]) => Buffer.from(ts).toString('utf8');
    const s = new TextStream<number>(decode);
    const out = [0xff, 0xfe, 0xfd, 0xfc].map((b) => s.push(b).text);
    assert.deepEqual(out, ['', '', '', '\uFFFD\uFFFD\uFFFD\uFFFD']);
  });

  test('streamed chunks joined equal the text for any split of the same tokens', () => {
    const text = 'leaf: a qna.yaml file. STOP here';
    for (let size = 1; size <= 6; size++) {
      const tokens = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      const r = run(tokens, ['. STOP', 'zzz']);
      assert.equal(r.chunks.join(''), 'leaf: a qna.yaml file', `token size ${size}`);
      assert.equal(r.stop, true);
    }
  });

  test('push after a stop is a bug and throws', () => {
    const s = new TextStream<string>(joinText, ['x']);
    assert.equal(s.push('x').stop, true);
    assert.throws(() => s.push('y'), /push after a stop/);
  });
});
