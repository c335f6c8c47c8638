import type { Microversion } from './microversions';
import { uuid, type Schema } from './json-schema';

/** Attachment request bodies (cinder/api/schemas/attachments.py): `mode` from 3.54. */
const connector: Schema = { type: ['object', 'null'] };

export function createAttachmentSchema(version: Microversion): Schema {
  const properties: Record<string, Schema> = { instance_uuid: uuid, connector, volume_uuid: uuid };
  if (version.atLeast('3.54')) properties.mode = { type: 'string', enum: ['rw', 'ro'] };
  return {
    type: 'object',
    properties: { attachment: { type: 'object', properties, required: ['volume_uuid'], additionalProperties: false } },
    required: ['attachment'],
    additionalProperties: false,
  };
}

export const updateAttachmentSchema: Schema = {
  type: 'object',
  properties: { attachment: { type: 'object', properties: { connector }, required: ['connector'], additionalProperties: false } },
  required: ['attachment'],
  additionalProperties: false,
};

export const completeAttachmentSchema: Schema = {
  type: 'object',
  properties: { 'os-complete': { type: ['object', 'null'] } },
  required: ['os-complete'],
  additionalProperties: false,
};
