/** Quota resources and Cinder's defaults (reference §3.3). -1 means unlimited. */
export const QUOTA_DEFAULTS = {
  volumes: 10,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  per_volume_gigabytes: -1,
  /** Cinder's group quota: we have no volume groups, so nothing ever counts against it. */
  groups: 10,
  // Cinder's per-volume-type limits (`<resource>_<type name>`) for the one type there is.
  volumes___DEFAULT__: -1,
  gigabytes___DEFAULT__: -1,
  snapshots___DEFAULT__: -1,
} as const;

export type QuotaResource = keyof typeof QUOTA_DEFAULTS;
export const QUOTA_RESOURCES = Object.keys(QUOTA_DEFAULTS) as QuotaResource[];

/** Resources that only bound a single request and never count usage. */
export const LIMIT_ONLY_RESOURCES: ReadonlySet<QuotaResource> = new Set(['per_volume_gigabytes']);

/** The volume type every volume has (Cinder's `__DEFAULT__`). */
export const DEFAULT_VOLUME_TYPE = '__DEFAULT__';

/**
 * A per-type limit and the resource it narrows. Every volume is of the default type, so a per-type
 * resource's usage is its parent's; its limit is checked alongside the parent's whenever usage grows.
 */
export const TYPE_QUOTA_PARENTS: Partial<Record<QuotaResource, QuotaResource>> = {
  volumes___DEFAULT__: 'volumes',
  gigabytes___DEFAULT__: 'gigabytes',
  snapshots___DEFAULT__: 'snapshots',
};

/** The per-type limit of a counted resource, if it has one. */
export function typeQuotaOf(resource: QuotaResource): QuotaResource | undefined {
  return (Object.keys(TYPE_QUOTA_PARENTS) as QuotaResource[]).find((typed) => TYPE_QUOTA_PARENTS[typed] === resource);
}
