import { z } from 'zod';
import { listPolicies, policyDetail } from '../../policies/queries';
import { assignVolumes, createPolicy, deletePolicy, pausePolicy, previewPrune, runPolicyNow, updatePolicy } from '../../policies/service';
import type { PolicyRow } from '../../policies/guards';
import { AppError } from '../../errors';
import { empty, json, readJson, type CinderContext } from './context';

/**
 * Our REST extension for backup policies (not in Cinder), under the volume endpoint with the same
 * token: `/v3/{project}/os-backup-policies` (list, create), `…/{id}` (show, update, delete),
 * `…/{id}/action` with one of `os-assign {volume_ids}`, `os-pause`, `os-resume`, `os-run-now`, and
 * `…/{id}/prune-preview`. Bodies are snake_case; errors are Cinder fault bodies.
 */

const RETENTION_KEYS = {
  keep_last: 'keepLast',
  keep_hourly: 'keepHourly',
  keep_daily: 'keepDaily',
  keep_weekly: 'keepWeekly',
  keep_monthly: 'keepMonthly',
  keep_yearly: 'keepYearly',
  keep_within: 'keepWithin',
} as const;

const bodySchema = z.object({ policy: z.record(z.string(), z.unknown()) }, { message: 'The body must be {"policy": {…}}' });

/** The service's input from a REST policy body; the service validates every field. */
function fieldsFrom(policy: Record<string, unknown>) {
  const retention = (policy.retention ?? {}) as Record<string, unknown>;
  return {
    name: policy.name,
    schedule: policy.schedule,
    timeZone: policy.time_zone ?? 'UTC',
    fullEveryRuns: policy.full_every_runs ?? null,
    fullEveryDays: policy.full_every_days ?? null,
    force: policy.force === true,
    container: policy.container ?? null,
    retention: Object.fromEntries(Object.entries(RETENTION_KEYS).map(([rest, field]) => [field, retention[rest] ?? null])),
  };
}

function view(policy: PolicyRow, extra: Record<string, unknown> = {}) {
  return {
    id: policy.id,
    project_id: policy.projectId,
    name: policy.name,
    schedule: policy.schedule,
    time_zone: policy.timeZone,
    full_every_runs: policy.fullEveryRuns,
    full_every_days: policy.fullEveryDays,
    force: policy.force,
    container: policy.container,
    retention: Object.fromEntries(Object.entries(RETENTION_KEYS).map(([rest, field]) => [rest, policy.retention[field] ?? null])),
    paused: policy.paused,
    created_at: policy.createdAt.toISOString(),
    updated_at: policy.updatedAt.toISOString(),
    ...extra,
  };
}

async function policyBody(c: CinderContext) {
  const parsed = bodySchema.safeParse(await readJson(c.request));
  if (!parsed.success) throw new AppError('invalid', parsed.error.issues[0].message);
  return parsed.data.policy;
}

export async function listPoliciesHandler(c: CinderContext) {
  const rows = await listPolicies(c.actor, c.projectId);
  return json(c, {
    policies: rows.map((r) => view(r.policy, { volume_count: r.volumeCount, next_run_at: r.nextRunAt?.toISOString() ?? null })),
  });
}

export async function createPolicyHandler(c: CinderContext) {
  const body = await policyBody(c);
  const shared = body.shared === true;
  const policy = await createPolicy(c.actor, { ...fieldsFrom(body), projectId: shared ? null : c.projectId });
  return json(c, { policy: view(policy) }, 202);
}

export async function showPolicyHandler(c: CinderContext) {
  const detail = await policyDetail(c.actor, c.params.id, c.projectId);
  return json(c, {
    policy: view(detail.policy, {
      volume_ids: detail.volumes.map((v) => v.volumeId),
      next_runs: detail.nextRuns.map((d) => d.toISOString()),
      runs: detail.runs.slice(0, 20).map((r) => ({
        id: r.id,
        volume_id: r.volumeId,
        status: r.status,
        reason: r.reason,
        backup_id: r.backupId,
        incremental: r.incremental,
        started_at: r.startedAt.toISOString(),
        finished_at: r.finishedAt?.toISOString() ?? null,
        retention: r.retention,
      })),
    }),
  });
}

export async function updatePolicyHandler(c: CinderContext) {
  const policy = await updatePolicy(c.actor, { ...fieldsFrom(await policyBody(c)), id: c.params.id });
  return json(c, { policy: view(policy) });
}

export async function deletePolicyHandler(c: CinderContext) {
  await deletePolicy(c.actor, { id: c.params.id });
  return empty(c, 202);
}

export async function policyActionHandler(c: CinderContext) {
  const body = (await readJson(c.request)) as Record<string, unknown> | null;
  const [action, ...others] = body && typeof body === 'object' ? Object.keys(body) : [];
  if (!action || others.length > 0)
    throw new AppError('invalid', 'The body names one action: os-assign, os-pause, os-resume or os-run-now');
  const id = c.params.id;
  switch (action) {
    case 'os-assign': {
      const args = (body?.[action] ?? {}) as { volume_ids?: unknown };
      const result = await assignVolumes(c.actor, { id, projectId: c.projectId, volumeIds: args.volume_ids });
      return json(c, { assignment: { added: result.added, removed: result.removed } });
    }
    case 'os-pause':
    case 'os-resume':
      return json(c, { policy: view(await pausePolicy(c.actor, { id, paused: action === 'os-pause' })) });
    case 'os-run-now': {
      const runs = await runPolicyNow(c.actor, { id });
      return json(
        c,
        { runs: runs.map((r) => ({ id: r.id, volume_id: r.volumeId, status: r.status, reason: r.reason, backup_id: r.backupId })) },
        202,
      );
    }
    default:
      throw new AppError('invalid', `Unknown policy action ${action}: use os-assign, os-pause, os-resume or os-run-now`);
  }
}

export async function prunePreviewHandler(c: CinderContext) {
  const preview = await previewPrune(c.actor, { id: c.params.id });
  return json(c, {
    prune_preview: preview.map((p) => ({
      volume_id: p.volumeId,
      backups: p.entries.map((e) => ({
        id: e.backupId,
        name: e.name,
        created_at: e.createdAt.toISOString(),
        keep: e.keep,
        reasons: e.reasons,
      })),
    })),
  });
}
