import { sql } from 'drizzle-orm';
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
 * day. Two scans (today's total, and the window grouped by day), not one per day.
 */
export async function repositoryHistory(tx: Executor, scope: { projectId?: string; days: number }): Promise<RepositoryHistory> {
  const filter = scope.projectId ? sql`and project_id = ${scope.projectId}` : sql``;
  const keys = dayKeys(scope.days);
  const start = `${keys[0]}T00:00:00Z`;
  // A backup finished well when it is (or was, before its deletion) available: a failed one keeps its fail reason.
  const finished = sql`(status = 'available' or (status in ('deleting', 'deleted', 'error_deleting') and fail_reason is null))`;
  const [[now], changes] = await Promise.all([
    tx.execute<{ bytes: string; count: number }>(sql`
      select coalesce(sum(bytes_stored), 0)::text as bytes, count(*)::int as count from backups where deleted = false ${filter}`),
    tx.execute<{
      day: string;
      added: string;
      addedCount: number;
      removed: string;
      removedCount: number;
      made: number;
      read: string;
      written: string;
    }>(sql`
      select to_char(day at time zone 'UTC', 'YYYY-MM-DD') as day, sum(added)::text as added, sum(added_count)::int as "addedCount", sum(removed)::text as removed,
        sum(removed_count)::int as "removedCount", sum(made)::int as made, sum(read)::text as read, sum(written)::text as written
      from (
        select date_bin('1 day', created_at, ${start}::timestamptz) as day, bytes_stored as added, 1 as added_count, 0 as removed, 0 as removed_count,
          case when ${finished} then 1 else 0 end as made,
          case when ${finished} then size::bigint * 1073741824 else 0 end as read,
          case when ${finished} then bytes_stored else 0 end as written
        from backups where created_at >= ${start}::timestamptz ${filter}
        union all
        select date_bin('1 day', deleted_at, ${start}::timestamptz), 0, 0, bytes_stored, 1, 0, 0, 0
        from backups where deleted = true and deleted_at >= ${start}::timestamptz ${filter}
      ) c group by c.day`),
  ]);
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
