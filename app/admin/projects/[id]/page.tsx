import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { Badge } from '@/components/ui/badge';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { AddMemberForm, RemoveMemberButton } from '@/components/identity/project-forms';
import { QuotaMeters } from '@/components/identity/quota-meters';
import { requireAdminPage } from '@/server/auth/session';
import { AppError } from '@/server/errors';
import { getProject, listUsers } from '@/server/identity/queries';
import { projectQuotas } from '@/server/quotas/queries';

export const metadata: Metadata = { title: 'Project' };

export default async function ProjectPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requireAdminPage();
  const { id } = await params;
  const found = await getProject(actor, id).catch((error) => {
    if (error instanceof AppError && error.code === 'not_found') return null;
    throw error;
  });
  if (!found) notFound();
  const { project, members } = found;
  const [users, quotas] = await Promise.all([listUsers(actor), projectQuotas(actor, id)]);
  return (
    <>
      <PageHeader
        title={project.name}
        description={project.description || undefined}
        actions={project.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="amber">disabled</Badge>}
      />
      <div className="space-y-6">
        <Card title="Members" description="Members create and manage the project's resources; readers can only look.">
          {members.length === 0 ? (
            <EmptyState title="No members yet">Add a user below to give them access.</EmptyState>
          ) : (
            <Table label="Members">
              <THead>
                <Th>User</Th>
                <Th>Role</Th>
                <Th>Account</Th>
                <Th className="text-right">Actions</Th>
              </THead>
              <TBody>
                {members.map((m) => (
                  <tr key={m.userId}>
                    <Td className="font-medium text-slate-900">{m.name}</Td>
                    <Td>{m.role}</Td>
                    <Td>{m.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="amber">disabled</Badge>}</Td>
                    <Td className="text-right">
                      <RemoveMemberButton userId={m.userId} projectId={project.id} name={m.name} />
                    </Td>
                  </tr>
                ))}
              </TBody>
            </Table>
          )}
          <div className="mt-5">
            <AddMemberForm projectId={project.id} users={users.map((u) => ({ id: u.id, name: u.name }))} />
          </div>
        </Card>
        <Card title="Quotas">
          <QuotaMeters quotas={quotas} />
        </Card>
      </div>
    </>
  );
}
