import type { Metadata } from 'next';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { QuotaMeters } from '@/components/identity/quota-meters';
import { currentProject, requirePageActor } from '@/server/auth/session';
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
  const quotas = await projectQuotas(actor, project.id);
  return (
    <>
      <PageHeader title={project.name} description="Your project's usage against its quotas. Quotas bound how many volumes, snapshots and backups the project may keep, and how much space they may take." />
      <Card title="Quotas" description="Usage counts every resource that exists, including ones in error, until it is deleted.">
        <QuotaMeters quotas={quotas} />
      </Card>
    </>
  );
}
