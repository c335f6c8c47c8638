import type { Metadata } from 'next';
import { PageHeader } from '@/components/ui/card';
import { ListFilters } from '@/components/ui/list/list-filters';
import { statusOptions } from '@/components/status/status-labels';
import { pickListQuery } from '@/components/ui/list/search-params';
import { VolumeTable } from '@/components/volumes/volume-table';
import { requireAdminPage } from '@/server/auth/session';
import { projectOptions } from '@/server/identity/queries';
import { listVolumes } from '@/server/volumes/queries';
import { VOLUME_FILTER_STATUSES } from '@/server/volumes/statuses';

export const metadata: Metadata = { title: 'Volumes' };

export default async function AdminVolumesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requireAdminPage();
  const query = pickListQuery(await searchParams, ['q', 'status', 'sort', 'dir', 'page', 'projectId']);
  const [page, projectList] = await Promise.all([listVolumes(actor, query), projectOptions(actor)]);
  return (
    <>
      <PageHeader title="Volumes" description="Every project's volumes. Open a volume to reset a stuck state or force-delete it." />
      <ListFilters
        base="/admin/volumes"
        current={query}
        statuses={statusOptions(VOLUME_FILTER_STATUSES)}
        projects={projectList}
        searchLabel="Name or id"
      />
      <VolumeTable initial={page} query={query} base="/admin/volumes" admin />
    </>
  );
}
