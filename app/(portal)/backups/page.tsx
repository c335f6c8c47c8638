import type { Metadata } from 'next';
import Link from 'next/link';
import { BackupTable } from '@/components/backups/backup-table';
import { QuotaMeters } from '@/components/identity/quota-meters';
import { buttonClass } from '@/components/ui/button';
import { EmptyState, PageHeader } from '@/components/ui/card';
import { ListFilters } from '@/components/ui/list/list-filters';
import { statusOptions } from '@/components/status/status-labels';
import { pickListQuery } from '@/components/ui/list/search-params';
import { currentProject, requirePageActor } from '@/server/auth/session';
import { BACKUP_INTEGRITY_STATES, BACKUP_STATUSES, listBackups, recentRestoreTests } from '@/server/backups/queries';
import { RestoreTestsCard } from '@/components/backups/restore-tests-card';
import { projectQuotas } from '@/server/quotas/queries';

export const metadata: Metadata = { title: 'Backups' };

const LINKS = { backups: '/backups', volumes: '/volumes', snapshots: '/snapshots' };

export default async function BackupsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const actor = await requirePageActor();
  const { project } = await currentProject(actor);
  if (!project)
    return <EmptyState title="You are not a member of any project yet">Ask an administrator to add you to a project.</EmptyState>;
  const query = pickListQuery(await searchParams, ['q', 'status', 'integrity', 'volumeId', 'sort', 'dir', 'page']);
  const [page, quotas, tests] = await Promise.all([
    listBackups(actor, { ...query, projectId: project.id }),
    projectQuotas(actor, project.id),
    recentRestoreTests(actor, { projectId: project.id, limit: 5 }),
  ]);
  const canWrite = actor.isAdmin || actor.roles.get(project.id) === 'member';
  return (
    <>
      <PageHeader
        title="Backups"
        description={`Copies of project ${project.name}'s volumes and snapshots in the backup repository. Progress, throughput and time left update live.`}
        actions={
          canWrite ? (
            <Link href="/volumes" className={buttonClass('secondary')}>
              Back up a volume…
            </Link>
          ) : undefined
        }
      />
      <section aria-label="Usage" className="mb-6">
        <QuotaMeters quotas={quotas.filter((q) => ['backups', 'backup_gigabytes'].includes(q.resource))} />
      </section>
      <ListFilters
        base="/backups"
        current={query}
        statuses={statusOptions(BACKUP_STATUSES)}
        integrityStates={statusOptions(BACKUP_INTEGRITY_STATES)}
        searchLabel="Name or id"
        keep={['volumeId']}
      />
      <BackupTable
        initial={JSON.parse(JSON.stringify(page))}
        query={query}
        scope={{ projectId: project.id }}
        links={LINKS}
        canWrite={canWrite}
        empty={
          canWrite ? (
            <>
              Back up a volume from the{' '}
              <Link className="underline" href="/volumes">
                Volumes
              </Link>{' '}
              page (or a snapshot from{' '}
              <Link className="underline" href="/snapshots">
                Snapshots
              </Link>
              ) with <b>Back up…</b>. Later backups of the same volume can be incremental.
            </>
          ) : (
            <>Members of this project back up volumes from the Volumes page; their backups will show here.</>
          )
        }
      />
      {/* With no backup yet there is nothing to test: the list's empty state is the page's one "nothing here". */}
      {(tests.length > 0 || page.total > 0) && <RestoreTestsCard tests={tests} base="/backups" />}
    </>
  );
}
