import { localTime } from './zone';

/**
 * Retention with restic's `forget --keep-*` meaning: backups newest first; keep-last keeps the n
 * newest; keep-hourly/-daily/-weekly/-monthly/-yearly each keep the newest backup of each of the n
 * most recent periods that have one (periods counted in the policy's time zone; weeks are ISO
 * weeks); keep-within keeps every backup within a duration of the newest one. A backup is kept when
 * any rule keeps it; each kept backup lists every rule that keeps it. As restic 0.17 does, when a
 * period rule has fewer periods than its count, the oldest backup is kept too.
 */
export interface Retention {
  keepLast?: number | null;
  keepHourly?: number | null;
  keepDaily?: number | null;
  keepWeekly?: number | null;
  keepMonthly?: number | null;
  keepYearly?: number | null;
  /** restic's duration: years, months, days, hours, e.g. "1y6m", "7d", "36h". */
  keepWithin?: string | null;
}

export interface RetentionCandidate {
  id: string;
  createdAt: Date;
}

export interface RetentionDecision<T extends RetentionCandidate> {
  backup: T;
  keep: boolean;
  /** The rules that keep it ("daily 2026-12-05"), empty when it would be pruned. */
  reasons: string[];
}

const DURATION = /^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$/;

export function parseWithin(text: string): { years: number; months: number; days: number; hours: number } | null {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '') return null;
  const [years, months, days, hours] = match.slice(1).map((n) => Number(n ?? 0));
  return { years, months, days, hours };
}

/** Whether the retention would keep everything (no rule set): then nothing is ever pruned. */
export function hasRules(retention: Retention): boolean {
  return Boolean(
    retention.keepLast ||
      retention.keepHourly ||
      retention.keepDaily ||
      retention.keepWeekly ||
      retention.keepMonthly ||
      retention.keepYearly ||
      retention.keepWithin,
  );
}

function isoWeek(year: number, month: number, day: number): string {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const weekYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 + 1) / 7);
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

type PeriodRule = { name: string; count: number; period: (t: ReturnType<typeof localTime>) => string };

export function decideRetention<T extends RetentionCandidate>(
  candidates: T[],
  retention: Retention,
  timeZone: string,
): RetentionDecision<T>[] {
  const newestFirst = [...candidates].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
  const decisions = newestFirst.map((backup) => ({ backup, keep: false, reasons: [] as string[] }));
  if (!hasRules(retention)) {
    for (const decision of decisions) {
      decision.keep = true;
      decision.reasons.push('no retention rule: everything is kept');
    }
    return decisions;
  }
  for (const [i, d] of decisions.slice(0, retention.keepLast ?? 0).entries()) d.reasons.push(`last ${i + 1}`);

  const rules: PeriodRule[] = [
    { name: 'hourly', count: retention.keepHourly ?? 0, period: (t) => `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}h` },
    { name: 'daily', count: retention.keepDaily ?? 0, period: (t) => `${t.year}-${pad(t.month)}-${pad(t.day)}` },
    { name: 'weekly', count: retention.keepWeekly ?? 0, period: (t) => isoWeek(t.year, t.month, t.day) },
    { name: 'monthly', count: retention.keepMonthly ?? 0, period: (t) => `${t.year}-${pad(t.month)}` },
    { name: 'yearly', count: retention.keepYearly ?? 0, period: (t) => `${t.year}` },
  ];
  for (const rule of rules) {
    if (rule.count <= 0) continue;
    let left = rule.count;
    let last: string | null = null;
    for (const decision of decisions) {
      if (left === 0) break;
      const period = rule.period(localTime(decision.backup.createdAt, timeZone));
      if (period === last) continue;
      last = period;
      left -= 1;
      decision.reasons.push(`${rule.name} ${period}`);
    }
    if (left > 0 && decisions.length > 0) {
      const oldest = decisions[decisions.length - 1];
      if (!oldest.reasons.some((r) => r.startsWith(`${rule.name} `)))
        oldest.reasons.push(`oldest (${rule.name} has fewer periods than ${rule.count})`);
    }
  }

  const within = retention.keepWithin ? parseWithin(retention.keepWithin) : null;
  if (within && decisions.length > 0) {
    const newest = decisions[0].backup.createdAt;
    const threshold = new Date(newest);
    threshold.setUTCFullYear(
      threshold.getUTCFullYear() - within.years,
      threshold.getUTCMonth() - within.months,
      threshold.getUTCDate() - within.days,
    );
    threshold.setUTCHours(threshold.getUTCHours() - within.hours);
    for (const decision of decisions) {
      if (decision.backup.createdAt.getTime() > threshold.getTime()) decision.reasons.push(`within ${retention.keepWithin}`);
    }
  }
  for (const decision of decisions) decision.keep = decision.reasons.length > 0;
  return decisions;
}
