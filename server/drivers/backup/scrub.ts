/**
 * Scrub: proves that a stored backup restores, without restoring it. Every object is read back,
 * decoded and checked against the metadata (length and md5); the sha file is parsed whole and
 * checked against the volume's size and against the data: each block an object of this backup
 * holds must hash to the sha file's digest for that block, and every other block (an incremental's
 * unchanged ones) must carry its parent's digest. One object is in memory at a time.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { decodeObject } from './compression';
import { SHA_BLOCK_SIZE } from './constants';
import { BackupError, describeError, isBackupError } from './errors';
import { DIGEST_BYTES, metadataObjectName, ShaFileParser, shaObjectName, type BackupMetadata, type ShaFile } from './format';
import { Throttle } from './limits';
import { verifyBackup, type StoredBackupLocation } from './maintenance';
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

async function readShaFile(store: BackupStore, location: StoredBackupLocation): Promise<ShaFile> {
  const name = shaObjectName(location.prefix);
  const reader = await store.readObject(location.container, name);
  const parser = new ShaFileParser(reader.length, name);
  for await (const chunk of reader.chunks) parser.push(chunk);
  return parser.finish();
}

function digestAt(sha: ShaFile, block: number): Buffer | null {
  const start = block * DIGEST_BYTES;
  return start + DIGEST_BYTES <= sha.digests.length ? sha.digests.subarray(start, start + DIGEST_BYTES) : null;
}

export async function scrubBackup(options: ScrubOptions): Promise<ScrubResult> {
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
      sha = await readShaFile(store, { store, container, prefix });
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
    const count = sha.digests.length / DIGEST_BYTES;
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
    const md5 = createHash('md5').update(decoded).digest('hex');
    if (md5 !== object.md5) {
      findings.add(
        object.name,
        `object ${object.name} has md5 ${md5}; the metadata records ${object.md5} (its bytes changed or it belongs to another backup)`,
      );
      continue;
    }
    if (sha && object.offset % blockSize === 0) {
      for (let at = 0; at < decoded.length; at += blockSize) {
        const block = (object.offset + at) / blockSize;
        held[block] = 1;
        const expected = digestAt(sha, block);
        const actual = oneShotHash('sha256', decoded.subarray(at, Math.min(decoded.length, at + blockSize)), 'buffer');
        if (expected && !expected.equals(actual)) {
          findings.add(shaName, `sha file ${shaName} does not match the data of ${object.name} at block ${block}`);
          break;
        }
      }
    }
    options.onProgress?.({ bytesChecked, totalBytes, objectsChecked });
  }

  if (sha) await checkAgainstParent(options, sha, held, findings, shaName);
  return result(objectsChecked, bytesChecked);
}

/** An incremental's unchanged blocks carry the parent's digests: otherwise the next restore of the chain goes wrong. */
async function checkAgainstParent(options: ScrubOptions, sha: ShaFile, held: Uint8Array, findings: Findings, shaName: string) {
  if (!options.parent) {
    const unheld = held.findIndex((value) => value === 0);
    if (unheld >= 0) findings.add(shaName, `block ${unheld} is in no object of this full backup`);
    return;
  }
  let parentSha: ShaFile;
  try {
    parentSha = await readShaFile(options.store, options.parent);
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    findings.add(shaObjectName(options.parent.prefix), `the parent's sha file cannot be read: ${describeError(error)}`);
    return;
  }
  for (let block = 0; block < held.length; block += 1) {
    if (held[block]) continue;
    const own = digestAt(sha, block);
    const parents = digestAt(parentSha, block);
    // A block past the parent's end is new data and must be held by this backup.
    if (!parents || !own?.equals(parents)) {
      findings.add(shaName, `sha file ${shaName} disagrees with the parent's at block ${block}, which no object of this backup holds`);
      return;
    }
  }
}
