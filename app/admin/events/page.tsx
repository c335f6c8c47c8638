import type { Metadata } from 'next';
import { EmptyState, PageHeader } from '@/components/ui/card';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { requireAdminPage } from '@/server/auth/session';
import { recentAuditEvents } from '@/server/services/queries';

export const metadata: Metadata = { title: 'Audit log' };

export default async function EventsPage() {
  await requireAdminPage();
  const events = await recentAuditEvents(200);
  return (
    <>
      <PageHeader title="Audit log" description="Every change, written in the same transaction as the change itself: who did what to which resource, from which status to which." />
      {events.length === 0 ? <EmptyState title="Nothing has happened yet" /> : (
        <Table label="Audit events">
          <THead><Th>When</Th><Th>Who</Th><Th>Action</Th><Th>Resource</Th><Th>Change</Th><Th>Detail</Th></THead>
          <TBody>
            {events.map((e) => (
              <tr key={e.id}>
                <Td><LocalTime value={e.at} /></Td>
                <Td>{e.actorName ?? 'system'}</Td>
                <Td className="font-medium text-slate-900">{e.action.replaceAll('_', ' ')}</Td>
                <Td><span className="text-slate-500">{e.resourceType}</span> <ShortId id={e.resourceId} /></Td>
                <Td>{e.fromStatus || e.toStatus ? `${e.fromStatus ?? '—'} → ${e.toStatus ?? '—'}` : ''}</Td>
                <Td><div className="max-w-48 truncate font-mono text-xs text-slate-500 xl:max-w-xs" title={e.detail ? JSON.stringify(e.detail) : undefined}>{e.detail ? JSON.stringify(e.detail) : ''}</div></Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
    </>
  );
}
