import { AppError } from '../../errors';

/**
 * Block Storage microversions (reference §0): `OpenStack-API-Version: volume 3.X`, 3.0 when absent,
 * `latest` for the maximum. 3.71 is Cinder's maximum; 3.72 is ours (design.md: volumes and
 * snapshots show `backup_status` as a field of its own).
 */
export const MIN_VERSION = '3.0';
export const MAX_VERSION = '3.72';
export const VERSION_HEADER = 'OpenStack-API-Version';
export const SERVICE_TYPE = 'volume';

export class Microversion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(text: string): Microversion | null {
    const match = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(text.trim());
    return match ? new Microversion(Number(match[1]), Number(match[2])) : null;
  }

  compare(other: Microversion | string): number {
    const o = typeof other === 'string' ? Microversion.parse(other)! : other;
    return this.major - o.major || this.minor - o.minor;
  }

  /** At least `version`: the question every view and schema asks. */
  atLeast(version: string): boolean {
    return this.compare(version) >= 0;
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

const MIN = Microversion.parse(MIN_VERSION)!;
const MAX = Microversion.parse(MAX_VERSION)!;

/** Raised for a version outside the range: 406, with Cinder's message. */
export class VersionNotAcceptable extends Error {
  constructor(readonly requested: string) {
    super(`Version ${requested} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`);
  }
}

/**
 * The version a request asks for. The header may name several services (`compute 2.1, volume 3.5`);
 * only `volume` counts. A malformed version is a 400, one outside the range a 406.
 */
export function negotiate(headers: Headers): Microversion {
  const raw = headers.get(VERSION_HEADER);
  if (!raw) return MIN;
  let requested: string | undefined;
  for (const part of raw.split(',')) {
    const [service, ...rest] = part.trim().split(/\s+/);
    if (service?.toLowerCase() === SERVICE_TYPE) requested = rest.join(' ');
  }
  if (requested === undefined) return MIN;
  if (requested.toLowerCase() === 'latest') return MAX;
  const version = Microversion.parse(requested);
  if (!version) {
    throw new AppError('invalid', `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  if (version.compare(MIN) < 0 || version.compare(MAX) > 0) throw new VersionNotAcceptable(version.toString());
  return version;
}

/** Echoed on every response, errors included. */
export function versionHeaders(version: Microversion | null): Record<string, string> {
  return version ? { [VERSION_HEADER]: `${SERVICE_TYPE} ${version}`, Vary: VERSION_HEADER } : { Vary: VERSION_HEADER };
}

/** 404 for a method that does not exist at the requested version (e.g. PUT below 3.9). */
export function requireVersion(version: Microversion, min: string): void {
  if (!version.atLeast(min)) throw new AppError('not_found', `API version ${version} is not supported on this method.`);
}
