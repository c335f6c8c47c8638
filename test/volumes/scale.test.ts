import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../../server/auth/actor';
import { connect } from '../../server/db/client';
import { quotas, volumes } from '../../server/db/schema';
import { AppError } from '../../server/errors';
import { updateProjectQuotas } from '../../server/quotas/admin';
import { listVolumes, volumeListQuery } from '../../server/volumes/queries';
import { listVolumesSchema } from '../../server/volumes/schemas';
import { createVolume } from '../../server/volumes/service';
import { seedAdmin, seedProject } from '../support/identities';
import { startHarness, waitForVolume, type Harness } from '../support/harness';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

test('20 concurrent creates on separate connections with one unit of quota left: exactly one succeeds', async () => {
  const { project, actor } = await seedProject('member');
  const first = await createVolume(actor, { projectId: project.id, size: 1 });
  await waitForVolume(h, first.id, 'available');
  await updateProjectQuotas(SYSTEM_ACTOR, { projectId: project.id, limits: { volumes: 2 } });
  const handles = Array.from({ length: 20 }, () => connect(h.database.url, { max: 1 }));
  try {
    await Promise.all(handles.map((c) => c.sql`select 1`));
    const results = await Promise.allSettled(
      handles.map((c, i) => createVolume(actor, { projectId: project.id, size: 1, name: `race-${i}` }, c.db)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1);
    assert.equal(refused.length, 19);
    for (const r of refused) {
      assert.ok(r.reason instanceof AppError && r.reason.code === 'over_quota', String(r.reason));
      assert.equal(r.reason.message, "VolumeLimitExceeded: Maximum number of volumes allowed (2) exceeded for quota 'volumes'.");
    }
  } finally {
    await Promise.all(handles.map((c) => c.close()));
  }
  const [{ rows }] = await h.database.handle.db
    .select({ rows: sql<number>`count(*)::int` })
    .from(volumes)
    .where(and(eq(volumes.projectId, project.id), eq(volumes.deleted, false)));
  const [quota] = await h.database.handle.db
    .select()
    .from(quotas)
    .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'volumes')));
  const [gigabytes] = await h.database.handle.db
    .select()
    .from(quotas)
    .where(and(eq(quotas.projectId, project.id), eq(quotas.resource, 'gigabytes')));
  assert.equal(rows, 2);
  assert.equal(quota.inUse, rows);
  assert.equal(gigabytes.inUse, 2);
});

test('pagination over 10,000 volumes uses an index with LIMIT and stays fast', async () => {
  const { project, actor } = await seedProject('member');
  const other = await seedProject('member');
  const { actor: admin } = await seedAdmin();
  await h.database.handle.sql`
    insert into volumes (project_id, user_id, name, size, status, host, created_at)
    select case when g % 5 = 0 then ${other.project.id} else ${project.id} end, ${actor.userId}, 'bulk-' || g, 1 + g % 7,
      (case when g % 11 = 0 then 'error' else 'available' end)::volume_status, 'test-host@file', now() - make_interval(secs => g)
    from generate_series(1, 10000) g`;
  await h.database.handle.sql`analyze volumes`;

  async function plan(input: Parameters<typeof listVolumesSchema.parse>[0] & { projectId?: string }) {
    const query = volumeListQuery({ ...listVolumesSchema.parse(input), projectId: input.projectId }, h.database.handle.db).rows.toSQL();
    const [row] = await h.database.handle.sql.unsafe(`explain (format json) ${query.sql}`, query.params as never[]);
    return JSON.stringify(row['QUERY PLAN']);
  }
  for (const input of [
    { projectId: project.id },
    { projectId: project.id, page: 200 },
    { projectId: project.id, dir: 'asc' as const },
    {},
    { projectId: project.id, status: 'error' as const },
  ]) {
    const text = await plan(input);
    assert.match(text, /"Node Type":"Limit"/, `LIMIT in ${JSON.stringify(input)}`);
    assert.match(text, /"Index Name":"volumes_(project_)?created_idx"/, `index in ${JSON.stringify(input)}: ${text.slice(0, 600)}`);
    assert.doesNotMatch(text, /"Node Type":"Sort"/, `no sort in ${JSON.stringify(input)}`);
  }

  const started = performance.now();
  const page = await listVolumes(actor, { projectId: project.id, page: 3, pageSize: 25 });
  const elapsed = performance.now() - started;
  assert.equal(page.total, 8000);
  assert.equal(page.pageCount, 320);
  assert.equal(page.rows.length, 25);
  assert.equal(page.rows[0].name, 'bulk-63');
  assert.ok(elapsed < 500, `listing took ${elapsed} ms`);

  const all = await listVolumes(admin, { pageSize: 10 });
  assert.ok(all.total >= 10000);
  const filtered = await listVolumes(admin, { projectId: other.project.id, status: 'error', q: 'bulk-55' });
  const want = Array.from({ length: 10000 }, (_, i) => i + 1)
    .filter((g) => g % 5 === 0 && g % 11 === 0 && String(g).startsWith('55'))
    .map((g) => `bulk-${g}`);
  assert.deepEqual(filtered.rows.map((r) => r.name).sort(), want.sort());
  assert.equal(filtered.rows[0]?.projectName, other.project.name);
  const bySize = await listVolumes(actor, { projectId: project.id, sort: 'size', dir: 'desc', pageSize: 5 });
  assert.ok(bySize.rows.every((r) => r.size === 7));
});
