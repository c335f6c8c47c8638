/**
 * Dashboard and audit-log benchmark: seeds a throwaway PostgreSQL with 10,000 volumes, 100,000
 * backups (with their backup jobs) and 200,000 audit events across 20 projects, then times the
 * queries the pages run, on the server, and prints them. The target is < 300 ms for a dashboard.
 *
 *   npm run bench:dashboard                       the sizes above, 7 timed runs after a warm-up
 *   npm run bench:dashboard -- --volumes 1000 --backups 10000 --runs 3
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { SYSTEM_ACTOR } from '../server/auth/actor';
import { activeJobs, recentFailures } from '../server/dashboard/activity';
import { protectionSummary } from '../server/dashboard/protection';
import { dashboard } from '../server/dashboard/queries';
import { repositoryHistory } from '../server/dashboard/usage';
import { listAuditEvents } from '../server/events/queries';
import { startTestDatabase } from '../test/support/database';
import { seedDashboardData } from './dashboard-seed';

const { values } = parseArgs({
  options: {
    volumes: { type: 'string', default: '10000' },
    backups: { type: 'string', default: '100000' },
    events: { type: 'string', default: '200000' },
    projects: { type: 'string', default: '20' },
    runs: { type: 'string', default: '7' },
  },
});
const VOLUMES = Number(values.volumes);
const BACKUPS = Number(values.backups);
const EVENTS = Number(values.events);
const PROJECTS = Number(values.projects);
const RUNS = Number(values.runs);

async function time<T>(label: string, run: () => Promise<T>): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  console.log(
    `${label.padEnd(44)} median ${median.toFixed(1).padStart(7)} ms   min ${samples[0].toFixed(1).padStart(7)} ms   max ${samples.at(-1)!.toFixed(1).padStart(7)} ms`,
  );
  return median;
}

async function main() {
  const database = await startTestDatabase();
  try {
    const db = database.handle.db;
    const seedStart = performance.now();
    await seedDashboardData(db, { volumes: VOLUMES, backups: BACKUPS, events: EVENTS, projects: PROJECTS });
    console.log(
      `seeded ${VOLUMES} volumes, ${BACKUPS} backups (+ jobs), ${EVENTS} audit events in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );
    const project = `benchproject${'1'.padStart(24, '0')}`;
    const user = `benchuser${'7'.padStart(23, '0')}`;
    console.log('\nparts (every project):');
    await time('protection status', () => protectionSummary(db, { recentDays: 7 }));
    await time('queued and running jobs', () => activeJobs(db, {}));
    await time('failures in the last 24 h', () => recentFailures(db, { hours: 24 }));
    await time('repository usage and throughput, 30 days', () => repositoryHistory(db, { days: 30 }));
    console.log('\npages (all queries of the page, side by side):');
    const admin = await time('operator dashboard (every project)', () => dashboard(SYSTEM_ACTOR, {}, db));
    const tenant = await time('project dashboard (one project)', () => dashboard(SYSTEM_ACTOR, { projectId: project }, db));
    const audit = await time('audit log, first page', () => listAuditEvents(SYSTEM_ACTOR, {}, db));
    await time('audit log, page 40', () => listAuditEvents(SYSTEM_ACTOR, { page: 40 }, db));
    await time('audit log, one user, failures', () => listAuditEvents(SYSTEM_ACTOR, { userId: user, outcome: 'failure' }, db));
    await time('audit log, one project, last 7 days', () =>
      listAuditEvents(
        SYSTEM_ACTOR,
        {
          projectId: project,
          from: new Date(Date.now() - 7 * 86_400_000).toISOString(),
        },
        db,
      ),
    );
    const worst = Math.max(admin, tenant, audit);
    console.log(
      `\nload average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${os.availableParallelism()} cores (figures scale with it)`,
    );
    console.log(`${worst < 300 ? 'within' : 'OVER'} the 300 ms target (slowest page median ${worst.toFixed(1)} ms)`);
  } finally {
    await database.stop();
  }
}

await main();
