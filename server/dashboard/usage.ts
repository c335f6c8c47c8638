import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/client';

const DAY_MS = 86_400_000;

export interface UsagePoint {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** Bytes the repository held at the end of that day (the sum of live backups' stored bytes). */
  bytesStored: number;
  backupCount: number;
}

export interface ThroughputPoint {
  day: string;
  /** Backups made that day that finished well (still live or since deleted; failed ones do not count). */
  backups: number;
  /** Bytes of volume data those backups read, and what they added to the repository. */
  bytesRead: number;
  bytesWritten: number;
}

export interface RepositoryHistory {
  usage: UsagePoint[];
  throughput: ThroughputPoint[];
}

/** The last `days` UTC days, oldest first, ending today. */
export function dayKeys(days: number, now = new Date()): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

/**
 * The repository over the last `days` UTC days: its size at the end of each day, and what the
 * backups made each day read and wrote. The size walks back from today's total of live backups: a
 * day's size is the next day's minus what was added the next day plus what was deleted the next
 * day. One scan of the backups, grouped by day, not one query per day.
 */
export async function repositoryHistory(tx: Executor, scope: { projectId?: string; days: number }): Promise<RepositoryHistory> {
  const filter = scope.projectId ? sql`and b.project_id = ${scope.projectId}` : sql``;
  const keys = dayKeys(scope.days);
  const start = `${keys[0]}T00:00:00Z`;
  // A backup finished well when it is (or was, before its deletion) available: a failed one keeps its fail reason.
  const finished = sql`(b.status = 'available' or (b.status in ('deleting', 'deleted', 'error_deleting') and b.fail_reason is null))`;
  // One scan: each backup adds to today's live total, to the day it was made (when in the window) and,
  // through a second row, to the day it was deleted (when in the window). Rows of no day carry only the total.
  const inWindow = (column: SQL) => sql`case when ${column} >= ${start}::timestamptz then date_bin('1 day', ${column}, ${start}::timestamptz) end`;
  const made = sql`b.created_at >= ${start}::timestamptz and ${finished}`;
  const groups = await tx.execute<{
    day: string | null; live: string; liveCount: number; added: string; addedCount: number; removed: string; removedCount: number;
    made: number; read: string; written: string;
  }>(sql`
    select to_char(e.day at time zone 'UTC', 'YYYY-MM-DD') as day,
      sum(e.live)::text as live, sum(e.live_count)::int as "liveCount", sum(e.added)::text as added, sum(e.added_count)::int as "addedCount",
      sum(e.removed)::text as removed, sum(e.removed_count)::int as "removedCount",
      sum(e.made)::int as made, sum(e.read)::text as read, sum(e.written)::text as written
    from backups b cross join lateral (values
      (${inWindow(sql`b.created_at`)},
        case when b.deleted then 0 else b.bytes_stored end, case when b.deleted then 0 else 1 end,
        case when b.created_at >= ${start}::timestamptz then b.bytes_stored else 0 end, case when b.created_at >= ${start}::timestamptz then 1 else 0 end,
        0::bigint, 0,
        case when ${made} then 1 else 0 end, case when ${made} then b.size::bigint * 1073741824 else 0 end, case when ${made} then b.bytes_stored else 0 end),
      (case when b.deleted then ${inWindow(sql`b.deleted_at`)} end, 0, 0, 0, 0,
        case when b.deleted and b.deleted_at >= ${start}::timestamptz then b.bytes_stored else 0 end,
        case when b.deleted and b.deleted_at >= ${start}::timestamptz then 1 else 0 end, 0, 0, 0)
    ) as e(day, live, live_count, added, added_count, removed, removed_count, made, read, written)
    where true ${filter}
    group by e.day`);
  const now = { bytes: groups.reduce((sum, g) => sum + Number(g.live), 0), count: groups.reduce((sum, g) => sum + g.liveCount, 0) };
  const changes = groups.filter((g): g is typeof g & { day: string } => g.day !== null);
  const byDay = new Map(changes.map((c) => [c.day, c]));
  const usage: UsagePoint[] = [];
  let bytes = Number(now.bytes);
  let count = now.count;
  for (let i = keys.length - 1; i >= 0; i--) {
    usage.unshift({ day: keys[i], bytesStored: Math.max(0, bytes), backupCount: Math.max(0, count) });
    const change = byDay.get(keys[i]);
    if (change) {
      bytes += Number(change.removed) - Number(change.added);
      count += change.removedCount - change.addedCount;
    }
  }
  const throughput = keys.map((day) => {
    const c = byDay.get(day);
    return { day, backups: c?.made ?? 0, bytesRead: Number(c?.read ?? 0), bytesWritten: Number(c?.written ?? 0) };
  });
  return { usage, throughput };
}
