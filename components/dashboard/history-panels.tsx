import { Card } from '@/components/ui/card';
import { countOf, formatBytes } from '@/components/ui/format';
import type { Dashboard } from '@/server/dashboard/queries';
import { ThroughputChart, UsageChart } from './charts';

/** The repository's size per day and what backups moved per day; the figures also in words, for readers without the chart. */
export function HistoryPanels({ usage, throughput }: Pick<Dashboard, 'usage' | 'throughput'>) {
  const today = usage.at(-1);
  const first = usage[0];
  const read = throughput.reduce((sum, p) => sum + p.bytesRead, 0);
  const written = throughput.reduce((sum, p) => sum + p.bytesWritten, 0);
  const made = throughput.reduce((sum, p) => sum + p.backups, 0);
  return (
    <>
      <Card
        title="Repository usage"
        description={`What the backup repository holds, at the end of each of the last ${usage.length} days (UTC).`}
      >
        <p className="mb-2 text-sm text-slate-700" data-testid="usage-summary">
          <b className="text-2xl font-semibold text-slate-900">{formatBytes(today?.bytesStored ?? 0)}</b>
          <span className="ml-2 text-xs text-slate-500">
            in {countOf(today?.backupCount ?? 0, 'backup')} · {formatBytes(first?.bytesStored ?? 0)} {usage.length} days ago
          </span>
        </p>
        <UsageChart points={usage} />
      </Card>
      <Card
        title="Backup throughput"
        description="Volume data read and bytes written to the repository per day, by backups that finished well."
      >
        <p className="mb-2 text-sm text-slate-700" data-testid="throughput-summary">
          <b className="text-2xl font-semibold text-slate-900">{made.toLocaleString('en')}</b>
          <span className="ml-2 text-xs text-slate-500">
            {made === 1 ? 'backup' : 'backups'} in {throughput.length} days · {formatBytes(read)} read · {formatBytes(written)} written
          </span>
        </p>
        <ThroughputChart points={throughput} />
      </Card>
    </>
  );
}
