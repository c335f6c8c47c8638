import type { Metadata } from 'next';
import { BackupForProject } from '@/components/backups/backup-for-project';
import { BackupTable } from '@/components/backups/backup-table';
import { Card, PageHeader } from '@/components/ui/card';
import { ListFilters } from '@/components/ui/list/list-filters';
import { statusOptions } from '@/components/status/status-labels';
import { pickListQuery } from '@/components/ui/list/search-params';
import { requireAdminPage } from '@/server/auth/session';
import { BACKUP_INTEGRITY_STATES, BACKUP_STATUSES, listBackups, recentRestoreTests } from '@/server/backups/queries';
import { integritySchedule } from '@/server/backups/integrity-service';
import { IntegrityScheduleForm } from '@/components/backups/integrity-schedule-form';
import { RestoreTestsCard } from '@/components/backups/restore-tests-card';
import { projectOptions } from '@/server/identity/queries';

export const metadata: Metadata = { title: 'Backups' };

const LINKS = { backups: '/admin/backups', volumes: '/admin/volumes', snapshots: '/admin/snapshots' };

export default async function AdminBackupsPage({
  searchParams,
}: {
  searchParams: Promise<{ [key: string]: string | string[] | undefined }>;
}) {
  const actor = await requireAdminPage();
  const query = pickListQuery(await searchParams, ['q', 'status', 'integrity', 'projectId', 'volumeId', 'sort', 'dir', 'page']);
  const [page, projectList, schedule, tests] = await Promise.all([
    listBackups(actor, query),
    projectOptions(actor),
    integritySchedule(actor),
    recentRestoreTests(actor, { limit: 5 }),
  ]);
  return (
    <>
      <PageHeader
        title="Backups"
        description="Every project's backups. Force-delete cancels a running backup or removes a stuck one; backing up for a project charges that project."
        actions={<BackupForProject projects={projectList} />}
      />
      <ListFilters
        base="/admin/backups"
        current={query}
        statuses={statusOptions(BACKUP_STATUSES)}
        integrityStates={statusOptions(BACKUP_INTEGRITY_STATES)}
        projects={projectList}
        searchLabel="Name or id"
        keep={['volumeId']}
      />
      <BackupTable
        initial={JSON.parse(JSON.stringify(page))}
        query={query}
        links={LINKS}
        admin
        canWrite
        empty={
          <>
            No project has a backup. Back up a volume for a project with <b>Back up for a project…</b>, or from a volume in Volumes.
          </>
        }
      />
      <Card
        title="Integrity schedule"
        className="mt-6"
        description="Verifies read every object back; restore tests restore into scratch space. Both are spread out and throttled by the transfer limit."
      >
        <IntegrityScheduleForm scrubEveryDays={schedule.scrubEveryDays} restoreTestEveryDays={schedule.restoreTestEveryDays} />
      </Card>
      {/* With no backup listed there is nothing to test: the list's empty state is the page's one "nothing here". */}
      {(tests.length > 0 || page.total > 0) && <RestoreTestsCard tests={tests} base="/admin/backups" />}
    </>
  );
}
