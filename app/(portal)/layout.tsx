import type { ReactNode } from 'react';
import { AppShell } from '@/components/layout/app-shell';
import { ProjectSwitcher } from '@/components/layout/project-switcher';
import { currentProject, requirePageActor } from '@/server/auth/session';

export const dynamic = 'force-dynamic';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/volumes', label: 'Volumes' },
  { href: '/snapshots', label: 'Snapshots' },
  { href: '/backups', label: 'Backups' },
  { href: '/policies', label: 'Policies' },
  { href: '/access', label: 'API access' },
];

export default async function PortalLayout({ children }: { children: ReactNode }) {
  const actor = await requirePageActor();
  const { project, choices } = await currentProject(actor);
  const role = actor.isAdmin ? 'Administrator' : project ? (actor.roles.get(project.id) === 'reader' ? 'Reader' : 'Member') : 'No project';
  return (
    <AppShell
      area="Self-service portal"
      nav={NAV}
      user={{ name: actor.name, role }}
      switcher={<ProjectSwitcher current={project?.id} choices={choices} />}
      crossLink={actor.isAdmin ? { href: '/admin', label: 'Operator console' } : undefined}
    >
      {children}
    </AppShell>
  );
}
