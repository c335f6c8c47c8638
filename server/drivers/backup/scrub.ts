/**
 * Scrub: proves that a stored backup restores, without restoring it. Every object is read back,
 * decoded and checked against the metadata (length and md5); the sha file is parsed whole and
 * checked against the volume's size and against the data: each block an object of this backup
 * holds must hash to the sha file's digest for that block, and every other block (an incremental's
 * unchanged ones) must carry its parent's digest. One object is in memory at a time; the digests
 * (64 MiB per sha file for a 64 GiB volume) wait in temporary files (digest-file.ts).
 */
import { createHash } from 'node:crypto';
import { decodeObject } from './compression';
import { SHA_BLOCK_SIZE } from './constants';
import { DigestFile } from './digest-file';
import { BackupError, describeError, isBackupError } from './errors';
import { DIGEST_BYTES, metadataObjectName, ShaFileParser, shaObjectName, type BackupMetadata, type ShaFile } from './format';
import { Throttle } from './limits';
import { verifyBackup, type StoredBackupLocation } from './maintenance';
import { isAllZero } from '../volume/chunks';
import { blockSha256, zeroMd5, zeroSha256 } from './object-encoder';
import type { BackupStore } from './stores/types';

export interface ScrubOptions extends StoredBackupLocation {
  /** The backup the objects must belong to (its metadata and sha file name it). */
  backupId: string;
  /** The volume's size in bytes when it was backed up: the sha file covers exactly this much. */
  sizeBytes: number;
  /** The parent's objects, for an incremental: blocks this backup does not hold must carry the parent's digests. */
  parent?: StoredBackupLocation | null;
  signal?: AbortSignal;
  /** Bytes of decoded data per second (null: no pacing), so a scrub does not crowd out production I/O. */
  maxBytesPerSec?: number | null;
  onProgress?: (progress: { bytesChecked: number; totalBytes: number; objectsChecked: number }) => void;
  /** Where the sha files' digests are kept while the scrub runs (unlinked temporary files); default: the system's temporary directory. */
  scratchDirectory?: string;
}

export interface ScrubResult {
  ok: boolean;
  /** One sentence per problem, each naming the object. */
  problems: string[];
  /** The first object found bad (what the console names), or null. */
  damagedObject: string | null;
  objectsChecked: number;
  bytesChecked: number;
  metadata: BackupMetadata | null;
}

class Findings {
  readonly problems: string[] = [];
  damagedObject: string | null = null;

  add(objectName: string, problem: string) {
    this.problems.push(problem);
    this.damagedObject ??= objectName;
  }
}

/** Blocks whose digests are compared with the parent's at a time: 512 KiB of each sha file. */
const DIGEST_BATCH = 16 * 1024;

async function readShaFile(store: BackupStore, location: StoredBackupLocation, into: DigestFile): Promise<ShaFile> {
  const name = shaObjectName(location.prefix);
  const reader = await store.readObject(location.container, name);
  const parser = new ShaFileParser(reader.length, name, into);
  for await (const chunk of reader.chunks) parser.push(chunk);
  return parser.finish();
}

/** The digest of the index-th of the blocks read into `listed`, or null past the sha file's end. */
function digestAt(listed: Buffer, index: number): Buffer | null {
  const start = index * DIGEST_BYTES;
  return start + DIGEST_BYTES <= listed.length ? listed.subarray(start, start + DIGEST_BYTES) : null;
}

export async function scrubBackup(options: ScrubOptions): Promise<ScrubResult> {
  const digests = DigestFile.create(options.scratchDirectory);
  try {
    return await scrubWith(options, digests);
  } finally {
    digests.close();
  }
}

async function scrubWith(options: ScrubOptions, digests: DigestFile): Promise<ScrubResult> {
  const { store, container, prefix, backupId, signal } = options;
  const findings = new Findings();
  const presence = await verifyBackup({ store, container, prefix });
  for (const problem of presence.problems)
    findings.add(presence.missing[0] ?? presence.unexpected[0] ?? metadataObjectName(prefix), problem);
  const metadata = presence.metadata;
  const result = (objectsChecked = 0, bytesChecked = 0): ScrubResult => ({
    ok: findings.problems.length === 0,
    problems: findings.problems,
    damagedObject: findings.damagedObject,
    objectsChecked,
    bytesChecked,
    metadata,
  });
  if (!metadata) return result();
  if (metadata.backupId && metadata.backupId !== backupId) {
    findings.add(metadataObjectName(prefix), `${metadataObjectName(prefix)} describes backup ${metadata.backupId}, not ${backupId}`);
  }

  const shaName = shaObjectName(prefix);
  let sha: ShaFile | null = null;
  if (!presence.missing.includes(shaName)) {
    try {
      sha = await readShaFile(store, { store, container, prefix }, digests);
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      findings.add(shaName, `sha file ${shaName} cannot be read: ${describeError(error)}`);
    }
  }
  const blockSize = sha?.blockSize ?? SHA_BLOCK_SIZE;
  const blocks = Math.ceil(options.sizeBytes / blockSize);
  if (sha) {
    if (sha.backupId && sha.backupId !== backupId)
      findings.add(shaName, `sha file ${shaName} belongs to backup ${sha.backupId}, not ${backupId}`);
    const count = sha.blockCount;
    if (count !== blocks) {
      findings.add(
        shaName,
        `sha file ${shaName} lists ${count} blocks; a ${options.sizeBytes}-byte volume has ${blocks} (truncated or for another volume)`,
      );
      sha = null;
    }
  }

  // Blocks this backup holds itself; the others must carry the parent's digests.
  const held = new Uint8Array(blocks);
  const throttle = new Throttle(options.maxBytesPerSec ?? null);
  const totalBytes = metadata.objects.reduce((sum, object) => sum + object.length, 0);
  let bytesChecked = 0;
  let objectsChecked = 0;
  // One object's digests, in a buffer reused from object to object.
  let objectDigests = Buffer.alloc(0);
  for (const object of metadata.objects) {
    if (signal?.aborted) throw new BackupError('ABORTED', 'the scrub was cancelled');
    if (presence.missing.includes(object.name)) continue;
    await throttle.admit(object.length, signal);
    let decoded: Buffer;
    try {
      const stored = await store.getObject(container, object.name);
      if (stored.length === 0 && object.length > 0) {
        findings.add(object.name, `object ${object.name} is empty (0 bytes stored)`);
        continue;
      }
      decoded = await decodeObject(stored, object.compression, object.length, object.name);
    } catch (error) {
      if (isBackupError(error, 'OBJECT_MISSING')) {
        findings.add(object.name, `object ${object.name} is missing from ${container}`);
        continue;
      }
      if (!(error instanceof BackupError)) throw error;
      findings.add(object.name, describeError(error));
      continue;
    }
    objectsChecked += 1;
    bytesChecked += object.length;
    if (decoded.length !== object.length) {
      findings.add(object.name, `object ${object.name} decodes to ${decoded.length} bytes; the metadata records ${object.length}`);
      continue;
    }
    // An empty object (most of a thin volume's full backup) is known by comparison, not hashed.
    const empty = isAllZero(decoded);
    const md5 = empty ? zeroMd5(decoded.length) : createHash('md5').update(decoded).digest('hex');
    if (md5 !== object.md5) {
      findings.add(
        object.name,
        `object ${object.name} has md5 ${md5}; the metadata records ${object.md5} (its bytes changed or it belongs to another backup)`,
      );
      continue;
    }
    if (sha && object.offset % blockSize === 0) {
      const count = Math.ceil(decoded.length / blockSize);
      if (objectDigests.length < count * DIGEST_BYTES) objectDigests = Buffer.allocUnsafe(count * DIGEST_BYTES);
      const listed = digests.read(object.offset / blockSize, count, objectDigests);
      // The object's blocks are all held whatever their digests say; only its first mismatch is reported.
      held.fill(1, object.offset / blockSize, object.offset / blockSize + count);
      for (let at = 0; at < decoded.length; at += blockSize) {
        const block = (object.offset + at) / blockSize;
        const expected = digestAt(listed, at / blockSize);
        const bytes = decoded.subarray(at, Math.min(decoded.length, at + blockSize));
        const actual = empty ? zeroSha256(bytes.length) : blockSha256(bytes);
        if (expected && !expected.equals(actual)) {
          findings.add(shaName, `sha file ${shaName} does not match the data of ${object.name} at block ${block}`);
          break;
        }
      }
    }
    options.onProgress?.({ bytesChecked, totalBytes, objectsChecked });
  }

  if (sha) await checkAgainstParent(options, digests, held, findings, shaName);
  return result(objectsChecked, bytesChecked);
}

/** An incremental's unchanged blocks carry the parent's digests: otherwise the next restore of the chain goes wrong. */
async function checkAgainstParent(options: ScrubOptions, digests: DigestFile, held: Uint8Array, findings: Findings, shaName: string) {
  if (!options.parent) {
    const unheld = held.indexOf(0);
    if (unheld >= 0) findings.add(shaName, `block ${unheld} is in no object of this full backup`);
    return;
  }
  const parentDigests = DigestFile.create(options.scratchDirectory);
  try {
    try {
      await readShaFile(options.store, options.parent, parentDigests);
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      findings.add(shaObjectName(options.parent.prefix), `the parent's sha file cannot be read: ${describeError(error)}`);
      return;
    }
    const ownBatch = Buffer.allocUnsafe(DIGEST_BATCH * DIGEST_BYTES);
    const parentBatch = Buffer.allocUnsafe(DIGEST_BATCH * DIGEST_BYTES);
    for (let first = 0; first < held.length; first += DIGEST_BATCH) {
      const count = Math.min(DIGEST_BATCH, held.length - first);
      const ownListed = digests.read(first, count, ownBatch);
      const parentListed = parentDigests.read(first, count, parentBatch);
      for (let block = first; block < first + count; block += 1) {
        if (held[block]) continue;
        const at = (block - first) * DIGEST_BYTES;
        // A block past the parent's end is new data and must be held by this backup. Compared in
        // place: a Buffer per digest would be 4 Mi short-lived objects for a 64 GiB volume.
        if (at >= parentListed.length || ownListed.compare(parentListed, at, at + DIGEST_BYTES, at, at + DIGEST_BYTES) !== 0) {
          findings.add(shaName, `sha file ${shaName} disagrees with the parent's at block ${block}, which no object of this backup holds`);
          return;
        }
      }
    }
  } finally {
    parentDigests.close();
  }
}
