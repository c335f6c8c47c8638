import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dataObjectName, metadataObjectName, shaObjectName } from '../../server/drivers/backup/format';
import { scrubBackup } from '../../server/drivers/backup/scrub';
import { overwrite, writeImage, type RegionKind } from './support/images';
import { makeTempDir } from './support/paths';
import { backup, MiB, newVolume } from './support/scenario';
import { posixStoreUnderTest, type StoreUnderTest } from './support/stores';

const KINDS: RegionKind[] = ['random', 'text', 'zero', 'zero', 'text', 'random', 'zero', 'zero'];
const SIZE = KINDS.length * MiB;
type Made = Awaited<ReturnType<typeof backup>>;

describe('scrub: every object read back and checked, the sha file against the data and the chain', () => {
  let subject: StoreUnderTest;
  let work: string;
  before(() => {
    subject = posixStoreUnderTest();
    work = makeTempDir('scrub');
  });
  after(async () => {
    await subject.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** A full backup and an incremental of a fresh volume, each in a container of its own. */
  async function chain(label: string) {
    const volume = newVolume();
    const source = path.join(work, `${label}.img`);
    writeImage(source, KINDS, MiB, label);
    const full = await backup(subject.store, volume, source, null, { container: subject.freshContainer(label) });
    overwrite(source, 3 * MiB, 64 * 1024, `${label}-change`);
    const incremental = await backup(subject.store, volume, source, full, { container: subject.freshContainer(`${label}-incr`) });
    return { full, incremental };
  }

  const location = (made: Made) => ({ store: subject.store, container: made.result.container, prefix: made.result.prefix });
  const scrub = (made: Made, parent: Made | null = null) =>
    scrubBackup({ ...location(made), backupId: made.backupId, sizeBytes: SIZE, parent: parent && location(parent) });
  const file = (made: Made, name: string) => path.join(subject.root!, made.result.container, name);

  test('a good chain passes, reading every object once', async () => {
    const { full, incremental } = await chain('good');
    const fullScrub = await scrub(full);
    assert.deepEqual(fullScrub.problems, []);
    assert.equal(fullScrub.ok, true);
    assert.equal(fullScrub.objectsChecked, full.result.objectCount);
    assert.equal(fullScrub.bytesChecked, SIZE);
    const incrScrub = await scrub(incremental, full);
    assert.deepEqual(incrScrub.problems, []);
    assert.equal(incrScrub.objectsChecked, incremental.result.objectCount);
  });

  test('a flipped byte is found and the object named', async () => {
    const { full } = await chain('flip');
    const name = dataObjectName(full.result.prefix, 1);
    const bytes = fs.readFileSync(file(full, name));
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    fs.writeFileSync(file(full, name), bytes);
    const result = await scrub(full);
    assert.equal(result.ok, false);
    assert.equal(result.damagedObject, name);
    assert.match(result.problems.join(' '), new RegExp(name));
  });

  test('a missing object, and a zero-length one, are found', async () => {
    const { full } = await chain('missing');
    const objects = fs
      .readdirSync(path.join(subject.root!, full.result.container))
      .filter((name) => /-\d{5}$/.test(name))
      .sort();
    assert.ok(objects.length >= 2, `${objects.length} objects`);
    const gone = objects[0];
    fs.rmSync(file(full, gone));
    const empty = objects.at(-1)!;
    fs.truncateSync(file(full, empty), 0);
    const result = await scrub(full);
    assert.equal(result.ok, false);
    assert.match(result.problems.join(' '), new RegExp(`${gone} is missing`));
    assert.match(result.problems.join(' '), new RegExp(`${empty} is empty`));
  });

  test("an object swapped for another backup's is found", async () => {
    const { full } = await chain('swap-a');
    const other = await chain('swap-b');
    const name = dataObjectName(full.result.prefix, 1);
    fs.copyFileSync(file(other.full, dataObjectName(other.full.result.prefix, 1)), file(full, name));
    const result = await scrub(full);
    assert.equal(result.ok, false);
    assert.equal(result.damagedObject, name);
    assert.match(result.problems.join(' '), /md5/);
  });

  test('a truncated sha file is found (it would break every later incremental)', async () => {
    const { full } = await chain('sha');
    const sha = file(full, shaObjectName(full.result.prefix));
    fs.truncateSync(sha, Math.floor(fs.statSync(sha).size / 2));
    const result = await scrub(full);
    assert.equal(result.ok, false);
    assert.equal(result.damagedObject, shaObjectName(full.result.prefix));
  });

  test('metadata of another backup is found', async () => {
    const { full } = await chain('meta-a');
    const other = await chain('meta-b');
    fs.copyFileSync(file(other.full, metadataObjectName(other.full.result.prefix)), file(full, metadataObjectName(full.result.prefix)));
    const result = await scrub(full);
    assert.equal(result.ok, false);
    assert.match(result.problems.join(' '), new RegExp(`describes backup ${other.full.backupId}`));
  });

  test("an incremental whose sha file disagrees with its parent's is found", async () => {
    const { full, incremental } = await chain('parent');
    // The parent's sha file is replaced by another volume's: the incremental's unchanged blocks no longer agree.
    const other = await chain('parent-other');
    fs.copyFileSync(file(other.full, shaObjectName(other.full.result.prefix)), file(full, shaObjectName(full.result.prefix)));
    const result = await scrub(incremental, full);
    assert.equal(result.ok, false);
    assert.match(result.problems.join(' '), /disagrees with the parent/);
  });
});
