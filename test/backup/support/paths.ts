import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const cinderFixtureDir = path.join(sharedDir, 'fixtures', 'cinder-repo');

export function makeTempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cinderblock-${label}-`));
}
