'use server';

import { formInput, runAction, type ActionResult } from '../action';
import { AppError, invalid } from '../errors';
import { resetBackupStatus } from './admin';
import { exportRecord, importRecord, recreateFromScan, requestRepositoryScan } from './records';

const PATHS = ['/admin/backups', '/admin/records', '/backups'];

interface RecordInput {
  backup_service: string;
  backup_url: string;
}

/** What an operator pastes or uploads: one record, a list, or a whole project's export. */
function recordsFrom(text: string): RecordInput[] {
  const trimmed = text.trim();
  if (!trimmed) throw invalid('Paste a record or choose a file', { record: 'Paste a record or choose a file' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw invalid('This is not JSON: paste the record exactly as it was exported', { record: 'This is not JSON' });
  }
  const list = Array.isArray(parsed)
    ? parsed
    : parsed && typeof parsed === 'object' && Array.isArray((parsed as { records?: unknown }).records)
      ? (parsed as { records: unknown[] }).records
      : [(parsed as { 'backup-record'?: unknown })?.['backup-record'] ?? parsed];
  return list.map((item, index) => {
    const record = item as Partial<RecordInput>;
    if (typeof record?.backup_service !== 'string' || typeof record?.backup_url !== 'string') {
      throw invalid(`Record ${index + 1} needs backup_service and backup_url`, {
        record: `Record ${index + 1} needs backup_service and backup_url`,
      });
    }
    return { backup_service: record.backup_service, backup_url: record.backup_url };
  });
}

/** Imports one or many records (parents first, as exported), into the chosen project. */
export async function importRecordsAction(_state: ActionResult | null, formData: FormData) {
  return runAction(
    async (actor) => {
      const form = formInput(formData);
      const file = form.get('file');
      const text = file instanceof File && file.size > 0 ? await file.text() : String(form.get('record') ?? '');
      const projectId = String(form.get('projectId') ?? '') || undefined;
      const records = recordsFrom(text);
      const imported: string[] = [];
      for (const [index, record] of records.entries()) {
        try {
          imported.push((await importRecord(actor, { ...record, projectId })).id);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          const prefix = records.length > 1 ? `Record ${index + 1}: ` : '';
          throw new AppError(error.code, `${prefix}${error.message}${imported.length ? ` (${imported.length} imported before it)` : ''}`, {
            record: `${prefix}${error.message}`,
          });
        }
      }
      return { imported };
    },
    {
      revalidate: PATHS,
      message: (r) =>
        `${r.imported.length} record${r.imported.length === 1 ? '' : 's'} imported; each turns available once the repository is checked`,
    },
  );
}

export async function exportRecordAction(id: string) {
  return runAction((actor) => exportRecord(actor, { id }));
}

export async function resetBackupStatusAction(id: string, status: string) {
  return runAction((actor) => resetBackupStatus(actor, { id, status }), {
    revalidate: PATHS,
    message: (r) => (r.verifying ? 'Verifying the repository; the backup turns available if everything is there' : 'Backup reset to error'),
  });
}

export async function requestScanAction() {
  return runAction((actor) => requestRepositoryScan(actor), { revalidate: ['/admin/records'], message: 'Scanning the repository…' });
}

export async function recreateFromScanAction(backupIds: string[], projectId: string) {
  return runAction((actor) => recreateFromScan(actor, { backupIds, projectId }), {
    revalidate: PATHS,
    message: (r) => `${r.created.length} backup record${r.created.length === 1 ? '' : 's'} recreated`,
  });
}
