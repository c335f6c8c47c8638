import type { ReactNode } from 'react';
import { AppShell } from '@/components/layout/app-shell';
import { requireAdminPage } from '@/server/auth/session';

export const dynamic = 'force-dynamic';

const NAV = [
  { href: '/admin', label: 'Dashboard' },
  { href: '/admin/services', label: 'Services' },
  { href: '/admin/volumes', label: 'Volumes' },
  { href: '/admin/snapshots', label: 'Snapshots' },
  { href: '/admin/backups', label: 'Backups' },
  { href: '/admin/policies', label: 'Backup policies' },
  { href: '/admin/records', label: 'Backup records' },
  { href: '/admin/capacity', label: 'Capacity' },
  { href: '/admin/quotas', label: 'Quotas' },
  { href: '/admin/projects', label: 'Projects' },
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/events', label: 'Audit log' },
  { href: '/admin/notifications', label: 'Notifications' },
];

export default async function AdminLayout({ children }: { children: ReactNode }) {
  const actor = await requireAdminPage();
  return (
    <AppShell
      area="Operator console"
      nav={NAV}
      user={{ name: actor.name, role: 'Administrator' }}
      crossLink={{ href: '/', label: 'Self-service portal' }}
    >
      {children}
    </AppShell>
  );
}
