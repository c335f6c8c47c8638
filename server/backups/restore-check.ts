import { open } from 'node:fs/promises';
import { DigestFile } from '../drivers/backup/digest-file';
import { BackupError } from '../drivers/backup/errors';
import { DIGEST_BYTES, ShaFileParser, shaObjectName } from '../drivers/backup/format';
import { blockSha256, zeroSha256 } from '../drivers/backup/object-encoder';
import { sourceDataRanges, spanDataBlocks } from '../drivers/backup/source-holes';
import type { BackupStore } from '../drivers/backup';

/**
 * The check at the end of a restore test: every block of the restored file hashed and compared
 * with the backup's own sha file (the SHA-256 of each 32 KiB block at backup time).
 */

export interface RestoredCheck {
  ok: boolean;
  /** The first mismatch, naming the block and the sha file, or null. */
  problem: string | null;
  /** The sha file, when it is what is at fault or what the data disagrees with. */
  object: string | null;
  blocksChecked: number;
}

const READ_BYTES = 4 * 1024 * 1024;

async function readShaFile(store: BackupStore, container: string, prefix: string, into: DigestFile) {
  const name = shaObjectName(prefix);
  const reader = await store.readObject(container, name);
  const parser = new ShaFileParser(reader.length, name, into);
  for await (const chunk of reader.chunks) parser.push(chunk);
  return { name, sha: parser.finish() };
}

export async function checkRestoredFile(options: {
  store: BackupStore;
  container: string;
  prefix: string;
  filePath: string;
  sizeBytes: number;
  signal?: AbortSignal;
  /** Where the sha file's digests are kept while the check runs (an unlinked temporary file); default: the system's temporary directory. */
  scratchDirectory?: string;
}): Promise<RestoredCheck> {
  // A 64 GiB volume lists 64 MiB of digests: they wait in a file and are read a buffer's worth at a time.
  const digests = DigestFile.create(options.scratchDirectory);
  try {
    const { name, sha } = await readShaFile(options.store, options.container, options.prefix, digests);
    const blockSize = sha.blockSize;
    const blocks = Math.ceil(options.sizeBytes / blockSize);
    const listed = sha.blockCount;
    if (listed !== blocks) {
      return {
        ok: false,
        problem: `sha file ${name} lists ${listed} blocks; the restored ${options.sizeBytes} bytes hold ${blocks}`,
        object: name,
        blocksChecked: 0,
      };
    }
    // A restored thin volume is mostly holes: they are zeros, known without reading them.
    const dataRanges = await sourceDataRanges(options.filePath, options.sizeBytes);
    const file = await open(options.filePath, 'r');
    try {
      const buffer = Buffer.allocUnsafe(Math.max(blockSize, Math.floor(READ_BYTES / blockSize) * blockSize));
      const expected = Buffer.allocUnsafe((buffer.length / blockSize) * DIGEST_BYTES);
      const holes = new Uint8Array(buffer.length / blockSize);
      let block = 0;
      for (let offset = 0; offset < options.sizeBytes; ) {
        if (options.signal?.aborted) throw new BackupError('ABORTED', 'the restore test was cancelled');
        const want = Math.min(buffer.length, options.sizeBytes - offset);
        const dataBlocks = spanDataBlocks(dataRanges, offset, want, blockSize) ?? [[0, Math.ceil(want / blockSize)]];
        holes.fill(1);
        for (const [first, end] of dataBlocks) {
          const from = first * blockSize;
          const length = Math.min(end * blockSize, want) - from;
          const { bytesRead } = await file.read(buffer, from, length, offset + from);
          if (bytesRead < length) buffer.fill(0, from + bytesRead, from + length);
          holes.fill(0, first, end);
        }
        digests.read(block, Math.ceil(want / blockSize), expected);
        for (let at = 0; at < want; at += blockSize, block += 1) {
          const bytes = buffer.subarray(at, Math.min(want, at + blockSize));
          const digest = holes[at / blockSize] === 1 ? zeroSha256(bytes.length) : blockSha256(bytes);
          const listedAt = (at / blockSize) * DIGEST_BYTES;
          if (!digest.equals(expected.subarray(listedAt, listedAt + DIGEST_BYTES))) {
            return {
              ok: false,
              object: name,
              blocksChecked: block,
              problem: `block ${block} (offset ${offset + at}) restored from the chain does not match its SHA-256 in ${name}`,
            };
          }
        }
        offset += want;
      }
      return { ok: true, problem: null, object: null, blocksChecked: block };
    } finally {
      await file.close();
    }
  } finally {
    digests.close();
  }
}
