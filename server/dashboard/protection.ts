import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client';

export type ProtectionState = 'protected' | 'unprotected' | 'failing';

export interface ProtectionSummary {
  /** A volume is protected when its latest finished backup is good and no older than this. */
  recentDays: number;
  total: number;
  counts: Record<ProtectionState, number>;
  /** The volumes that need attention: failing ones, the latest failure first, then those unprotected the longest. */
  attention: AttentionVolume[];
}

export interface AttentionVolume {
  volumeId: string;
  volumeName: string | null;
  projectId: string;
  projectName: string | null;
  state: Exclude<ProtectionState, 'protected'>;
  /** What the latest finished backup was: `available` (possibly damaged), `error`, or none. */
  lastBackupId: string | null;
  lastBackupStatus: 'available' | 'error' | null;
  lastBackupAt: string | null;
  /** Why: the backup's failure reason, or what its integrity check found. */
  reason: string | null;
}

/**
 * Classifies every live volume by its latest finished backup (`available` or `error`, by data
 * timestamp; backups still being made do not count):
 * - failing: that backup failed, or it is damaged;
 * - protected: that backup is good and its data is at most `recentDays` old;
 * - unprotected: no finished backup, or the latest good one is older.
 * Read from backups_volume_latest_idx alone (index-only), computed once and read twice; the reasons
 * are read for the few volumes shown.
 */
export async function protectionSummary(
  tx: Executor,
  scope: { projectId?: string; recentDays: number; attentionLimit?: number },
): Promise<ProtectionSummary> {
  const projectFilter = scope.projectId ? sql`and v.project_id = ${scope.projectId}` : sql``;
  const finished = sql`b.deleted = false and b.status in ('available', 'error')`;
  // One project: an index probe per volume. Every project: one ordered pass over the same index, joined by hash.
  const latest = scope.projectId
    ? sql`left join lateral (
        select b.status, b.integrity, b.data_timestamp from backups b
        where b.volume_id = v.id and ${finished}
        order by b.data_timestamp desc limit 1
      ) lb on true`
    : sql`left join (
        select distinct on (b.volume_id) b.volume_id, b.status, b.integrity, b.data_timestamp from backups b
        where ${finished} order by b.volume_id, b.data_timestamp desc
      ) lb on lb.volume_id = v.id`;
  const [row] = await tx.execute<{ counts: Record<string, number> | null; attention: AttentionVolume[] }>(sql`
    with classified as materialized (
      select v.id, v.name, v.project_id, v.created_at, lb.status, lb.data_timestamp,
        case
          when lb.status = 'error' or lb.integrity = 'damaged' then 'failing'
          when lb.status = 'available' and lb.data_timestamp >= now() - make_interval(days => ${scope.recentDays}) then 'protected'
          else 'unprotected'
        end as state
      from volumes v
      ${latest}
      where v.deleted = false ${projectFilter}
    )
    select
      (select json_object_agg(state, n) from (select state, count(*)::int as n from classified group by state) s) as counts,
      (select coalesce(json_agg(a), '[]'::json) from (
        select c.id as "volumeId", c.name as "volumeName", c.project_id as "projectId", p.name as "projectName", c.state,
          lb.id as "lastBackupId", c.status as "lastBackupStatus", c.data_timestamp as "lastBackupAt",
          case when c.status = 'error' then lb.fail_reason else lb.integrity_problem end as reason
        from (
          select * from classified where state <> 'protected'
          order by (state = 'failing') desc, case when state = 'failing' then data_timestamp end desc, data_timestamp asc nulls first, created_at asc, id
          limit ${scope.attentionLimit ?? 8}
        ) c
        left join projects p on p.id = c.project_id
        left join lateral (
          select b.id, b.fail_reason, b.integrity_problem from backups b
          where b.volume_id = c.id and ${finished} order by b.data_timestamp desc limit 1
        ) lb on true
        order by (c.state = 'failing') desc, case when c.state = 'failing' then c.data_timestamp end desc, c.data_timestamp asc nulls first,
          c.created_at asc, c.id
      ) a) as attention
  `);
  const counts = { protected: 0, unprotected: 0, failing: 0, ...(row?.counts ?? {}) };
  return {
    recentDays: scope.recentDays,
    total: counts.protected + counts.unprotected + counts.failing,
    counts,
    attention: row?.attention ?? [],
  };
}
