import type { AuditEventView } from './queries';

export const AUDIT_CSV_COLUMNS = [
  'id',
  'at',
  'outcome',
  'action',
  'user_id',
  'user_name',
  'project_id',
  'project_name',
  'resource_type',
  'resource_id',
  'from_status',
  'to_status',
  'detail',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. A field that a
 * spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return) gets a
 * leading apostrophe, so an exported user name cannot execute in the reader's spreadsheet.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export function auditCsvLine(e: AuditEventView): string {
  return csvLine([
    e.id,
    e.at,
    e.outcome,
    e.action,
    e.actorUserId,
    e.userName,
    e.projectId,
    e.projectName,
    e.resourceType,
    e.resourceId,
    e.fromStatus,
    e.toStatus,
    e.detail,
  ]);
}
