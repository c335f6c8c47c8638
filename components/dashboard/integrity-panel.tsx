import Link from 'next/link';
import { Badge } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { formatDuration } from '@/components/ui/format';
import { LocalTime } from '@/components/ui/time';
import type { Dashboard } from '@/server/dashboard/queries';
import type { DashboardLinks } from './links';

/** Damaged backups (what their check found) and the latest restore tests, with how long each recovery took. */
export function IntegrityPanel({ integrity, links }: { integrity: Dashboard['integrity']; links: DashboardLinks }) {
  return (
    <Card title="Integrity" description="Backups whose stored objects failed a check, and the latest automated restore tests.">
      <div data-testid="integrity-panel" className="grid gap-4 md:grid-cols-2">
        <section aria-label="Damaged backups">
          <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">
            Damaged <span data-testid="damaged-total">{integrity.damagedTotal}</span>
          </h3>
          {integrity.damaged.length === 0 ? (
            <p className="mt-1 text-sm text-emerald-700">No backup is known to be damaged.</p>
          ) : (
            <ul className="mt-1 divide-y divide-slate-100 text-sm">
              {integrity.damaged.map((b) => (
                <li key={b.id} className="py-1.5">
                  <Link href={links.backup(b.id)} className="font-medium text-slate-900 hover:underline">
                    {b.name || b.id.slice(0, 8)}
                  </Link>
                  <span className="ml-2 text-xs text-slate-500">{b.volumeName ?? b.volumeId.slice(0, 8)}</span>
                  <p className="truncate text-xs text-red-700" title={b.integrity.problem ?? undefined}>
                    {b.integrity.problem ?? 'Damaged'}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-label="Latest restore tests">
          <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Restore tests</h3>
          {integrity.restoreTests.length === 0 ? (
            <p className="mt-1 text-sm text-slate-500">No restore test has run yet.</p>
          ) : (
            <ul className="mt-1 divide-y divide-slate-100 text-sm">
              {integrity.restoreTests.map((t) => (
                <li key={t.id} className="flex flex-wrap items-baseline justify-between gap-x-2 py-1.5">
                  <span>
                    <Badge tone={t.outcome === 'passed' ? 'green' : 'red'}>{t.outcome}</Badge>{' '}
                    {t.backupExists ? (
                      <Link href={links.backup(t.backupId)} className="text-slate-900 hover:underline">
                        {t.backupName || t.backupId.slice(0, 8)}
                      </Link>
                    ) : (
                      <span className="text-slate-500">{t.backupName || t.backupId.slice(0, 8)} (deleted)</span>
                    )}
                  </span>
                  <span className="text-xs text-slate-500">
                    {formatDuration(t.durationMs / 1000)} · <LocalTime value={t.finishedAt} relative />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </Card>
  );
}
