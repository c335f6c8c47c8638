import { and, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import type { Actor } from '../auth/actor';
import type { Executor } from '../db/client';
import { AppError, invalid } from '../errors';
import { parseInput } from '../validation';
import { isUuidLike, listOptionsSchema, type ListFields, type ListOptions } from './list-options';

/**
 * The query behind every marker list (volumes, snapshots, backups, messages): the ids of one
 * page, in order, by limit/marker/offset, the sort keys and filters of `ListOptions`, with the
 * count and the next marker when asked for. Each domain describes its table once.
 */
export interface MarkerTable {
  /** e.g. `Volume`: for "Volume <marker> could not be found." */
  noun: string;
  table: PgTable;
  idColumn: AnyColumn;
  projectColumn: AnyColumn;
  /** Always applied (not deleted; no temporary snapshots for tenants). */
  base: (actor: Actor) => SQL;
  /** Sortable and filterable columns by model name. */
  columns: Record<string, SQL | AnyColumn>;
  /** `metadata={'k': 'v'}`: a condition per pair. */
  metadataCondition?: (key: string, value: string) => SQL;
  /** Filters with their own meaning (e.g. `bootable`), by key. */
  special?: Record<string, (value: string) => SQL>;
}

/** The keys a table sorts and filters on, for the callers that build `ListOptions`. */
export function listFields(table: MarkerTable): ListFields {
  const columns = Object.keys(table.columns);
  return { sortKeys: columns, filterKeys: [...columns, ...Object.keys(table.special ?? {})], metadata: !!table.metadataCondition };
}

/** A timestamp to the microsecond, in UTC, as text (`2024-01-02T03:04:05.123456`). */
export const utcMicros = (column: SQL | AnyColumn) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/** The filter conditions, or null when a filter names no field of the table (it then matches nothing). */
function filterConditions(table: MarkerTable, filters: z.output<typeof listOptionsSchema>['filters']): SQL[] | null {
  const conditions: SQL[] = [];
  for (const filter of filters) {
    if ('metadata' in filter) {
      if (!table.metadataCondition) return null;
      for (const [k, v] of Object.entries(filter.metadata)) conditions.push(table.metadataCondition(k, v));
      continue;
    }
    const special = table.special?.[filter.key];
    if (special) {
      conditions.push(special(filter.value));
      continue;
    }
    const column = table.columns[filter.key];
    if (!column) return null;
    conditions.push(
      filter.like
        ? sql`${column}::text ilike ${`%${filter.value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`
        : sql`${column}::text = ${filter.value}`,
    );
  }
  return conditions;
}

/** One page's ids, with the count when asked for and the next marker when the page is full. */
export interface PageIds {
  ids: string[];
  count?: number;
  nextMarker?: string;
}

/** The ids of one page, in order, and the count and next marker when asked for. */
export async function markerPageIds(
  table: MarkerTable,
  actor: Actor,
  projectId: string,
  input: ListOptions,
  tx: Executor,
): Promise<PageIds> {
  const options = parseInput(listOptionsSchema, input);
  for (const [key] of options.sort) if (!(key in table.columns)) throw invalid(`Invalid input received: Invalid sort key ${key}`);
  const filters = filterConditions(table, options.filters);
  const allProjects = actor.isAdmin && options.allProjects;
  const { marker, limit, offset, withCount } = options;

  const base = table.base(actor);
  if (marker !== null) {
    const markerMissing = new AppError('not_found', `${table.noun} ${marker} could not be found.`);
    if (!isUuidLike(marker)) throw markerMissing;
    const markerRow = sql`select ${table.projectColumn} as project_id from ${table.table} where ${table.idColumn} = ${marker}::uuid and ${base}`;
    const found = (await tx.execute(markerRow)) as unknown as { project_id: string }[];
    if (!found[0] || (!actor.isAdmin && found[0].project_id !== projectId)) throw markerMissing;
  }
  if (filters === null) return { ids: [], ...(withCount ? { count: 0 } : {}) };

  const where = and(base, allProjects ? undefined : sql`${table.projectColumn} = ${projectId}`, ...filters)!;
  const direction = (dir: 'asc' | 'desc') => (dir === 'asc' ? sql`asc nulls first` : sql`desc nulls last`);
  const order = sql.join(
    options.sort.map(([key, dir]) => sql`${table.columns[key]} ${direction(dir)}`),
    sql`, `,
  );
  const scope = marker !== null ? sql`(${where}) or ${table.idColumn} = ${marker}::uuid` : where;
  const afterMarker = marker !== null ? sql`rn > (select rn from ordered where id = ${marker}::uuid)` : sql`true`;
  const found = (await tx.execute(sql`
    with ordered as (select ${table.idColumn} as id, row_number() over (order by ${order}) as rn from ${table.table} where ${scope})
    select id from ordered where ${afterMarker} order by rn limit ${limit} offset ${offset}`)) as unknown as { id: string }[];
  const result: PageIds = { ids: found.map((r) => r.id) };
  if (withCount) {
    const counted = (await tx.execute(sql`select count(*)::int as count from ${table.table} where ${where}`)) as unknown as {
      count: number;
    }[];
    const [{ count }] = counted;
    result.count = count;
  }
  if (result.ids.length > 0 && result.ids.length >= limit) result.nextMarker = result.ids[result.ids.length - 1];
  return result;
}

/** Rows loaded by id, in the order of `ids` (ids no longer found are left out). */
export function inIdOrder<T extends { id: string }>(ids: string[], rows: T[]): T[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}
