import { sql } from 'drizzle-orm';
import type { Database } from '../server/db/client';

/**
 * Seeds in bulk with generate_series, spread over the last 60 days: a tenth of the backups
 * deleted, 2 % failed, 0.5 % damaged; every backup has its backup_create job; some jobs fail in
 * the last day, a few are queued or running.
 */
export async function seedDashboardData(db: Database, size: { volumes: number; backups: number; events: number; projects: number }) {
  const { volumes: VOLUMES, backups: BACKUPS, events: EVENTS, projects: PROJECTS } = size;
  await db.execute(sql`
    insert into projects (id, name) select 'benchproject' || lpad(p::text, 24, '0'), 'bench-' || p from generate_series(1, ${PROJECTS}) p`);
  await db.execute(sql`
    insert into users (id, name, password_hash) select 'benchuser' || lpad(u::text, 23, '0'), 'bench-user-' || u, 'x' from generate_series(1, 50) u`);
  await db.execute(sql`
    insert into volumes (id, project_id, user_id, name, size, status, created_at)
    select md5('volume' || v)::uuid, 'benchproject' || lpad((v % ${PROJECTS} + 1)::text, 24, '0'), 'benchuser' || lpad((v % 50 + 1)::text, 23, '0'),
      'vol-' || v, 1 + v % 20, 'available', now() - interval '90 days'
    from generate_series(1, ${VOLUMES}) v`);
  await db.execute(sql`
    insert into backups (id, project_id, user_id, volume_id, status, fail_reason, size, display_name, data_timestamp, created_at,
      bytes_stored, progress_bytes, progress_total_bytes, integrity, integrity_problem, deleted, deleted_at)
    select md5('backup' || b)::uuid, 'benchproject' || lpad(((b % ${VOLUMES}) % ${PROJECTS} + 1)::text, 24, '0'),
      'benchuser' || lpad((b % 50 + 1)::text, 23, '0'), md5('volume' || (b % ${VOLUMES} + 1))::uuid,
      (case when b % 10 = 0 then 'deleted' when b % 50 = 1 then 'error' else 'available' end)::backup_status,
      case when b % 50 = 1 then 'The backup service stopped while writing.' end,
      1 + (b % ${VOLUMES} + 1) % 20, 'backup-' || b, t, t,
      case when b % 50 = 1 then 0 else (b % 997 + 1) * 1048576 end, 0, 0,
      (case when b % 200 = 3 then 'damaged' when b % 3 = 0 then 'verified' else 'unchecked' end)::backup_integrity,
      case when b % 200 = 3 then 'Object 00002 does not match its checksum.' end,
      b % 10 = 0, case when b % 10 = 0 then t + interval '3 days' end
    from (select b, now() - make_interval(secs => (${BACKUPS} - b)::float8 / ${BACKUPS} * 60 * 86400) as t from generate_series(1, ${BACKUPS}) b) s`);
  await db.execute(sql`
    insert into jobs (kind, payload, project_id, resource_type, resource_id, target_binary, status, result, error, created_at, started_at, finished_at)
    select 'backup_create', jsonb_build_object('backupId', b.id, 'force', false), b.project_id, 'backup', b.id::text, 'cinder-backup',
      (case when b.status = 'error' then 'failed' else 'succeeded' end)::job_status,
      case when b.status = 'error' then null else jsonb_build_object('objectCount', 3, 'bytesStored', b.bytes_stored) end,
      b.fail_reason, b.created_at, b.created_at, b.created_at + interval '90 seconds'
    from backups b`);
  await db.execute(sql`
    insert into jobs (kind, payload, project_id, resource_type, resource_id, target_binary, status, lease_owner, created_at, started_at)
    select 'backup_create', jsonb_build_object('backupId', gen_random_uuid(), 'force', false), 'benchproject' || lpad((j % ${PROJECTS} + 1)::text, 24, '0'),
      'backup', gen_random_uuid()::text, 'cinder-backup', (case when j % 5 = 0 then 'running' else 'queued' end)::job_status,
      case when j % 5 = 0 then 'bench-host' end, now() - make_interval(mins => j), case when j % 5 = 0 then now() end
    from generate_series(1, 60) j`);
  await db.execute(sql`
    insert into audit_events (at, actor_user_id, actor_name, project_id, resource_type, resource_id, action, detail)
    select now() - make_interval(secs => e * 20), 'benchuser' || lpad((e % 50 + 1)::text, 23, '0'), 'bench-user-' || (e % 50 + 1),
      'benchproject' || lpad((e % ${PROJECTS} + 1)::text, 24, '0'),
      (array['volume', 'backup', 'snapshot', 'user'])[e % 4 + 1], md5('resource' || (e % 5000))::uuid::text,
      (array['create', 'delete', 'create_failed', 'sign_in', 'sign_in_failed', 'restore', 'update'])[e % 7 + 1], '{"channel": "console"}'::jsonb
    from generate_series(1, ${EVENTS}) e`);
  await db.execute(sql`
    insert into services ("binary", host, version, updated_at) values ('cinder-backup', 'bench-host', '1', now()), ('cinder-volume', 'bench-host', '1', now())`);
  // What autovacuum does on a live system: statistics, and the visibility map index-only scans rely on.
  await db.execute(sql`vacuum analyze`);
}
