/**
 * `npm run user -- set-password NAME`: sets a user's password (asked twice on a terminal, or read
 * from CINDERBLOCK_NEW_PASSWORD) and signs out every session of that user. Uses DATABASE_URL, or
 * the launcher's embedded database when it is running.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { eq } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../server/auth/actor';
import { closeSharedDb, db } from '../server/db/client';
import { users } from '../server/db/schema';
import { AppError } from '../server/errors';
import { setPassword } from '../server/identity/service';

const ROOT = path.resolve(import.meta.dirname, '..');

function databaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const dataDir = path.resolve(ROOT, process.env.CINDERBLOCK_DATA_DIR ?? '.data');
  const passwordFile = path.join(dataDir, 'pg.password');
  if (!fs.existsSync(passwordFile)) throw new Error('No database: set DATABASE_URL, or run `npm start` once so the embedded one exists.');
  const port = process.env.CINDERBLOCK_PG_PORT ?? '54329';
  return `postgres://cinderblock:${encodeURIComponent(fs.readFileSync(passwordFile, 'utf8').trim())}@127.0.0.1:${port}/cinderblock`;
}

function askHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stdout.write(question);
    output._writeToOutput = () => {};
    rl.question('', (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
  });
}

async function main() {
  const [command, name] = process.argv.slice(2);
  if (command !== 'set-password' || !name) {
    console.error('usage: npm run user -- set-password NAME');
    process.exit(2);
  }
  process.env.DATABASE_URL = databaseUrl();
  try {
    const [user] = await db().select({ id: users.id }).from(users).where(eq(users.name, name));
    if (!user) throw new AppError('not_found', `There is no user named ${name}.`);
    let password = process.env.CINDERBLOCK_NEW_PASSWORD;
    if (!password) {
      if (!process.stdin.isTTY) throw new AppError('invalid', 'Set CINDERBLOCK_NEW_PASSWORD, or run this on a terminal to be asked.');
      password = await askHidden(`New password for ${name}: `);
      if ((await askHidden('Again: ')) !== password) throw new AppError('invalid', 'The two passwords differ; nothing was changed.');
    }
    await setPassword(SYSTEM_ACTOR, { userId: user.id, password });
    console.log(`Password of ${name} changed; their sessions are signed out.`);
  } catch (error) {
    console.error(
      error instanceof AppError || (error instanceof Error && /No database/.test(error.message))
        ? error.message
        : `Could not change the password: ${(error as Error).message}`,
    );
    process.exitCode = 1;
  } finally {
    await closeSharedDb();
  }
}

void main();
