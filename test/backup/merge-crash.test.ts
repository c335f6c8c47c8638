/**
 * kill -9 during a merge (merge.ts), in a child process: right before each of its writes to the
 * store in turn, and at random moments from outside. At every kill the repository holds one
 * complete chain (the old one: the parent and the child's original objects all present; or the new
 * one: the child merged, nothing missing or extra); running the merge again finishes it, and every
 * remaining backup then restores byte-identical.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createStore, readBackupMetadata, verifyBackup, type BackupStore } from '../../server/drivers/backup/index';
import { mergeBackup } from '../../server/drivers/backup/merge';
import { sha256OfFile } from './support/images';
import { makeTempDir, repoRoot } from './support/paths';
import { newVolume } from './support/scenario';
import { buildChain, layerOf, restoredHash, writeVersions, type Made } from './support/merge-chain';

const childScript = path.join(import.meta.dirname, 'support', 'merge-child.ts');

describe('kill -9 at any point of a merge leaves a restorable chain', () => {
  let work: string;
  let template: string;
  let chain: Made[];
  let hashes: string[];
  let trials = 0;

  before(async () => {
    work = makeTempDir('merge-crash');
    template = path.join(work, 'template');
    const files = writeVersions(work);
    hashes = files.map(sha256OfFile);
    chain = await buildChain(createStore({ kind: 'posix', root: template }), newVolume(), files);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  function freshRepo(): { repo: string; store: BackupStore; request: string } {
    trials += 1;
    const repo = path.join(work, `trial-${trials}`);
    fs.cpSync(template, repo, { recursive: true });
    return { repo, store: createStore({ kind: 'posix', root: repo }), request: path.join(work, `request-${trials}.json`) };
  }

  function runChild(requestFile: string, request: object) {
    fs.writeFileSync(requestFile, JSON.stringify(request));
    return spawnSync(process.execPath, ['--import', 'tsx', childScript, requestFile], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
  }

  /** The old chain (parent and child's own objects all there) or the new one (child merged, exactly its objects). */
  async function assertOneCompleteChain(store: BackupStore, parent: Made, child: Made, grandparentId: string | null, when: string) {
    const metadata = await readBackupMetadata({ store, container: child.result.container, prefix: child.result.prefix });
    const childCheck = await verifyBackup({ store, container: child.result.container, prefix: child.result.prefix });
    assert.deepEqual(childCheck.missing, [], `${when}: the child's metadata names only objects that exist`);
    if (metadata.parentId === parent.backupId) {
      const parentCheck = await verifyBackup({ store, container: parent.result.container, prefix: parent.result.prefix });
      assert.deepEqual(parentCheck.problems, [], `${when}: the old chain's parent is whole`);
      return 'old';
    }
    assert.equal(metadata.parentId, grandparentId, `${when}: the switched child names the parent's parent`);
    assert.deepEqual(childCheck.unexpected, [], `${when}: the switched child has no object its metadata does not list`);
    return 'new';
  }

  /** Runs the merge again to its end; then every remaining backup restores byte-identical. */
  async function resumeAndRestore(
    store: BackupStore,
    repo: string,
    parent: Made,
    remaining: Array<{ chain: Made[]; hash: string }>,
    merge: { children: Made[] },
  ) {
    await mergeBackup({ store, parent: layerOf(parent), children: merge.children.map(layerOf), removeParentObjects: true });
    assert.deepEqual(await store.listObjects(parent.result.container, parent.result.prefix), []);
    for (const [index, expected] of remaining.entries()) {
      assert.equal(await restoredHash(store, expected.chain, path.join(repo, `restored-${index}.img`)), expected.hash);
    }
  }

  test('killed right before each write of a middle-incremental merge, it recovers every time', async () => {
    const [full, middle, child, last] = chain as [Made, Made, Made, Made];
    const merge = { parent: layerOf(middle), children: [layerOf(child)] };
    const dry = freshRepo();
    const clean = runChild(dry.request, { repo: dry.repo, ...merge, killBeforeWrite: null });
    assert.equal(clean.status, 0, clean.stderr);
    const { writes } = JSON.parse(clean.stdout.trim().split('\n').at(-1)!) as { writes: number };
    assert.ok(writes >= 6, `the merge made ${writes} writes`);
    const remaining = [
      { chain: [full], hash: hashes[0]! },
      { chain: [full, child], hash: hashes[2]! },
      { chain: [full, child, last], hash: hashes[3]! },
    ];
    const seen = new Set<string>();
    for (let kill = 1; kill <= writes; kill += 1) {
      const trial = freshRepo();
      const run = runChild(trial.request, { repo: trial.repo, ...merge, killBeforeWrite: kill });
      assert.equal(run.signal, 'SIGKILL', `write ${kill}: ${run.stderr}`);
      seen.add(await assertOneCompleteChain(trial.store, middle, child, full.backupId, `killed before write ${kill}`));
      await resumeAndRestore(trial.store, trial.repo, middle, remaining, { children: [child] });
      fs.rmSync(trial.repo, { recursive: true, force: true });
    }
    assert.deepEqual([...seen].sort(), ['new', 'old'], 'kills landed both before and after the switch');
  });

  test('killed from outside at random moments of a full merge, it recovers every time', async () => {
    const [full, first, second, last] = chain as [Made, Made, Made, Made];
    const merge = { parent: layerOf(full), children: [layerOf(first)] };
    const remaining = [
      { chain: [first], hash: hashes[1]! },
      { chain: [first, second], hash: hashes[2]! },
      { chain: [first, second, last], hash: hashes[3]! },
    ];
    for (let round = 0; round < 6; round += 1) {
      const trial = freshRepo();
      fs.writeFileSync(trial.request, JSON.stringify({ repo: trial.repo, ...merge, killBeforeWrite: null }));
      const child = spawn(process.execPath, ['--import', 'tsx', childScript, trial.request], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const delayMs = Math.floor(Math.random() * 60);
      const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('started')) setTimeout(() => child.kill('SIGKILL'), delayMs);
        });
        child.on('exit', (code, signal) => resolve({ code, signal }));
      });
      assert.ok(outcome.signal === 'SIGKILL' || outcome.code === 0, `round ${round}: ${JSON.stringify(outcome)}`);
      await assertOneCompleteChain(trial.store, full, first, null, `round ${round}, killed after ${delayMs} ms`);
      await resumeAndRestore(trial.store, trial.repo, full, remaining, { children: [first] });
      fs.rmSync(trial.repo, { recursive: true, force: true });
    }
  });
});
