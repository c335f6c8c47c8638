/** Quota resources and Cinder's defaults (reference §3.3). -1 means unlimited. */
export const QUOTA_DEFAULTS = {
  volumes: 10,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  per_volume_gigabytes: -1,
} as const;

export type QuotaResource = keyof typeof QUOTA_DEFAULTS;
export const QUOTA_RESOURCES = Object.keys(QUOTA_DEFAULTS) as QuotaResource[];

/** Resources that only bound a single request and never count usage. */
export const LIMIT_ONLY_RESOURCES: ReadonlySet<QuotaResource> = new Set(['per_volume_gigabytes']);
