import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GET } from '@/app/metrics/route';
import { createBackup, restoreBackup } from '../../server/backups/service';
import { backupTools } from '../backups/support';
import { seedProject } from '../support/identities';
import { startHarness, waitForVolume, type Harness } from '../support/harness';
import { type Family, parsePrometheusText } from './prometheus-text';

let h: Harness;
before(async () => {
  h = await startHarness({ host: 'metrics-host' });
});
after(async () => {
  await h?.stop();
});

const { newVolume, writeData, waitForBackup } = backupTools(() => h);
const TOKEN = 'metrics-token-for-the-test-suite-0123';

function scrape(authorization?: string) {
  return GET(new Request('http://cinderblock.test/metrics', { headers: authorization ? { authorization } : {} }));
}
function family(families: Map<string, Family>, name: string, type: string): Family {
  const found = families.get(name);
  assert.ok(found, `${name} is exposed`);
  assert.equal(found.type, type, `${name} is a ${type}`);
  return found;
}
const sample = (f: Family, name: string, labels: Record<string, string>) =>
  f.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('GET /metrics', () => {
  test('without CINDERBLOCK_METRICS_TOKEN the endpoint does not exist; a missing or wrong token is refused', async () => {
    delete process.env.CINDERBLOCK_METRICS_TOKEN;
    assert.equal((await scrape(`Bearer ${TOKEN}`)).status, 404);
    process.env.CINDERBLOCK_METRICS_TOKEN = TOKEN;
    assert.equal((await scrape()).status, 401);
    assert.equal((await scrape(`Bearer ${TOKEN}x`)).status, 401);
    assert.equal((await scrape(`Bearer ${TOKEN.slice(0, -1)}`)).status, 401);
    assert.equal((await scrape(`Basic ${TOKEN}`)).status, 401);
    const denied = await scrape('Bearer nope');
    assert.equal(denied.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    assert.ok(!(await denied.text()).includes('cinderblock_'), 'a refusal carries no metrics');
  });

  test('a scrape after a backup and a restore parses and has every series with sane values', async () => {
    process.env.CINDERBLOCK_METRICS_TOKEN = TOKEN;
    const { project, actor } = await seedProject('member');
    const volume = await newVolume(actor, project.id, 'measured');
    await writeData(volume.id, [0, 3]);
    const backup = await waitForBackup((await createBackup(actor, { volumeId: volume.id, name: 'measured' })).id, 'available');
    const restore = await restoreBackup(actor, { id: backup.id });
    await waitForVolume(h, restore.volumeId, 'available');
    await waitForBackup(backup.id, 'available');

    const response = await scrape(`Bearer ${TOKEN}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await response.text());

    const jobs = family(families, 'cinderblock_jobs_total', 'counter');
    assert.ok((sample(jobs, 'cinderblock_jobs_total', { kind: 'backup_create', outcome: 'succeeded' })?.value ?? 0) >= 1);
    assert.ok((sample(jobs, 'cinderblock_jobs_total', { kind: 'backup_restore', outcome: 'succeeded' })?.value ?? 0) >= 1);
    assert.ok(jobs.samples.every((s) => ['succeeded', 'failed', 'cancelled'].includes(s.labels.outcome) && Number.isInteger(s.value)));
    family(families, 'cinderblock_jobs_queued', 'gauge');
    family(families, 'cinderblock_jobs_running', 'gauge');
    family(families, 'cinderblock_jobs_queued_oldest_age_seconds', 'gauge');

    for (const name of ['cinderblock_transfer_duration_seconds', 'cinderblock_transfer_size_bytes']) {
      const histogram = family(families, name, 'histogram');
      for (const direction of ['backup', 'restore']) {
        const buckets = histogram.samples.filter((s) => s.name === `${name}_bucket` && s.labels.direction === direction);
        assert.ok(buckets.length > 2, `${name} has buckets for ${direction}`);
        assert.equal(buckets.at(-1)!.labels.le, '+Inf');
        for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'buckets are cumulative');
        const count = sample(histogram, `${name}_count`, { direction })!.value;
        assert.ok(count >= 1);
        assert.equal(buckets.at(-1)!.value, count);
        assert.ok(sample(histogram, `${name}_sum`, { direction })!.value >= 0);
      }
    }
    const sizes = family(families, 'cinderblock_transfer_size_bytes', 'histogram');
    assert.ok(
      sample(sizes, 'cinderblock_transfer_size_bytes_sum', { direction: 'backup' })!.value >= (2 * 1024 ** 2) / 2,
      'a backup of 2 MiB of random data stores about that much',
    );

    const backups = family(families, 'cinderblock_backups', 'gauge');
    assert.ok((sample(backups, 'cinderblock_backups', { status: 'available', integrity: 'unchecked' })?.value ?? 0) >= 1);
    const repository = family(families, 'cinderblock_repository_stored_bytes', 'gauge');
    assert.ok(repository.samples[0].value >= backup.bytesStored && backup.bytesStored > 0);

    const heartbeat = family(families, 'cinderblock_service_heartbeat_age_seconds', 'gauge');
    const mine = sample(heartbeat, 'cinderblock_service_heartbeat_age_seconds', { binary: 'cinder-backup', host: 'metrics-host' });
    assert.ok(mine && mine.value >= 0 && mine.value < 30, 'the running worker heartbeats');
    family(families, 'cinderblock_service_enabled', 'gauge');
    family(families, 'cinderblock_notification_deliveries', 'gauge');

    // The earlier scrapes (and refusals) of this route were timed.
    const requests = family(families, 'cinderblock_http_request_duration_seconds', 'histogram');
    const refused = sample(requests, 'cinderblock_http_request_duration_seconds_count', {
      route: '/metrics',
      method: 'GET',
      status: '401',
    });
    assert.ok(refused && refused.value >= 4);
    for (const f of families.values()) {
      assert.match(f.name, /^cinderblock_/);
      if (f.type === 'counter') assert.match(f.name, /_total$/);
      assert.ok(
        f.samples.every((s) => !Number.isNaN(s.value) && s.value >= 0),
        `${f.name} has no negative or NaN values`,
      );
    }
  });
});
