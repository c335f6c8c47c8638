import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { loginAction } from '../../server/auth/login-action';
import { dataPaths } from '../../server/data-paths';
import { createVolume } from '../../server/volumes/service';
import { receiveUpload } from '../../server/volumes/upload';
import { expectError, startHarness, waitForVolume, type Harness } from '../support/harness';
import { apiTenant, ORIGIN, type ApiTenant } from './support';
import * as uploadRoute from '@/app/api/volumes/[id]/upload/route';

/**
 * Issue 20 item 4, the entry points outside the REST dispatcher: the upload route's X-File-Name
 * header, the console's services fed NUL characters or lone surrogates, and the login action called
 * without a form. Each is a 400 or a field message, and nothing is staged or changed.
 */
let h: Harness;
let member: ApiTenant;

before(async () => {
  h = await startHarness({ host: 'hostile-input-host' });
  process.env.CINDERBLOCK_DATA_DIR = h.dataDir;
  member = await apiTenant();
});
after(async () => {
  await h?.stop();
});

const staged = async () => (await readdir(dataPaths(h.env).staging).catch(() => [] as string[])).length;

test('a bad X-File-Name is a 400 before any byte is staged', async () => {
  const volume = await createVolume(member.actor, { projectId: member.project.id, size: 1 });
  await waitForVolume(h, volume.id, 'available');
  for (const name of ['%ff', 'a%00b', '%ED%A0%80']) {
    const request = new Request(`${ORIGIN}/api/volumes/${volume.id}/upload`, {
      method: 'POST',
      body: new Uint8Array(4096),
      headers: { 'X-Auth-Token': member.token, 'X-File-Name': name },
    });
    const response = await uploadRoute.POST(request, { params: Promise.resolve({ id: volume.id.toUpperCase() }) });
    const body = await response.json();
    assert.equal(response.status, 400, `${name}: ${JSON.stringify(body)}`);
    assert.ok(body.fieldErrors.file, name);
    const direct = new Request(`${ORIGIN}/x`, { method: 'POST', body: new Uint8Array(16), headers: { 'X-File-Name': name } });
    await expectError(receiveUpload(member.actor, volume.id, direct, h.env), 'invalid');
  }
  assert.equal(await staged(), 0, 'nothing was staged');
});

test('console input with a NUL character or a lone surrogate is a field error, not a database error', async () => {
  const nul = await expectError(createVolume(member.actor, { projectId: member.project.id, size: 1, name: 'a\u0000b' }), 'invalid');
  assert.deepEqual(Object.keys((nul as { fieldErrors: object }).fieldErrors), ['name']);
  const surrogate = await expectError(
    createVolume(member.actor, { projectId: member.project.id, size: 1, description: 'x\ud800' }),
    'invalid',
  );
  assert.deepEqual(Object.keys((surrogate as { fieldErrors: object }).fieldErrors), ['description']);
});

test('the login action called without form data answers a message', async () => {
  const state = await loginAction({}, undefined as unknown as FormData);
  assert.match(state.error ?? '', /sign-in form/);
  const empty = await loginAction({}, new FormData());
  assert.equal(empty.fieldErrors?.username, 'Enter your user name');
  assert.equal(empty.fieldErrors?.password, 'Enter your password');
});
