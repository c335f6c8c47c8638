import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { backups, snapshots } from '../../server/db/schema';
import { addMember, seedAdmin, seedProject } from '../support/identities';
import { startHarness, waitFor, waitForVolume, type Harness } from '../support/harness';
import { apiTenant, call, CINDER_TIME, passwordToken } from './support';

/**
 * Golden views (issue 16.2): what each call returns for volumes, snapshots, backups and
 * attachments — create, show, update, summary list, detail list (and an attachment's delete) — at 3.0, a middle microversion where keys appear, and
 * 3.72, for a project member and for an administrator (who sees the admin-only keys, and the
 * extensions' keys on show and the detail list only, as Cinder's extensions add them). Each
 * answer is compared in full with test/api/fixtures/views/<resource>-<version>-<actor>.json after
 * ids, times and the container name are replaced by placeholders (times must have Cinder's form).
 * `GOLDEN_UPDATE=1` rewrites the files; review every change against Cinder's views before keeping it.
 */
let h: Harness;

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'views');
const UPDATE = process.env.GOLDEN_UPDATE === '1';

interface Caller {
  token: string;
  projectId: string;
  userId: string;
}
type Answer = Record<string, unknown>;

async function memberCaller(): Promise<Caller> {
  const t = await apiTenant();
  return { token: t.token, projectId: t.project.id, userId: t.userId };
}

async function adminCaller(): Promise<Caller> {
  const admin = await seedAdmin();
  const home = await seedProject('member');
  await addMember(admin.actor.userId, home.project.id, 'member');
  const { token } = await passwordToken(admin.name, admin.password, { id: home.project.id });
  return { token, projectId: home.project.id, userId: admin.actor.userId };
}

/** Every id and time replaced by a placeholder naming it, so the rest compares exactly. */
function normalize(value: unknown, names: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v, names));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => {
          if (k === 'container' && typeof v === 'string') return [k, '<container>'];
          return [k, normalize(v, names)];
        }),
    );
  }
  if (typeof value === 'string') {
    if (CINDER_TIME.test(value)) return '<time>';
    let text = value;
    for (const [id, name] of names) text = text.split(id).join(name);
    return text;
  }
  return value;
}

function compareGolden(file: string, answers: Answer, names: Map<string, string>) {
  const actual = normalize(answers, names);
  const target = path.join(FIXTURES, file);
  if (UPDATE) {
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(target, `${JSON.stringify(actual, null, 2)}\n`);
    return;
  }
  assert.deepEqual(actual, JSON.parse(readFileSync(target, 'utf8')), `${file} differs from the golden answer`);
}

/**
 * A create answers the row as committed; a fast worker may already have finished it. Either status
 * is right, and the golden names both.
 */
function settleCreateStatus(answer: Answer, key: 'volume' | 'snapshot') {
  const row = answer[key] as { status: string };
  assert.ok(['creating', 'available'].includes(row.status), row.status);
  row.status = '<creating or available>';
}

async function ok(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, who: Caller, version: string, body?: unknown, status = 200) {
  const answer = await call(method, url, { token: who.token, version, body });
  assert.equal(answer.status, status, `${method} ${url}: ${answer.text}`);
  return answer.body as Answer;
}

async function newVolume(who: Caller, version: string) {
  const created = await ok('POST', `/v3/${who.projectId}/volumes`, who, version, { volume: { size: 1, name: 'source' } }, 202);
  const id = (created.volume as { id: string }).id;
  await waitForVolume(h, id, 'available');
  return id;
}

async function volumeAnswers(who: Caller, version: string, names: Map<string, string>): Promise<Answer> {
  const base = `/v3/${who.projectId}/volumes`;
  const create = await ok(
    'POST',
    base,
    who,
    version,
    { volume: { size: 1, name: 'golden', description: 'views', metadata: { tier: 'gold' } } },
    202,
  );
  const id = (create.volume as { id: string }).id;
  names.set(id, '<volume_id>');
  settleCreateStatus(create, 'volume');
  await waitForVolume(h, id, 'available');
  const show = await ok('GET', `${base}/${id}`, who, version);
  const update = await ok('PUT', `${base}/${id}`, who, version, { volume: { name: 'golden-renamed' } });
  const list = await ok('GET', base, who, version);
  const detail = await ok('GET', `${base}/detail`, who, version);
  return { create, show, update, list, detail };
}

async function snapshotAnswers(who: Caller, version: string, names: Map<string, string>): Promise<Answer> {
  const volumeId = await newVolume(who, version);
  names.set(volumeId, '<volume_id>');
  const base = `/v3/${who.projectId}/snapshots`;
  const create = await ok(
    'POST',
    base,
    who,
    version,
    { snapshot: { volume_id: volumeId, name: 'golden', description: 'views', metadata: { tier: 'gold' } } },
    202,
  );
  const id = (create.snapshot as { id: string }).id;
  names.set(id, '<snapshot_id>');
  settleCreateStatus(create, 'snapshot');
  await waitFor(`snapshot ${id}`, async () => {
    const [row] = await h.database.handle.db.select().from(snapshots).where(eq(snapshots.id, id));
    return row?.status === 'available';
  });
  const show = await ok('GET', `${base}/${id}`, who, version);
  const update = await ok('PUT', `${base}/${id}`, who, version, { snapshot: { name: 'golden-renamed' } });
  const list = await ok('GET', base, who, version);
  const detail = await ok('GET', `${base}/detail`, who, version);
  return { create, show, update, list, detail };
}

async function backupAnswers(who: Caller, version: string, names: Map<string, string>): Promise<Answer> {
  const volumeId = await newVolume(who, version);
  names.set(volumeId, '<volume_id>');
  const base = `/v3/${who.projectId}/backups`;
  const create = await ok('POST', base, who, version, { backup: { volume_id: volumeId, name: 'golden', description: 'views' } }, 202);
  const id = (create.backup as { id: string }).id;
  names.set(id, '<backup_id>');
  await waitFor(
    `backup ${id}`,
    async () => {
      const [row] = await h.database.handle.db.select().from(backups).where(eq(backups.id, id));
      if (row?.status === 'error') throw new Error(`backup failed: ${row.failReason}`);
      return row?.status === 'available';
    },
    60_000,
  );
  const show = await ok('GET', `${base}/${id}`, who, version);
  const answers: Answer = { create, show };
  if (version !== '3.0') answers.update = await ok('PUT', `${base}/${id}`, who, version, { backup: { name: 'golden-renamed' } });
  answers.list = await ok('GET', base, who, version);
  answers.detail = await ok('GET', `${base}/detail`, who, version);
  return answers;
}

async function attachmentAnswers(who: Caller, version: string, names: Map<string, string>): Promise<Answer> {
  const volumeId = await newVolume(who, version);
  names.set(volumeId, '<volume_id>');
  names.set(volumeDir, '<volume_dir>');
  const instance = '7d8fc4c4-4bdf-4d8f-9d52-5f4fd9e8b2b1';
  const base = `/v3/${who.projectId}/attachments`;
  const create = await ok('POST', base, who, version, { attachment: { volume_uuid: volumeId, instance_uuid: instance } }, 202);
  const id = (create.attachment as { id: string }).id;
  names.set(id, '<attachment_id>');
  const connector = { host: 'compute-1', mountpoint: '/dev/vdb', platform: 'x86_64', os_type: 'linux2', multipath: false };
  const update = await ok('PUT', `${base}/${id}`, who, version, { attachment: { connector } });
  const answers: Answer = { create, update };
  if (version !== '3.27') {
    await ok('POST', `${base}/${id}/action`, who, version, { 'os-complete': null }, 204);
    answers.volume = await ok('GET', `/v3/${who.projectId}/volumes/${volumeId}`, who, version);
  }
  answers.show = await ok('GET', `${base}/${id}`, who, version);
  answers.list = await ok('GET', base, who, version);
  answers.detail = await ok('GET', `${base}/detail`, who, version);
  answers.delete = await ok('DELETE', `${base}/${id}`, who, version);
  return answers;
}

const RESOURCES = {
  volume: { answers: volumeAnswers, versions: ['3.0', '3.48', '3.72'] },
  snapshot: { answers: snapshotAnswers, versions: ['3.0', '3.41', '3.72'] },
  backup: { answers: backupAnswers, versions: ['3.0', '3.43', '3.72'] },
  attachment: { answers: attachmentAnswers, versions: ['3.27', '3.72'] },
};

let volumeDir: string;

before(async () => {
  volumeDir = await mkdtemp(path.join(tmpdir(), 'cinderblock-views-'));
  // The API (connection info) and the worker read the same volume directory, as in one installation.
  process.env.CINDERBLOCK_VOLUME_DIR = volumeDir;
  h = await startHarness({ host: 'api-views-host', volumeDir });
});
after(async () => {
  await h?.stop();
  await rm(volumeDir, { recursive: true, force: true });
});

describe('golden views per call and microversion', () => {
  for (const [resource, { answers, versions }] of Object.entries(RESOURCES)) {
    for (const version of versions) {
      for (const actor of ['member', 'admin'] as const) {
        test(`${resource} at ${version} as ${actor}`, async () => {
          const who = actor === 'admin' ? await adminCaller() : await memberCaller();
          const names = new Map([
            [who.projectId, '<project_id>'],
            [who.userId, '<user_id>'],
          ]);
          compareGolden(`${resource}-${version}-${actor}.json`, await answers(who, version, names), names);
        });
      }
    }
  }

  test('snapshot create and update never carry the extended attributes; show and the detail list do', async () => {
    const who = await memberCaller();
    const answers = await snapshotAnswers(who, '3.72', new Map());
    const keyOf = (a: unknown) => Object.keys((a as { snapshot: object }).snapshot);
    for (const call of ['create', 'update']) {
      assert.ok(!keyOf(answers[call]).some((k) => k.startsWith('os-extended-snapshot-attributes:')), call);
    }
    assert.ok(keyOf(answers.show).includes('os-extended-snapshot-attributes:progress'));
    const [first] = (answers.detail as { snapshots: object[] }).snapshots;
    assert.ok(Object.keys(first).includes('os-extended-snapshot-attributes:project_id'));
  });
});
