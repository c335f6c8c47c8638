import type { Metadata } from 'next';
import { DashboardView } from '@/components/dashboard/dashboard-view';
import { PORTAL_LINKS } from '@/components/dashboard/links';
import { BackupServiceNotice } from '@/components/dashboard/services-health-panel';
import { QuotaMeters } from '@/components/identity/quota-meters';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { currentProject, requirePageActor } from '@/server/auth/session';
import { dashboard } from '@/server/dashboard/queries';
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
  return (
    <>
      <PageHeader
        title={project.name}
        description="Your project at a glance: which volumes are protected by a recent backup, what is running, what failed, and its usage."
      />
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
