import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Actor } from '../../server/auth/actor';
import type { Executor } from '../../server/db/client';
import { volumeStatus, volumes } from '../../server/db/schema';
import { AppError } from '../../server/errors';
import { createSnapshot } from '../../server/snapshots/service';
import {
  BACKUP_STATUSES,
  checkVolumeOperation,
  type VolumeBackupStatus,
  type VolumeOperation,
  type VolumeStatus,
} from '../../server/volumes/operations';
import {
  attachVolume,
  commitUpload,
  deleteVolume,
  detachVolume,
  extendVolume,
  requestChecksum,
  requestExport,
} from '../../server/volumes/service';
import { seedProject } from '../support/identities';
import { startHarness, type Harness } from '../support/harness';

/**
 * The allowed-operations matrix (status × backup_status × operation), written out here from
 * design.md independently of server/volumes/operations.ts, and checked against the real service
 * calls: every combination runs in a transaction that is rolled back.
 */
const NEEDS_STATUS: Record<VolumeOperation, VolumeStatus[]> = {
  delete: ['available', 'error', 'error_extending', 'error_managing'],
  extend: ['available'],
  attach: ['available'],
  detach: ['in-use'],
  snapshot: ['available'],
  snapshot_force: ['available', 'in-use'],
  upload: ['available'],
  download: ['available', 'in-use'],
  checksum: ['available', 'in-use'],
  backup: ['available', 'in-use'],
  restore_into: ['available'],
};
const BLOCKED_BY: Record<VolumeBackupStatus, VolumeOperation[]> = {
  // backing-up: attach, detach and extend still work; delete, a second backup, upload and restore-into are refused.
  'backing-up': ['delete', 'backup', 'upload', 'restore_into'],
  // error_backing-up is informational: it blocks nothing.
  'error_backing-up': [],
  // restoring-backup blocks every other operation on the volume.
  'restoring-backup': [
    'delete',
    'extend',
    'attach',
    'detach',
    'snapshot',
    'snapshot_force',
    'upload',
    'download',
    'checksum',
    'backup',
    'restore_into',
  ],
  // error_restoring blocks attach, snapshot, backup and extend until a reset or a successful restore.
  error_restoring: ['attach', 'snapshot', 'snapshot_force', 'backup', 'extend'],
};

function expected(operation: VolumeOperation, status: VolumeStatus, backupStatus: VolumeBackupStatus | null): boolean {
  if (backupStatus && BLOCKED_BY[backupStatus].includes(operation)) return false;
  return NEEDS_STATUS[operation].includes(status);
}

const SERVICE_CALLS: Partial<Record<VolumeOperation, (actor: Actor, id: string, tx: Executor) => Promise<unknown>>> = {
  delete: (a, id, tx) => deleteVolume(a, { id }, tx),
  extend: (a, id, tx) => extendVolume(a, { id, newSize: 2 }, tx),
  attach: (a, id, tx) => attachVolume(a, { id, instanceName: 'vm-1' }, tx),
  detach: (a, id, tx) => detachVolume(a, { id }, tx),
  snapshot: (a, id, tx) => createSnapshot(a, { volumeId: id }, tx),
  snapshot_force: (a, id, tx) => createSnapshot(a, { volumeId: id, force: true }, tx),
  upload: (a, id, tx) => commitUpload(a, { id, stagedId: randomUUID(), bytes: 1 }, tx),
  download: (a, id, tx) => requestExport(a, { id }, tx),
  checksum: (a, id, tx) => requestChecksum(a, { id }, tx),
};

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

class Rollback extends Error {}

test('allowed-operations matrix: status × backup_status × operation, enforced by the service layer', async () => {
  const { project, actor } = await seedProject('member');
  const backupStatuses: (VolumeBackupStatus | null)[] = [null, ...BACKUP_STATUSES];
  const mismatches: string[] = [];
  let cases = 0;
  for (const [operation, call] of Object.entries(SERVICE_CALLS) as [
    VolumeOperation,
    NonNullable<(typeof SERVICE_CALLS)[VolumeOperation]>,
  ][]) {
    for (const status of volumeStatus.enumValues) {
      for (const backupStatus of backupStatuses) {
        cases += 1;
        const want = expected(operation, status, backupStatus);
        assert.equal(checkVolumeOperation(operation, { status, backupStatus }).ok, want, `matrix ${operation} ${status}/${backupStatus}`);
        let outcome = 'allowed' as 'allowed' | 'refused';
        let message = '';
        await h.database.handle.db
          .transaction(async (tx) => {
            const [volume] = await tx
              .insert(volumes)
              .values({
                projectId: project.id,
                userId: actor.userId,
                size: 1,
                status,
                backupStatus,
                host: 'test-host@file',
                attachStatus: status === 'in-use' ? 'attached' : 'detached',
              })
              .returning();
            try {
              await call(actor, volume.id, tx);
            } catch (error) {
              if (!(error instanceof AppError) || error.code !== 'conflict') throw error;
              outcome = 'refused';
              message = error.message;
            }
            throw new Rollback();
          })
          .catch((e) => {
            if (!(e instanceof Rollback)) throw e;
          });
        if ((outcome === 'allowed') !== want) mismatches.push(`${operation} on ${status}/${backupStatus ?? 'none'}: ${outcome} ${message}`);
        if (outcome === 'refused')
          assert.match(message, /^Invalid volume: Volume cannot be/, `${operation} ${status}/${backupStatus}: ${message}`);
      }
    }
  }
  // Backup and restore-into belong to the backup service; their rows are checked on the shared matrix.
  for (const operation of ['backup', 'restore_into'] as const) {
    for (const status of volumeStatus.enumValues) {
      for (const backupStatus of backupStatuses) {
        cases += 1;
        assert.equal(
          checkVolumeOperation(operation, { status, backupStatus }).ok,
          expected(operation, status, backupStatus),
          `${operation} ${status}/${backupStatus}`,
        );
      }
    }
  }
  assert.deepEqual(mismatches, []);
  assert.ok(cases > 900, `${cases} cases`);
});
