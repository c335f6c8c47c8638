import type { Microversion } from './microversions';
import {
  availabilityZone,
  backupService,
  backupUrl,
  boolean,
  container,
  description,
  extraSpecs,
  metadataAllowsNull,
  nameAllowZeroMinLength,
  uuid,
  uuidAllowNull,
  type Schema,
} from './json-schema';

/**
 * Backup request bodies per microversion (reference §2.2, cinder/api/schemas/backups.py): unknown
 * keys are refused, `metadata` exists from 3.43 and `availability_zone` from 3.51.
 */
export function createSchema(version: Microversion): Schema {
  const properties: Record<string, Schema> = {
    volume_id: uuid,
    container,
    description,
    incremental: boolean,
    force: boolean,
    name: nameAllowZeroMinLength,
    snapshot_id: uuidAllowNull,
  };
  if (version.atLeast('3.43')) properties.metadata = metadataAllowsNull;
  if (version.atLeast('3.51')) properties.availability_zone = availabilityZone;
  return {
    type: 'object',
    properties: { backup: { type: 'object', properties, required: ['volume_id'], additionalProperties: false } },
    required: ['backup'],
    additionalProperties: false,
  };
}

export function updateSchema(version: Microversion): Schema {
  const properties: Record<string, Schema> = { name: nameAllowZeroMinLength, description };
  if (version.atLeast('3.43')) properties.metadata = extraSpecs;
  return {
    type: 'object',
    properties: { backup: { type: ['object', 'null'], properties, additionalProperties: false } },
    required: ['backup'],
    additionalProperties: false,
  };
}

export const restoreSchema: Schema = {
  type: 'object',
  properties: {
    restore: {
      type: ['object', 'null'],
      properties: { name: nameAllowZeroMinLength, volume_id: uuidAllowNull },
      additionalProperties: false,
    },
  },
  required: ['restore'],
  additionalProperties: false,
};

export const importSchema: Schema = {
  type: 'object',
  properties: {
    'backup-record': {
      type: 'object',
      properties: { backup_service: backupService, backup_url: backupUrl },
      required: ['backup_service', 'backup_url'],
      additionalProperties: false,
    },
  },
  required: ['backup-record'],
  additionalProperties: false,
};

/** cinder/api/schemas/admin_actions.py `reset_status_backup`; the value itself is checked by the service. */
export const resetStatusSchema: Schema = {
  type: 'object',
  properties: {
    'os-reset_status': { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false },
  },
  required: ['os-reset_status'],
  additionalProperties: false,
};

/** Ours: `{"os-merge-delete": {}}` deletes a backup with dependents by merging it into its children (202, like DELETE). */
export const mergeDeleteSchema: Schema = {
  type: 'object',
  properties: { 'os-merge-delete': { type: 'object', properties: {}, additionalProperties: false } },
  required: ['os-merge-delete'],
  additionalProperties: false,
};
