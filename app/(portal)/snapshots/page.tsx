import type { Metadata } from 'next';
import { SnapshotTable } from '@/components/snapshots/snapshot-table';
import { EmptyState, PageHeader } from '@/components/ui/card';
import { ListFilters } from '@/components/ui/list/list-filters';
import { statusOptions } from '@/components/status/status-labels';
import { pickListQuery } from '@/components/ui/list/search-params';
import { currentProject, requirePageActor } from '@/server/auth/session';
import { listSnapshots } from '@/server/snapshots/queries';
import { SNAPSHOT_FILTER_STATUSES } from '@/server/snapshots/statuses';

export const metadata: Metadata = { title: 'Snapshots' };

export default async function SnapshotsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor();
  const { project } = await currentProject(actor);
  if (!project)
    return <EmptyState title="You are not a member of any project yet">Ask an administrator to add you to a project.</EmptyState>;
  const query = pickListQuery(await searchParams, ['q', 'status', 'sort', 'dir', 'page', 'volumeId']);
  const page = await listSnapshots(actor, { ...query, projectId: project.id });
  const canWrite = actor.isAdmin || actor.roles.get(project.id) === 'member';
  return (
    <>
      <PageHeader
        title="Snapshots"
        description={`Point-in-time copies of project ${project.name}'s volumes. Create a snapshot from a volume's page.`}
      />
      <ListFilters base="/snapshots" current={query} statuses={statusOptions(SNAPSHOT_FILTER_STATUSES)} searchLabel="Name or id" />
      <SnapshotTable
        initial={page}
        query={query}
        scope={{ projectId: project.id }}
        base="/snapshots"
        volumeBase="/volumes"
        canWrite={canWrite}
      />
    </>
  );
}
