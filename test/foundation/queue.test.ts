import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { auditEvents, jobs, services } from '../../server/db/schema';
import { enqueueJob, requestCancel } from '../../server/jobs/enqueue';
import { BACKUP_BINARY } from '../../server/jobs/kinds';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { waitFor } from '../support/harness';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

let database: TestDatabase;
const workers: WorkerProcess[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ping(holdSeconds = 0, targetHost: string | null = null) {
  return database.handle.db.transaction((tx) =>
    enqueueJob(tx, { kind: 'ping', payload: { holdSeconds }, targetBinary: BACKUP_BINARY, targetHost }),
  );
}

async function job(id: string) {
  const [row] = await database.handle.db.select().from(jobs).where(eq(jobs.id, id));
  return row;
}

function worker(host: string, env: Record<string, string> = {}) {
  const w = startWorkerProcess(database.url, { CINDERBLOCK_HOST: host, ...env });
  workers.push(w);
  return w;
}

before(async () => {
  database = await startTestDatabase();
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await database.stop();
});

describe('the job queue with two real worker processes', () => {
  test('each of many jobs runs exactly once, spread over both workers', async () => {
    const a = worker('queue-a');
    const b = worker('queue-b');
    await Promise.all([a.ready, b.ready]);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await ping()).id);
    const done = await waitFor(
      'every job to finish',
      async () => {
        const rows = await database.handle.db.select().from(jobs).where(inArray(jobs.id, ids));
        return rows.every((r) => r.status === 'succeeded') && rows;
      },
      15_000,
    );
    assert.equal(done.length, 40);
    for (const row of done) assert.equal(row.attempts, 1, `job ${row.id} ran ${row.attempts} times`);
    const completions = await database.handle.db
      .select({ jobId: sql<string>`${auditEvents.detail}->>'jobId'` })
      .from(auditEvents)
      .where(eq(auditEvents.action, 'ping_completed'));
    const perJob = new Map<string, number>();
    for (const { jobId } of completions) perJob.set(jobId, (perJob.get(jobId) ?? 0) + 1);
    for (const id of ids) assert.equal(perJob.get(id), 1, `job ${id} completed ${perJob.get(id) ?? 0} times`);
    const hosts = new Set(done.map((r) => (r.result as { host: string }).host));
    assert.deepEqual([...hosts].sort(), ['queue-a', 'queue-b']);
    await Promise.all([a.stop(), b.stop()]);
  });

  test('a NOTIFY wakes an idle worker in under a second with polling off', async () => {
    const a = worker('notify-a', { CINDERBLOCK_JOB_POLL_SECONDS: '0' });
    await a.ready;
    await sleep(500);
    for (let i = 0; i < 3; i++) {
      const queued = await ping(0, 'notify-a');
      const row = await waitFor(
        'the job to finish',
        async () => {
          const r = await job(queued.id);
          return r.status === 'succeeded' && r;
        },
        5000,
      );
      const latency = row.startedAt!.getTime() - row.createdAt.getTime();
      assert.ok(latency < 1000, `picked up after ${latency} ms`);
    }
    await a.stop();
  });

  test('a cancel aborts a running job within a second', async () => {
    const a = worker('cancel-a');
    await a.ready;
    const queued = await ping(60, 'cancel-a');
    await waitFor('the job to run', async () => (await job(queued.id)).status === 'running', 15_000);
    const asked = Date.now();
    await database.handle.db.transaction((tx) => requestCancel(tx, queued.id));
    const row = await waitFor(
      'the job to be cancelled',
      async () => {
        const r = await job(queued.id);
        return r.status === 'cancelled' && r;
      },
      5000,
    );
    assert.ok(row.finishedAt!.getTime() - asked < 1000, `cancelled after ${row.finishedAt!.getTime() - asked} ms`);
    await a.stop();
  });

  test('a disabled service claims nothing until it is enabled again', async () => {
    const a = worker('disabled-a');
    await a.ready;
    await database.handle.db
      .update(services)
      .set({ disabled: true, disabledReason: 'maintenance' })
      .where(and(eq(services.binary, BACKUP_BINARY), eq(services.host, 'disabled-a')));
    const queued = await ping(0, 'disabled-a');
    await sleep(1500);
    assert.equal((await job(queued.id)).status, 'queued');
    await database.handle.db
      .update(services)
      .set({ disabled: false, disabledReason: null })
      .where(and(eq(services.binary, BACKUP_BINARY), eq(services.host, 'disabled-a')));
    await ping(0, 'disabled-a'); // its NOTIFY wakes the worker, which then takes both
    await waitFor('the job to run once enabled', async () => (await job(queued.id)).status === 'succeeded', 15_000);
    await a.stop();
  });

  test('after a kill -9 the job is recovered within lease plus heartbeat', async () => {
    const a = worker('crash-a');
    const b = worker('crash-b');
    await Promise.all([a.ready, b.ready]);
    // Held long enough to be running on one of them when it dies.
    const queued = await ping(3);
    const running = await waitFor(
      'the job to run',
      async () => {
        const r = await job(queued.id);
        return r.status === 'running' && r;
      },
      15_000,
    );
    const victim = running.leaseOwner!.startsWith('crash-a') ? a : b;
    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    const row = await waitFor(
      'the job to be recovered and finished',
      async () => {
        const r = await job(queued.id);
        return r.status === 'succeeded' && r;
      },
      20_000,
    );
    assert.equal(row.attempts, 2);
    assert.notEqual((row.result as { host: string }).host, running.leaseOwner!.split(':')[0]);
    const [recovery] = await database.handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'recover'), eq(auditEvents.resourceId, queued.id)));
    assert.ok(recovery, 'the recovery is in the audit log');
    // lease 2 s + heartbeat 0.5 s, plus the 3 s hold of the second run
    assert.ok(recovery.at.getTime() - killedAt < 2000 + 500 + 1500, `recovered ${recovery.at.getTime() - killedAt} ms after the kill`);
    await Promise.all([a.stop(), b.stop()]);
  });

  test("a paused worker's late result is refused by the fencing token", async () => {
    const a = worker('stale-a');
    await a.ready;
    const queued = await ping(2, 'stale-a');
    const first = await waitFor(
      'the job to run',
      async () => {
        const r = await job(queued.id);
        return r.status === 'running' && r;
      },
      15_000,
    );
    a.child.kill('SIGSTOP');
    // Past the lease: a second worker on the same host recovers and runs the job again.
    const b = worker('stale-a');
    await b.ready;
    const second = await waitFor(
      'the job to finish on the second worker',
      async () => {
        const r = await job(queued.id);
        return r.status === 'succeeded' && r;
      },
      20_000,
    );
    assert.ok(second.leaseToken! > first.leaseToken!, 'a new fencing token was issued');
    assert.equal(second.attempts, 2);
    a.child.kill('SIGCONT');
    await waitFor('the paused worker to notice', async () => a.output().includes('its result was refused'), 10_000);
    const final = await job(queued.id);
    assert.equal(final.status, 'succeeded');
    assert.equal(final.leaseOwner, second.leaseOwner, "the second worker's result stands");
    const completions = await database.handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'ping_completed'), sql`${auditEvents.detail}->>'jobId' = ${queued.id}`));
    assert.equal(completions.length, 1, 'only one completion was recorded');
    await Promise.all([a.stop('SIGKILL'), b.stop()]);
  });
});
