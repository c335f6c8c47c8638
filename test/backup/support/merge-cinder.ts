/** Restores a chain with OpenStack Cinder's own PosixBackupDriver (Debian's python3-cinder), through cinder_driver.py. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SIZE, type Made } from './merge-chain';
import type { VolumeIdentity } from './scenario';

const driverScript = path.join(import.meta.dirname, 'cinder_driver.py');

/** Restores the last backup of `chain` (full first) onto `target`; throws with Cinder's error when Cinder refuses. */
export function restoreWithCinder(repo: string, work: string, volume: VolumeIdentity, chain: Made[], target: string): void {
  const request = path.join(work, 'cinder-request.json');
  const layers = chain.map((made, index) => ({
    id: made.backupId,
    container: made.result.container,
    prefix: made.result.prefix,
    parent_id: index === 0 ? null : chain[index - 1]!.backupId,
  }));
  fs.writeFileSync(request, JSON.stringify({ repo, target, size: SIZE, volume_id: volume.volumeId, chain: layers }));
  fs.rmSync(target, { force: true });
  execFileSync('/usr/bin/python3', [driverScript, 'restore', request], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}
