import type { Metadata } from 'next';
import { PageHeader } from '@/components/ui/card';
import { ServicesPanel } from '@/components/services/services-panel';
import { requireAdminPage } from '@/server/auth/session';
import { listServices, recentPings } from '@/server/services/queries';

export const metadata: Metadata = { title: 'Services' };

export default async function ServicesPage() {
  await requireAdminPage();
  const [services, pings] = await Promise.all([listServices(), recentPings(10)]);
  return (
    <>
      <PageHeader
        title="Services"
        description="Every worker registers a backup service and a volume service. A service is up while its heartbeat is fresh; a disabled service takes no new work."
      />
      <ServicesPanel initial={JSON.parse(JSON.stringify({ services, pings }))} />
    </>
  );
}
