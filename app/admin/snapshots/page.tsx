import type { Metadata } from 'next';
import { asc } from 'drizzle-orm';
import { SnapshotTable } from '@/components/snapshots/snapshot-table';
import { PageHeader } from '@/components/ui/card';
import { ListFilters } from '@/components/ui/list/list-filters';
import { pickListQuery } from '@/components/ui/list/search-params';
import { db } from '@/server/db/client';
import { projects, snapshotStatus } from '@/server/db/schema';
import { requireAdminPage } from '@/server/auth/session';
import { listSnapshots } from '@/server/snapshots/queries';

export const metadata: Metadata = { title: 'Snapshots' };

export default async function AdminSnapshotsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requireAdminPage();
  const query = pickListQuery(await searchParams, ['q', 'status', 'sort', 'dir', 'page', 'projectId', 'volumeId']);
  const [page, projectList] = await Promise.all([
    listSnapshots(actor, query),
    db().select({ id: projects.id, name: projects.name }).from(projects).orderBy(asc(projects.name)),
  ]);
  return (
    <>
      <PageHeader title="Snapshots" description="Every project's snapshots, temporary backup snapshots included." />
      <ListFilters base="/admin/snapshots" current={query} statuses={snapshotStatus.enumValues} projects={projectList} searchLabel="Name or id" />
      <SnapshotTable initial={page} query={query} base="/admin/snapshots" volumeBase="/admin/volumes" admin />
    </>
  );
}
