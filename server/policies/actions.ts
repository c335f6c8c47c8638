'use server';

import { formInput, runAction, type ActionResult } from '../action';
import {
  assignVolumes,
  createPolicy,
  deletePolicy,
  pausePolicy,
  previewPrune,
  previewSchedule,
  runPolicyNow,
  updatePolicy,
} from './service';

type FormState = ActionResult | null;
const PATHS = ['/policies', '/admin/policies', '/volumes'];
const RETENTION_FIELDS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'keepWithin'] as const;

/** The editor's fields (named by their path, so field errors land next to them) as the service's input. */
function policyInputFrom(sent: FormData) {
  const formData = formInput(sent);
  const text = (name: string) => {
    const value = formData.get(name);
    return typeof value === 'string' ? value : '';
  };
  const kind = text('schedule.kind');
  const schedule =
    kind === 'hourly'
      ? { kind, minute: text('schedule.minute') }
      : kind === 'weekly'
        ? { kind, time: text('schedule.time'), days: formData.getAll('schedule.days').map(String) }
        : kind === 'cron'
          ? { kind, expression: text('schedule.expression') }
          : { kind, time: text('schedule.time') };
  return {
    name: text('name'),
    timeZone: text('timeZone'),
    schedule,
    fullEveryRuns: text('fullEveryRuns'),
    fullEveryDays: text('fullEveryDays'),
    force: formData.get('force') === 'on',
    container: text('container'),
    retention: Object.fromEntries(RETENTION_FIELDS.map((field) => [field, text(`retention.${field}`)])),
  };
}

export async function createPolicyAction(_state: FormState, formData: FormData) {
  return runAction(
    (actor) => {
      const projectId = formInput(formData).get('projectId');
      return createPolicy(actor, {
        ...policyInputFrom(formData),
        projectId: projectId === '' || projectId === 'shared' ? null : projectId,
      });
    },
    { revalidate: PATHS, message: (p) => `Policy ${p.name} created` },
  );
}

export async function updatePolicyAction(_state: FormState, formData: FormData) {
  return runAction((actor) => updatePolicy(actor, { ...policyInputFrom(formData), id: formInput(formData).get('id') }), {
    revalidate: PATHS,
    message: 'Policy saved',
  });
}

/** The next five run times of the schedule being typed (no write). */
export async function schedulePreviewAction(formData: FormData) {
  return runAction(async () => {
    const input = policyInputFrom(formData);
    return previewSchedule({ schedule: input.schedule, timeZone: input.timeZone }).map((d) => d.toISOString());
  });
}

export async function assignVolumesAction(_state: FormState, formData: FormData) {
  return runAction(
    (actor) => {
      const form = formInput(formData);
      return assignVolumes(actor, {
        id: form.get('id'),
        projectId: form.get('projectId'),
        volumeIds: form.getAll('volumeIds').map(String),
      });
    },
    { revalidate: PATHS, message: (r) => `Volumes saved: ${r.added.length} added, ${r.removed.length} removed` },
  );
}

export async function runPolicyNowAction(id: string) {
  return runAction(
    async (actor) => {
      const runs = await runPolicyNow(actor, { id });
      return { started: runs.filter((r) => r.status === 'started').length, skipped: runs.filter((r) => r.status === 'skipped').length };
    },
    { revalidate: PATHS, message: (r) => `${r.started} run(s) started${r.skipped ? `, ${r.skipped} could not start (see the runs)` : ''}` },
  );
}

export async function pausePolicyAction(id: string, paused: boolean) {
  return runAction((actor) => pausePolicy(actor, { id, paused }), {
    revalidate: PATHS,
    message: paused ? 'Policy paused' : 'Policy resumed',
  });
}

export async function deletePolicyAction(id: string) {
  return runAction((actor) => deletePolicy(actor, { id }), { revalidate: PATHS, message: 'Policy deleted' });
}

export async function prunePreviewAction(id: string) {
  return runAction((actor) => previewPrune(actor, { id }));
}
