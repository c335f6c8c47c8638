/** How each quota resource is named in the console. */
export const QUOTA_LABELS: Record<string, { label: string; unit?: string }> = {
  volumes: { label: 'Volumes' },
  snapshots: { label: 'Snapshots' },
  gigabytes: { label: 'Volume and snapshot storage', unit: 'GiB' },
  backups: { label: 'Backups' },
  backup_gigabytes: { label: 'Backup storage', unit: 'GiB' },
  per_volume_gigabytes: { label: 'Largest volume', unit: 'GiB' },
  groups: { label: 'Volume groups' },
  volumes___DEFAULT__: { label: 'Volumes of the default type' },
  gigabytes___DEFAULT__: { label: 'Storage of the default type', unit: 'GiB' },
  snapshots___DEFAULT__: { label: 'Snapshots of the default type' },
};
