import { invalid } from '../../errors';

/**
 * The small part of JSON Schema that Cinder's request schemas use (cinder/api/schemas/), so a
 * refusal reads exactly as Cinder's: `Invalid input for field/attribute <field>. Value: <v>.
 * <jsonschema message>` with Python's repr of the value (reference §0).
 */
export type JsonType = 'object' | 'string' | 'boolean' | 'null' | 'integer' | 'number' | 'array';

export interface Schema {
  type?: JsonType | JsonType[];
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** A named check, as jsonschema's format checker: the value is refused with `'v' is not a '<format>'`. */
  format?: { name: string; test: (value: string) => boolean };
  enum?: unknown[];
  /** For numbers only, as jsonschema: `-1 is less than the minimum of 1`. */
  minimum?: number;
  maximum?: number;
  /** Exactly one must match (Cinder's `uuid_allow_null`). */
  oneOf?: Schema[];
}

/** Python's repr of a JSON value: the way jsonschema and Cinder print it. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(value);
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
    .join(', ')}}`;
}

function typeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

function typeMatches(value: unknown, type: JsonType): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

interface Failure {
  path: string[];
  instance: unknown;
  message: string;
}

function check(schema: Schema, value: unknown, path: string[]): Failure | null {
  const fail = (message: string): Failure => ({ path, instance: value, message });
  if (schema.oneOf) {
    const matches = schema.oneOf.filter((s) => check(s, value, path) === null).length;
    if (matches !== 1) return fail(`${pyRepr(value)} is not valid under any of the given schemas`);
    return null;
  }
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(value, t))) {
      return fail(`${pyRepr(value)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`);
    }
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    return fail(`${pyRepr(value)} is not one of ${pyRepr(schema.enum)}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      return fail(`${pyRepr(value)} is less than the minimum of ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      return fail(`${pyRepr(value)} is greater than the maximum of ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) return fail(`${pyRepr(value)} is too short`);
    if (schema.maxLength !== undefined && length > schema.maxLength) return fail(`${pyRepr(value)} is too long`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      return fail(`${pyRepr(value)} does not match ${pyRepr(schema.pattern)}`);
    }
    if (schema.format && !schema.format.test(value)) return fail(`${pyRepr(value)} is not a '${schema.format.name}'`);
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    for (const key of schema.required ?? []) {
      if (!(key in object)) return fail(`${pyRepr(key)} is a required property`);
    }
    if (schema.additionalProperties === false) {
      const patterns = Object.keys(schema.patternProperties ?? {}).map((p) => new RegExp(p, 'u'));
      const extra = keys.filter((k) => !(schema.properties && k in schema.properties) && !patterns.some((p) => p.test(k)));
      if (extra.length) {
        const names = extra.map(pyRepr).join(', ');
        return fail(`Additional properties are not allowed (${names} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
      }
    }
    for (const key of keys) {
      const sub =
        schema.properties?.[key] ?? Object.entries(schema.patternProperties ?? {}).find(([p]) => new RegExp(p, 'u').test(key))?.[1];
      if (!sub) continue;
      const failure = check(sub, object[key], [...path, key]);
      if (failure) return failure;
    }
  }
  return null;
}

/** Validates a request body; a failure is a 400 with Cinder's message and changes nothing. */
export function validateBody(schema: Schema, body: unknown): void {
  const failure = check(schema, body, []);
  if (!failure) return;
  if (failure.path.length === 0) throw invalid(failure.message);
  throw invalid(
    `Invalid input for field/attribute ${failure.path[failure.path.length - 1]}. Value: ${pyRepr(failure.instance)}. ${failure.message}`,
  );
}

// Cinder's parameter types (cinder/api/validation/parameter_types.py), as far as backups use them.

const UUID = /^(?:[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|\{[0-9a-fA-F-]{36}\})$/;
export const uuid: Schema = { type: 'string', format: { name: 'uuid', test: (v) => UUID.test(v) } };
export const uuidAllowNull: Schema = { oneOf: [uuid, { type: 'null' }] };
export const nameAllowZeroMinLength: Schema = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
/** Printable characters only: no control or separator characters but the plain space. */
export const description: Schema = { type: ['string', 'null'], minLength: 0, maxLength: 255, pattern: '^(?:[^\\p{C}\\p{Z}]| )*$' };
export const container: Schema = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
export const availabilityZone: Schema = { type: ['string', 'null'], minLength: 1, maxLength: 255 };
/** oslo's bool strings, and JSON booleans. */
export const boolean: Schema = {
  type: ['boolean', 'string'],
  enum: [
    true,
    'True',
    'TRUE',
    'true',
    '1',
    'ON',
    'On',
    'on',
    'YES',
    'Yes',
    'yes',
    'y',
    't',
    false,
    'False',
    'FALSE',
    'false',
    '0',
    'OFF',
    'Off',
    'off',
    'NO',
    'No',
    'no',
    'n',
    'f',
  ],
};
const METADATA_KEY = '^[a-zA-Z0-9-_:. /]{1,255}$';
export const metadataAllowsNull: Schema = {
  type: ['object', 'null'],
  patternProperties: { [METADATA_KEY]: { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
export const extraSpecs: Schema = {
  type: 'object',
  patternProperties: { [METADATA_KEY]: { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
export const backupService: Schema = { type: 'string', minLength: 0, maxLength: 255 };
export const backupUrl: Schema = {
  type: 'string',
  minLength: 1,
  format: { name: 'base64', test: (v) => /^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v) && v.replace(/\s+/g, '').length % 4 === 0 },
};

/** oslo's `bool_from_string`: only the true spellings are true. */
export function isTrueString(value: unknown): boolean {
  if (value === true) return true;
  if (typeof value !== 'string') return false;
  return ['1', 't', 'true', 'on', 'y', 'yes'].includes(value.trim().toLowerCase());
}

/** oslo's `is_valid_boolstr`. */
export function isBoolString(value: string): boolean {
  return ['1', '0', 't', 'f', 'true', 'false', 'on', 'off', 'y', 'n', 'yes', 'no'].includes(value.trim().toLowerCase());
}
