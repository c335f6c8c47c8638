'use server';

import { formFields, runAction, type ActionResult } from '../action';
import { AppError, invalid } from '../errors';
import { cancelIntegrityChecks, requestRestoreTest, requestScrub, setIntegritySchedule } from './integrity-service';
import {
  cancelBackup,
  createBackup,
  deleteBackup,
  deleteBackups,
  deleteWithMerge,
  forceDeleteBackup,
  restoreBackup,
  updateBackup,
} from './service';

type FormState = ActionResult | null;
const PATHS = ['/backups', '/volumes', '/snapshots', '/admin/backups', '/admin/volumes'];

/** `key=value` lines from a textarea, as a metadata object. */
function metadataFromText(text: unknown): Record<string, string> | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  const metadata: Record<string, string> = {};
  for (const [index, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw invalid(`Line ${index + 1} is not key=value`, { metadata: `Line ${index + 1} is not key=value` });
    metadata[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return metadata;
}

/** Field errors from the service speak of `metadata.<key>`; the form has one metadata field. */
function withMetadataField<T>(call: () => Promise<T>): Promise<T> {
  return call().catch((error) => {
    if (error instanceof AppError && error.fieldErrors) {
      const entries = Object.entries(error.fieldErrors).map(([k, v]) => [k.startsWith('metadata') ? 'metadata' : k, v]);
      throw new AppError(error.code, error.message, Object.fromEntries(entries));
    }
    throw error;
  });
}

export async function createBackupAction(_state: FormState, formData: FormData) {
  return runAction(
    (actor) =>
      withMetadataField(() => {
        const fields = formFields(formData, ['incremental', 'force']);
        return createBackup(actor, { ...fields, metadata: metadataFromText(fields.metadata) });
      }),
    { revalidate: PATHS, message: (b) => `Backup ${b.displayName ?? b.id} started` },
  );
}

export async function updateBackupAction(_state: FormState, formData: FormData) {
  return runAction(
    (actor) =>
      withMetadataField(() => {
        const fields = formFields(formData);
        return updateBackup(actor, {
          ...fields,
          name: fields.name ?? null,
          description: fields.description ?? null,
          metadata: metadataFromText(fields.metadata ?? '') ?? {},
        });
      }),
    { revalidate: PATHS, message: 'Backup updated' },
  );
}

export async function restoreBackupAction(_state: FormState, formData: FormData) {
  return runAction(
    (actor) => {
      const fields = formFields(formData);
      return restoreBackup(actor, { id: fields.id, volumeId: fields.target === 'new' ? null : fields.target, name: fields.name });
    },
    { revalidate: PATHS, message: (r) => `Restoring to volume ${r.volumeName ?? r.volumeId}` },
  );
}

export async function deleteBackupAction(id: string) {
  return runAction((actor) => deleteBackup(actor, { id }), { revalidate: PATHS });
}

/** Delete any backup: one with incrementals on it is merged into them first (a job), one without is simply deleted. */
export async function deleteWithMergeAction(id: string) {
  return runAction((actor) => deleteWithMerge(actor, { id }), {
    revalidate: PATHS,
    message: 'Merging into its incrementals, then deleting…',
  });
}

/** Bulk delete: each backup on its own, so one refusal does not stop the others. */
export async function deleteBackupsAction(ids: string[]) {
  return runAction((actor) => deleteBackups(actor, { ids }), { revalidate: PATHS });
}

export async function cancelBackupAction(id: string) {
  return runAction((actor) => cancelBackup(actor, { id }), { revalidate: PATHS, message: 'Cancelling…' });
}

export async function forceDeleteBackupAction(id: string) {
  return runAction((actor) => forceDeleteBackup(actor, { id }), { revalidate: PATHS, message: 'Force-deleting…' });
}

/** Verify (scrub) a backup now: an admin, or a member of its project. */
export async function requestScrubAction(id: string) {
  return runAction((actor) => requestScrub(actor, { id }), {
    revalidate: PATHS,
    message: (r) => (r.alreadyLive ? 'A verify of this backup is already under way' : 'Verifying the backup…'),
  });
}

/** Test a restore of a backup now, into scratch space no tenant sees. */
export async function requestRestoreTestAction(id: string) {
  return runAction((actor) => requestRestoreTest(actor, { id }), {
    revalidate: PATHS,
    message: (r) => (r.alreadyLive ? 'A restore test of this backup is already under way' : 'Testing a restore of the backup…'),
  });
}

/** Cancels a backup's running verify and restore test. */
export async function cancelIntegrityChecksAction(id: string) {
  return runAction((actor) => cancelIntegrityChecks(actor, { id }), { revalidate: PATHS, message: 'Cancelling the checks…' });
}

/** The admin's integrity schedule (fields `scrubEveryDays`, `restoreTestEveryDays`; empty: off). */
export async function setIntegrityScheduleAction(_state: FormState, formData: FormData) {
  return runAction((actor) => setIntegritySchedule(actor, formFields(formData)), {
    revalidate: PATHS,
    message: 'Integrity schedule saved',
  });
}
