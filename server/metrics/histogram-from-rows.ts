import type { Metric, MetricValueWithName, Registry } from 'prom-client';

/**
 * A histogram whose buckets were already counted elsewhere (here: by PostgreSQL), exposed through
 * prom-client's registry like its own Histogram: `_bucket{le}` (cumulative, `+Inf` last), `_sum`, `_count`.
 */
export function registerCountedHistogram(
  registry: Registry,
  spec: { name: string; help: string; labelName: string; bounds: number[] },
  rows: { label: string; buckets: number[]; count: number; sum: number }[],
): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: MetricValueWithName<string>[] = [];
      for (const row of rows) {
        const labels = { [spec.labelName]: row.label };
        for (const [i, le] of spec.bounds.entries())
          values.push({ metricName: `${spec.name}_bucket`, labels: { ...labels, le }, value: row.buckets[i] });
        values.push({ metricName: `${spec.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: row.count });
        values.push({ metricName: `${spec.name}_sum`, labels, value: row.sum });
        values.push({ metricName: `${spec.name}_count`, labels, value: row.count });
      }
      return { name: spec.name, help: spec.help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
}
