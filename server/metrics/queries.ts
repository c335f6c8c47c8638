import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client';

/** Bucket bounds of the transfer histograms: seconds, and bytes (1 MiB … 1 TiB). */
export const DURATION_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21600];
export const BYTES_BUCKETS = [2 ** 20, 2 ** 24, 2 ** 26, 2 ** 28, 2 ** 30, 2 ** 32, 2 ** 34, 2 ** 36, 2 ** 38, 2 ** 40];

export interface JobCountRow {
  kind: string;
  status: string;
  count: number;
  oldestSeconds: number | null;
}

/** Every job counted by kind and status, with the age of the oldest of each group: one grouped scan. */
export async function jobCounts(tx: Executor): Promise<JobCountRow[]> {
  const rows = await tx.execute<{ kind: string; status: string; count: string; oldest: string | null }>(sql`
    select kind, status::text as status, count(*) as count, extract(epoch from now() - min(created_at)) as oldest
    from jobs group by kind, status`);
  return rows.map((r) => ({
    kind: r.kind,
    status: r.status,
    count: Number(r.count),
    oldestSeconds: r.oldest === null ? null : Number(r.oldest),
  }));
}

export interface HistogramRow {
  direction: string;
  buckets: number[];
  count: number;
  sum: number;
}

/** Transfers are the succeeded backup and restore jobs; their bytes are the job's result (stored, restored). */
const TRANSFERS = sql`from jobs where status = 'succeeded' and kind in ('backup_create', 'backup_restore')
  and started_at is not null and finished_at is not null`;
const direction = sql`case kind when 'backup_create' then 'backup' else 'restore' end`;

function bucketColumns(value: ReturnType<typeof sql>, bounds: number[]) {
  return sql.join(
    bounds.map((le) => sql`count(*) filter (where ${value} <= ${sql.raw(String(le))})`),
    sql`, `,
  );
}

async function histogram(tx: Executor, value: ReturnType<typeof sql>, bounds: number[], where = sql``): Promise<HistogramRow[]> {
  const rows = await tx.execute<Record<string, string>>(sql`
    select ${direction} as direction, json_build_array(${bucketColumns(value, bounds)}) as buckets,
      count(*) as count, coalesce(sum(${value}), 0) as sum
    ${TRANSFERS} ${where} group by 1`);
  return rows.map((r) => ({
    direction: r.direction,
    buckets: (r.buckets as unknown as number[]).map(Number),
    count: Number(r.count),
    sum: Number(r.sum),
  }));
}

/** Durations of finished transfers (started → finished), bucketed in SQL. */
export function transferDurations(tx: Executor): Promise<HistogramRow[]> {
  return histogram(tx, sql`extract(epoch from finished_at - started_at)`, DURATION_BUCKETS);
}

const bytesOf = sql`coalesce((result->>'bytesStored')::bigint, (result->>'bytesRestored')::bigint)`;

/** Bytes of finished transfers: stored in the repository by a backup, read back by a restore. */
export function transferBytes(tx: Executor): Promise<HistogramRow[]> {
  return histogram(tx, bytesOf, BYTES_BUCKETS, sql`and ${bytesOf} is not null`);
}

export async function backupCounts(tx: Executor) {
  const rows = await tx.execute<{ status: string; integrity: string; count: string; bytes: string }>(sql`
    select status::text as status, integrity::text as integrity, count(*) as count, coalesce(sum(bytes_stored), 0) as bytes
    from backups where not deleted group by 1, 2`);
  return rows.map((r) => ({ status: r.status, integrity: r.integrity, count: Number(r.count), bytes: Number(r.bytes) }));
}

export async function serviceHeartbeats(tx: Executor) {
  const rows = await tx.execute<{ binary: string; host: string; disabled: boolean; age: string }>(sql`
    select "binary", host, disabled, extract(epoch from now() - updated_at) as age from services where not deleted`);
  return rows.map((r) => ({ binary: r.binary, host: r.host, disabled: r.disabled, ageSeconds: Math.max(0, Number(r.age)) }));
}

export async function deliveryCounts(tx: Executor) {
  const rows = await tx.execute<{ kind: string; status: string; count: string }>(sql`
    select t.kind, d.status, count(*) as count from notification_deliveries d join notification_targets t on t.id = d.target_id group by 1, 2`);
  return rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.count) }));
}
