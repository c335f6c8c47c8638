import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checksOutcome, UNSEEN_GRACE_MS } from '../../components/backups/check-outcome';

const since = 1_000_000;
const later = since + UNSEEN_GRACE_MS;
const started = (jobIds: string[], cancelling = false, seen = true) => ({
  jobIds,
  cancelling,
  pending: 'Testing a restore of the backup…',
  since,
  seen,
});
const event = (id: number, action: string, detail: Record<string, unknown>) => ({ id, action, detail });

describe("an integrity check's notice follows its job to the end", () => {
  test('under way while its job is queued or running, whatever the events say', () => {
    const events = [event(2, 'restore_test_passed', { jobId: 'older' })];
    assert.equal(checksOutcome(started(['job']), new Set(['job']), events, later), null);
  });

  test("then its own end event, not another job's", () => {
    const events = [
      event(3, 'restore_test_failed', { jobId: 'other', problem: 'not this one' }),
      event(2, 'restore_test_passed', { jobId: 'job', durationMs: 1640 }),
      event(1, 'restore_test_requested', { jobId: 'job' }),
    ];
    assert.deepEqual(checksOutcome(started(['job']), new Set(['other']), events, later), {
      tone: 'success',
      text: 'Restore test passed in 1.6 s: every block matched.',
    });
  });

  test('failures say why, in red', () => {
    const damaged = [event(2, 'scrub_damaged', { jobId: 'job', problem: 'object x-00001 does not match its md5' })];
    assert.deepEqual(checksOutcome(started(['job']), new Set(), damaged, later), {
      tone: 'error',
      text: 'Verify found the backup damaged: object x-00001 does not match its md5',
    });
    const broken = [event(2, 'restore_test_error', { jobId: 'job', reason: 'the store is unreachable' })];
    assert.equal(
      checksOutcome(started(['job']), new Set(), broken, later)?.text,
      'The restore test could not finish: the store is unreachable',
    );
  });

  test('a job that ended without an end event: cancelled, or skipped', () => {
    assert.deepEqual(checksOutcome(started(['a', 'b'], true), new Set(), [event(1, 'scrub_verified', { jobId: 'a' })], later), {
      tone: 'info',
      text: 'Cancelled: the check stopped without a result.',
    });
    assert.equal(checksOutcome(started(['a'], true), new Set(['a']), [], later), null);
    assert.match(checksOutcome(started(['a']), new Set(), [], later)?.text ?? '', /ended without a result/);
    assert.equal(checksOutcome(started([], true), new Set(), [], later)?.text, 'No check was under way.');
  });

  test('a cancel that came too late reports what the check found, an error first', () => {
    const events = [
      event(3, 'scrub_verified', { jobId: 'a' }),
      event(2, 'restore_test_failed', { jobId: 'b', problem: 'block 7 differs' }),
    ];
    assert.deepEqual(checksOutcome(started(['a', 'b'], true), new Set(), events, later), {
      tone: 'error',
      text: 'It finished before the cancel reached it. Restore test failed: block 7 differs',
    });
  });

  test('a check the data never showed under way, with no end event, waits a moment: the data may predate the request', () => {
    assert.equal(checksOutcome(started(['job'], false, false), new Set(), [], since + 500), null);
    assert.match(checksOutcome(started(['job'], false, false), new Set(), [], later)?.text ?? '', /ended without a result/);
    const ended = [event(2, 'scrub_damaged', { jobId: 'job', problem: 'object x-00001 does not match its md5' })];
    assert.equal(
      checksOutcome(started(['job'], false, false), new Set(), ended, since + 500)?.tone,
      'error',
      'its end event needs no wait',
    );
  });
});
