import type { Metadata } from 'next';
import { SnapshotTable } from '@/components/snapshots/snapshot-table';
import { PageHeader } from '@/components/ui/card';
import { ListFilters } from '@/components/ui/list/list-filters';
import { statusOptions } from '@/components/status/status-labels';
import { pickListQuery } from '@/components/ui/list/search-params';
import { requireAdminPage } from '@/server/auth/session';
import { projectOptions } from '@/server/identity/queries';
import { listSnapshots } from '@/server/snapshots/queries';
import { SNAPSHOT_FILTER_STATUSES } from '@/server/snapshots/statuses';

export const metadata: Metadata = { title: 'Snapshots' };

export default async function AdminSnapshotsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const actor = await requireAdminPage();
  const query = pickListQuery(await searchParams, ['q', 'status', 'sort', 'dir', 'page', 'projectId', 'volumeId']);
  const [page, projectList] = await Promise.all([listSnapshots(actor, query), projectOptions(actor)]);
  return (
    <>
      <PageHeader title="Snapshots" description="Every project's snapshots, temporary backup snapshots included." />
      <ListFilters
        base="/admin/snapshots"
        current={query}
        statuses={statusOptions(SNAPSHOT_FILTER_STATUSES)}
        projects={projectList}
        searchLabel="Name or id"
      />
      <SnapshotTable initial={page} query={query} base="/admin/snapshots" volumeBase="/admin/volumes" admin />
    </>
  );
}
