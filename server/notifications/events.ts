/** The events a rule can route to a target, with the words the console and the messages use. */
export const NOTIFICATION_EVENTS = {
  backup_failed: 'Backup failed',
  backup_damaged: 'Backup damaged (verify found a fault)',
  restore_test_failed: 'Restore test failed',
  service_down: 'Service down',
  quota_near_full: 'Quota near full (90 % or more)',
  policy_run_missed: 'Policy run missed',
} as const;

export type NotificationEvent = keyof typeof NOTIFICATION_EVENTS;
export const NOTIFICATION_EVENT_KINDS = Object.keys(NOTIFICATION_EVENTS) as [NotificationEvent, ...NotificationEvent[]];

/** A delivery that a "send test" asked for: it goes to its one target whatever the rules say. */
export const TEST_EVENT = 'test';
