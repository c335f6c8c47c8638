import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { dataPaths } from '../../server/data-paths';
import { createVolume } from '../../server/volumes/service';
import { ORPHAN_GRACE_MS, sweepOrphanImages } from '../../server/volumes/orphans';
import { seedProject } from '../support/identities';
import { startHarness, waitForVolume, type Harness } from '../support/harness';

let h: Harness;
before(async () => {
  h = await startHarness({ host: 'orphans-host' });
});
after(async () => {
  await h?.stop();
});

test("image files no row owns are reported, then removed after the grace period; a live volume's file never is", async () => {
  const { project, actor } = await seedProject('member');
  const created = await createVolume(actor, { projectId: project.id, name: 'kept', size: '1' });
  const volume = await waitForVolume(h, created.id, 'available');
  const dir = dataPaths(h.env).volumes;
  // A file left by a delete that spelled the id in upper case, and one whose row is simply gone.
  const upper = path.join(dir, `volume-${volume.id.toUpperCase()}.img`);
  const stray = path.join(dir, `snapshot-${randomUUID()}.img`);
  for (const file of [upper, stray]) {
    await writeFile(file, '');
    await truncate(file, 1024 * 1024);
  }

  const first = await sweepOrphanImages(h.env, h.database.handle.db);
  assert.deepEqual(first.found.map((o) => o.fileName).sort(), [path.basename(stray), path.basename(upper)].sort());
  assert.deepEqual(first.removed, []);
  assert.ok(existsSync(upper) && existsSync(stray), 'kept through the grace period');

  const later = await sweepOrphanImages(h.env, h.database.handle.db, Date.now() + ORPHAN_GRACE_MS + 1000);
  assert.deepEqual(later.removed.sort(), [path.basename(stray), path.basename(upper)].sort());
  assert.ok(!existsSync(upper) && !existsSync(stray));
  assert.ok(existsSync(path.join(dir, `volume-${volume.id}.img`)), "the live volume's image stays");
});
