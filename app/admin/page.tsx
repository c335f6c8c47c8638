import type { Metadata } from 'next';
import { DashboardView } from '@/components/dashboard/dashboard-view';
import { ADMIN_LINKS } from '@/components/dashboard/links';
import { PageHeader } from '@/components/ui/card';
import { requireAdminPage } from '@/server/auth/session';
import { dashboard } from '@/server/dashboard/queries';

export const metadata: Metadata = { title: 'Dashboard' };

/** The operator console's landing page: every project's protection, work, failures, repository and services at a glance. */
export default async function AdminDashboardPage() {
  const actor = await requireAdminPage();
  const data = await dashboard(actor);
  return (
    <>
      <PageHeader
        title="Dashboard"
        description="Every project: which volumes are protected, what is running, what failed, and how the backup repository grows."
      />
      <DashboardView data={data} links={ADMIN_LINKS} admin />
    </>
  );
}
