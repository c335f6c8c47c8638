/**
 * The zstd engine on its own: frames written in place (output trailing input in one buffer, with
 * only slotHeadroom() between them) decode to the input with libzstd's one-shot API, which sizes
 * its output from the content size each frame must carry; the chunked decoder ends exactly at
 * frame ends, takes concatenated frames, and rejects truncated or oversized streams.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import zstd from 'zstd-napi/binding.js';
import { slotHeadroom } from '../../server/drivers/backup/object-encoder';
import { ChunkZstdDecoder, zstdCompressInPlace, zstdZeroFrame, ZstdStreamError } from '../../server/drivers/backup/zstd-engine';
import { randomBytesFor, textBytesFor } from './support/images';
import { MiB } from './support/scenario';

/** Mostly random bytes with a text run every 128 KiB: zstd cannot shrink most of it, so the frame nearly catches up with its input. */
function nearlyIncompressible(seed: string, length: number): Buffer {
  const data = randomBytesFor(seed, length);
  for (let at = 0; at + 4096 <= length; at += 128 * 1024) textBytesFor(`${seed}-${at}`, 4096).copy(data, at);
  return data;
}

function oneShot(frame: Buffer): Buffer {
  const size = zstd.getFrameContentSize(frame);
  assert.notEqual(size, null, 'the frame header lacks the content size');
  const out = Buffer.alloc(size!);
  assert.equal(zstd.decompress(out, frame), size);
  return out;
}

function chunked(data: Uint8Array, chunkBytes: number, limit: number): Buffer {
  const decoder = new ChunkZstdDecoder();
  decoder.begin(data, limit);
  const parts: Buffer[] = [];
  const chunk = Buffer.alloc(chunkBytes);
  for (let produced; (produced = decoder.next(chunk)) > 0; ) parts.push(Buffer.from(chunk.subarray(0, produced)));
  return Buffer.concat(parts);
}

describe('zstd engine', () => {
  const inputs: Array<[string, Buffer]> = [
    ['one byte', Buffer.from('x')],
    ['text', textBytesFor('zstd-text', 3 * MiB + 17)],
    ['random', randomBytesFor('zstd-random', 2 * MiB)],
    ['nearly incompressible', nearlyIncompressible('zstd-near', 8 * MiB + 4096)],
    ['zeros then random', Buffer.concat([Buffer.alloc(MiB), randomBytesFor('zstd-zr', MiB)])],
  ];

  for (const [label, input] of inputs) {
    test(`in place, ${label}: the frame records the content size and decodes to the input, or is reported as not smaller`, () => {
      const headroom = slotHeadroom(input.length);
      const slot = Buffer.alloc(headroom + input.length);
      input.copy(slot, headroom);
      const md5 = createHash('md5');
      const frameLength = zstdCompressInPlace(slot, headroom, input.length, 0, 1, md5);
      assert.equal(md5.digest('hex'), createHash('md5').update(input).digest('hex'), 'the md5 covers the input as it was');
      if (frameLength === null) {
        assert.ok(label === 'random' || label === 'one byte', `${label} did not shrink`);
        return;
      }
      assert.ok(frameLength < input.length);
      const frame = Buffer.from(slot.subarray(0, frameLength));
      assert.deepEqual(oneShot(frame), input);
      assert.deepEqual(chunked(frame, 64 * 1024, input.length), input);
    });
  }

  test('the chunked decoder ends exactly where a frame ends on a chunk boundary, and takes concatenated frames', () => {
    const zeros = zstdZeroFrame(4 * MiB, 1, (length) => Buffer.alloc(length));
    assert.deepEqual(oneShot(zeros), Buffer.alloc(4 * MiB));
    assert.deepEqual(chunked(zeros, MiB, 4 * MiB), Buffer.alloc(4 * MiB));
    const text = textBytesFor('zstd-concat', MiB);
    const textFrame = Buffer.alloc(zstd.compressBound(text.length));
    const textLength = zstd.compress(textFrame, text, 3);
    const both = Buffer.concat([zeros, textFrame.subarray(0, textLength)]);
    assert.deepEqual(chunked(both, MiB, 5 * MiB), Buffer.concat([Buffer.alloc(4 * MiB), text]));
  });

  test('the chunked decoder rejects a truncated frame, a corrupt one, and more output than the limit', () => {
    const text = textBytesFor('zstd-bad', 2 * MiB);
    const frame = Buffer.alloc(zstd.compressBound(text.length));
    const length = zstd.compress(frame, text, 1);
    assert.throws(() => chunked(frame.subarray(0, Math.floor(length / 2)), MiB, text.length), ZstdStreamError);
    assert.throws(() => chunked(Buffer.concat([frame.subarray(0, length), Buffer.from('garbage!')]), MiB, 4 * MiB), ZstdStreamError);
    assert.throws(() => chunked(frame.subarray(0, length), 256 * 1024, text.length - 1), /decodes to more than/);
    assert.deepEqual(chunked(frame.subarray(0, length), 256 * 1024, text.length), text);
  });
});
