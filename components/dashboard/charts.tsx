'use client';

import { Area, AreaChart, Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBytes } from '@/components/ui/format';

/** "Dec 6" from "2026-12-06" (the day is UTC; so is the label). */
const dayLabel = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const axis = { fontSize: 11, fill: '#64748b' };

/** The repository's size at the end of each day. Drawn in the browser; the page sends the points. */
export function UsageChart({ points }: { points: { day: string; bytesStored: number; backupCount: number }[] }) {
  return (
    <figure aria-label="Repository usage over time" data-testid="usage-chart">
      <AreaChart responsive style={{ width: '100%', height: 200 }} data={points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
        <XAxis dataKey="day" tickFormatter={dayLabel} tick={axis} minTickGap={24} />
        <YAxis tickFormatter={(v: number) => formatBytes(v)} tick={axis} width={72} />
        <Tooltip labelFormatter={(day) => dayLabel(String(day))} formatter={(v) => [formatBytes(Number(v)), 'Stored']} />
        <Area type="monotone" dataKey="bytesStored" stroke="#2563eb" fill="#bfdbfe" isAnimationActive={false} />
      </AreaChart>
    </figure>
  );
}

/** What finished backups read each day (bars), with the count in the tooltip. */
export function ThroughputChart({ points }: { points: { day: string; backups: number; bytesRead: number; bytesWritten: number }[] }) {
  return (
    <figure aria-label="Backup throughput over time" data-testid="throughput-chart">
      <BarChart responsive style={{ width: '100%', height: 200 }} data={points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
        <XAxis dataKey="day" tickFormatter={dayLabel} tick={axis} minTickGap={24} />
        <YAxis tickFormatter={(v: number) => formatBytes(v)} tick={axis} width={72} />
        <Tooltip
          labelFormatter={(day) => dayLabel(String(day))}
          formatter={(v, name) => [formatBytes(Number(v)), name === 'bytesRead' ? 'Read from volumes' : 'Written to the repository']}
        />
        <Bar dataKey="bytesRead" fill="#93c5fd" isAnimationActive={false} />
        <Bar dataKey="bytesWritten" fill="#2563eb" isAnimationActive={false} />
      </BarChart>
    </figure>
  );
}
