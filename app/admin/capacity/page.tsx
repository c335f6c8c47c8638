import type { Metadata } from 'next';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { CapacityRefresh } from '@/components/volumes/capacity-refresh';
import { countOf, formatBytes } from '@/components/ui/format';
import { requireAdminPage } from '@/server/auth/session';
import { latestCapacity, provisionedByHost, recentCapacityJobs } from '@/server/volumes/queries';

export const metadata: Metadata = { title: 'Capacity' };

export default async function CapacityPage() {
  await requireAdminPage();
  const [reports, provisioned, measuring] = await Promise.all([latestCapacity(), provisionedByHost(), recentCapacityJobs()]);
  const newest = Math.max(0, ...reports.map((r) => new Date(r.finished_at).getTime()));
  const stale = Date.now() - newest > 60_000;
  return (
    <>
      <PageHeader
        title="Capacity"
        description="What each volume backend holds. Volumes are thin: a new one is accepted while free space × the over-subscription ratio covers it."
        actions={<CapacityRefresh stale={stale} jobs={measuring} />}
      />
      {reports.length === 0 ? (
        <EmptyState title="No measurement yet">
          Measuring asks each volume service for its file system&apos;s size, free space and what its images allocate.
        </EmptyState>
      ) : (
        <div className="grid gap-6 lg:grid-cols-2">
          {reports.map((r) => {
            const c = r.result as Record<string, number>;
            const used = c.totalBytes - c.freeBytes;
            const ratio = c.totalBytes ? used / c.totalBytes : 0;
            const virtual = c.totalBytes * c.overSubscriptionRatio;
            return (
              <Card
                key={r.host}
                title={<span className="font-mono text-sm">{r.host}</span>}
                description={
                  <>
                    Measured <LocalTime value={r.finished_at} />
                  </>
                }
              >
                <div
                  className="mb-4 h-2.5 rounded-full bg-slate-100"
                  role="meter"
                  aria-label={`Disk used on ${r.host}`}
                  aria-valuemin={0}
                  aria-valuemax={c.totalBytes}
                  aria-valuenow={used}
                >
                  <div
                    className={`h-2.5 rounded-full ${ratio > 0.9 ? 'bg-red-500' : ratio > 0.75 ? 'bg-amber-500' : 'bg-emerald-500'}`}
                    style={{ width: `${Math.round(ratio * 100)}%` }}
                  />
                </div>
                <dl className="grid grid-cols-2 gap-3 text-sm" data-testid="capacity-report">
                  <div>
                    <dt className="text-slate-500">Total</dt>
                    <dd className="font-semibold text-slate-900">{formatBytes(c.totalBytes)}</dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">Free</dt>
                    <dd className="font-semibold text-slate-900">{formatBytes(c.freeBytes)}</dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">Allocated by images</dt>
                    <dd className="font-semibold text-slate-900">{formatBytes(c.allocatedBytes)}</dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">Provisioned (logical)</dt>
                    <dd className="font-semibold text-slate-900">{formatBytes(c.provisionedBytes)}</dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">Over-subscription</dt>
                    <dd className="font-semibold text-slate-900">
                      × {c.overSubscriptionRatio} (up to {formatBytes(virtual)})
                    </dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">Images</dt>
                    <dd className="font-semibold text-slate-900">
                      {countOf(c.volumeCount, 'volume')}, {countOf(c.snapshotCount, 'snapshot')}
                    </dd>
                  </div>
                  <div>
                    <dt className="text-slate-500">Kept for changed-block tracking</dt>
                    <dd className="font-semibold text-slate-900">
                      {countOf(c.retainedCopyCount ?? 0, 'copy', 'copies')}, {formatBytes(c.retainedCopyAllocatedBytes ?? 0)} allocated
                    </dd>
                  </div>
                </dl>
                <OrphanImages orphans={(r.result as { orphans?: OrphanRow[] }).orphans ?? []} />
              </Card>
            );
          })}
        </div>
      )}
      <h2 className="mb-3 mt-8 text-base font-semibold text-slate-900">Provisioned in the database</h2>
      <Table label="Provisioned by host">
        <THead>
          <Th>Host</Th>
          <Th>Volumes</Th>
          <Th>Volume GiB</Th>
          <Th>Snapshot GiB</Th>
        </THead>
        <TBody>
          {provisioned.map((p) => (
            <tr key={p.host ?? 'none'}>
              <Td className="font-mono text-xs">{p.host ?? '—'}</Td>
              <Td>{p.volumes}</Td>
              <Td>{p.gigabytes}</Td>
              <Td>{p.snapshotGigabytes}</Td>
            </tr>
          ))}
        </TBody>
      </Table>
    </>
  );
}

interface OrphanRow {
  kind: string;
  fileName: string;
  allocatedBytes: number;
  modifiedAt: string;
}

/** Image files no volume or snapshot owns: the worker removes each an hour after it was last changed. */
function OrphanImages({ orphans }: { orphans: OrphanRow[] }) {
  if (orphans.length === 0) return <p className="mt-4 text-xs text-slate-500">No image file without its volume or snapshot.</p>;
  return (
    <div className="mt-4" data-testid="orphan-images">
      <p className="text-sm font-medium text-amber-800">
        {countOf(orphans.length, 'image file')} no volume or snapshot owns (removed an hour after the last change):
      </p>
      <ul className="mt-1 space-y-0.5 text-xs text-slate-600">
        {orphans.map((o) => (
          <li key={o.fileName} className="break-all">
            <span className="font-mono">{o.fileName}</span> · {formatBytes(o.allocatedBytes)} · changed <LocalTime value={o.modifiedAt} />
          </li>
        ))}
      </ul>
    </div>
  );
}
