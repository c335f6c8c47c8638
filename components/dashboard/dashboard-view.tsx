import type { ReactNode } from 'react';
import type { Dashboard } from '@/server/dashboard/queries';
import { FailuresPanel } from './failures-panel';
import { HistoryPanels } from './history-panels';
import { IntegrityPanel } from './integrity-panel';
import { JobsPanel } from './jobs-panel';
import type { DashboardLinks } from './links';
import { ProtectionPanel } from './protection-panel';
import { ServicesHealthPanel } from './services-health-panel';
import { SignInLocksPanel } from './sign-in-locks-panel';

/**
 * The dashboard's panels on a two-column grid (one column below 1280 px). More panels (backup
 * policies, say) slot in through `extra`, after the status panels and before the charts.
 */
export function DashboardView({
  data,
  links,
  admin,
  extra,
}: {
  data: Dashboard;
  links: DashboardLinks;
  admin: boolean;
  extra?: ReactNode;
}) {
  return (
    <div className="grid gap-4 xl:grid-cols-2" data-testid="dashboard">
      <ProtectionPanel protection={data.protection} links={links} showProject={admin} />
      <FailuresPanel failures={data.failures} showProject={admin} />
      <JobsPanel jobs={data.jobs} backupServiceUp={data.backupServiceUp} />
      {admin ? <ServicesHealthPanel services={data.services} href={links.services} /> : null}
      {admin ? <SignInLocksPanel locks={data.signInLocks} /> : null}
      <div className="xl:col-span-2">
        <IntegrityPanel integrity={data.integrity} links={links} />
      </div>
      {extra}
      <HistoryPanels usage={data.usage} throughput={data.throughput} />
    </div>
  );
}
