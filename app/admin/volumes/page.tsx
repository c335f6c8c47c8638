import type { Metadata } from 'next';
import { asc } from 'drizzle-orm';
import { PageHeader } from '@/components/ui/card';
import { ListFilters } from '@/components/ui/list/list-filters';
import { pickListQuery } from '@/components/ui/list/search-params';
import { VolumeTable } from '@/components/volumes/volume-table';
import { db } from '@/server/db/client';
import { projects, volumeStatus } from '@/server/db/schema';
import { requireAdminPage } from '@/server/auth/session';
import { listVolumes } from '@/server/volumes/queries';

export const metadata: Metadata = { title: 'Volumes' };

export default async function AdminVolumesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requireAdminPage();
  const query = pickListQuery(await searchParams, ['q', 'status', 'sort', 'dir', 'page', 'projectId']);
  const [page, projectList] = await Promise.all([
    listVolumes(actor, query),
    db().select({ id: projects.id, name: projects.name }).from(projects).orderBy(asc(projects.name)),
  ]);
  return (
    <>
      <PageHeader title="Volumes" description="Every project's volumes. Open a volume to reset a stuck state or force-delete it." />
      <ListFilters base="/admin/volumes" current={query} statuses={volumeStatus.enumValues} projects={projectList} searchLabel="Name or id" />
      <VolumeTable initial={page} query={query} base="/admin/volumes" admin />
    </>
  );
}
