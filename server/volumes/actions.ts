'use server';

import { formFields, runAction, type ActionResult } from '../action';
import { forceDeleteVolume, resetVolumeStatus } from './admin';
import { requestCapacityReports } from './capacity';
import {
  attachVolume,
  createVolume,
  deleteVolume,
  deleteVolumes,
  detachVolume,
  extendVolume,
  requestChecksum,
  requestExport,
} from './service';

type FormState = ActionResult | null;
const PATHS = ['/volumes', '/admin/volumes', '/snapshots', '/admin/snapshots', '/'];

export async function createVolumeAction(_state: FormState, formData: FormData) {
  return runAction((actor) => createVolume(actor, formFields(formData)), {
    revalidate: PATHS,
    message: (v) => `Volume ${v.name ?? v.id} is being created`,
  });
}

export async function extendVolumeAction(_state: FormState, formData: FormData) {
  return runAction((actor) => extendVolume(actor, formFields(formData)), { revalidate: PATHS, message: 'The volume is being extended' });
}

export async function attachVolumeAction(_state: FormState, formData: FormData) {
  return runAction((actor) => attachVolume(actor, formFields(formData)), { revalidate: PATHS, message: 'Attached' });
}

export async function detachVolumeAction(id: string) {
  return runAction((actor) => detachVolume(actor, { id }), { revalidate: PATHS, message: 'Detached' });
}

export async function deleteVolumeAction(id: string) {
  return runAction((actor) => deleteVolume(actor, { id }), { revalidate: PATHS, message: 'The volume is being deleted' });
}

export async function deleteVolumesAction(ids: string[]) {
  return runAction((actor) => deleteVolumes(actor, { ids }), {
    revalidate: PATHS,
    message: (results) => {
      const done = results.filter((r) => r.ok).length;
      return `${done} of ${results.length} volume${results.length === 1 ? '' : 's'} being deleted`;
    },
  });
}

export async function checksumAction(id: string) {
  return runAction(async (actor) => (await requestChecksum(actor, { id })).id, { message: 'Computing the SHA-256…' });
}

export async function exportVolumeAction(id: string) {
  return runAction(async (actor) => (await requestExport(actor, { id })).id, { message: 'Preparing the download…' });
}

export async function resetVolumeAction(_state: FormState, formData: FormData) {
  return runAction((actor) => resetVolumeStatus(actor, formFields(formData)), { revalidate: PATHS, message: 'Status reset' });
}

export async function forceDeleteVolumeAction(id: string) {
  return runAction((actor) => forceDeleteVolume(actor, { id }), { revalidate: PATHS, message: 'The volume is being force-deleted' });
}

export async function measureCapacityAction() {
  return runAction((actor) => requestCapacityReports(actor), { revalidate: ['/admin/capacity'], message: 'Measuring…' });
}
