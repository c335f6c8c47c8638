import type { Metadata } from 'next';
import Link from 'next/link';
import { AuditFilters } from '@/components/events/audit-filters';
import { AuditTable } from '@/components/events/audit-table';
import { EmptyState, PageHeader } from '@/components/ui/card';
import { listHref } from '@/components/ui/list/list-url';
import { pickListQuery } from '@/components/ui/list/search-params';
import { Pagination } from '@/components/ui/pagination';
import { requireAdminPage } from '@/server/auth/session';
import { auditUserOptions, listAuditEvents } from '@/server/events/queries';
import { projectOptions } from '@/server/identity/queries';

export const metadata: Metadata = { title: 'Audit log' };

const BASE = '/admin/events';
const FILTERS = ['projectId', 'userId', 'resourceType', 'resourceId', 'action', 'outcome', 'from', 'to'];

export default async function EventsPage({ searchParams }: { searchParams: Promise<{ [key: string]: string | string[] | undefined }> }) {
  const actor = await requireAdminPage();
  const query = pickListQuery(await searchParams, [...FILTERS, 'page']);
  const [page, projects, users] = await Promise.all([listAuditEvents(actor, query), projectOptions(actor), auditUserOptions(actor)]);
  const filters = Object.fromEntries(FILTERS.flatMap((key) => (query[key] ? [[key, query[key]]] : [])));
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change, written in the same transaction as the change itself, and every sign-in: who did what to which resource, and whether it failed."
      />
      <AuditFilters
        base={BASE}
        current={query}
        projects={projects}
        users={users}
        csvHref={listHref('/api/admin/events.csv', filters, {})}
      />
      {page.total === 0 ? (
        <EmptyState title={Object.keys(filters).length ? 'No event matches these filters' : 'Nothing has happened yet'} />
      ) : page.rows.length === 0 ? (
        <EmptyState
          title={`There are only ${page.pageCount} pages`}
          action={
            <Link href={listHref(BASE, query, { page: 1 })} className="text-sm text-brand-600 hover:underline">
              Go to the first page
            </Link>
          }
        />
      ) : (
        <>
          <AuditTable events={page.rows} />
          <Pagination
            page={page.page}
            pageCount={page.pageCount}
            pageSize={page.pageSize}
            total={page.total}
            noun="events"
            hrefFor={(p) => listHref(BASE, query, { page: p })}
          />
        </>
      )}
    </>
  );
}
