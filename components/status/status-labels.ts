import type { ProtectionState } from '@/server/dashboard/protection';
import type {
  attachStatus,
  backupIntegrity,
  backupStatus,
  jobStatus,
  policyRunStatus,
  resourceBackupStatus,
  restoreTestOutcome,
  snapshotStatus,
  volumeStatus,
} from '@/server/db/schema';

type ValuesOf<E extends { enumValues: readonly string[] }> = E['enumValues'][number];

/**
 * Every status the console names: a volume's, its backup work's and its attachments', a snapshot's, a
 * backup's (and what is known of its objects), a job's, a policy run's, a restore test's, a volume's protection.
 */
export type KnownStatus =
  | ValuesOf<typeof volumeStatus>
  | ValuesOf<typeof resourceBackupStatus>
  | ValuesOf<typeof attachStatus>
  | ValuesOf<typeof snapshotStatus>
  | ValuesOf<typeof backupStatus>
  | ValuesOf<typeof backupIntegrity>
  | ValuesOf<typeof jobStatus>
  | ValuesOf<typeof policyRunStatus>
  | ValuesOf<typeof restoreTestOutcome>
  | ProtectionState;

/**
 * The console's one name for each state, used by every badge, filter option, event line and dashboard
 * panel. The raw status stays in `data-status` and in the title, for people who script against the
 * API (which keeps Cinder's strings). The same raw string means the same thing on every resource here,
 * so one table serves them all; the type makes a new enum value fail the type check until it is named.
 */
const LABELS = {
  // A volume's own lifecycle (and the snapshot and backup states that share its words).
  creating: 'Creating',
  available: 'Available',
  'in-use': 'In use',
  attaching: 'Attaching',
  detaching: 'Detaching',
  extending: 'Extending',
  deleting: 'Deleting',
  deleted: 'Deleted',
  error: 'Error',
  error_deleting: 'Error deleting',
  error_extending: 'Error extending',
  maintenance: 'Maintenance',
  reserved: 'Reserved',
  'awaiting-transfer': 'Awaiting transfer',
  downloading: 'Writing image',
  uploading: 'Reading image',
  retyping: 'Retyping',
  managing: 'Managing',
  error_managing: 'Error managing',
  updating: 'Updating',
  unmanaging: 'Unmanaging',
  restoring: 'Restoring',
  // Backup work on a volume or snapshot.
  'backing-up': 'Backing up',
  'error_backing-up': 'Error backing up',
  'restoring-backup': 'Restoring backup',
  error_restoring: 'Error restoring',
  // Attachments.
  attached: 'Attached',
  detached: 'Detached',
  error_attaching: 'Error attaching',
  error_detaching: 'Error detaching',
  // What is known of a backup's objects.
  unchecked: 'Not verified',
  verified: 'Verified',
  damaged: 'Damaged',
  // Jobs and policy runs.
  queued: 'Queued',
  running: 'Running',
  started: 'Started',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
  // Restore tests.
  passed: 'Passed',
  // A volume's protection on the dashboards and lists.
  protected: 'Protected',
  unprotected: 'Unprotected',
  failing: 'Failing',
} as const satisfies Record<KnownStatus, string>;

const byStatus: Readonly<Record<string, string>> = LABELS;

/** A status in the console's words; a status the table does not know (an account's `enabled`, a role) reads as a sentence. */
export function statusLabel(status: string): string {
  const known = Object.hasOwn(byStatus, status) ? byStatus[status] : undefined;
  if (known) return known;
  const words = status.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The hover text of a status: why it is in it (when known), then the raw value the API returns. */
export function statusTitle(status: string, reason?: string | null): string {
  const raw = `API status: ${status}`;
  return reason ? `${reason}\n${raw}` : raw;
}

/** A status filter's options: the raw value is what the URL and the API carry, the label what people read. */
export function statusOptions(statuses: readonly string[]): { value: string; label: string }[] {
  return statuses.map((value) => ({ value, label: statusLabel(value) }));
}
