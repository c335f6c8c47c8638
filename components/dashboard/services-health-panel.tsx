import Link from 'next/link';
import { Badge } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { formatDuration } from '@/components/ui/format';
import type { ServiceView } from '@/server/services/queries';

/** Each registered service: up or down by its heartbeat, and how old that heartbeat is. */
export function ServicesHealthPanel({ services, href }: { services: ServiceView[]; href?: string }) {
  return (
    <Card
      title="Services"
      description="A service is down when its heartbeat is older than the service down time."
      actions={
        href && (
          <Link className="text-sm text-brand-600 hover:underline" href={href}>
            All services
          </Link>
        )
      }
    >
      <div data-testid="services-health-panel">
        {services.length === 0 ? (
          <p className="text-sm text-amber-700">No service has registered: start a worker.</p>
        ) : (
          <ul className="divide-y divide-slate-100 text-sm" aria-label="Service health">
            {services.map((s) => (
              <li key={s.id} className="flex flex-wrap items-baseline justify-between gap-x-3 py-1.5">
                <span>
                  <span className="font-medium text-slate-900">{s.binary}</span> <span className="text-slate-500">on {s.host}</span>
                </span>
                <span className="flex items-center gap-2 text-xs text-slate-500">
                  heartbeat {formatDuration(s.heartbeatAgeSeconds)} ago
                  {s.status === 'disabled' ? (
                    <Badge tone="slate">disabled</Badge>
                  ) : (
                    <Badge tone={s.state === 'up' ? 'green' : 'red'}>{s.state}</Badge>
                  )}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}

/** For a project: only whether backups can run now. */
export function BackupServiceNotice({ up }: { up: boolean }) {
  return up ? null : (
    <p role="alert" className="mb-4 rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-800 ring-1 ring-amber-200">
      No backup service is running. Backups and restores you request wait until an administrator starts one.
    </p>
  );
}
