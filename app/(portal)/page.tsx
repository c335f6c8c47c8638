import type { Metadata } from 'next';
import Link from 'next/link';
import { DashboardView } from '@/components/dashboard/dashboard-view';
import { PORTAL_LINKS } from '@/components/dashboard/links';
import { BackupServiceNotice } from '@/components/dashboard/services-health-panel';
import { QuotaMeters } from '@/components/identity/quota-meters';
import { buttonClass } from '@/components/ui/button';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { currentProject, requirePageActor } from '@/server/auth/session';
import { type Dashboard, dashboard } from '@/server/dashboard/queries';
import { projectQuotas } from '@/server/quotas/queries';

export const metadata: Metadata = { title: 'Overview' };

export default async function OverviewPage() {
  const actor = await requirePageActor();
  const { project } = await currentProject(actor);
  if (!project) {
    return (
      <>
        <PageHeader title="Welcome" />
        <EmptyState title="You are not a member of any project yet">
          Ask an administrator to add you to a project. Once you are a member, its volumes, snapshots and backups show up here.
        </EmptyState>
      </>
    );
  }
  const [quotas, data] = await Promise.all([projectQuotas(actor, project.id), dashboard(actor, { projectId: project.id })]);
  const canWrite = actor.isAdmin || actor.roles.get(project.id) === 'member';
  const header = (
    <PageHeader
      title={project.name}
      description="Your project at a glance: which volumes are protected by a recent backup, what is running, what failed, and its usage."
    />
  );
  if (isEmptyProject(data)) {
    // Every panel would say "nothing yet" in its own words: say it once, with the first step.
    return (
      <>
        {header}
        <EmptyState
          title="Nothing to protect yet"
          action={
            canWrite ? (
              <Link href="/volumes" className={buttonClass('primary')}>
                Create your first volume
              </Link>
            ) : undefined
          }
        >
          {canWrite
            ? 'Create a volume, then back it up or give it a backup policy. Its protection, jobs and backups show up here.'
            : 'Members of this project create volumes and back them up; their protection, jobs and backups show up here.'}
        </EmptyState>
        <div className="mt-6">
          <Card title="Quotas" description="Usage counts every resource that exists, including ones in error, until it is deleted.">
            <QuotaMeters quotas={quotas} />
          </Card>
        </div>
      </>
    );
  }
  return (
    <>
      {header}
      <BackupServiceNotice up={data.backupServiceUp} />
      <DashboardView
        data={data}
        links={PORTAL_LINKS}
        admin={false}
        extra={
          <div className="xl:col-span-2">
            <Card title="Quotas" description="Usage counts every resource that exists, including ones in error, until it is deleted.">
              <QuotaMeters quotas={quotas} />
            </Card>
          </div>
        }
      />
    </>
  );
}

/** A project with no volume, no backup and no work past or present: its dashboard would be all zeroes. */
function isEmptyProject(data: Dashboard): boolean {
  const backupsHeld = data.usage.at(-1)?.backupCount ?? 0;
  return (
    data.protection.total === 0 &&
    data.jobs.running + data.jobs.queued === 0 &&
    data.failures.total === 0 &&
    data.integrity.damagedTotal === 0 &&
    data.integrity.restoreTests.length === 0 &&
    backupsHeld === 0
  );
}
