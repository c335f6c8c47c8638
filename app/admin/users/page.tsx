import type { Metadata } from 'next';
import { Badge } from '@/components/ui/badge';
import { PageHeader } from '@/components/ui/card';
import { DialogButton } from '@/components/ui/dialog';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { CreateUserForm, UserRowActions } from '@/components/identity/user-forms';
import { requireAdminPage } from '@/server/auth/session';
import { listProjects, listUsers } from '@/server/identity/queries';

export const metadata: Metadata = { title: 'Users' };

export default async function UsersPage() {
  const actor = await requireAdminPage();
  const [users, projects] = await Promise.all([listUsers(actor), listProjects(actor)]);
  return (
    <>
      <PageHeader
        title="Users"
        description="Administrators see every project and the operator console. Everyone else works in the projects they are members of."
        actions={
          <DialogButton label="New user" title="Create a user">
            <CreateUserForm projects={projects.filter((p) => p.enabled).map((p) => ({ id: p.id, name: p.name }))} />
          </DialogButton>
        }
      />
      <Table label="Users">
        <THead>
          <Th>Name</Th>
          <Th>Kind</Th>
          <Th>Projects</Th>
          <Th>Status</Th>
          <Th className="text-right">Actions</Th>
        </THead>
        <TBody>
          {users.map((u) => (
            <tr key={u.id}>
              <Td className="font-medium text-slate-900">{u.name}</Td>
              <Td>{u.isAdmin ? <Badge tone="blue">administrator</Badge> : 'user'}</Td>
              <Td className="whitespace-normal">
                {u.memberships.length ? (
                  u.memberships.map((m) => `${m.projectName} (${m.role})`).join(', ')
                ) : (
                  <span className="text-slate-400">none</span>
                )}
              </Td>
              <Td>{u.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="amber">disabled</Badge>}</Td>
              <Td>
                <UserRowActions userId={u.id} name={u.name} enabled={u.enabled} isSelf={u.id === actor.userId} />
              </Td>
            </tr>
          ))}
        </TBody>
      </Table>
    </>
  );
}
