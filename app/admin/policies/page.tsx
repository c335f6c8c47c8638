import type { Metadata } from 'next';
import Link from 'next/link';
import { PolicyForm, NEW_POLICY } from '@/components/policies/policy-form';
import { PolicyRunsTable } from '@/components/policies/policy-runs-table';
import { Badge } from '@/components/ui/badge';
import { Card, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { requireAdminPage } from '@/server/auth/session';
import { adminPolicyOverview } from '@/server/policies/queries';
import { NextRun } from '@/components/policies/next-run';
import { PolicyRunBadge } from '@/components/policies/policy-runs-table';

export const metadata: Metadata = { title: 'Backup policies' };

export default async function AdminPoliciesPage() {
  const actor = await requireAdminPage();
  const overview = await adminPolicyOverview(actor);
  return (
    <>
      <PageHeader
        title="Backup policies"
        description="Every project's policies, the ones offered to every project, and runs that failed or could not start."
      />
      <Table label="All policies">
        <THead>
          <Th>Name</Th>
          <Th>Project</Th>
          <Th>Volumes</Th>
          <Th>Next run</Th>
          <Th>Last run</Th>
        </THead>
        <TBody>
          {overview.policies.map(({ policy, projectName, volumeCount, nextRunAt, lastRun }) => (
            <tr key={policy.id}>
              <Td>
                <Link className="font-medium underline" href={`/policies/${policy.id}`}>
                  {policy.name}
                </Link>
                {policy.paused && (
                  <span className="ml-2">
                    <Badge tone="amber">paused</Badge>
                  </span>
                )}
              </Td>
              <Td>{projectName ?? <Badge tone="blue">every project</Badge>}</Td>
              <Td>{volumeCount}</Td>
              <Td>
                <NextRun at={nextRunAt} />
              </Td>
              <Td>{lastRun ? <PolicyRunBadge status={lastRun.status} /> : '—'}</Td>
            </tr>
          ))}
        </TBody>
      </Table>
      <div className="mt-8 space-y-6">
        <Card title="Failed and skipped runs">
          <PolicyRunsTable runs={overview.failedRuns} label="Failed and skipped runs" />
        </Card>
        <Card title="New policy offered to every project">
          <PolicyForm values={NEW_POLICY} allowShared />
        </Card>
      </div>
    </>
  );
}
