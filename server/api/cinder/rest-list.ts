import type { Actor } from '../../auth/actor';
import { invalid } from '../../errors';
import { MAX_LIMIT, isUuidLike, type ListFields, type ListFilter, type ListOptions } from '../../lists/list-options';
import { isBoolString, isTrueString } from './json-schema';
import type { Microversion } from './microversions';

export { MAX_LIMIT, isUuidLike };

/**
 * Cinder's list semantics for backups, volumes, snapshots and messages, read from the query string
 * into the domain's `ListOptions`: limit/marker/offset, sort or sort_key/sort_dir, with_count
 * (3.45), all_tenants (admins only), the resource filters (unknown ones dropped below 3.31, a 400
 * from 3.31 for non-admins), LIKE filters (3.34) and the `metadata` filter.
 */
export interface ListRules {
  /** What the domain's list sorts and filters on. */
  fields: ListFields;
  /** Filters a non-admin may use (Cinder's default resource_filters.json). */
  tenantFilters: string[];
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
 * `sort=key[:dir],…` or the deprecated `sort_key`/`sort_dir`, validated against the sort keys,
 * with Cinder's tie-breakers. `name` means `display_name` (always here; for backups from 3.37).
 */
export function sortParams(params: Map<string, string>, sortKeys: readonly string[], nameIsDisplayName = true): [string, 'asc' | 'desc'][] {
  const sort = params.get('sort');
  const sortKey = params.get('sort_key');
  const sortDir = params.get('sort_dir');
  params.delete('sort');
  params.delete('sort_key');
  params.delete('sort_dir');
  if (sort !== undefined && (sortKey !== undefined || sortDir !== undefined)) {
    throw invalid("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  }
  const pairs: [string, string][] =
    sort !== undefined
      ? sort.split(',').map((part) => {
          const [key, dir] = part.split(':');
          return [key.trim(), (dir ?? 'desc').trim().toLowerCase()];
        })
      : [[(sortKey ?? 'created_at').trim(), (sortDir ?? 'desc').trim().toLowerCase()]];
  const keys: [string, 'asc' | 'desc'][] = [];
  for (const [rawKey, dir] of pairs) {
    if (dir !== 'asc' && dir !== 'desc') throw invalid("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
    const key = rawKey === 'name' && nameIsDisplayName ? 'display_name' : rawKey;
    if (!sortKeys.includes(key)) throw invalid(`Invalid input received: Invalid sort key ${rawKey}`);
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
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };
  const parsed = attempt(value) ?? attempt(value.replace(/'/g, '"').replace(/\bu"/g, '"'));
  if (!parsed) throw invalid(`Invalid input received: metadata filter ${value} is not a dictionary.`);
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

/**
 * The filters left after paging and sorting, as Cinder treats them: below 3.31 a non-admin's
 * unknown keys are dropped; from 3.31 they are a 400. An admin may filter on any field; one the
 * list does not have matches nothing, so what follows it is not read.
 */
function filters(params: Map<string, string>, rules: ListRules, actor: Actor, version: Microversion): ListFilter[] {
  params.delete('all_tenants');
  if (!actor.isAdmin) {
    const allowed = (k: string) => rules.tenantFilters.includes(k.endsWith('~') && rules.tenantLikeFilters !== false ? k.slice(0, -1) : k);
    if (version.atLeast('3.31')) {
      const bad = [...params.keys()].filter((k) => !allowed(k));
      if (bad.length) throw invalid(`Invalid filters ${bad.join(',')} are found in query options.`);
    } else {
      for (const key of [...params.keys()]) if (!allowed(key)) params.delete(key);
    }
  }
  const result: ListFilter[] = [];
  for (const [rawKey, value] of params) {
    const like = rawKey.endsWith('~') && version.atLeast('3.34');
    let key = like ? rawKey.slice(0, -1) : rawKey;
    if (key === 'metadata' && rules.fields.metadata) {
      result.push({ key, metadata: parseMetadataFilter(value) });
      continue;
    }
    if (key === 'name') key = 'display_name';
    if (key === 'description') key = 'display_description';
    result.push({ key, value, like });
    if (!rules.fields.filterKeys.includes(key)) break;
  }
  return result;
}

/** The domain's list options from a Cinder list request, refused with Cinder's messages. */
export function listOptions(rules: ListRules, input: ListInput): ListOptions {
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
  const sort = sortParams(params, rules.fields.sortKeys, !rules.sortsNameFrom || version.atLeast(rules.sortsNameFrom));
  let withCount = false;
  if (params.has('with_count')) {
    const value = take('with_count')!;
    if (version.atLeast('3.45')) {
      if (!isBoolString(value)) throw invalid(`Invalid input received: Value '${value}' for 'with_count' is not a boolean.`);
      withCount = isTrueString(value);
    }
  }
  const allTenantsValue = params.get('all_tenants') ?? '0';
  const conditions = filters(params, rules, actor, version);
  if (!isBoolString(allTenantsValue)) throw invalid(`all_tenants must be a boolean, got '${allTenantsValue}'.`);
  return { marker, limit, offset, sort, filters: conditions, allProjects: actor.isAdmin && isTrueString(allTenantsValue), withCount };
}
