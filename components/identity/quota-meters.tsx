import type { QuotaUsage } from '@/server/quotas/queries';
import { QUOTA_LABELS } from '@/components/quotas/labels';

/** One meter per quota: used of limit, amber past 80 %, red when full. */
export function QuotaMeters({ quotas }: { quotas: QuotaUsage[] }) {
  return (
    <dl className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
      {quotas.map((q) => {
        const { label, unit } = QUOTA_LABELS[q.resource] ?? { label: q.resource };
        const unlimited = q.limit < 0;
        const limitOnly = q.resource === 'per_volume_gigabytes';
        const ratio = unlimited || q.limit === 0 ? 0 : Math.min(1, q.inUse / q.limit);
        const bar = ratio >= 1 ? 'bg-red-500' : ratio >= 0.8 ? 'bg-amber-500' : 'bg-emerald-500';
        return (
          <div key={q.resource} className="rounded-lg bg-white p-4 shadow-xs ring-1 ring-slate-200">
            <dt className="text-sm text-slate-500">{label}</dt>
            <dd className="mt-1 text-lg font-semibold text-slate-900" data-testid={`quota-${q.resource}`}>
              {limitOnly
                ? unlimited
                  ? 'No limit'
                  : `${q.limit} ${unit}`
                : `${q.inUse}${unit ? ` ${unit}` : ''} of ${unlimited ? 'unlimited' : `${q.limit}${unit ? ` ${unit}` : ''}`}`}
            </dd>
            {!limitOnly && (
              <div
                className="mt-2 h-1.5 rounded-full bg-slate-100"
                role="meter"
                aria-label={`${label} used`}
                aria-valuemin={0}
                aria-valuemax={unlimited ? undefined : q.limit}
                aria-valuenow={q.inUse}
              >
                <div className={`h-1.5 rounded-full ${bar}`} style={{ width: `${Math.round(ratio * 100)}%` }} />
              </div>
            )}
          </div>
        );
      })}
    </dl>
  );
}
