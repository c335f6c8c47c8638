import { and, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Actor } from '../../auth/actor';
import type { Executor } from '../../db/client';
import { AppError, invalid } from '../../errors';
import { isBoolString, isTrueString } from './json-schema';
import type { Microversion } from './microversions';

/** Cinder's `osapi_max_limit`: the largest page a list returns. */
export const MAX_LIMIT = 1000;

/** Ids as Cinder's UUID columns take them (dashes optional). */
export const isUuidLike = (id: string) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(id);

/**
 * Cinder's list semantics for backups, volumes, snapshots and messages: limit/marker/offset, sort or sort_key/sort_dir, with_count (3.45), all_tenants
 * (admins only), the resource filters (unknown ones dropped below 3.31, a 400 from 3.31 for
 * non-admins), LIKE filters (3.34) and the `metadata` filter.
 */
export const cinderTime = (column: SQL | AnyColumn) =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

export interface ListSpec {
  /** e.g. `Volume`: for "Volume <marker> could not be found." */
  noun: string;
  table: PgTable;
  idColumn: AnyColumn;
  projectColumn: AnyColumn;
  /** Always applied (not deleted; no temporary snapshots for tenants). */
  base: (actor: Actor) => SQL;
  /** Sortable and (for admins) filterable columns by Cinder's model name. */
  columns: Record<string, SQL | AnyColumn>;
  /** Filters a non-admin may use (Cinder's default resource_filters.json). */
  tenantFilters: string[];
  /** `metadata={'k': 'v'}`: a condition per pair. */
  metadataCondition?: (key: string, value: string) => SQL;
  /** A filter with its own meaning (e.g. `bootable`), or undefined to use the column. */
  special?: (key: string, value: string) => SQL | undefined;
  /** From which microversion `sort=name` means `display_name` (backups: 3.37); always when unset. */
  sortsNameFrom?: string;
  /** Whether tenants may use the LIKE form (`name~`) of their filters (not for backups). */
  tenantLikeFilters?: boolean;
}

export interface ListInput {
  actor: Actor;
  projectId: string;
  version: Microversion;
  query: URLSearchParams;
}

export interface ListIds {
  ids: string[];
  count?: number;
  nextMarker?: string;
}

/** A non-negative integer query parameter, refused with Cinder's messages. */
export function integerParam(value: string | null, name: string, fallback: number): number {
  if (value === null) return fallback;
  if (!/^\s*[+-]?\d+\s*$/.test(value)) {
    throw invalid(name === 'limit' ? 'limit param must be an integer' : `Invalid input received: ${name} must be an integer.`);
  }
  const parsed = Number.parseInt(value, 10);
  if (parsed < 0) throw invalid(name === 'limit' ? 'limit param must be positive' : `Invalid input received: ${name} must be >= 0.`);
  if (parsed > 2 ** 31 - 1) throw invalid(`Invalid input received: ${name} must be <= ${2 ** 31 - 1}.`);
  return parsed;
}

/**
 * `sort=key[:dir],…` or the deprecated `sort_key`/`sort_dir`, validated against `columns`, with
 * Cinder's tie-breakers. `name` means `display_name` (always here; for backups from 3.37).
 */
export function sortParams(params: Map<string, string>, columns: Record<string, unknown>, nameIsDisplayName = true): [string, 'asc' | 'desc'][] {
  const sort = params.get('sort');
  const sortKey = params.get('sort_key');
  const sortDir = params.get('sort_dir');
  params.delete('sort');
  params.delete('sort_key');
  params.delete('sort_dir');
  if (sort !== undefined && (sortKey !== undefined || sortDir !== undefined)) {
    throw invalid("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  }
  const pairs: [string, string][] = sort !== undefined
    ? sort.split(',').map((part) => {
      const [key, dir] = part.split(':');
      return [key.trim(), (dir ?? 'desc').trim().toLowerCase()];
    })
    : [[(sortKey ?? 'created_at').trim(), (sortDir ?? 'desc').trim().toLowerCase()]];
  const keys: [string, 'asc' | 'desc'][] = [];
  for (const [rawKey, dir] of pairs) {
    if (dir !== 'asc' && dir !== 'desc') throw invalid("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
    const key = rawKey === 'name' && nameIsDisplayName ? 'display_name' : rawKey;
    if (!(key in columns)) throw invalid(`Invalid input received: Invalid sort key ${rawKey}`);
    keys.push([key, dir]);
  }
  for (const tie of ['created_at', 'id']) if (!keys.some(([k]) => k === tie)) keys.push([tie, keys[0][1]]);
  return keys;
}

/** Python-literal or JSON dict, as cinderclient sends it (`{'k': 'v'}`). */
export function parseMetadataFilter(value: string): Record<string, string> {
  const attempt = (text: string) => {
    try {
      const parsed = JSON.parse(text);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as Record<string, unknown> : null;
    } catch {
      return null;
    }
  };
  const parsed = attempt(value) ?? attempt(value.replace(/'/g, '"').replace(/\bu"/g, '"'));
  if (!parsed) throw invalid(`Invalid input received: metadata filter ${value} is not a dictionary.`);
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

function filterConditions(params: Map<string, string>, spec: ListSpec, actor: Actor, version: Microversion): SQL[] | null {
  params.delete('all_tenants');
  if (!actor.isAdmin) {
    const allowed = (k: string) => spec.tenantFilters.includes(k.endsWith('~') && spec.tenantLikeFilters !== false ? k.slice(0, -1) : k);
    if (version.atLeast('3.31')) {
      const bad = [...params.keys()].filter((k) => !allowed(k));
      if (bad.length) throw invalid(`Invalid filters ${bad.join(',')} are found in query options.`);
    } else {
      for (const key of [...params.keys()]) if (!allowed(key)) params.delete(key);
    }
  }
  const conditions: SQL[] = [];
  for (const [rawKey, value] of params) {
    const like = rawKey.endsWith('~') && version.atLeast('3.34');
    let key = like ? rawKey.slice(0, -1) : rawKey;
    if (key === 'metadata' && spec.metadataCondition) {
      for (const [k, v] of Object.entries(parseMetadataFilter(value))) conditions.push(spec.metadataCondition(k, v));
      continue;
    }
    const special = spec.special?.(key, value);
    if (special) {
      conditions.push(special);
      continue;
    }
    if (key === 'name') key = 'display_name';
    if (key === 'description') key = 'display_description';
    const column = spec.columns[key];
    if (!column) return null;
    conditions.push(like
      ? sql`${column}::text ilike ${`%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`
      : sql`${column}::text = ${value}`);
  }
  return conditions;
}

/** The ids of one page, in order, and the count and next marker when asked for. */
export async function listIds(spec: ListSpec, input: ListInput, tx: Executor): Promise<ListIds> {
  const { actor, version } = input;
  const params = new Map<string, string>();
  for (const [key, value] of input.query) if (!params.has(key)) params.set(key, value);
  const take = (key: string) => {
    const value = params.get(key) ?? null;
    params.delete(key);
    return value;
  };
  const marker = take('marker');
  const limit = Math.min(integerParam(take('limit'), 'limit', MAX_LIMIT), MAX_LIMIT);
  const offset = integerParam(take('offset'), 'offset', 0);
  const keys = sortParams(params, spec.columns, !spec.sortsNameFrom || version.atLeast(spec.sortsNameFrom));
  let withCount = false;
  if (params.has('with_count')) {
    const value = take('with_count')!;
    if (version.atLeast('3.45')) {
      if (!isBoolString(value)) throw invalid(`Invalid input received: Value '${value}' for 'with_count' is not a boolean.`);
      withCount = isTrueString(value);
    }
  }
  const allTenantsValue = params.get('all_tenants') ?? '0';
  const filters = filterConditions(params, spec, actor, version);
  if (!isBoolString(allTenantsValue)) throw invalid(`all_tenants must be a boolean, got '${allTenantsValue}'.`);
  const allTenants = actor.isAdmin && isTrueString(allTenantsValue);

  const base = spec.base(actor);
  if (marker !== null) {
    const markerMissing = new AppError('not_found', `${spec.noun} ${marker} could not be found.`);
    if (!isUuidLike(marker)) throw markerMissing;
    const found = await tx.execute(sql`select ${spec.projectColumn} as project_id from ${spec.table} where ${spec.idColumn} = ${marker}::uuid and ${base}`) as unknown as { project_id: string }[];
    if (!found[0] || (!actor.isAdmin && found[0].project_id !== input.projectId)) throw markerMissing;
  }
  if (filters === null) return { ids: [], ...(withCount ? { count: 0 } : {}) };

  const where = and(base, allTenants ? undefined : sql`${spec.projectColumn} = ${input.projectId}`, ...filters)!;
  const order = sql.join(keys.map(([key, dir]) => sql`${spec.columns[key]} ${dir === 'asc' ? sql`asc nulls first` : sql`desc nulls last`}`), sql`, `);
  const scope = marker !== null ? sql`(${where}) or ${spec.idColumn} = ${marker}::uuid` : where;
  const afterMarker = marker !== null ? sql`rn > (select rn from ordered where id = ${marker}::uuid)` : sql`true`;
  const found = await tx.execute(sql`
    with ordered as (select ${spec.idColumn} as id, row_number() over (order by ${order}) as rn from ${spec.table} where ${scope})
    select id from ordered where ${afterMarker} order by rn limit ${limit} offset ${offset}`) as unknown as { id: string }[];
  const result: ListIds = { ids: found.map((r) => r.id) };
  if (withCount) {
    const [{ count }] = await tx.execute(sql`select count(*)::int as count from ${spec.table} where ${where}`) as unknown as { count: number }[];
    result.count = count;
  }
  if (result.ids.length > 0 && result.ids.length >= limit) result.nextMarker = result.ids[result.ids.length - 1];
  return result;
}
