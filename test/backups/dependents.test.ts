import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { resetBackupStatus } from '../../server/backups/admin';
import { exportRecord, importRecord } from '../../server/backups/records';
import { createBackup, deleteBackup, restoreBackup } from '../../server/backups/service';
import { dataPaths } from '../../server/data-paths';
import { backups, volumeMetadata, volumes } from '../../server/db/schema';
import { expectError, startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { seedAdmin, seedProject } from '../support/identities';
import { backupTools } from './support';

let h: Harness;
before(async () => {
  h = await startHarness({ host: 'dependents-host' });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, backupRow, waitForBackup } = backupTools(() => h);
const dependents = async (id: string) => (await backupRow(id)).numDependentBackups;

/** What the rows say: the live children that are available or restoring. */
async function childrenInRows(id: string) {
  const rows = await h.database.handle.db.select().from(backups).where(eq(backups.parentId, id));
  return rows.filter((row) => !row.deleted && (row.status === 'available' || row.status === 'restoring')).length;
}

async function assertCounter(id: string, expected: number, when: string) {
  assert.equal(await childrenInRows(id), expected, `${when}: the rows`);
  assert.equal(await dependents(id), expected, `${when}: num_dependent_backups agrees with the rows`);
}

describe('num_dependent_backups', () => {
  test('stays equal to the rows through create, delete, reset, verify and import', async () => {
    const { actor: admin } = await seedAdmin();
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'chain');
    await writeData(volume.id, [0]);
    const full = await createBackup(actor, { volumeId: volume.id });
    await waitForBackup(full.id, 'available');
    await assertCounter(full.id, 0, 'a full backup alone');

    await writeData(volume.id, [2]);
    const first = await createBackup(actor, { volumeId: volume.id, incremental: true });
    await waitForBackup(first.id, 'available');
    await assertCounter(full.id, 1, 'after the first incremental');

    await writeData(volume.id, [4]);
    const second = await createBackup(actor, { volumeId: volume.id, incremental: true });
    const secondRow = await waitForBackup(second.id, 'available');
    assert.equal(secondRow.parentId, first.id, 'an incremental builds on the newest available backup');
    await assertCounter(first.id, 1, 'after the second incremental');
    await assertCounter(full.id, 1, "the grandchild is not the full backup's child");

    // The record is exported while the first incremental has a child: it says 1.
    const record = await exportRecord(admin, { id: first.id });
    const exported = JSON.parse(Buffer.from(record.backup_url, 'base64').toString('utf8'));
    assert.equal(exported.num_dependent_backups, 1);

    // A delete under a live incremental is refused by the rows.
    await expectError(deleteBackup(actor, { id: first.id }), 'conflict', 'Incremental backups exist for this backup.');
    await deleteBackup(actor, { id: second.id });
    await waitForBackup(second.id, 'deleted');
    await assertCounter(first.id, 0, 'after its child was deleted');

    // A child in error is not counted, yet the delete refusal still sees it in the rows.
    await resetBackupStatus(admin, { id: first.id, status: 'error' });
    await assertCounter(full.id, 0, 'with its child reset to error');
    await expectError(deleteBackup(actor, { id: full.id }), 'conflict', 'Incremental backups exist for this backup.');
    await resetBackupStatus(admin, { id: first.id, status: 'available' });
    await waitFor('the verify to make it available', async () => (await backupRow(first.id)).status === 'available', 60_000);
    await assertCounter(full.id, 1, 'with its child verified available again');

    // Deleted, with a copy of its objects kept aside (as on another repository) to import it back.
    const dir = path.join(dataPaths(h.env).backups, (await backupRow(first.id)).container!);
    const kept = await mkdtemp(path.join(tmpdir(), 'kept-objects-'));
    await cp(dir, kept, { recursive: true });
    await deleteBackup(actor, { id: first.id });
    await waitForBackup(first.id, 'deleted');
    await assertCounter(full.id, 0, 'after the first incremental was deleted');
    await cp(kept, dir, { recursive: true });
    await rm(kept, { recursive: true, force: true });

    // Imported back: the parent counts it again; its own counter comes from the rows, not the record's 1.
    await importRecord(admin, { ...record, projectId: project.id });
    await waitForBackup(first.id, 'available');
    await assertCounter(full.id, 1, 'after the import');
    await assertCounter(first.id, 0, 'the imported backup itself');

    await deleteBackup(actor, { id: first.id });
    await waitForBackup(first.id, 'deleted');
    await deleteBackup(actor, { id: full.id });
    await waitForBackup(full.id, 'deleted');
    await assertCounter(full.id, 0, 'after the whole chain was deleted');
  });
});

describe('restore to a new volume', () => {
  test("the new volume gets its description and metadata in the restore's own transaction", async () => {
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'described');
    await writeData(volume.id, [1]);
    const backup = await createBackup(actor, { volumeId: volume.id });
    await waitForBackup(backup.id, 'available');

    const restored = await restoreBackup(actor, {
      id: backup.id,
      name: 'copy',
      description: 'from the nightly',
      metadata: { tier: 'gold' },
    });
    // Read at once, before the worker does anything: the request wrote them.
    const [row] = await h.database.handle.db.select().from(volumes).where(eq(volumes.id, restored.volumeId));
    assert.equal(row.description, 'from the nightly');
    const metadata = await h.database.handle.db.select().from(volumeMetadata).where(eq(volumeMetadata.volumeId, restored.volumeId));
    assert.deepEqual(
      metadata.map((m) => [m.key, m.value]),
      [['tier', 'gold']],
    );
    await waitForVolume(h, restored.volumeId, 'available');

    // Without them, the new volume is described as Cinder describes it.
    const plain = await restoreBackup(actor, { id: (await waitForBackup(backup.id, 'available')).id });
    const [plainRow] = await h.database.handle.db.select().from(volumes).where(eq(volumes.id, plain.volumeId));
    assert.equal(plainRow.description, 'auto-created_from_restore_from_backup');
    await waitForVolume(h, plain.volumeId, 'available');
    await waitFor('the backup available again', async () => (await backupRow(backup.id)).status === 'available');
  });
});
