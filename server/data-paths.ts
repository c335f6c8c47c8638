import path from 'node:path';
import type { SharedEnv } from './env';

/** Where each kind of data lives, derived from the environment. */
export function dataPaths(env: SharedEnv) {
  const root = path.resolve(/* turbopackIgnore: true */ env.CINDERBLOCK_DATA_DIR);
  return {
    root,
    volumes: path.resolve(/* turbopackIgnore: true */ env.CINDERBLOCK_VOLUME_DIR ?? path.join(root, 'volumes')),
    staging: path.resolve(/* turbopackIgnore: true */ env.CINDERBLOCK_STAGING_DIR ?? path.join(root, 'images')),
    backups: path.resolve(/* turbopackIgnore: true */ env.CINDERBLOCK_BACKUP_PATH ?? path.join(root, 'backups')),
  };
}
