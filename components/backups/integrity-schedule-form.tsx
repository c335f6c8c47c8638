'use client';

import { ActionForm } from '@/components/ui/action-form';
import { Field, TextInput } from '@/components/ui/field';
import { setIntegrityScheduleAction } from '@/server/backups/actions';

/** The admin's schedule: every backup verified, and restore-tested, at least every N days (empty: off). */
export function IntegrityScheduleForm({
  scrubEveryDays,
  restoreTestEveryDays,
}: {
  scrubEveryDays: number | null;
  restoreTestEveryDays: number | null;
}) {
  return (
    <ActionForm
      action={setIntegrityScheduleAction}
      submitLabel="Save schedule"
      pendingLabel="Saving…"
      className="flex flex-wrap items-end gap-4"
    >
      {(errors) => (
        <>
          <Field label="Verify every backup every (days)" name="scrubEveryDays" error={errors.scrubEveryDays} hint="Empty: only on demand.">
            <TextInput
              name="scrubEveryDays"
              inputMode="numeric"
              defaultValue={scrubEveryDays ?? ''}
              placeholder="off"
              error={errors.scrubEveryDays}
            />
          </Field>
          <Field
            label="Test a restore of every backup every (days)"
            name="restoreTestEveryDays"
            error={errors.restoreTestEveryDays}
            hint="Empty: only on demand."
          >
            <TextInput
              name="restoreTestEveryDays"
              inputMode="numeric"
              defaultValue={restoreTestEveryDays ?? ''}
              placeholder="off"
              error={errors.restoreTestEveryDays}
            />
          </Field>
        </>
      )}
    </ActionForm>
  );
}
