import { z } from 'zod';

/**
 * How a caller pages through a list by marker (the REST API's paging): where the page starts,
 * its size, the order, the filters, and whether the count is wanted. Keys are the model names
 * a domain's list fields declare (`display_name`, `created_at`, …).
 */

/** The largest page a list returns (Cinder's `osapi_max_limit`). */
export const MAX_LIMIT = 1000;

/** Ids as the UUID columns take them (dashes optional). */
export const isUuidLike = (id: string) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(id);

const fieldFilter = z.object({ key: z.string(), value: z.string(), like: z.boolean().default(false) });
const metadataFilter = z.object({ key: z.literal('metadata'), metadata: z.record(z.string(), z.string()) });

export const listOptionsSchema = z.object({
  /** The id the page starts after: a row the actor may see. */
  marker: z.string().nullable().default(null),
  limit: z.number().int().min(0).max(MAX_LIMIT).default(MAX_LIMIT),
  offset: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  /** Sort keys in order, each with its direction; ties broken by the keys that follow. */
  sort: z
    .array(z.tuple([z.string(), z.enum(['asc', 'desc'])]))
    .min(1)
    .default([
      ['created_at', 'desc'],
      ['id', 'desc'],
    ]),
  /** Each is a condition: a field equal to (or, `like`, containing) a value, or metadata pairs. */
  filters: z.array(z.union([metadataFilter, fieldFilter])).default([]),
  /** Every project's rows (honoured for admins only); otherwise the one project asked for. */
  allProjects: z.boolean().default(false),
  withCount: z.boolean().default(false),
});

export type ListOptions = z.input<typeof listOptionsSchema>;
export type ListFilter = z.input<typeof fieldFilter> | z.input<typeof metadataFilter>;

/** What a domain's marker list offers: the keys it sorts on and the keys it filters on. */
export interface ListFields {
  sortKeys: readonly string[];
  filterKeys: readonly string[];
  /** Whether `metadata` pairs are a filter. */
  metadata: boolean;
}

/** One page of a marker list: the rows, the count when asked for, and the next marker when the page is full. */
export interface MarkerPage<T> {
  rows: T[];
  count?: number;
  nextMarker?: string;
}
