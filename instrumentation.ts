/** Runs once when the web server starts (see server/web-startup.ts). */
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') await import('./server/web-startup');
}
