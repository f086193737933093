// A PNG reader for tests, independent of the writer: walks the chunks checking each CRC (node:zlib's), reads IHDR and inflates
// the IDAT stream (node:zlib), so tests can check the size and the scanlines of what the pipeline drew.
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { crc32 as ourCrc32, pngSignature } from '../../../engine/pipeline/png';

/** node:zlib's CRC-32 (Node 20.15 and later); ours, itself checked against the standard check value, before that. */
const crc32 = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32 ?? ourCrc32;

export interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** Raw scanlines (filter byte + pixels) after inflating IDAT. */
  raw: Buffer;
  chunks: string[];
}

/** Decodes an 8-bit RGB PNG with filter type 0 rows, checking every chunk's CRC. */
export function decodePng(bytes: Buffer): DecodedPng {
  assert.deepEqual([...bytes.subarray(0, 8)], [...pngSignature], 'PNG signature');
  let at = 8;
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + length);
    const crc = bytes.readUInt32BE(at + 8 + length);
    assert.equal(crc, crc32(bytes.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    chunks.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  assert.ok(ihdr, 'IHDR chunk');
  return { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), bitDepth: ihdr[8], colorType: ihdr[9], raw: zlib.inflateSync(Buffer.concat(idat)), chunks };
}
