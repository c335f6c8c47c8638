import type { Metadata } from 'next';
import Link from 'next/link';
import { describeSchedule } from '@/components/policies/describe-schedule';
import { PolicyForm, NEW_POLICY } from '@/components/policies/policy-form';
import { Badge } from '@/components/ui/badge';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { currentProject, requirePageActor } from '@/server/auth/session';
import { listPolicies } from '@/server/policies/queries';
import { NextRun } from '@/components/policies/next-run';
import { PolicyRunBadge } from '@/components/policies/policy-runs-table';

export const metadata: Metadata = { title: 'Backup policies' };

export default async function PoliciesPage() {
  const actor = await requirePageActor();
  const { project } = await currentProject(actor);
  if (!project)
    return <EmptyState title="You are not a member of any project yet">Ask an administrator to add you to a project.</EmptyState>;
  const rows = await listPolicies(actor, project.id);
  const canWrite = actor.isAdmin || actor.roles.get(project.id) === 'member';
  return (
    <>
      <PageHeader
        title="Backup policies"
        description={`Scheduled backups of project ${project.name}'s volumes, and the retention that prunes the backups a policy made.`}
      />
      {rows.length === 0 ? (
        <EmptyState title="No policies yet">
          {canWrite ? 'Create one below, then assign volumes to it.' : 'Members of this project create policies.'}
        </EmptyState>
      ) : (
        <Table label="Policies">
          <THead>
            <Th>Name</Th>
            <Th>Schedule</Th>
            <Th>Volumes</Th>
            <Th>Next run</Th>
            <Th>Last run</Th>
          </THead>
          <TBody>
            {rows.map(({ policy, volumeCount, nextRunAt, lastRun }) => (
              <tr key={policy.id}>
                <Td>
                  <Link className="font-medium underline" href={`/policies/${policy.id}`}>
                    {policy.name}
                  </Link>
                  {policy.projectId === null && (
                    <span className="ml-2">
                      <Badge tone="blue">every project</Badge>
                    </span>
                  )}
                  {policy.paused && (
                    <span className="ml-2">
                      <Badge tone="amber">paused</Badge>
                    </span>
                  )}
                </Td>
                <Td>{describeSchedule(policy.schedule, policy.timeZone)}</Td>
                <Td>{volumeCount}</Td>
                <Td>
                  <NextRun at={nextRunAt} />
                </Td>
                <Td>
                  {lastRun ? (
                    <>
                      <PolicyRunBadge status={lastRun.status} /> <LocalTime value={lastRun.startedAt} relative />
                    </>
                  ) : (
                    '—'
                  )}
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
      {canWrite && (
        <div className="mt-8">
          <Card title="New policy">
            <PolicyForm values={NEW_POLICY} projectId={project.id} allowShared={actor.isAdmin} />
          </Card>
        </div>
      )}
    </>
  );
}
