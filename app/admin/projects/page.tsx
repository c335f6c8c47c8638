import type { Metadata } from 'next';
import Link from 'next/link';
import { Badge } from '@/components/ui/badge';
import { PageHeader } from '@/components/ui/card';
import { DialogButton } from '@/components/ui/dialog';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { CreateProjectForm, ProjectEnabledToggle } from '@/components/identity/project-forms';
import { requireAdminPage } from '@/server/auth/session';
import { listProjects } from '@/server/identity/queries';

export const metadata: Metadata = { title: 'Projects' };

export default async function ProjectsPage() {
  const actor = await requireAdminPage();
  const projects = await listProjects(actor);
  return (
    <>
      <PageHeader
        title="Projects"
        description="Projects own volumes, snapshots and backups, and carry their own quotas. Disabling a project locks its members out without deleting anything."
        actions={
          <DialogButton label="New project" title="Create a project">
            <CreateProjectForm />
          </DialogButton>
        }
      />
      <Table label="Projects">
        <THead>
          <Th>Name</Th>
          <Th>Description</Th>
          <Th>Members</Th>
          <Th>Status</Th>
          <Th>Created</Th>
          <Th className="text-right">Actions</Th>
        </THead>
        <TBody>
          {projects.map((p) => (
            <tr key={p.id}>
              <Td>
                <Link href={`/admin/projects/${p.id}`} className="font-medium text-slate-900 hover:underline">
                  {p.name}
                </Link>
                <div>
                  <ShortId id={p.id} />
                </div>
              </Td>
              <Td>
                <div className="max-w-64 truncate" title={p.description ?? undefined}>
                  {p.description || <span className="text-slate-400">—</span>}
                </div>
              </Td>
              <Td>{p.members}</Td>
              <Td>{p.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="amber">disabled</Badge>}</Td>
              <Td>
                <LocalTime value={p.createdAt} />
              </Td>
              <Td className="text-right">
                <ProjectEnabledToggle projectId={p.id} enabled={p.enabled} name={p.name} />
              </Td>
            </tr>
          ))}
        </TBody>
      </Table>
    </>
  );
}
