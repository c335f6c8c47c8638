/**
 * Processes spawned by the launcher stop when the launcher is gone (for example after a
 * `kill -9` of the launcher alone), so no web server or worker outlives it.
 */
export function exitWithLauncher(onLauncherGone: () => void, launcherPid = Number(process.env.CINDERBLOCK_LAUNCHER_PID)): void {
  if (!launcherPid) return;
  const timer = setInterval(() => {
    try {
      process.kill(launcherPid, 0);
    } catch {
      clearInterval(timer);
      onLauncherGone();
    }
  }, 2000);
  timer.unref();
}
