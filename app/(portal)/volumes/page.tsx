import type { Metadata } from 'next';
import { QuotaMeters } from '@/components/identity/quota-meters';
import { EmptyState, PageHeader } from '@/components/ui/card';
import { ListFilters } from '@/components/ui/list/list-filters';
import { statusOptions } from '@/components/status/status-labels';
import { pickListQuery } from '@/components/ui/list/search-params';
import { VolumeTable } from '@/components/volumes/volume-table';
import { currentProject, requirePageActor } from '@/server/auth/session';
import { projectQuotas } from '@/server/quotas/queries';
import { snapshotChoices } from '@/server/snapshots/queries';
import { listVolumes } from '@/server/volumes/queries';
import { VOLUME_FILTER_STATUSES } from '@/server/volumes/statuses';

export const metadata: Metadata = { title: 'Volumes' };

export default async function VolumesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor();
  const { project } = await currentProject(actor);
  if (!project)
    return <EmptyState title="You are not a member of any project yet">Ask an administrator to add you to a project.</EmptyState>;
  const query = pickListQuery(await searchParams, ['q', 'status', 'sort', 'dir', 'page']);
  const [page, quotas, snapshots] = await Promise.all([
    listVolumes(actor, { ...query, projectId: project.id }),
    projectQuotas(actor, project.id),
    snapshotChoices(actor, project.id),
  ]);
  const canWrite = actor.isAdmin || actor.roles.get(project.id) === 'member';
  return (
    <>
      <PageHeader
        title="Volumes"
        description={`Block devices of project ${project.name}. Statuses update live while the volume service works.`}
      />
      <section aria-label="Usage" className="mb-6">
        <QuotaMeters quotas={quotas.filter((q) => ['volumes', 'snapshots', 'gigabytes'].includes(q.resource))} />
      </section>
      <ListFilters base="/volumes" current={query} statuses={statusOptions(VOLUME_FILTER_STATUSES)} searchLabel="Name or id" />
      <VolumeTable
        initial={page}
        query={query}
        scope={{ projectId: project.id }}
        base="/volumes"
        createIn={canWrite ? project.id : undefined}
        snapshots={snapshots}
      />
    </>
  );
}
