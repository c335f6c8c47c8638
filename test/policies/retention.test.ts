import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideRetention, parseWithin, type Retention } from '../../server/policies/retention';

/** Backups named by their time, as restic lists snapshots. */
const at = (...times: string[]) => times.map((t) => ({ id: t, createdAt: new Date(t) }));
const kept = (backups: { id: string; createdAt: Date }[], retention: Retention, zone = 'UTC') =>
  decideRetention(backups, retention, zone)
    .filter((d) => d.keep)
    .map((d) => d.backup.id)
    .sort();
const reasonsOf = (backups: { id: string; createdAt: Date }[], retention: Retention, zone = 'UTC') =>
  Object.fromEntries(decideRetention(backups, retention, zone).map((d) => [d.backup.id, d.reasons]));

/** One backup each Sunday at 11:00 UTC for twelve weeks, the last on Sunday 22 November 2026. */
const sundays = at(...Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2026, 10, 22 - 7 * i, 11)).toISOString()));

describe("retention with restic's forget semantics", () => {
  test('keep-daily counts days that have a backup, keeping the newest of each (the a1-a5 example)', () => {
    const backups = at(
      '2026-05-01T08:00:00Z',
      '2026-05-02T08:00:00Z',
      '2026-05-02T11:00:00Z',
      '2026-05-04T09:00:00Z',
      '2026-05-05T10:00:00Z',
    );
    assert.deepEqual(kept(backups, { keepDaily: 4 }), [
      '2026-05-01T08:00:00Z',
      '2026-05-02T11:00:00Z',
      '2026-05-04T09:00:00Z',
      '2026-05-05T10:00:00Z',
    ]);
  });

  test('weekly Sunday backups: keep-daily 4 keeps the last four Sundays, keep-weekly 2 the last two', () => {
    const ids = sundays.map((b) => b.id);
    assert.deepEqual(kept(sundays, { keepDaily: 4 }), ids.slice(0, 4).sort());
    assert.deepEqual(kept(sundays, { keepWeekly: 2 }), ids.slice(0, 2).sort());
  });

  test('keep-monthly keeps the newest backup of each of the last n months', () => {
    // November's newest is the 22nd, October's the 25th, September's the 27th.
    assert.deepEqual(kept(sundays, { keepMonthly: 3 }), [
      '2026-09-27T11:00:00.000Z',
      '2026-10-25T11:00:00.000Z',
      '2026-11-22T11:00:00.000Z',
    ]);
  });

  test('rules combine: a backup is kept when any rule keeps it, and every rule that keeps it is named', () => {
    const reasons = reasonsOf(sundays, { keepLast: 1, keepWeekly: 2, keepMonthly: 2 });
    assert.deepEqual(reasons['2026-11-22T11:00:00.000Z'], ['last 1', 'weekly 2026-W47', 'monthly 2026-11']);
    assert.deepEqual(reasons['2026-11-15T11:00:00.000Z'], ['weekly 2026-W46']);
    assert.deepEqual(reasons['2026-10-25T11:00:00.000Z'], ['monthly 2026-10']);
    assert.deepEqual(reasons['2026-11-08T11:00:00.000Z'], []);
    assert.equal(Object.values(reasons).filter((r) => r.length > 0).length, 3);
  });

  test('daily backups for 100 days with keep-daily 7, keep-weekly 5, keep-monthly 12', () => {
    // Every day at 02:00 UTC from 15 August to 22 November 2026 (a Sunday).
    const daily = at(...Array.from({ length: 100 }, (_, i) => new Date(Date.UTC(2026, 10, 22 - i, 2)).toISOString()));
    const result = kept(daily, { keepDaily: 7, keepWeekly: 5, keepMonthly: 12 });
    const expected = [
      // the 7 newest days
      '2026-11-16',
      '2026-11-17',
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
      // the Sundays ending the 4 weeks before (the newest week's Sunday is already a daily)
      '2026-11-15',
      '2026-11-08',
      '2026-11-01',
      '2026-10-25',
      // the last day of each month that has a backup (November's is already kept), and the oldest month's newest
      '2026-10-31',
      '2026-09-30',
      '2026-08-31',
      // keep-monthly 12 found only 4 months: restic 0.17 keeps the oldest backup as well
      '2026-08-15',
    ]
      .map((d) => `${d}T02:00:00.000Z`)
      .sort();
    assert.deepEqual(result, expected);
  });

  test('keep-last keeps the n newest; keep-within is measured from the newest backup, not from now', () => {
    const backups = at(
      '2026-01-01T00:00:00Z',
      '2026-01-05T00:00:00Z',
      '2026-01-09T00:00:00Z',
      '2026-01-10T00:00:00Z',
      '2026-01-10T12:00:00Z',
    );
    assert.deepEqual(kept(backups, { keepLast: 2 }), ['2026-01-10T00:00:00Z', '2026-01-10T12:00:00Z']);
    // Within 2 days of 10 Jan 12:00: strictly after 8 Jan 12:00.
    assert.deepEqual(kept(backups, { keepWithin: '2d' }), ['2026-01-09T00:00:00Z', '2026-01-10T00:00:00Z', '2026-01-10T12:00:00Z']);
    assert.deepEqual(kept(backups, { keepWithin: '1m' }), backups.map((b) => b.id).sort());
    // Exactly 36 hours older than the newest is not "within" (restic keeps what is strictly newer).
    assert.deepEqual(kept(backups, { keepWithin: '36h' }), ['2026-01-10T00:00:00Z', '2026-01-10T12:00:00Z']);
    assert.deepEqual(kept(backups, { keepWithin: '1d13h' }), ['2026-01-09T00:00:00Z', '2026-01-10T00:00:00Z', '2026-01-10T12:00:00Z']);
    assert.deepEqual(parseWithin('1y6m7d2h'), { years: 1, months: 6, days: 7, hours: 2 });
    assert.equal(parseWithin('7 days'), null);
    assert.equal(parseWithin(''), null);
  });

  test("periods are counted in the policy's time zone", () => {
    // 23:30 and 03:30 UTC the next day are one evening in New York (UTC-5 in January).
    const backups = at('2026-01-15T23:30:00Z', '2026-01-16T03:30:00Z');
    assert.deepEqual(kept(backups, { keepDaily: 1 }, 'UTC'), ['2026-01-16T03:30:00Z']);
    assert.deepEqual(reasonsOf(backups, { keepDaily: 2 }, 'America/New_York')['2026-01-16T03:30:00Z'], ['daily 2026-01-15']);
    assert.deepEqual(kept(backups, { keepDaily: 2 }, 'America/New_York'), ['2026-01-16T03:30:00Z', '2026-01-15T23:30:00Z'].sort());
    assert.deepEqual(reasonsOf(backups, { keepDaily: 2 }, 'America/New_York')['2026-01-15T23:30:00Z'], [
      'oldest (daily has fewer periods than 2)',
    ]);
    assert.deepEqual(kept(backups, { keepDaily: 2 }, 'UTC'), backups.map((b) => b.id).sort());
  });

  test('keep-hourly and keep-yearly; without any rule everything is kept', () => {
    const backups = at(
      '2024-12-31T23:00:00Z',
      '2025-06-01T10:00:00Z',
      '2025-12-31T22:00:00Z',
      '2025-12-31T22:40:00Z',
      '2026-01-01T00:10:00Z',
    );
    assert.deepEqual(kept(backups, { keepHourly: 2 }), ['2025-12-31T22:40:00Z', '2026-01-01T00:10:00Z']);
    assert.deepEqual(kept(backups, { keepYearly: 3 }), ['2024-12-31T23:00:00Z', '2025-12-31T22:40:00Z', '2026-01-01T00:10:00Z']);
    assert.deepEqual(kept(backups, {}), backups.map((b) => b.id).sort());
  });
});
