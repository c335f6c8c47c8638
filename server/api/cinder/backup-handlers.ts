import { resetBackupStatus } from '../../backups/admin';
import { exportRecord, importRecord } from '../../backups/records';
import { createBackup, deleteBackup, deleteWithMerge, forceDeleteBackup, restoreBackup, updateBackup } from '../../backups/service';
import { AppError } from '../../errors';
import { listBackupsRest, showBackup } from './backup-queries';
import { isUuidLike } from './rest-list';
import { createSchema, importSchema, mergeDeleteSchema, resetStatusSchema, restoreSchema, updateSchema } from './backup-schemas';
import { empty, json, readJson, type CinderContext } from './context';
import { isTrueString, validateBody } from './json-schema';
import { requireVersion } from './microversions';
import { backupDetail, backupSummary } from './views';

/**
 * Block Storage v3 backup routes (reference §2.1): each one parses and validates the body for the
 * negotiated microversion, makes one service call (which authorizes) and renders Cinder's view.
 */
type Body = Record<string, unknown>;

const viewOptions = (c: CinderContext) => ({ version: c.version, links: c.links, showProjectAttributes: c.actor.isAdmin });

/** A path id that cannot be a backup's is simply not found (never a database error). */
function backupId(c: CinderContext): string {
  const id = c.params.id;
  if (!isUuidLike(id)) throw new AppError('not_found', `Backup ${id} could not be found.`);
  return id;
}

export function listBackupsHandler(detail: boolean) {
  return async (c: CinderContext) => {
    const result = await listBackupsRest({ actor: c.actor, projectId: c.projectId, version: c.version, query: c.query, detail });
    const body: Record<string, unknown> = {
      backups: result.rows.map((b) => (detail ? backupDetail(b, viewOptions(c)) : backupSummary(b, c))),
    };
    if (result.count !== undefined) body.count = result.count;
    if (result.nextMarker) {
      body.backups_links = [{ rel: 'next', href: c.links.next(detail ? 'backups/detail' : 'backups', c.query, result.nextMarker) }];
    }
    return json(c, body);
  };
}

export async function showBackupHandler(c: CinderContext) {
  const backup = await showBackup(c.actor, backupId(c));
  return json(c, { backup: backupDetail(backup, viewOptions(c)) });
}

export async function createBackupHandler(c: CinderContext) {
  const body = await readJson(c.request);
  validateBody(createSchema(c.version), body);
  const b = (body as Body).backup as Body;
  const backup = await createBackup(c.actor, {
    volumeId: b.volume_id,
    snapshotId: b.snapshot_id ?? null,
    name: b.name,
    description: b.description,
    container: b.container,
    incremental: isTrueString(b.incremental),
    force: isTrueString(b.force),
    metadata: b.metadata ?? null,
    availabilityZone: b.availability_zone ?? null,
    // REST follows Cinder: what an admin creates belongs to the token's project (design.md).
    projectId: c.projectId,
  });
  return json(c, { backup: backupSummary(backup, c) }, 202);
}

export async function updateBackupHandler(c: CinderContext) {
  requireVersion(c.version, '3.9');
  const id = backupId(c);
  const body = await readJson(c.request);
  validateBody(updateSchema(c.version), body);
  const b = ((body as Body).backup ?? {}) as Body;
  const backup = await updateBackup(c.actor, { id, name: b.name, description: b.description, metadata: b.metadata });
  return json(c, { backup: backupSummary(backup, c) });
}

export async function deleteBackupHandler(c: CinderContext) {
  await deleteBackup(c.actor, { id: backupId(c) });
  return empty(c);
}

export async function restoreBackupHandler(c: CinderContext) {
  const id = backupId(c);
  const body = await readJson(c.request);
  validateBody(restoreSchema, body);
  const r = ((body as Body).restore ?? {}) as Body;
  try {
    const restored = await restoreBackup(c.actor, { id, volumeId: r.volume_id ?? null, name: r.name ?? null });
    return json(c, { restore: { backup_id: restored.backupId, volume_id: restored.volumeId, volume_name: restored.volumeName } }, 202);
  } catch (error) {
    // Unlike create, a restore's quota message has no exception-class prefix (reference §2.6).
    if (error instanceof AppError && error.code === 'over_quota') throw new AppError('over_quota', error.message.replace(/^\w+: /, ''));
    throw error;
  }
}

export async function backupActionHandler(c: CinderContext) {
  const id = backupId(c);
  const body = await readJson(c.request);
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length !== 1) {
    throw new AppError('invalid', 'Malformed request body: too many body keys');
  }
  const [action] = Object.keys(body);
  if (action === 'os-reset_status') {
    validateBody(resetStatusSchema, body);
    await resetBackupStatus(c.actor, { id, status: ((body as Body)['os-reset_status'] as Body).status });
    return empty(c);
  }
  if (action === 'os-merge-delete') {
    // Ours (docs/api.md): deletes a backup even with incrementals on it, merging it into its children.
    validateBody(mergeDeleteSchema, body);
    await deleteWithMerge(c.actor, { id });
    return empty(c);
  }
  if (action === 'os-force_delete') {
    await forceDeleteBackup(c.actor, { id });
    return empty(c);
  }
  throw new AppError('invalid', `There is no such action: ${action}`);
}

export async function exportRecordHandler(c: CinderContext) {
  const record = await exportRecord(c.actor, { id: backupId(c) });
  return json(c, { 'backup-record': { backup_service: record.backup_service, backup_url: record.backup_url } });
}

export async function importRecordHandler(c: CinderContext) {
  const body = await readJson(c.request);
  validateBody(importSchema, body);
  const record = (body as Body)['backup-record'] as Body;
  const row = await importRecord(c.actor, { backup_service: record.backup_service, backup_url: record.backup_url, projectId: c.projectId });
  return json(c, { backup: backupSummary({ id: row.id, displayName: null }, c) }, 201);
}
