import type { Schedule } from '@/server/policies/schedule';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** A schedule in words, with its zone: "Daily at 02:00 (Europe/Berlin)". */
export function describeSchedule(schedule: Schedule, timeZone: string): string {
  const text =
    schedule.kind === 'hourly'
      ? `Hourly at :${String(schedule.minute).padStart(2, '0')}`
      : schedule.kind === 'daily'
        ? `Daily at ${schedule.time}`
        : schedule.kind === 'weekly'
          ? `${schedule.days.map((d) => DAYS[d]).join(', ')} at ${schedule.time}`
          : `cron ${schedule.expression}`;
  return `${text} (${timeZone})`;
}
