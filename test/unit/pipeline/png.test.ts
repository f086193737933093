// The PNG writer and the loss plot, read back by the decoder in pngDecode.ts; CRC-32 against the standard check
// value and node:zlib's crc32 where this Node has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { crc32, encodePng, RgbImage } from '../../../engine/pipeline/png';
import { decodePng } from './pngDecode';
import { defaultLayout, parseLossCsv, plotColors, plotLoss, plotScale, tickLabel } from '../../../engine/pipeline/plot';

test('CRC-32: the standard check value, and node:zlib agrees where it has crc32', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const z = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
  if (z) for (const s of ['IEND', 'hello PNG', 'x'.repeat(1000)]) assert.equal(crc32(Buffer.from(s)), z(Buffer.from(s)));
});

test('encodePng: signature, IHDR, IDAT with one filter byte per row, IEND; pixels come back', () => {
  const img = new RgbImage(5, 3, [10, 20, 30]);
  img.set(4, 2, [255, 0, 128]);
  img.set(9, 9, [1, 1, 1]); // outside: ignored
  const png = decodePng(encodePng(img));
  assert.deepEqual(png.chunks, ['IHDR', 'IDAT', 'IEND']);
  assert.deepEqual([png.width, png.height, png.bitDepth, png.colorType], [5, 3, 8, 2]);
  assert.equal(png.raw.length, (5 * 3 + 1) * 3);
  for (let y = 0; y < 3; y++) assert.equal(png.raw[y * 16], 0);
  assert.deepEqual([...png.raw.subarray(1, 4)], [10, 20, 30]);
  assert.deepEqual([...png.raw.subarray(2 * 16 + 1 + 4 * 3, 2 * 16 + 1 + 5 * 3)], [255, 0, 128]);
  assert.throws(() => new RgbImage(0, 3), /image size 0x3/);
});

const csv = [
  'step,phase,epoch,batch,loss,lr,grad_norm,tokens,eval_loss',
  '0,,,,,,,,6.0',
  '1,knowledge,1,1,6.0,0.01,1,78,',
  '2,knowledge,1,2,5.0,0.01,1,78,',
  '3,skills,1,1,4.0,0.01,1,78,',
  '4,skills,1,2,3.0,0.01,1,78,3.5',
  'garbage line',
].join('\n');

test('parseLossCsv: train points, held-out points, phase starts; bad rows left out', () => {
  const curve = parseLossCsv(csv);
  assert.deepEqual(curve.train, [
    { step: 1, loss: 6 },
    { step: 2, loss: 5 },
    { step: 3, loss: 4 },
    { step: 4, loss: 3 },
  ]);
  assert.deepEqual(curve.eval, [
    { step: 0, loss: 6 },
    { step: 4, loss: 3.5 },
  ]);
  assert.deepEqual(curve.phases, [{ step: 3, name: 'skills' }]);
  assert.deepEqual(parseLossCsv(''), { train: [], eval: [], phases: [] });
});

test('plotLoss: a PNG of the layout size whose line falls as the loss falls', () => {
  const curve = parseLossCsv(csv);
  const { image, png } = plotLoss(curve);
  const decoded = decodePng(png);
  assert.deepEqual([decoded.width, decoded.height], [defaultLayout.width, defaultLayout.height]);
  assert.equal(decoded.raw.length, (defaultLayout.width * 3 + 1) * defaultLayout.height);
  const scale = plotScale(curve);
  // Loss 6 at step 1 is drawn above loss 3 at step 4 (smaller y), both in the train colour.
  const [x1, y1, x4, y4] = [scale.x(1), scale.y(6), scale.x(4), scale.y(3)].map(Math.round);
  assert.ok(y1 < y4);
  assert.deepEqual(image.get(x1, y1), [...plotColors.train]);
  assert.deepEqual(image.get(x4, y4), [...plotColors.train]);
  // The held-out dot at step 4 and the pixels PNG carries equal the raster's.
  assert.deepEqual(image.get(Math.round(scale.x(4)), Math.round(scale.y(3.5))), [...plotColors.eval]);
  const row = y4 * (defaultLayout.width * 3 + 1) + 1 + x4 * 3;
  assert.deepEqual([...decoded.raw.subarray(row, row + 3)], [...plotColors.train]);
  // An empty curve still draws (axes and a note), no throw.
  assert.equal(decodePng(plotLoss({ train: [], eval: [], phases: [] }).png).width, defaultLayout.width);
});

test('tick labels show the span to three digits', () => {
  assert.equal(tickLabel(5.3849, 0.7), '5.385');
  assert.equal(tickLabel(5.3849, 3), '5.38');
  assert.equal(tickLabel(123.4, 50), '123.4');
  assert.equal(tickLabel(123.4, 500), '123');
});
