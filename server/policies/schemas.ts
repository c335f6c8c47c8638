import { z } from 'zod';
import { containerSchema } from '../backups/schemas';
import { uuidSchema } from '../validation';
import { parseWithin, type Retention } from './retention';
import { compileSchedule, ScheduleError, type Schedule } from './schedule';
import { isKnownTimeZone } from './zone';

/** Form fields arrive as strings; REST bodies as numbers: both read as a whole number or nothing. */
const count = (what: string, max = 10_000) =>
  z.preprocess(
    (v) => (v === '' || v === undefined || v === null ? null : typeof v === 'string' ? Number(v) : v),
    z
      .number({ message: `${what} must be a number` })
      .int(`${what} must be a whole number`)
      .min(0, `${what} cannot be negative`)
      .max(max, `${what} is at most ${max}`)
      .nullable(),
  );

const time = z
  .string()
  .trim()
  .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'Enter a time of day as HH:MM (24-hour)');

export const scheduleSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('hourly'),
      minute: z.coerce.number().int('Minute must be a whole number').min(0, 'Minute is 0-59').max(59, 'Minute is 0-59'),
    }),
    z.object({ kind: z.literal('daily'), time }),
    z.object({
      kind: z.literal('weekly'),
      time,
      days: z.array(z.coerce.number().int().min(0).max(6)).min(1, 'Choose at least one day of the week').max(7),
    }),
    z.object({ kind: z.literal('cron'), expression: z.string().trim().min(1, 'Enter a cron expression').max(200) }),
  ])
  .superRefine((schedule, context) => {
    try {
      compileSchedule(schedule as Schedule);
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      context.addIssue({ code: 'custom', path: [schedule.kind === 'cron' ? 'expression' : 'time'], message: error.message });
    }
  });

export const retentionSchema = z.object({
  keepLast: count('Keep last'),
  keepHourly: count('Keep hourly'),
  keepDaily: count('Keep daily'),
  keepWeekly: count('Keep weekly'),
  keepMonthly: count('Keep monthly'),
  keepYearly: count('Keep yearly'),
  keepWithin: z.preprocess(
    (v) => (v === '' || v === undefined ? null : v),
    z
      .string()
      .trim()
      .max(40)
      .nullable()
      .refine((v) => v === null || parseWithin(v) !== null, 'A duration like 7d, 36h or 1y6m (years y, months m, days d, hours h)'),
  ),
}) satisfies z.ZodType<Retention>;

const optionalContainer = z.preprocess((v) => (v === '' || v === undefined ? null : v), containerSchema.nullable());

const timeZone = z.preprocess(
  (v) => (v === '' || v === undefined || v === null ? 'UTC' : v),
  z.string().trim().max(64).refine(isKnownTimeZone, 'Not a time zone this server knows (an IANA name like Europe/Berlin)'),
);

/** A schedule and its zone: what the editor's "next five runs" reads. */
export const scheduleFieldsSchema = z.object({ schedule: scheduleSchema, timeZone });

export const policyFieldsSchema = z
  .object({
    name: z.string().trim().min(1, 'Give the policy a name').max(255, 'The name is at most 255 characters'),
    schedule: scheduleSchema,
    timeZone,
    fullEveryRuns: count('Full every N runs', 1000).refine((v) => v === null || v >= 1, 'At least 1 (1: every run is a full backup)'),
    fullEveryDays: count('Full every N days', 3650).refine((v) => v === null || v >= 1, 'At least 1 day'),
    force: z.preprocess((v) => v === 'on' || v === 'true' || v === true, z.boolean()).default(false),
    container: optionalContainer.default(null),
    retention: retentionSchema,
  })
  .superRefine((policy, context) => {
    // A chain never grows without bound.
    if (policy.fullEveryRuns === null && policy.fullEveryDays === null) {
      context.addIssue({ code: 'custom', path: ['fullEveryRuns'], message: 'Take a full backup every N runs or every N days (or both)' });
    }
  });

export const createPolicySchema = policyFieldsSchema.and(
  z.object({
    /** The owning project; null (admins only): a policy offered to every project. */
    projectId: z.string().trim().max(64).nullable(),
  }),
);

export const policyIdSchema = z.object({ id: uuidSchema('Not a valid policy id', 'Missing policy id') });
export const updatePolicySchema = policyFieldsSchema.and(policyIdSchema);
export const assignSchema = policyIdSchema.extend({
  volumeIds: z.array(uuidSchema('Not a valid volume id')).max(500, 'At most 500 volumes at once'),
});
export const pauseSchema = policyIdSchema.extend({ paused: z.boolean() });
export const previewSchema = policyIdSchema.extend({ volumeId: uuidSchema('Not a valid volume id').optional().nullable() });

export type PolicyFields = z.infer<typeof policyFieldsSchema>;
