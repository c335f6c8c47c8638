import { AppError, invalid } from '../../errors';
import {
  createSnapshot,
  deleteSnapshot,
  forceDeleteSnapshot,
  resetSnapshotStatus,
  updateSnapshot,
  type SnapshotChanges,
} from '../../snapshots/service';
import { isUuidLike } from './rest-list';
import { empty, json, readJson, type CinderContext } from './context';
import { isTrueString, pyRepr, validateBody } from './json-schema';
import { listSnapshotsRest, showSnapshot } from './snapshot-queries';
import { createSnapshotSchema, emptyActionSchema, resetSnapshotStatusSchema, updateSnapshotSchema } from './volume-schemas';
import { snapshotView } from './volume-views';

/** Block Storage v3 snapshot routes (reference §3.2). */
type Body = Record<string, unknown>;

/** `extended`: show and the detail list carry the extended-snapshot-attributes keys; create and update do not. */
const viewOptions = (c: CinderContext, extended: boolean) => ({ version: c.version, links: c.links, isAdmin: c.actor.isAdmin, extended });

function snapshotId(c: CinderContext): string {
  const id = c.params.id;
  if (!isUuidLike(id)) throw new AppError('not_found', `Snapshot ${id} could not be found.`);
  return id;
}

async function render(c: CinderContext, id: string, status = 200, extended = false) {
  return json(c, { snapshot: snapshotView(await showSnapshot(c.actor, id), viewOptions(c, extended), true) }, status);
}

export function listSnapshotsHandler(detail: boolean) {
  return async (c: CinderContext) => {
    const result = await listSnapshotsRest({ actor: c.actor, projectId: c.projectId, version: c.version, query: c.query });
    const body: Record<string, unknown> = { snapshots: result.rows.map((s) => snapshotView(s, viewOptions(c, detail), detail)) };
    if (result.count !== undefined) body.count = result.count;
    if (result.nextMarker)
      body.snapshots_links = [{ rel: 'next', href: c.links.next(detail ? 'snapshots/detail' : 'snapshots', c.query, result.nextMarker) }];
    return json(c, body);
  };
}

export async function showSnapshotHandler(c: CinderContext) {
  return render(c, snapshotId(c), 200, true);
}

/**
 * `force` per microversion: below 3.66 an in-use volume needs `force=true`; from 3.66 an in-use
 * volume needs nothing, `force=true` is ignored and `force=false` is refused.
 */
export async function createSnapshotHandler(c: CinderContext) {
  const body = await readJson(c.request);
  validateBody(createSnapshotSchema, body);
  const s = (body as Body).snapshot as Body;
  let force = isTrueString(s.force);
  if (c.version.atLeast('3.66')) {
    if (s.force !== undefined && s.force !== null && !force) {
      throw invalid(
        `Invalid value ${pyRepr(s.force)} for force. Since microversion 3.66 a snapshot of an in-use volume needs no 'force'; leave it out.`,
      );
    }
    force = true;
  }
  const metadata = (s.metadata ?? null) as Record<string, string> | null;
  const snapshot = await createSnapshot(c.actor, {
    volumeId: s.volume_id,
    name: (s.name ?? s.display_name ?? undefined) as string | undefined,
    description: (s.description ?? s.display_description ?? undefined) as string | undefined,
    force,
    metadata,
  });
  return render(c, snapshot.id, 202);
}

export async function updateSnapshotHandler(c: CinderContext) {
  const id = snapshotId(c);
  const body = await readJson(c.request);
  validateBody(updateSnapshotSchema, body);
  const s = (body as Body).snapshot as Body;
  if (Object.keys(s).length === 0) throw invalid("Invalid input received: 'snapshot' must contain at least one of name or description");
  const fields: SnapshotChanges = { id };
  if ('name' in s || 'display_name' in s) fields.name = (s.name ?? s.display_name ?? null) as string | null;
  if ('description' in s || 'display_description' in s)
    fields.description = (s.description ?? s.display_description ?? null) as string | null;
  await updateSnapshot(c.actor, fields);
  return render(c, id);
}

export async function deleteSnapshotHandler(c: CinderContext) {
  await deleteSnapshot(c.actor, { id: snapshotId(c) });
  return empty(c);
}

export async function snapshotActionHandler(c: CinderContext) {
  const id = snapshotId(c);
  const body = await readJson(c.request);
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length !== 1) {
    throw new AppError('invalid', 'Malformed request body: too many body keys');
  }
  const [action] = Object.keys(body);
  if (action === 'os-reset_status') {
    validateBody(resetSnapshotStatusSchema, body);
    await resetSnapshotStatus(c.actor, { id, status: ((body as Body)[action] as Body).status });
    return empty(c);
  }
  if (action === 'os-force_delete') {
    validateBody(emptyActionSchema(action), body);
    await forceDeleteSnapshot(c.actor, { id });
    return empty(c);
  }
  throw invalid(`There is no such action: ${action}`);
}
