import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capacityOutcome } from '../../components/volumes/capacity-outcome';
import type { CapacityJob } from '../../server/volumes/queries';

const job = (id: string, status: CapacityJob['status'], error: string | null = null): CapacityJob => ({
  id,
  host: `host-${id}`,
  status,
  error,
});

describe("the capacity page's notice follows the measurements it started", () => {
  test('pending until every followed job is on the page and has ended', () => {
    assert.deepEqual(capacityOutcome(['a'], []), { pending: 'Measuring…' });
    assert.deepEqual(capacityOutcome(['a', 'b'], [job('a', 'succeeded'), job('b', 'running')]), { pending: 'Measuring host-b…' });
    assert.deepEqual(capacityOutcome(['a', 'b'], [job('a', 'queued'), job('b', 'running')]), {
      pending: 'Measuring 2 volume services…',
    });
  });

  test('a job tried again says what its last attempt met', () => {
    assert.deepEqual(capacityOutcome(['a'], [job('a', 'queued', 'lease expired')]), {
      pending: 'Measuring… host-a failed once (lease expired) and is trying again.',
    });
  });

  test('success counts its own jobs, not other measurements on the page', () => {
    const jobs = [job('a', 'succeeded'), job('b', 'succeeded'), job('older', 'failed', 'disk gone')];
    assert.deepEqual(capacityOutcome(['a', 'b'], jobs), { tone: 'success', text: 'Measured just now: 2 volume services, figures below.' });
    assert.deepEqual(capacityOutcome(['a'], jobs), { tone: 'success', text: 'Measured just now: one volume service, figures below.' });
  });

  test('a failure comes first and says why, a cancel says so', () => {
    const jobs = [job('a', 'succeeded'), job('b', 'failed', 'statfs failed: EIO'), job('c', 'cancelled')];
    assert.deepEqual(capacityOutcome(['a', 'b', 'c'], jobs), { tone: 'error', text: 'Measuring host-b failed: statfs failed: EIO.' });
    assert.deepEqual(capacityOutcome(['a', 'c'], jobs), { tone: 'info', text: 'The measurement of host-c was cancelled.' });
  });
});
