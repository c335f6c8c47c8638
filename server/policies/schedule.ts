import { instantOf, localTime } from './zone';

/**
 * A policy's schedule: hourly at minute M, daily at HH:MM, weekly on some days at HH:MM, or a
 * 5-field cron expression (minute hour day-of-month month day-of-week), each read as wall-clock
 * time in the policy's time zone. Every form is compiled to the same field sets.
 */
export type Schedule =
  | { kind: 'hourly'; minute: number }
  | { kind: 'daily'; time: string }
  | { kind: 'weekly'; days: number[]; time: string }
  | { kind: 'cron'; expression: string };

interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Cron's rule: when both day fields are restricted, a day matching either one runs. */
  domRestricted: boolean;
  dowRestricted: boolean;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export class ScheduleError extends Error {}

function parseField(text: string, min: number, max: number, what: string, names: string[] = [], nameBase = 0): Set<number> {
  const values = new Set<number>();
  const value = (token: string) => {
    const named = names.indexOf(token.toLowerCase());
    const n = named >= 0 ? named + nameBase : /^\d+$/.test(token) ? Number(token) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new ScheduleError(`${what}: "${token}" is not between ${min} and ${max}`);
    return n;
  };
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw new ScheduleError(`${what}: "${item}" is not a cron field`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new ScheduleError(`${what}: step "${stepText}" must be a positive whole number`);
    let low: number;
    let high: number;
    if (range === '*') [low, high] = [min, max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-');
      [low, high] = [value(a), value(b)];
      if (low > high) throw new ScheduleError(`${what}: range "${range}" runs backwards`);
    } else {
      low = value(range);
      high = stepText === undefined ? low : max;
    }
    for (let n = low; n <= high; n += step) values.add(n);
  }
  return values;
}

export function parseCron(expression: string): CronFields {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new ScheduleError('A cron expression has 5 fields: minute hour day-of-month month day-of-week');
  const [minute, hour, dom, month, dow] = fields;
  const weekdays = parseField(dow, 0, 7, 'Day of week', DAY_NAMES);
  if (weekdays.delete(7)) weekdays.add(0);
  return {
    minutes: parseField(minute, 0, 59, 'Minute'),
    hours: parseField(hour, 0, 23, 'Hour'),
    daysOfMonth: parseField(dom, 1, 31, 'Day of month'),
    months: parseField(month, 1, 12, 'Month', MONTH_NAMES, 1),
    weekdays,
    domRestricted: dom !== '*' && !dom.startsWith('*/'),
    dowRestricted: dow !== '*' && !dow.startsWith('*/'),
  };
}

function hhmm(time: string): [number, number] {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!match) throw new ScheduleError(`"${time}" is not a time of day (HH:MM)`);
  return [Number(match[1]), Number(match[2])];
}

export function compileSchedule(schedule: Schedule): CronFields {
  switch (schedule.kind) {
    case 'hourly':
      return parseCron(`${schedule.minute} * * * *`);
    case 'daily': {
      const [h, m] = hhmm(schedule.time);
      return parseCron(`${m} ${h} * * *`);
    }
    case 'weekly': {
      const [h, m] = hhmm(schedule.time);
      if (schedule.days.length === 0) throw new ScheduleError('Choose at least one day of the week');
      return parseCron(`${m} ${h} * * ${[...new Set(schedule.days)].sort().join(',')}`);
    }
    case 'cron':
      return parseCron(schedule.expression);
  }
}

function dayMatches(fields: CronFields, dayOfMonth: number, month: number, weekday: number): boolean {
  if (!fields.months.has(month)) return false;
  const dom = fields.daysOfMonth.has(dayOfMonth);
  const dow = fields.weekdays.has(weekday);
  if (fields.domRestricted && fields.dowRestricted) return dom || dow;
  return dom && dow;
}

/** How far ahead a schedule is searched (a "30 2 31 2 *" never runs). */
const SEARCH_DAYS = 366 * 5;

/**
 * The next `count` run times strictly after `after`. Each local wall time runs once: on a night
 * the clocks go back, a time that happens twice runs at its first occurrence; on a night they go
 * forward, a time that does not exist runs when it would have (shifted by the gap).
 */
export function nextRuns(schedule: Schedule, timeZone: string, after: Date, count = 1): Date[] {
  const fields = compileSchedule(schedule);
  const hours = [...fields.hours].sort((a, b) => a - b);
  const minutes = [...fields.minutes].sort((a, b) => a - b);
  const start = localTime(after, timeZone);
  const runs: Date[] = [];
  for (let offset = -1; offset <= SEARCH_DAYS && runs.length < count; offset++) {
    const date = new Date(Date.UTC(start.year, start.month - 1, start.day + offset));
    const [y, mo, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!dayMatches(fields, d, mo, date.getUTCDay())) continue;
    // Sorted as instants: a wall time shifted out of a spring-forward gap lands after the next one.
    const instants = new Set<number>();
    for (const h of hours) for (const m of minutes) instants.add(instantOf(y, mo, d, h, m, timeZone).getTime());
    for (const t of [...instants].sort((a, b) => a - b)) {
      if (t <= after.getTime() || (runs.length > 0 && t <= runs[runs.length - 1].getTime())) continue;
      runs.push(new Date(t));
      if (runs.length === count) return runs;
    }
  }
  return runs;
}

export function nextRun(schedule: Schedule, timeZone: string, after: Date): Date | null {
  return nextRuns(schedule, timeZone, after, 1)[0] ?? null;
}

/**
 * The latest run time at or before `until`, searching from `first` (itself a run time, at or before
 * `until`): the slot a late run belongs to once later slots have passed. A binary search over
 * `nextRun`, which never decreases, so a long gap costs a few dozen lookups, not one per slot.
 */
export function latestRunBetween(schedule: Schedule, timeZone: string, first: Date, until: Date): Date {
  let low = first.getTime() - 1;
  let high = until.getTime();
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const next = nextRun(schedule, timeZone, new Date(middle));
    if (next && next.getTime() <= until.getTime()) low = middle;
    else high = middle;
  }
  return nextRun(schedule, timeZone, new Date(low)) ?? first;
}
