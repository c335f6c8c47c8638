import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { createBackup, restoreBackup } from '../../server/backups/service';
import { dataPaths } from '../../server/data-paths';
import { type backups, volumeMetadata, volumes } from '../../server/db/schema';
import { updateMetadata } from '../../server/volumes/metadata';
import { createVolume, updateVolume } from '../../server/volumes/service';
import { seedProject } from '../support/identities';
import { backupTools } from './support';
import { startHarness, waitForVolume, type Harness } from '../support/harness';

let h: Harness;

before(async () => {
  h = await startHarness({ host: 'restore-meta-host' });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, waitForBackup } = backupTools(() => h);
type Actor = Awaited<ReturnType<typeof seedProject>>['actor'];

async function volumeRow(id: string) {
  const [row] = await h.database.handle.db.select().from(volumes).where(eq(volumes.id, id));
  return row;
}

async function metadataOf(id: string) {
  const rows = await h.database.handle.db.select().from(volumeMetadata).where(eq(volumeMetadata.volumeId, id));
  return Object.fromEntries(rows.map((row) => [row.key, row.value]));
}

/** The backup's `<prefix>_metadata` file as written to the repository. */
function metadataFileOf(backup: typeof backups.$inferSelect) {
  return path.join(dataPaths(h.env).backups, backup.container!, `${backup.serviceMetadata!}_metadata`);
}

async function volumeMetaOf(backup: typeof backups.$inferSelect) {
  const file = JSON.parse(await readFile(metadataFileOf(backup), 'utf8')) as { volume_meta: string };
  return JSON.parse(file.volume_meta) as Record<string, unknown>;
}

/** A source volume with a name, a description, user metadata and the bootable flag, and its available backup. */
async function backedUpSource(actor: Actor, projectId: string) {
  const volume = await newVolume(actor, projectId, 'source');
  await updateVolume(actor, { id: volume.id, description: 'the source volume' });
  await updateMetadata(actor, 'volume', volume.id, { purpose: 'db', tier: 'gold' }, true);
  await h.database.handle.db.update(volumes).set({ bootable: true }).where(eq(volumes.id, volume.id));
  await writeData(volume.id, [0, 2]);
  const backup = await createBackup(actor, { volumeId: volume.id, name: 'with-meta' });
  return { volume, backup: await waitForBackup(backup.id, 'available') };
}

describe('a restore brings back what the backup saved of the volume', () => {
  test('the written volume_meta has the user metadata and no image section', async () => {
    const { project, actor } = await seedProject('member');
    const { volume, backup } = await backedUpSource(actor, project.id);
    const meta = await volumeMetaOf(backup);
    assert.deepEqual(Object.keys(meta), ['version', 'volume-base-metadata', 'volume-metadata']);
    assert.deepEqual(meta['volume-metadata'], { purpose: 'db', tier: 'gold' });

    const bare = await newVolume(actor, project.id, 'bare');
    const bareBackup = await waitForBackup((await createBackup(actor, { volumeId: bare.id })).id, 'available');
    assert.deepEqual(Object.keys(await volumeMetaOf(bareBackup)), ['version', 'volume-base-metadata'], 'no empty sections, as Cinder');
    assert.ok(volume.id);
  });

  test('to a new volume: name, description and user metadata come back; bootable only with image metadata', async () => {
    const { project, actor } = await seedProject('member');
    const { backup } = await backedUpSource(actor, project.id);

    const unnamed = await restoreBackup(actor, { id: backup.id });
    await waitForVolume(h, unnamed.volumeId, 'available');
    const restored = await volumeRow(unnamed.volumeId);
    assert.equal(restored.name, 'source', 'an automatically named target takes the original name');
    assert.equal(restored.description, 'the source volume');
    assert.deepEqual(await metadataOf(restored.id), { purpose: 'db', tier: 'gold', src_backup_id: backup.id });
    assert.equal(restored.bootable, false, 'as Cinder: the flag comes back only through image metadata');

    const named = await restoreBackup(actor, { id: backup.id, name: 'chosen' });
    await waitForVolume(h, named.volumeId, 'available');
    const chosen = await volumeRow(named.volumeId);
    assert.equal(chosen.name, 'chosen', 'a name the user chose is kept');
    assert.equal(chosen.description, 'auto-created_from_restore_from_backup', 'and so is the description that came with it');
    assert.deepEqual(await metadataOf(chosen.id), { purpose: 'db', tier: 'gold', src_backup_id: backup.id });

    // An empty glance section (what earlier Cinderblock backups wrote) is no image metadata.
    const written = JSON.parse(await readFile(metadataFileOf(backup), 'utf8')) as { volume_meta: string };
    const withEmpty = { ...JSON.parse(written.volume_meta), 'volume-glance-metadata': {} };
    await writeFile(metadataFileOf(backup), JSON.stringify({ ...written, volume_meta: JSON.stringify(withEmpty) }));
    const fromEmpty = await restoreBackup(actor, { id: backup.id });
    await waitForVolume(h, fromEmpty.volumeId, 'available');
    assert.equal((await volumeRow(fromEmpty.volumeId)).bootable, false);

    // A backup Cinder wrote of an image-based volume carries a volume-glance-metadata section.
    const file = JSON.parse(await readFile(metadataFileOf(backup), 'utf8')) as { volume_meta: string };
    const meta = JSON.parse(file.volume_meta) as Record<string, unknown>;
    meta['volume-glance-metadata'] = { image_id: 'a6f4b3c2-0000-4000-8000-000000000001', image_name: 'cirros' };
    await writeFile(metadataFileOf(backup), JSON.stringify({ ...file, volume_meta: JSON.stringify(meta) }));
    const fromImage = await restoreBackup(actor, { id: backup.id });
    await waitForVolume(h, fromImage.volumeId, 'available');
    assert.equal((await volumeRow(fromImage.volumeId)).bootable, true);
  });

  test('onto an existing volume: its own name stays, its metadata is replaced; an unnamed one takes the original name', async () => {
    const { project, actor } = await seedProject('member');
    const { backup } = await backedUpSource(actor, project.id);

    const target = await newVolume(actor, project.id, 'target');
    await updateVolume(actor, { id: target.id, description: 'kept' });
    await updateMetadata(actor, 'volume', target.id, { old: 'x', tier: 'bronze' }, true);
    await restoreBackup(actor, { id: backup.id, volumeId: target.id });
    await waitForVolume(h, target.id, (v) => v.backupStatus === null);
    const after = await volumeRow(target.id);
    assert.equal(after.name, 'target');
    assert.equal(after.description, 'kept');
    assert.deepEqual(await metadataOf(target.id), { purpose: 'db', tier: 'gold', src_backup_id: backup.id }, 'replaced, as Cinder');

    const created = await createVolume(actor, { projectId: project.id, size: '1' });
    const unnamed = await waitForVolume(h, created.id, 'available');
    await restoreBackup(actor, { id: backup.id, volumeId: unnamed.id });
    await waitForVolume(h, unnamed.id, (v) => v.backupStatus === null);
    const renamed = await volumeRow(unnamed.id);
    assert.equal(renamed.name, 'source');
    assert.equal(renamed.description, 'the source volume');
  });

  test('an incremental chain: each layer applies in turn, the newest user metadata wins', async () => {
    const { project, actor } = await seedProject('member');
    const { volume, backup } = await backedUpSource(actor, project.id);
    await updateMetadata(actor, 'volume', volume.id, { purpose: 'archive' }, true);
    await updateVolume(actor, { id: volume.id, name: 'renamed-later' });
    await writeData(volume.id, [2]);
    const incremental = await waitForBackup((await createBackup(actor, { volumeId: volume.id, incremental: true })).id, 'available');
    assert.equal(incremental.parentId, backup.id);
    const restore = await restoreBackup(actor, { id: incremental.id });
    await waitForVolume(h, restore.volumeId, 'available');
    const restored = await volumeRow(restore.volumeId);
    assert.equal(restored.name, 'source', 'as Cinder: the first layer names the auto-named target, later layers keep that name');
    assert.deepEqual(await metadataOf(restored.id), { purpose: 'archive', src_backup_id: incremental.id });
  });
});
