/**
 * kill -9 during a merge (merge.ts) and the service's steps after it (the switch of the records,
 * then the removal of the replaced objects), in a child process: right before each of its writes
 * to the store in turn, and at random moments from outside. At every kill, before the switch, the
 * old chain restores byte-identical with our restore (which refuses, as Cinder's does, a prefix
 * holding objects its metadata does not list; Cinder's own driver checks it too where the new
 * prefix holds the most) and the child's new prefix is either without metadata (ignored) or
 * complete; after the switch, the new chain restores. Resuming (the merge again, or only the
 * removal) ends with every remaining backup restoring byte-identical and no replaced object left.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import {
  createStore,
  deleteBackupObjects,
  metadataObjectName,
  shaObjectName,
  verifyBackup,
  type BackupStore,
} from '../../server/drivers/backup/index';
import { mergeBackup, mergedPrefix, replacedLocations } from '../../server/drivers/backup/merge';
import { sha256OfFile } from './support/images';
import { buildChain, layerOf, restoredHash, switchAndRemove, writeVersions, type Made } from './support/merge-chain';
import { restoreWithCinder } from './support/merge-cinder';
import { makeTempDir, repoRoot } from './support/paths';
import { newVolume, type VolumeIdentity } from './support/scenario';

const childScript = path.join(import.meta.dirname, 'support', 'merge-child.ts');
const switchRecord = z.object({ children: z.array(z.object({ backupId: z.string(), newPrefix: z.string() })) });

type Chains = Array<{ chain: Made[]; hash: string }>;

/** One merge: its parent and child, and every chain (with its hash) before and after the switch, given the child's record. */
interface Scenario {
  parent: Made;
  child: Made;
  oldChains(child: Made): Chains;
  newChains(child: Made): Chains;
}

interface Trial {
  repo: string;
  store: BackupStore;
  request: string;
  record: string;
}

describe('kill -9 at any point of a merge leaves a restorable chain', () => {
  let work: string;
  let template: string;
  let volume: VolumeIdentity;
  let chain: Made[];
  let hashes: string[];
  let trials = 0;

  before(async () => {
    work = makeTempDir('merge-crash');
    template = path.join(work, 'template');
    const files = writeVersions(work);
    hashes = files.map(sha256OfFile);
    volume = newVolume();
    chain = await buildChain(createStore({ kind: 'posix', root: template }), volume, files);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  function freshTrial(): Trial {
    trials += 1;
    const repo = path.join(work, `trial-${trials}`);
    fs.cpSync(template, repo, { recursive: true });
    return {
      repo,
      store: createStore({ kind: 'posix', root: repo }),
      request: path.join(work, `request-${trials}.json`),
      record: path.join(work, `record-${trials}.json`),
    };
  }

  function requestOf(trial: Trial, scenario: Scenario, killBeforeWrite: number | null) {
    return {
      repo: trial.repo,
      record: trial.record,
      parent: layerOf(scenario.parent),
      children: [layerOf(scenario.child)],
      killBeforeWrite,
    };
  }

  function runChild(trial: Trial, request: object) {
    fs.writeFileSync(trial.request, JSON.stringify(request));
    return spawnSync(process.execPath, ['--import', 'tsx', childScript, trial.request], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
  }

  /** The child as the records name it after the switch, if the switch happened. */
  function switchedChild(trial: Trial, child: Made): Made | null {
    if (!fs.existsSync(trial.record)) return null;
    const record = switchRecord.parse(JSON.parse(fs.readFileSync(trial.record, 'utf8')));
    const entry = record.children.find((switched) => switched.backupId === child.backupId)!;
    return { ...child, result: { ...child.result, prefix: entry.newPrefix } };
  }

  async function assertRestores(trial: Trial, chains: Chains, when: string) {
    for (const [index, expected] of chains.entries()) {
      const target = path.join(trial.repo, `restored-${index}.img`);
      assert.equal(
        await restoredHash(trial.store, expected.chain, target),
        expected.hash,
        `${when}: chain ${index} restores byte-identical`,
      );
      fs.rmSync(target);
    }
  }

  /**
   * What a kill left: before the switch, the old chain restores and the new prefix is ignored
   * (no metadata) or complete; after it, the new chain restores. Returns which, and how far the new prefix got.
   */
  async function assertRestorableChain(trial: Trial, scenario: Scenario, when: string) {
    const switched = switchedChild(trial, scenario.child);
    if (switched) {
      await assertRestores(trial, scenario.newChains(switched), `${when} (switched)`);
      return { chain: 'new', prefix: 'complete' } as const;
    }
    await assertRestores(trial, scenario.oldChains(scenario.child), `${when} (old chain)`);
    const { container } = scenario.child.result;
    const newPrefix = mergedPrefix(layerOf(scenario.child), scenario.parent.backupId);
    const names = await trial.store.listObjects(container, newPrefix);
    if (!names.includes(metadataObjectName(newPrefix))) {
      return { chain: 'old', prefix: names.includes(shaObjectName(newPrefix)) ? 'all-but-metadata' : 'partial' } as const;
    }
    const merged = { ...scenario.child, result: { ...scenario.child.result, prefix: newPrefix } };
    assert.deepEqual((await verifyBackup({ store: trial.store, ...layerOf(merged) })).problems, [], `${when}: the new prefix is complete`);
    await assertRestores(trial, scenario.newChains(merged), `${when} (new prefix, not yet switched)`);
    return { chain: 'old', prefix: 'complete' } as const;
  }

  /** Goes on from the kill as the service would (the merge job again, or only the removal jobs); then every remaining backup restores. */
  async function resume(trial: Trial, scenario: Scenario) {
    const switched = switchedChild(trial, scenario.child);
    const child = structuredClone(switched ?? scenario.child);
    if (switched) {
      const replaced = replacedLocations({ parent: layerOf(scenario.parent), children: [layerOf(scenario.child)] });
      for (const location of replaced) await deleteBackupObjects({ store: trial.store, ...location });
    } else {
      const result = await mergeBackup({ store: trial.store, parent: layerOf(scenario.parent), children: [layerOf(child)] });
      await switchAndRemove(trial.store, scenario.parent, [child], result);
    }
    const { container } = scenario.child.result;
    assert.deepEqual(await trial.store.listObjects(scenario.parent.result.container, scenario.parent.result.prefix), []);
    assert.deepEqual(await trial.store.listObjects(container, scenario.child.result.prefix), [], "the child's old prefix is gone");
    assert.deepEqual((await verifyBackup({ store: trial.store, ...layerOf(child) })).problems, []);
    await assertRestores(trial, scenario.newChains(child), 'resumed');
  }

  function middleScenario(): Scenario {
    const [full, middle, child, last] = chain as [Made, Made, Made, Made];
    return {
      parent: middle,
      child,
      oldChains: (at) => [
        { chain: [full], hash: hashes[0]! },
        { chain: [full, middle], hash: hashes[1]! },
        { chain: [full, middle, at], hash: hashes[2]! },
        { chain: [full, middle, at, last], hash: hashes[3]! },
      ],
      newChains: (at) => [
        { chain: [full], hash: hashes[0]! },
        { chain: [full, at], hash: hashes[2]! },
        { chain: [full, at, last], hash: hashes[3]! },
      ],
    };
  }

  test('killed right before each write of a middle-incremental merge, it recovers every time', async () => {
    const scenario = middleScenario();
    const dry = freshTrial();
    const clean = runChild(dry, requestOf(dry, scenario, null));
    assert.equal(clean.status, 0, clean.stderr);
    const { writes } = JSON.parse(clean.stdout.trim().split('\n').at(-1)!) as { writes: number };
    assert.ok(writes >= 6, `the merge made ${writes} writes`);
    const seen = new Set<string>();
    const checkedWithCinder = new Set<string>();
    for (let kill = 1; kill <= writes; kill += 1) {
      const trial = freshTrial();
      const run = runChild(trial, requestOf(trial, scenario, kill));
      assert.equal(run.signal, 'SIGKILL', `write ${kill}: ${run.stderr}`);
      const state = await assertRestorableChain(trial, scenario, `killed before write ${kill}`);
      seen.add(state.chain);
      seen.add(`${state.chain}/${state.prefix}`);
      // Cinder's own restore checks the listing under the child's old prefix: the new one, however full, is not in it.
      if (state.chain === 'old' && state.prefix !== 'partial' && !checkedWithCinder.has(state.prefix)) {
        checkedWithCinder.add(state.prefix);
        const [full, middle, , last] = chain as [Made, Made, Made, Made];
        const target = path.join(trial.repo, 'cinder.img');
        restoreWithCinder(trial.repo, work, volume, [full, middle, scenario.child, last], target);
        assert.equal(sha256OfFile(target), hashes[3], `killed before write ${kill}: Cinder restores the old chain byte-identical`);
      }
      await resume(trial, scenario);
      fs.rmSync(trial.repo, { recursive: true, force: true });
    }
    assert.deepEqual([...checkedWithCinder].sort(), ['all-but-metadata', 'complete']);
    for (const state of ['old', 'new', 'old/partial', 'old/all-but-metadata', 'old/complete']) {
      assert.ok(seen.has(state), `kills landed at ${state} (saw ${[...seen].join(', ')})`);
    }
  });

  test('killed from outside at random moments of a full merge, it recovers every time', async () => {
    const [full, first, second, last] = chain as [Made, Made, Made, Made];
    const scenario: Scenario = {
      parent: full,
      child: first,
      oldChains: (at) => [
        { chain: [full], hash: hashes[0]! },
        { chain: [full, at], hash: hashes[1]! },
        { chain: [full, at, second], hash: hashes[2]! },
        { chain: [full, at, second, last], hash: hashes[3]! },
      ],
      newChains: (at) => [
        { chain: [at], hash: hashes[1]! },
        { chain: [at, second], hash: hashes[2]! },
        { chain: [at, second, last], hash: hashes[3]! },
      ],
    };
    for (let round = 0; round < 6; round += 1) {
      const trial = freshTrial();
      fs.writeFileSync(trial.request, JSON.stringify(requestOf(trial, scenario, null)));
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
      await assertRestorableChain(trial, scenario, `round ${round}, killed after ${delayMs} ms`);
      await resume(trial, scenario);
      fs.rmSync(trial.repo, { recursive: true, force: true });
    }
  });
});
