import { StatusChange } from '@/components/status/status-badge';
import { Badge } from '@/components/ui/badge';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import type { AuditEventView } from '@/server/events/queries';

/** Audit events, newest first: names beside ids, the outcome as a badge, the detail truncated (whole on hover). */
export function AuditTable({ events }: { events: AuditEventView[] }) {
  return (
    <Table label="Audit events">
      <THead>
        <Th>When</Th>
        <Th>Who</Th>
        <Th>Project</Th>
        <Th>Action</Th>
        <Th>Resource</Th>
        <Th className="hidden xl:table-cell">Change</Th>
        <Th>Detail</Th>
      </THead>
      <TBody>
        {events.map((e) => {
          const detail = e.detail ? JSON.stringify(e.detail) : '';
          return (
            <tr key={e.id}>
              <Td className="text-xs">
                <LocalTime value={e.at} />
              </Td>
              <Td>
                <div className="text-slate-900">{e.userName ?? 'system'}</div>
                {e.actorUserId && e.actorUserId !== 'system' && <ShortId id={e.actorUserId} />}
              </Td>
              <Td>
                {e.projectId ? (
                  <>
                    <div className="text-slate-900">{e.projectName ?? 'deleted project'}</div>
                    <ShortId id={e.projectId} />
                  </>
                ) : (
                  <span className="text-slate-400">—</span>
                )}
              </Td>
              <Td>
                <div className="font-medium text-slate-900">{e.action.replaceAll('_', ' ')}</div>
                {e.outcome === 'failure' && <Badge tone="red">failure</Badge>}
              </Td>
              <Td>
                <div className="text-slate-500">{e.resourceType}</div>
                <ShortId id={e.resourceId} />
              </Td>
              <Td className="hidden text-xs xl:table-cell">
                <StatusChange from={e.fromStatus} to={e.toStatus} />
              </Td>
              <Td>
                <div className="max-w-32 truncate font-mono text-xs text-slate-500 xl:max-w-56" title={detail || undefined}>
                  {detail}
                </div>
              </Td>
            </tr>
          );
        })}
      </TBody>
    </Table>
  );
}
