'use client';

import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ActionForm } from '@/components/ui/action-form';
import { Checkbox, Field, Select, TextInput } from '@/components/ui/field';
import { LocalTime } from '@/components/ui/time';
import { createPolicyAction, schedulePreviewAction, updatePolicyAction } from '@/server/policies/actions';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const RETENTION: [string, string][] = [
  ['keepLast', 'Keep last'],
  ['keepHourly', 'Keep hourly'],
  ['keepDaily', 'Keep daily'],
  ['keepWeekly', 'Keep weekly'],
  ['keepMonthly', 'Keep monthly'],
  ['keepYearly', 'Keep yearly'],
];

export interface PolicyFormValues {
  id?: string;
  name: string;
  schedule: { kind: string; minute?: number; time?: string; days?: number[]; expression?: string };
  timeZone: string;
  fullEveryRuns: number | null;
  fullEveryDays: number | null;
  force: boolean;
  container: string | null;
  retention: Record<string, number | string | null | undefined>;
}

export const NEW_POLICY: PolicyFormValues = {
  name: '',
  schedule: { kind: 'daily', time: '02:00' },
  timeZone: 'UTC',
  fullEveryRuns: 7,
  fullEveryDays: null,
  force: false,
  container: null,
  retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
};

/**
 * The policy editor: schedule, zone, backup kind, retention; the next five run times follow the
 * schedule as it is typed (checked by the server, errors next to the fields).
 */
export function PolicyForm({
  values,
  projectId,
  allowShared = false,
}: {
  values: PolicyFormValues;
  projectId?: string;
  allowShared?: boolean;
}) {
  const router = useRouter();
  const [kind, setKind] = useState(values.schedule.kind);
  const [preview, setPreview] = useState<{ runs?: string[]; error?: string }>({});
  const formRef = useRef<HTMLDivElement>(null);
  const refresh = useCallback(() => {
    const form = formRef.current?.closest('form');
    if (!form) return;
    void schedulePreviewAction(new FormData(form)).then((result) => {
      setPreview(result.ok ? { runs: result.data as string[] } : { error: result.message });
    });
  }, []);
  useEffect(refresh, [refresh]);
  const editing = Boolean(values.id);
  return (
    <ActionForm
      action={editing ? updatePolicyAction : createPolicyAction}
      submitLabel={editing ? 'Save policy' : 'Create policy'}
      onSuccess={(result) => {
        const created = result.ok ? (result.data as { id?: string } | undefined) : undefined;
        if (!editing && created?.id) router.push(`/policies/${created.id}`);
        else router.refresh();
      }}
    >
      {(errors) => (
        <div ref={formRef} className="space-y-4" onChange={refresh}>
          {values.id && <input type="hidden" name="id" value={values.id} />}
          {!editing && projectId && !allowShared && <input type="hidden" name="projectId" value={projectId} />}
          {!editing && allowShared && (
            <Field label="Offered to" name="projectId" hint="A policy offered to every project: each project assigns its own volumes.">
              <Select name="projectId" defaultValue={projectId ?? 'shared'}>
                {projectId && <option value={projectId}>This project only</option>}
                <option value="shared">Every project</option>
              </Select>
            </Field>
          )}
          <Field label="Name" name="name" error={errors.name}>
            <TextInput name="name" defaultValue={values.name} error={errors.name} required maxLength={255} />
          </Field>
          <fieldset className="space-y-3 rounded-md border border-slate-200 p-3">
            <legend className="px-1 text-sm font-medium text-slate-800">Schedule</legend>
            <Field label="Runs" name="schedule.kind">
              <Select
                name="schedule.kind"
                value={kind}
                onChange={(e) => {
                  setKind(e.target.value);
                  setTimeout(refresh, 0);
                }}
              >
                <option value="hourly">Hourly</option>
                <option value="daily">Daily</option>
                <option value="weekly">Weekly</option>
                <option value="cron">Cron expression</option>
              </Select>
            </Field>
            {kind === 'hourly' && (
              <Field label="At minute" name="schedule.minute" error={errors['schedule.minute']}>
                <TextInput
                  name="schedule.minute"
                  type="number"
                  min={0}
                  max={59}
                  defaultValue={values.schedule.minute ?? 0}
                  error={errors['schedule.minute']}
                />
              </Field>
            )}
            {(kind === 'daily' || kind === 'weekly') && (
              <Field label="At (HH:MM)" name="schedule.time" error={errors['schedule.time']}>
                <TextInput
                  name="schedule.time"
                  defaultValue={values.schedule.time ?? '02:00'}
                  error={errors['schedule.time']}
                  placeholder="02:00"
                />
              </Field>
            )}
            {kind === 'weekly' && (
              <div role="group" aria-label="Days of the week" className="flex flex-wrap gap-3">
                {DAYS.map((day, i) => (
                  <Checkbox
                    key={day}
                    name="schedule.days"
                    value={String(i)}
                    label={day}
                    defaultChecked={(values.schedule.days ?? [0]).includes(i)}
                  />
                ))}
                {errors['schedule.days'] && (
                  <p className="text-sm text-red-600" role="alert">
                    {errors['schedule.days']}
                  </p>
                )}
              </div>
            )}
            {kind === 'cron' && (
              <Field
                label="Cron expression"
                name="schedule.expression"
                error={errors['schedule.expression']}
                hint="minute hour day-of-month month day-of-week, e.g. 30 1 * * 1-5"
              >
                <TextInput
                  name="schedule.expression"
                  defaultValue={values.schedule.expression ?? '0 2 * * *'}
                  error={errors['schedule.expression']}
                />
              </Field>
            )}
            <Field
              label="Time zone"
              name="timeZone"
              error={errors.timeZone}
              hint="An IANA zone like Europe/Berlin; the times above and the retention periods are counted in it."
            >
              <TextInput name="timeZone" defaultValue={values.timeZone} error={errors.timeZone} />
            </Field>
            <div aria-live="polite" className="text-sm">
              <p className="font-medium text-slate-800">Next five runs</p>
              {preview.error ? (
                <p className="text-red-600">{preview.error}</p>
              ) : (
                <ol className="list-decimal pl-5 text-slate-700" aria-label="Next five runs">
                  {(preview.runs ?? []).map((run) => (
                    <li key={run}>
                      <LocalTime value={run} />
                    </li>
                  ))}
                </ol>
              )}
            </div>
          </fieldset>
          <fieldset className="grid grid-cols-2 gap-3 rounded-md border border-slate-200 p-3">
            <legend className="px-1 text-sm font-medium text-slate-800">Backups</legend>
            <Field
              label="Full every N runs"
              name="fullEveryRuns"
              error={errors.fullEveryRuns}
              hint="The other runs are incrementals. 1: every run is full."
            >
              <TextInput
                name="fullEveryRuns"
                type="number"
                min={1}
                defaultValue={values.fullEveryRuns ?? ''}
                error={errors.fullEveryRuns}
              />
            </Field>
            <Field label="Full every N days" name="fullEveryDays" error={errors.fullEveryDays}>
              <TextInput
                name="fullEveryDays"
                type="number"
                min={1}
                defaultValue={values.fullEveryDays ?? ''}
                error={errors.fullEveryDays}
              />
            </Field>
            <Field label="Container" name="container" error={errors.container} hint="Empty: the repository's default.">
              <TextInput name="container" defaultValue={values.container ?? ''} error={errors.container} />
            </Field>
            <div className="pt-6">
              <Checkbox
                name="force"
                label="Back up attached volumes (crash-consistent, through a snapshot)"
                defaultChecked={values.force}
              />
            </div>
          </fieldset>
          <fieldset className="grid grid-cols-3 gap-3 rounded-md border border-slate-200 p-3">
            <legend className="px-1 text-sm font-medium text-slate-800">Retention (only backups this policy made are pruned)</legend>
            {RETENTION.map(([field, label]) => (
              <Field key={field} label={label} name={`retention.${field}`} error={errors[`retention.${field}`]}>
                <TextInput
                  name={`retention.${field}`}
                  type="number"
                  min={0}
                  defaultValue={String(values.retention[field] ?? '')}
                  error={errors[`retention.${field}`]}
                />
              </Field>
            ))}
            <Field
              label="Keep within"
              name="retention.keepWithin"
              error={errors['retention.keepWithin']}
              hint="e.g. 7d, 36h, 1y6m, from the newest backup"
            >
              <TextInput
                name="retention.keepWithin"
                defaultValue={String(values.retention.keepWithin ?? '')}
                error={errors['retention.keepWithin']}
              />
            </Field>
          </fieldset>
        </div>
      )}
    </ActionForm>
  );
}
