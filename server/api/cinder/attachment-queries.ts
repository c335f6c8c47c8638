import type { Actor } from '../../auth/actor';
import { invalid } from '../../errors';
import {
  ATTACHMENT_FILTERS,
  attachmentRecord,
  listAttachments,
  type AttachmentFilter,
  type AttachmentRecord,
} from '../../volumes/attachment-queries';
import { isBoolString, isTrueString } from './json-schema';
import type { Microversion } from './microversions';
import { integerParam, MAX_LIMIT } from './rest-list';

/** Attachment reads for the REST API: Cinder's query string becomes the domain's list options. */
export type RestAttachment = AttachmentRecord;

const PAGING = new Set(['limit', 'offset', 'marker', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'with_count']);

export const showAttachment = (actor: Actor, id: string) => attachmentRecord(actor, id);

export interface AttachmentListInput {
  actor: Actor;
  projectId: string;
  version: Microversion;
  query: URLSearchParams;
}

/**
 * Newest first (Cinder's default sort), with its filters, `limit` and `offset`; an admin's
 * `all_tenants` lists every project's. Unknown filters are dropped below 3.31 and refused from
 * 3.31, as for the other resources.
 */
export async function listAttachmentsRest(input: AttachmentListInput): Promise<RestAttachment[]> {
  const { actor, projectId, version, query } = input;
  const filters: Partial<Record<AttachmentFilter, string>> = {};
  const unknown: string[] = [];
  for (const [key, value] of query) {
    if (PAGING.has(key)) continue;
    if ((ATTACHMENT_FILTERS as readonly string[]).includes(key)) filters[key as AttachmentFilter] = value;
    else unknown.push(key);
  }
  if (unknown.length && version.atLeast('3.31')) throw invalid(`Invalid filters ${unknown.join(',')} are found in query options.`);
  const allTenantsValue = query.get('all_tenants') ?? '0';
  if (!isBoolString(allTenantsValue)) throw invalid(`all_tenants must be a boolean, got '${allTenantsValue}'.`);
  checkSort(query);
  return listAttachments(actor, projectId, {
    filters,
    allProjects: isTrueString(allTenantsValue),
    limit: Math.min(integerParam(query.get('limit'), 'limit', MAX_LIMIT), MAX_LIMIT),
    offset: integerParam(query.get('offset'), 'offset', 0),
    marker: query.get('marker'),
  });
}

const NEWEST_FIRST = 'Invalid input received: attachments are listed newest first (desc) only.';

/** The one order we keep, newest first: asking for another is refused rather than ignored. */
function checkSort(query: URLSearchParams) {
  const keys = [query.get('sort'), query.get('sort_key')]
    .filter((v): v is string => v !== null)
    .flatMap((v) => v.split(','))
    .map((part) => part.split(':'));
  for (const [key, dir] of keys) {
    if (key.trim() !== 'created_at' && key.trim() !== 'id') throw invalid(`Invalid input received: Invalid sort key ${key.trim()}`);
    if (dir !== undefined && dir.trim().toLowerCase() !== 'desc') throw invalid(NEWEST_FIRST);
  }
  const dir = query.get('sort_dir');
  if (dir !== null && dir.trim().toLowerCase() !== 'desc') throw invalid(NEWEST_FIRST);
}
