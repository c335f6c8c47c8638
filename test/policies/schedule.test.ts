import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { previewSchedule } from '../../server/policies/service';
import { latestRunBetween, nextRuns, parseCron, ScheduleError } from '../../server/policies/schedule';
import { instantOf, localTime } from '../../server/policies/zone';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('schedules in time zones, across DST', () => {
  test('daily in UTC and in a zone without DST', () => {
    assert.deepEqual(iso(nextRuns({ kind: 'daily', time: '02:00' }, 'UTC', new Date('2026-06-01T01:59:00Z'), 2)), [
      '2026-06-01T02:00:00.000Z',
      '2026-06-02T02:00:00.000Z',
    ]);
    // 23:45 in Kolkata (+05:30) is 18:15 UTC; a slot exactly at `after` is not "after".
    assert.deepEqual(iso(nextRuns({ kind: 'daily', time: '23:45' }, 'Asia/Kolkata', new Date('2026-06-01T18:15:00Z'), 1)), [
      '2026-06-02T18:15:00.000Z',
    ]);
  });

  test('a daily time inside the spring-forward gap runs once, shifted by the gap', () => {
    // New York, 8 March 2026: 02:00 EST becomes 03:00 EDT; 02:30 does not exist that night.
    assert.deepEqual(iso(nextRuns({ kind: 'daily', time: '02:30' }, 'America/New_York', new Date('2026-03-07T12:00:00Z'), 3)), [
      '2026-03-08T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  test('an hourly schedule on the fall-back night runs each wall time once, at its first occurrence', () => {
    // New York, 1 November 2026: 01:00-01:59 happens twice (EDT, then EST).
    assert.deepEqual(iso(nextRuns({ kind: 'hourly', minute: 30 }, 'America/New_York', new Date('2026-11-01T04:00:00Z'), 4)), [
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T07:30:00.000Z',
      '2026-11-01T08:30:00.000Z',
    ]);
  });

  test('cron times in a gap collapse onto distinct instants in order (Berlin, 29 March 2026)', () => {
    assert.deepEqual(iso(nextRuns({ kind: 'cron', expression: '*/20 2,3 * * *' }, 'Europe/Berlin', new Date('2026-03-28T12:00:00Z'), 4)), [
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:20:00.000Z',
      '2026-03-29T01:40:00.000Z',
      '2026-03-30T00:00:00.000Z',
    ]);
  });

  test('weekly on chosen days, in the southern hemisphere across its DST end', () => {
    // Sydney leaves DST on 5 April 2026 (03:00 AEDT → 02:00 AEST): 09:00 is 22:00Z before, 23:00Z after.
    assert.deepEqual(
      iso(nextRuns({ kind: 'weekly', days: [1, 5], time: '09:00' }, 'Australia/Sydney', new Date('2026-03-29T00:00:00Z'), 4)),
      ['2026-03-29T22:00:00.000Z', '2026-04-02T22:00:00.000Z', '2026-04-05T23:00:00.000Z', '2026-04-09T23:00:00.000Z'],
    );
  });

  test("cron's day rule: both day fields restricted means either; names and 7 for Sunday", () => {
    // The 1st of the month or any Friday, at 12:00 UTC, from Wednesday 30 Sep 2026.
    assert.deepEqual(iso(nextRuns({ kind: 'cron', expression: '0 12 1 * fri' }, 'UTC', new Date('2026-09-30T00:00:00Z'), 3)), [
      '2026-10-01T12:00:00.000Z',
      '2026-10-02T12:00:00.000Z',
      '2026-10-09T12:00:00.000Z',
    ]);
    assert.deepEqual([...parseCron('0 0 * * 7').weekdays], [0]);
    assert.deepEqual(iso(nextRuns({ kind: 'cron', expression: '0 6 29 feb *' }, 'UTC', new Date('2026-01-01T00:00:00Z'), 1)), [
      '2028-02-29T06:00:00.000Z',
    ]);
    assert.deepEqual(nextRuns({ kind: 'cron', expression: '0 0 31 2 *' }, 'UTC', new Date('2026-01-01T00:00:00Z'), 1), []);
  });

  test('bad cron expressions are refused with a reason', () => {
    assert.throws(() => parseCron('0 0 * *'), ScheduleError);
    assert.throws(() => parseCron('60 * * * *'), /Minute: "60" is not between 0 and 59/);
    assert.throws(() => parseCron('0 5-2 * * *'), /runs backwards/);
    assert.throws(() => parseCron('*/0 * * * *'), /step/);
  });

  test("the editor's next five runs, with field errors for a bad zone or time", () => {
    const runs = previewSchedule(
      { schedule: { kind: 'daily', time: '01:00' }, timeZone: 'Europe/London' },
      new Date('2026-10-24T12:00:00Z'),
    );
    // London leaves BST on 25 October 2026: 01:00 BST is 00:00Z, afterwards 01:00Z.
    assert.deepEqual(iso(runs), [
      '2026-10-25T00:00:00.000Z',
      '2026-10-26T01:00:00.000Z',
      '2026-10-27T01:00:00.000Z',
      '2026-10-28T01:00:00.000Z',
      '2026-10-29T01:00:00.000Z',
    ]);
    assert.throws(
      () => previewSchedule({ schedule: { kind: 'daily', time: '25:00' }, timeZone: 'UTC' }),
      (e: { fieldErrors?: Record<string, string> }) => Boolean(e.fieldErrors?.['schedule.time']),
    );
    assert.throws(
      () => previewSchedule({ schedule: { kind: 'hourly', minute: 5 }, timeZone: 'Mars/Olympus' }),
      (e: { fieldErrors?: Record<string, string> }) => /time zone/.test(e.fieldErrors?.timeZone ?? ''),
    );
  });

  test('local fields and wall-time instants round-trip outside transitions', () => {
    const at = instantOf(2026, 7, 14, 9, 5, 'America/Los_Angeles');
    assert.equal(at.toISOString(), '2026-07-14T16:05:00.000Z');
    const back = localTime(at, 'America/Los_Angeles');
    assert.deepEqual([back.year, back.month, back.day, back.hour, back.minute, back.weekday], [2026, 7, 14, 9, 5, 2]);
  });

  test('the latest run at or before a moment: the slot a late run belongs to, across DST and long gaps', () => {
    const latest = (schedule: Parameters<typeof nextRuns>[0], zone: string, first: string, until: string) =>
      latestRunBetween(schedule, zone, new Date(first), new Date(until)).toISOString();
    assert.equal(
      latest({ kind: 'daily', time: '02:00' }, 'UTC', '2030-07-03T02:00:00Z', '2030-07-05T02:06:00Z'),
      '2030-07-05T02:00:00.000Z',
    );
    assert.equal(
      latest({ kind: 'daily', time: '02:00' }, 'UTC', '2030-07-03T02:00:00Z', '2030-07-05T01:59:59Z'),
      '2030-07-04T02:00:00.000Z',
    );
    assert.equal(
      latest({ kind: 'daily', time: '02:00' }, 'UTC', '2030-07-03T02:00:00Z', '2030-07-03T02:00:00Z'),
      '2030-07-03T02:00:00.000Z',
    );
    // Every minute over a year: still a few dozen lookups, and exactly the minute before.
    assert.equal(
      latest({ kind: 'cron', expression: '* * * * *' }, 'UTC', '2030-01-01T00:00:00Z', '2031-01-01T12:34:56Z'),
      '2031-01-01T12:34:00.000Z',
    );
    // Berlin's fall-back night (25 October 2026): 02:30 happens twice and runs at its first occurrence (00:30 UTC).
    assert.equal(
      latest({ kind: 'daily', time: '02:30' }, 'Europe/Berlin', '2026-10-20T00:30:00Z', '2026-10-25T02:00:00Z'),
      '2026-10-25T00:30:00.000Z',
    );
  });
});
