import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { makeTempDir, repoRoot } from './support/paths';

test('the benchmark runs end to end in smoke mode and prints its figures for every dataset and for changed-block tracking', async () => {
  const work = makeTempDir('bench-smoke');
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'bench', 'run.ts'), '--smoke', '--work', work],
      { cwd: repoRoot, timeout: 120_000 },
    );
    for (const step of ['full', 'incremental', 'restore']) assert.match(stdout, new RegExp(`^${step} +\\d+ MB/s`, 'm'));
    assert.match(stdout, /peak RSS \d+ MiB/);
    assert.match(stdout, /single-thread SHA-256 \d+ MB\/s/);
    assert.match(stdout, /restore verified/);
    for (const dataset of ['synthetic', 'real', 'sparse']) assert.match(stdout, new RegExp(`^dataset ${dataset}: \\d+ MB volume`, 'm'));
    assert.equal(stdout.match(/^full +\d+ MB\/s/gm)?.length, 3, 'a full backup line per dataset');
    // As root with xfsprogs (the suite's machine), changed-block tracking is measured on a loop-mounted XFS.
    if (process.getuid?.() === 0) {
      assert.match(stdout, /^changed-block tracking, 1 GiB volume on XFS \(0\.13 GiB data\).* same objects: yes$/m);
      assert.match(stdout, /^changed-block tracking, 0\.25 GiB volume on XFS \(0\.25 GiB data\).* same objects: yes$/m);
    } else assert.match(stdout, /^changed-block tracking: not measured/m);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
