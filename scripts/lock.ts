import fs from 'node:fs';
import path from 'node:path';

function holderAlive(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
  } catch {
    // Taken a moment ago and the holder has not written its pid yet: count it as alive.
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` while holding a lock directory that other processes on this machine respect (two
 * launchers that start at once build the web app once). A lock whose holder died is taken over.
 */
export async function withFileLock<T>(lockDir: string, work: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let checkedEmptyAt = 0;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const alive = holderAlive(lockDir);
    const pidWritten = fs.existsSync(path.join(lockDir, 'pid'));
    // A lock without a pid for more than a few seconds belongs to a process that died while taking it.
    if (!alive || (!pidWritten && checkedEmptyAt && Date.now() - checkedEmptyAt > 5_000)) {
      fs.rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!pidWritten && !checkedEmptyAt) checkedEmptyAt = Date.now();
    if (pidWritten) checkedEmptyAt = 0;
    if (Date.now() > deadline) throw new Error(`${lockDir} is still held by another process`);
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
