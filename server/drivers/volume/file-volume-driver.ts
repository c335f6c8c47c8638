import { randomUUID } from 'node:crypto';
import { access, constants, link, lstat, mkdir, open, readdir, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { measureCapacity, decideProvision, type CapacityReport, type ProvisionDecision } from './capacity';
import { sha256OfHandle } from './checksum';
import { CHUNK_BYTES } from './chunks';
import { resolveFileVolumeDriverConfig, type FileVolumeDriverConfig } from './config';
import { VolumeDriverError, errnoCode, isOutOfSpace } from './errors';
import { closeQuietly, openExisting, removeFilesOlderThan, syncDirectory } from './files';
import { imageFileName, isTemporaryFileName, parseImageFileName, temporaryFileName, type ImageKind } from './image-names';
import { forgetVolumeTracking } from './retained-copies';
import { sparseCopy } from './sparse-copy';
import type { TransferOptions } from './transfer';
import { formatBytes, gibToBytes } from './units';
import type { CopyOptions, ImageInfo, StoredImage, VolumeDriver } from './volume-driver';
import { writeImageToVolume, type WriteImageResult } from './write-image';

const IMAGE_MODE = 0o640;

/** Each volume is a sparse raw image file `volume-<id>.img`; snapshots are `snapshot-<id>.img`. */
export class FileVolumeDriver implements VolumeDriver {
  private readonly config: FileVolumeDriverConfig;

  constructor(config: FileVolumeDriverConfig) {
    this.config = resolveFileVolumeDriverConfig(config);
  }

  async checkSetup(): Promise<void> {
    await mkdir(this.config.volumeDir, { recursive: true });
    await access(this.config.volumeDir, constants.W_OK);
    const probe = this.temporaryPathFor('probe');
    await open(probe, 'wx', IMAGE_MODE).then(closeQuietly);
    try {
      await sparseCopy(probe, `${probe}.copy`, { description: 'checking that cp can copy sparse files' });
    } finally {
      await rm(probe, { force: true });
      await rm(`${probe}.copy`, { force: true });
    }
  }

  pathOf(volumeId: string): string {
    return this.imagePath('volume', volumeId);
  }

  snapshotPathOf(snapshotId: string): string {
    return this.imagePath('snapshot', snapshotId);
  }

  inspect(volumeId: string): Promise<ImageInfo> {
    return this.inspectImage('volume', volumeId);
  }

  inspectSnapshot(snapshotId: string): Promise<ImageInfo> {
    return this.inspectImage('snapshot', snapshotId);
  }

  async createEmpty(volumeId: string, sizeGiB: number): Promise<void> {
    const target = this.pathOf(volumeId);
    const sizeBytes = validSizeBytes(sizeGiB);
    await this.ensureVolumeDir();
    await this.assertCanProvision(sizeBytes, `creating volume ${volumeId}`);
    let handle;
    try {
      handle = await open(target, 'wx', IMAGE_MODE);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') throw alreadyExists('volume', volumeId);
      throw error;
    }
    try {
      await handle.truncate(sizeBytes);
      await handle.sync();
    } catch (error) {
      await closeQuietly(handle);
      await rm(target, { force: true });
      throw error;
    }
    await closeQuietly(handle);
    await syncDirectory(this.config.volumeDir);
  }

  async createFromSnapshot(volumeId: string, snapshotId: string, sizeGiB: number, options: CopyOptions = {}): Promise<void> {
    const target = this.pathOf(volumeId);
    const sizeBytes = validSizeBytes(sizeGiB);
    const snapshot = await this.inspectSnapshot(snapshotId);
    if (sizeBytes < snapshot.sizeBytes) {
      throw new VolumeDriverError(
        'invalid_size',
        `Volume ${volumeId} cannot be ${formatBytes(sizeBytes)}: snapshot ${snapshotId} is ${formatBytes(snapshot.sizeBytes)}.`,
      );
    }
    await this.assertAbsent('volume', volumeId);
    await this.assertCanProvision(sizeBytes, `creating volume ${volumeId} from snapshot ${snapshotId}`);
    await this.publishCopy(snapshot.path, target, sizeBytes, {
      ...options,
      description: `creating volume ${volumeId} from snapshot ${snapshotId}`,
      onExists: () => alreadyExists('volume', volumeId),
    });
  }

  async snapshot(volumeId: string, snapshotId: string, options: CopyOptions = {}): Promise<void> {
    const target = this.snapshotPathOf(snapshotId);
    const volume = await this.inspect(volumeId);
    await this.assertAbsent('snapshot', snapshotId);
    await this.assertCanProvision(volume.sizeBytes, `creating snapshot ${snapshotId} of volume ${volumeId}`);
    await this.publishCopy(volume.path, target, volume.sizeBytes, {
      ...options,
      description: `creating snapshot ${snapshotId} of volume ${volumeId}`,
      onExists: () => alreadyExists('snapshot', snapshotId),
    });
  }

  async extend(volumeId: string, newSizeGiB: number): Promise<void> {
    const newSizeBytes = validSizeBytes(newSizeGiB);
    const volume = await this.inspect(volumeId);
    if (newSizeBytes < volume.sizeBytes) {
      throw new VolumeDriverError(
        'invalid_size',
        `Volume ${volumeId} is ${formatBytes(volume.sizeBytes)} and can only grow; ${formatBytes(newSizeBytes)} is smaller.`,
      );
    }
    if (newSizeBytes === volume.sizeBytes) return;
    await this.assertCanProvision(newSizeBytes - volume.sizeBytes, `extending volume ${volumeId}`);
    await truncate(volume.path, newSizeBytes).catch((error: unknown) => {
      throw translateWriteError(error, `extending volume ${volumeId}`);
    });
  }

  async delete(volumeId: string): Promise<void> {
    await rm(this.pathOf(volumeId), { force: true });
    // Copies kept for changed-block tracking are of no use once their volume is gone.
    await forgetVolumeTracking(this.config.volumeDir, volumeId);
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    await rm(this.snapshotPathOf(snapshotId), { force: true });
  }

  async capacity(): Promise<CapacityReport> {
    await this.ensureVolumeDir();
    return measureCapacity(this.config.volumeDir, this.config.overSubscriptionRatio);
  }

  async canProvision(extraGiB: number): Promise<ProvisionDecision> {
    return decideProvision(await this.capacity(), validSizeBytes(extraGiB));
  }

  writeImage(volumeId: string, sourcePath: string, options: TransferOptions = {}): Promise<WriteImageResult> {
    return writeImageToVolume(volumeId, this.pathOf(volumeId), sourcePath, options);
  }

  async readStream(volumeId: string, options: CopyOptions = {}): Promise<Readable> {
    const handle = await openExisting(this.pathOf(volumeId), 'r', notFoundMessage('volume', volumeId));
    const stream = handle.createReadStream({ highWaterMark: CHUNK_BYTES });
    return options.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async sha256(volumeId: string, options: TransferOptions = {}): Promise<string> {
    const handle = await openExisting(this.pathOf(volumeId), 'r', notFoundMessage('volume', volumeId));
    try {
      return await sha256OfHandle(handle, `Computing the SHA-256 of volume ${volumeId}`, options);
    } finally {
      await closeQuietly(handle);
    }
  }

  removeAbandonedCopies(olderThanMs: number, now = Date.now()): Promise<string[]> {
    return removeFilesOlderThan(this.config.volumeDir, isTemporaryFileName, olderThanMs, now);
  }

  async listImages(): Promise<StoredImage[]> {
    await this.ensureVolumeDir();
    const images: StoredImage[] = [];
    for (const fileName of await readdir(this.config.volumeDir)) {
      const image = parseImageFileName(fileName);
      if (!image) continue;
      const stats = await lstat(path.join(this.config.volumeDir, fileName)).catch(() => null);
      if (!stats?.isFile()) continue;
      images.push({ ...image, fileName, allocatedBytes: stats.blocks * 512, modifiedAt: stats.mtimeMs });
    }
    return images;
  }

  async removeImage(image: Pick<StoredImage, 'kind' | 'fileName'>): Promise<void> {
    if (!parseImageFileName(image.fileName)) throw new Error(`${image.fileName} is not an image file name`);
    await rm(path.join(this.config.volumeDir, image.fileName), { force: true });
  }

  private imagePath(kind: ImageKind, id: string): string {
    return path.join(this.config.volumeDir, imageFileName(kind, id));
  }

  private temporaryPathFor(finalName: string): string {
    return path.join(this.config.volumeDir, temporaryFileName(finalName, randomUUID()));
  }

  private async ensureVolumeDir(): Promise<void> {
    await mkdir(this.config.volumeDir, { recursive: true });
  }

  private async inspectImage(kind: ImageKind, id: string): Promise<ImageInfo> {
    const imagePath = this.imagePath(kind, id);
    try {
      const stats = await lstat(imagePath);
      return { path: imagePath, sizeBytes: stats.size, allocatedBytes: stats.blocks * 512 };
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        throw new VolumeDriverError('not_found', notFoundMessage(kind, id), { cause: error });
      }
      throw error;
    }
  }

  private async assertAbsent(kind: ImageKind, id: string): Promise<void> {
    try {
      await lstat(this.imagePath(kind, id));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return;
      throw error;
    }
    throw alreadyExists(kind, id);
  }

  private async assertCanProvision(extraBytes: number, what: string): Promise<void> {
    const decision = decideProvision(await this.capacity(), extraBytes);
    if (!decision.ok) {
      throw new VolumeDriverError('capacity', `Refused ${what}. ${decision.reason}`);
    }
  }

  /**
   * Copies to a hidden temporary file, grows it to its final size, then links it under its final
   * name (which fails if that name exists), so a half-made image is never visible.
   */
  private async publishCopy(
    sourcePath: string,
    targetPath: string,
    sizeBytes: number,
    options: CopyOptions & { description: string; onExists: () => VolumeDriverError },
  ): Promise<void> {
    const temporary = this.temporaryPathFor(path.basename(targetPath));
    try {
      await sparseCopy(sourcePath, temporary, options);
      await truncate(temporary, sizeBytes).catch((error: unknown) => {
        throw translateWriteError(error, options.description);
      });
      await flushFile(temporary, options.description);
      await link(temporary, targetPath).catch((error: unknown) => {
        throw errnoCode(error) === 'EEXIST' ? options.onExists() : error;
      });
      await syncDirectory(this.config.volumeDir);
    } finally {
      await rm(temporary, { force: true });
    }
  }
}

function validSizeBytes(sizeGiB: number): number {
  if (!Number.isSafeInteger(sizeGiB) || sizeGiB < 1) {
    throw new VolumeDriverError('invalid_size', `A size must be a whole number of GiB, at least 1 (got ${sizeGiB}).`);
  }
  return gibToBytes(sizeGiB);
}

function notFoundMessage(kind: ImageKind, id: string): string {
  return `The ${kind} ${id} does not exist on this volume backend.`;
}

function alreadyExists(kind: ImageKind, id: string): VolumeDriverError {
  return new VolumeDriverError('already_exists', `The ${kind} ${id} already exists on this volume backend.`);
}

function translateWriteError(error: unknown, what: string): unknown {
  if (!isOutOfSpace(error)) return error;
  return new VolumeDriverError('no_space', `The volume backend ran out of space while ${what}.`, { cause: error });
}

async function flushFile(filePath: string, what: string): Promise<void> {
  const handle = await open(filePath, 'r+');
  try {
    await handle.sync();
  } catch (error) {
    throw translateWriteError(error, what);
  } finally {
    await closeQuietly(handle);
  }
}
