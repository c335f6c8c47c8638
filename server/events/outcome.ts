/**
 * Whether an audit event records a success or a failure, from its action's name: a failure is an
 * action ending in `_failed`, `_abandoned`, `_locked`, `_damaged` or `_error` (create_failed,
 * restore_abandoned, sign_in_failed, sign_in_locked, scrub_damaged, restore_test_error …) or the
 * `failure_notice` a failure leaves; everything else is a success. New failing actions follow the
 * same naming, so the rule needs no list.
 */
export const AUDIT_OUTCOMES = ['success', 'failure'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** The rule as a PostgreSQL regular expression over `action` (the SQL filter and the CSV use it). */
export const FAILURE_ACTION_PATTERN = '(_failed|_abandoned|_locked|_damaged|_error)$|^failure_notice$';

const failure = new RegExp(FAILURE_ACTION_PATTERN);

export function outcomeOf(action: string): AuditOutcome {
  return failure.test(action) ? 'failure' : 'success';
}
