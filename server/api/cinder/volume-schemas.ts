import type { Microversion } from './microversions';
import {
  availabilityZone,
  boolean,
  description,
  metadataAllowsNull,
  nameAllowZeroMinLength,
  uuid,
  uuidAllowNull,
  type Schema,
} from './json-schema';

/**
 * Volume and snapshot request bodies per microversion (cinder/api/schemas/volumes.py,
 * volume_actions.py, snapshots.py, volume_metadata.py, admin_actions.py).
 */
const MAX_INT = 2 ** 31 - 1;
/** parameter_types.volume_size: an integer, or a string of digits. */
export const volumeSize: Schema = { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1, maximum: MAX_INT };
const volumeSizeAllowsNull: Schema = { type: ['integer', 'string', 'null'], pattern: '^[0-9]+$', minimum: 1, maximum: MAX_INT };
const optionalString: Schema = { type: ['string', 'null'] };

export function createVolumeSchema(version: Microversion): Schema {
  const properties: Record<string, Schema> = {
    name: nameAllowZeroMinLength,
    description,
    display_name: nameAllowZeroMinLength,
    display_description: description,
    size: volumeSizeAllowsNull,
    availability_zone: availabilityZone,
    source_volid: uuidAllowNull,
    snapshot_id: uuidAllowNull,
    imageRef: optionalString,
    volume_type: { type: ['string', 'null'], maxLength: 255 },
    metadata: metadataAllowsNull,
    consistencygroup_id: uuidAllowNull,
    multiattach: boolean,
    group_id: uuidAllowNull,
  };
  if (version.atLeast('3.47')) properties.backup_id = uuidAllowNull;
  return {
    type: 'object',
    properties: {
      volume: { type: 'object', properties, additionalProperties: !version.atLeast('3.53') },
      'OS-SCH-HNT:scheduler_hints': { type: ['object', 'null'] },
    },
    required: ['volume'],
    additionalProperties: false,
  };
}

export const updateVolumeSchema: Schema = {
  type: 'object',
  properties: {
    volume: {
      type: 'object',
      properties: {
        name: nameAllowZeroMinLength,
        description,
        display_name: nameAllowZeroMinLength,
        display_description: description,
        metadata: metadataAllowsNull,
      },
      additionalProperties: false,
    },
  },
  required: ['volume'],
  additionalProperties: false,
};

const action = (name: string, body: Schema, required = true): Schema => ({
  type: 'object',
  properties: { [name]: body },
  required: required ? [name] : [],
  additionalProperties: false,
});

export const extendSchema = action('os-extend', {
  type: 'object',
  properties: { new_size: volumeSize },
  required: ['new_size'],
  additionalProperties: false,
});

export const attachSchema = action('os-attach', {
  type: 'object',
  properties: {
    instance_uuid: uuid,
    mountpoint: { type: 'string' },
    host_name: { type: 'string', maxLength: 255 },
    mode: { type: 'string', enum: ['rw', 'ro'] },
  },
  required: ['mountpoint'],
  additionalProperties: false,
});

export const detachSchema = action('os-detach', {
  type: ['object', 'null'],
  properties: { attachment_id: uuid },
  additionalProperties: false,
});

export const emptyActionSchema = (name: string) => action(name, { type: ['object', 'null'] });

export function resetVolumeStatusSchema(version: Microversion): Schema {
  const properties: Record<string, Schema> = {
    status: { type: ['string', 'null'] },
    attach_status: { type: ['string', 'null'] },
    migration_status: { type: ['string', 'null'] },
  };
  // Our 3.72 shows backup_status as a field of its own, and lets an admin reset it too.
  if (version.atLeast('3.72')) properties.backup_status = { type: ['string', 'null'] };
  return action('os-reset_status', { type: 'object', properties, additionalProperties: false });
}

export const resetSnapshotStatusSchema = action('os-reset_status', {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
  additionalProperties: false,
});

export const createSnapshotSchema: Schema = {
  type: 'object',
  properties: {
    snapshot: {
      type: 'object',
      properties: {
        name: nameAllowZeroMinLength,
        display_name: nameAllowZeroMinLength,
        description,
        display_description: description,
        volume_id: uuid,
        force: boolean,
        metadata: metadataAllowsNull,
      },
      required: ['volume_id'],
      additionalProperties: false,
    },
  },
  required: ['snapshot'],
  additionalProperties: false,
};

export const updateSnapshotSchema: Schema = {
  type: 'object',
  properties: {
    snapshot: {
      type: 'object',
      properties: { name: nameAllowZeroMinLength, display_name: nameAllowZeroMinLength, description, display_description: description },
      additionalProperties: false,
    },
  },
  required: ['snapshot'],
  additionalProperties: false,
};

const METADATA_KEY = '^[a-zA-Z0-9-_:. /]{1,255}$';
const metadataObject: Schema = {
  type: 'object',
  patternProperties: { [METADATA_KEY]: { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
export const metadataBodySchema: Schema = {
  type: 'object',
  properties: { metadata: metadataObject },
  required: ['metadata'],
  additionalProperties: false,
};
export const metaItemSchema: Schema = {
  type: 'object',
  properties: { meta: metadataObject },
  required: ['meta'],
  additionalProperties: false,
};
