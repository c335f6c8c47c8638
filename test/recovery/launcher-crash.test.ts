import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { eq, inArray } from 'drizzle-orm';
import { createBackup } from '../../server/backups/service';
import { closeSharedDb, db } from '../../server/db/client';
import { backups, volumes } from '../../server/db/schema';
import { createVolume } from '../../server/volumes/service';
import { launchApp, type LaunchedApp } from '../../e2e/support/app';
import { waitFor } from '../support/harness';
import { seedProject } from '../support/identities';

const MiB = 1024 ** 2;
const settings = {
  CINDERBLOCK_TRANSFER_MAX_BYTES_PER_SEC: String(64 * MiB),
  CINDERBLOCK_JOB_LEASE_SECONDS: '3',
  CINDERBLOCK_REPORT_INTERVAL: '1',
};
let app: LaunchedApp | undefined;

after(async () => {
  await closeSharedDb();
  await app?.stop();
});

test('kill -9 of the whole `npm start` process group during a backup, then start again: nothing lost, nothing stuck', async () => {
  app = await launchApp(settings);
  process.env.DATABASE_URL = app.databaseUrl;
  const { project, actor } = await seedProject('member');
  const keep = await createVolume(actor, { projectId: project.id, name: 'kept', size: '1' });
  const busy = await createVolume(actor, { projectId: project.id, name: 'busy', size: '1' });
  await waitFor(
    'the volumes',
    async () =>
      (
        await db()
          .select()
          .from(volumes)
          .where(inArray(volumes.id, [keep.id, busy.id]))
      ).every((v) => v.status === 'available'),
    30_000,
  );
  const file = await open(path.join(app.dataDir, 'volumes', `volume-${busy.id}.img`), 'r+');
  await file.write(randomBytes(4 * MiB), 0, 4 * MiB, 0);
  await file.close();
  const backup = await createBackup(actor, { volumeId: busy.id });
  await waitFor(
    'the transfer',
    async () => ((await db().select().from(backups).where(eq(backups.id, backup.id)))[0].progressBytes ?? 0) > 0,
    30_000,
  );

  await closeSharedDb();
  process.kill(-app.process.pid!, 'SIGKILL');
  await new Promise((resolve) => app!.process.once('exit', resolve));

  app = await launchApp(settings, { dataDir: app.dataDir, pgPort: app.pgPort });
  process.env.DATABASE_URL = app.databaseUrl;
  const ended = await waitFor(
    'the backup to leave creating',
    async () => {
      const [row] = await db().select().from(backups).where(eq(backups.id, backup.id));
      return row.status !== 'creating' && row;
    },
    20_000,
  );
  assert.equal(ended.status, 'error');
  const rows = await db()
    .select()
    .from(volumes)
    .where(inArray(volumes.id, [keep.id, busy.id]));
  assert.equal(rows.length, 2, 'no volume was lost');
  for (const row of rows) assert.equal(row.status, 'available');
  const busyAfter = await waitFor(
    'the volume to be released',
    async () => {
      const [row] = await db().select().from(volumes).where(eq(volumes.id, busy.id));
      return row.backupStatus !== 'backing-up' && row;
    },
    20_000,
  );
  assert.equal(busyAfter.backupStatus, 'error_backing-up');
  const stuck = await db()
    .select()
    .from(backups)
    .where(inArray(backups.status, ['creating', 'restoring']));
  assert.deepEqual(stuck, []);
});
