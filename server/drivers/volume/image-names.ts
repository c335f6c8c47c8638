import { VolumeDriverError } from './errors';

export type ImageKind = 'volume' | 'snapshot';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const IMAGE_FILE = /^(volume|snapshot)-([A-Za-z0-9][A-Za-z0-9_-]{0,127})\.img$/;

export function assertSafeId(kind: ImageKind, id: string): void {
  if (!SAFE_ID.test(id)) {
    throw new VolumeDriverError(
      'invalid_id',
      `"${id}" is not a valid ${kind} id: use letters, digits, "-" and "_" only (at most 128 characters).`,
    );
  }
}

export function imageFileName(kind: ImageKind, id: string): string {
  assertSafeId(kind, id);
  return `${kind}-${id}.img`;
}

export function parseImageFileName(name: string): { kind: ImageKind; id: string } | null {
  const match = IMAGE_FILE.exec(name);
  return match ? { kind: match[1] as ImageKind, id: match[2] } : null;
}

const TEMPORARY_PREFIX = '.tmp-';

export function temporaryFileName(finalName: string, nonce: string): string {
  return `${TEMPORARY_PREFIX}${nonce}-${finalName}`;
}

export function isTemporaryFileName(name: string): boolean {
  return name.startsWith(TEMPORARY_PREFIX);
}
