import Link from 'next/link';
import { Badge } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { LocalTime } from '@/components/ui/time';
import type { ProtectionSummary } from '@/server/dashboard/protection';
import { statusLabel } from './labels';
import type { DashboardLinks } from './links';

const SEGMENTS = [
  { state: 'protected', bar: 'bg-emerald-500', text: 'text-emerald-700' },
  { state: 'unprotected', bar: 'bg-amber-400', text: 'text-amber-700' },
  { state: 'failing', bar: 'bg-red-500', text: 'text-red-700' },
] as const;

/** Volumes with a recent good backup, without one, or whose last backup failed or is damaged; the worst few named. */
export function ProtectionPanel({
  protection,
  links,
  showProject,
}: {
  protection: ProtectionSummary;
  links: DashboardLinks;
  showProject: boolean;
}) {
  const { total, counts } = protection;
  return (
    <Card
      title="Protection"
      description={`A volume is protected when its latest backup finished well, is not damaged, and holds data from the last ${protection.recentDays} days.`}
    >
      <div data-testid="protection-panel">
        <dl className="grid grid-cols-3 gap-3">
          {SEGMENTS.map((s) => (
            <div key={s.state} className="rounded-md bg-slate-50 px-3 py-2">
              <dt className="text-xs font-medium text-slate-500">{statusLabel(s.state)}</dt>
              <dd className={`text-2xl font-semibold ${s.text}`} data-testid={`protection-${s.state}`}>
                {counts[s.state].toLocaleString('en')}
              </dd>
            </div>
          ))}
        </dl>
        <div
          className="mt-3 flex h-2 overflow-hidden rounded-full bg-slate-100"
          role="img"
          aria-label={`${counts.protected} of ${total} volumes protected`}
        >
          {total > 0 &&
            SEGMENTS.map((s) => <div key={s.state} className={s.bar} style={{ width: `${(counts[s.state] / total) * 100}%` }} />)}
        </div>
        {total === 0 ? (
          <p className="mt-3 text-sm text-slate-500">No volumes yet.</p>
        ) : protection.attention.length === 0 ? (
          <p className="mt-3 text-sm text-emerald-700">Every volume has a recent good backup.</p>
        ) : (
          <ul className="mt-3 divide-y divide-slate-100 text-sm" aria-label="Volumes that need attention">
            {protection.attention.map((v) => (
              <li key={v.volumeId} className="flex flex-wrap items-baseline gap-x-2 gap-y-0.5 py-1.5">
                <Badge tone={v.state === 'failing' ? 'red' : 'amber'}>{statusLabel(v.state)}</Badge>
                <Link href={links.volume(v.volumeId)} className="font-medium text-slate-900 hover:underline">
                  {v.volumeName || v.volumeId.slice(0, 8)}
                </Link>
                {showProject && <span className="text-xs text-slate-500">{v.projectName ?? v.projectId}</span>}
                <span className="min-w-0 basis-full truncate text-xs text-slate-500" title={v.reason ?? undefined}>
                  {attentionText(v)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}

function attentionText(v: ProtectionSummary['attention'][number]) {
  if (!v.lastBackupAt) return 'Never backed up.';
  if (v.state === 'failing') {
    return v.lastBackupStatus === 'error'
      ? `Last backup failed: ${v.reason ?? 'no reason recorded'}`
      : `Last backup is damaged: ${v.reason ?? 'see its page'}`;
  }
  return (
    <>
      Last good backup holds data from <LocalTime value={v.lastBackupAt} relative />.
    </>
  );
}
