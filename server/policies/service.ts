import { and, eq, inArray } from 'drizzle-orm';
import type { Actor } from '../auth/actor';
import { authorize, requireAdmin } from '../auth/policy';
import { db, type Executor } from '../db/client';
import { policyVolumes, volumes } from '../db/schema';
import { AppError, invalid } from '../errors';
import { parseInput } from '../validation';
import { visiblePolicy, type PolicyRow } from './guards';
import { retentionPreview, type PreviewEntry } from './prune';
import { lockRuns, startRun, type RunRow } from './runs';
import { nextRuns } from './schedule';
import {
  assignSchema,
  createPolicySchema,
  pauseSchema,
  policyIdSchema,
  scheduleFieldsSchema,
  previewSchema,
  updatePolicySchema,
} from './schemas';
import { insertPolicy, removePolicy, replaceAssignments, replacePolicy, setPolicyPaused } from './transitions';

/**
 * Backup policies: one function per verb, each parsing its input, authorizing, then one transaction.
 * A project's members manage its policies; administrators manage any and may create policies
 * offered to every project (`projectId: null`), to which members assign their own volumes.
 */

export async function createPolicy(actor: Actor, input: unknown, tx: Executor = db(), now = new Date()): Promise<PolicyRow> {
  const { projectId, ...fields } = parseInput(createPolicySchema, input);
  if (projectId === null) requireAdmin(actor, 'policy:create_shared');
  else authorize(actor, projectId, 'write', 'policy:create', `Project ${projectId} could not be found.`);
  void now;
  return tx.transaction((t) => insertPolicy(t, actor, projectId, fields));
}

export async function updatePolicy(actor: Actor, input: unknown, tx: Executor = db(), now = new Date()): Promise<PolicyRow> {
  const { id, ...fields } = parseInput(updatePolicySchema, input);
  return tx.transaction(async (t) => replacePolicy(t, actor, await visiblePolicy(t, actor, id, 'write', 'policy:update'), fields, now));
}

export async function deletePolicy(actor: Actor, input: unknown, tx: Executor = db()): Promise<void> {
  const { id } = parseInput(policyIdSchema, input);
  await tx.transaction(async (t) => removePolicy(t, actor, await visiblePolicy(t, actor, id, 'write', 'policy:delete')));
}

export async function pausePolicy(actor: Actor, input: unknown, tx: Executor = db(), now = new Date()): Promise<PolicyRow> {
  const { id, paused } = parseInput(pauseSchema, input);
  return tx.transaction(async (t) => setPolicyPaused(t, actor, await visiblePolicy(t, actor, id, 'write', 'policy:pause'), paused, now));
}

/** The project whose volumes an actor assigns: the policy's, or (shared policy) the volumes' one project. */
async function assignmentProject(
  t: Executor,
  actor: Actor,
  policy: PolicyRow,
  volumeIds: string[],
  requested: string | null,
): Promise<string> {
  const rows = volumeIds.length
    ? await t
        .select({ id: volumes.id, projectId: volumes.projectId })
        .from(volumes)
        .where(and(inArray(volumes.id, volumeIds), eq(volumes.deleted, false)))
    : [];
  const missing = volumeIds.find((id) => !rows.some((r) => r.id === id));
  if (missing) throw new AppError('not_found', `Volume ${missing} could not be found.`, { volumeIds: `Volume ${missing} does not exist` });
  const projectId = policy.projectId ?? requested ?? rows[0]?.projectId;
  if (!projectId) throw invalid('Choose the project whose volumes these are', { projectId: 'Choose a project' });
  for (const row of rows) {
    authorize(actor, row.projectId, 'write', 'policy:assign', `Volume ${row.id} could not be found.`);
    if (row.projectId !== projectId)
      throw invalid(`Volume ${row.id} is not in this policy's project`, { volumeIds: 'Choose volumes of one project' });
  }
  authorize(actor, projectId, 'write', 'policy:assign', `Project ${projectId} could not be found.`);
  return projectId;
}

/** Makes `volumeIds` the policy's volumes (in their project); a volume may be on several policies. */
export async function assignVolumes(actor: Actor, input: unknown, tx: Executor = db(), now = new Date()) {
  const raw = (input ?? {}) as { projectId?: unknown };
  const { id, volumeIds } = parseInput(assignSchema, input);
  const requested = typeof raw.projectId === 'string' && raw.projectId ? raw.projectId : null;
  return tx.transaction(async (t) => {
    const policy = await visiblePolicy(t, actor, id, 'assign', 'policy:assign');
    const projectId = await assignmentProject(t, actor, policy, [...new Set(volumeIds)], requested);
    return replaceAssignments(t, actor, policy, projectId, [...new Set(volumeIds)], now);
  });
}

/** Starts a run now for each of the policy's volumes the actor may write (or just `volumeId`). */
export async function runPolicyNow(actor: Actor, input: unknown, tx: Executor = db(), now = new Date()): Promise<RunRow[]> {
  const { id, volumeId } = parseInput(previewSchema, input);
  return tx.transaction(async (t) => {
    const policy = await visiblePolicy(t, actor, id, 'assign', 'policy:run');
    await lockRuns(t);
    const assignments = await t
      .select()
      .from(policyVolumes)
      .where(and(eq(policyVolumes.policyId, policy.id), volumeId ? eq(policyVolumes.volumeId, volumeId) : undefined));
    const mine = assignments.filter((a) => actor.isAdmin || actor.roles.get(a.projectId) === 'member');
    if (mine.length === 0) throw invalid('Assign a volume to this policy first', { volumeIds: 'No volume is assigned to this policy' });
    const runs: RunRow[] = [];
    for (const a of mine) runs.push(await startRun(t, policy, a.volumeId, a.projectId, null, now));
    return runs;
  });
}

/** What retention would keep and prune now, per assigned volume the actor may see, and which rule keeps each backup. */
export async function previewPrune(
  actor: Actor,
  input: unknown,
  tx: Executor = db(),
): Promise<{ volumeId: string; entries: PreviewEntry[] }[]> {
  const { id, volumeId } = parseInput(previewSchema, input);
  const policy = await visiblePolicy(tx, actor, id, 'read', 'policy:get');
  const assignments = await tx
    .select()
    .from(policyVolumes)
    .where(and(eq(policyVolumes.policyId, policy.id), volumeId ? eq(policyVolumes.volumeId, volumeId) : undefined));
  const visible = assignments.filter((a) => actor.isAdmin || actor.roles.has(a.projectId));
  return Promise.all(visible.map(async (a) => ({ volumeId: a.volumeId, entries: await retentionPreview(tx, policy, a.volumeId) })));
}

/** The next `count` run times of a schedule being edited (no policy needed): the editor's live preview. */
export function previewSchedule(input: unknown, after = new Date(), count = 5): Date[] {
  const fields = parseInput(scheduleFieldsSchema, input);
  return nextRuns(fields.schedule, fields.timeZone, after, count);
}
