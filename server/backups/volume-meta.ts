import { z } from 'zod';

/**
 * What a restore puts back on its target from the backups' `volume_meta`, as Cinder's
 * BackupMetadataAPI.put does (reference §5.7), applied layer by layer from the full backup up:
 * - `volume-base-metadata`: display_name and display_description, only when the backup has a name
 *   and the target has none or still has its automatic `restore_backup_<id>` name;
 * - `volume-metadata`: replaces the target's user metadata;
 * - `volume-glance-metadata`: image metadata marks the target bootable (we keep no image metadata).
 * A section a layer does not carry leaves the target as it is.
 */

const sectionSchema = z.record(z.string(), z.unknown());
const volumeMetaSchema = z.object({
  version: z.number(),
  'volume-base-metadata': sectionSchema.optional(),
  'volume-metadata': sectionSchema.optional(),
  'volume-glance-metadata': sectionSchema.optional(),
});

export interface RestoredVolumeFields {
  name?: string | null;
  description?: string | null;
  /** Replaces the target's user metadata when present. */
  metadata?: Record<string, string>;
  bootable?: true;
}

const SUPPORTED_VERSIONS = [1, 2];

function decodeLayer(volumeMeta: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(volumeMeta);
  } catch {
    throw new Error("Restore aborted: the backup's volume metadata is not valid JSON.");
  }
  const layer = volumeMetaSchema.safeParse(parsed);
  if (!layer.success) throw new Error("Restore aborted: the backup's volume metadata has no version.");
  if (!SUPPORTED_VERSIONS.includes(layer.data.version)) throw new Error(`Unsupported backup metadata version (${layer.data.version})`);
  return layer.data;
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** The fields a restore writes onto a target currently named `target.name`, from each layer's volume_meta (oldest first). */
export function restoredVolumeFields(target: { name: string | null }, volumeMetas: (string | null | undefined)[]): RestoredVolumeFields {
  const fields: RestoredVolumeFields = {};
  let name = target.name;
  for (const volumeMeta of volumeMetas) {
    if (!volumeMeta) continue;
    const layer = decodeLayer(volumeMeta);
    const base = layer['volume-base-metadata'];
    if (base) {
      const keepTargetName = 'display_name' in base && (!base.display_name || (!!name && !name.startsWith('restore_backup_')));
      if (!keepTargetName) {
        if ('display_name' in base) fields.name = name = text(base.display_name);
        if ('display_description' in base) fields.description = text(base.display_description);
      }
    }
    const user = layer['volume-metadata'];
    if (user) fields.metadata = Object.fromEntries(Object.entries(user).map(([key, value]) => [key, text(value) ?? '']));
    // Cinder marks the target bootable for any glance section; an empty one (which only our own
    // earlier backups wrote, Cinder never does) carries no image metadata and is read as none.
    const image = layer['volume-glance-metadata'];
    if (image && Object.keys(image).length) fields.bootable = true;
  }
  return fields;
}
