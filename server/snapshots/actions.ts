'use server';

import { formFields, runAction, type ActionResult } from '../action';
import { createSnapshot, deleteSnapshot, forceDeleteSnapshot, resetSnapshotStatus } from './service';

type FormState = ActionResult | null;
const PATHS = ['/volumes', '/admin/volumes', '/snapshots', '/admin/snapshots', '/'];

export async function createSnapshotAction(_state: FormState, formData: FormData) {
  return runAction((actor) => createSnapshot(actor, formFields(formData, ['force'])), {
    revalidate: PATHS,
    message: (s) => `Snapshot ${s.name ?? s.id} is being created`,
  });
}

export async function deleteSnapshotAction(id: string) {
  return runAction((actor) => deleteSnapshot(actor, { id }), { revalidate: PATHS, message: 'The snapshot is being deleted' });
}

export async function forceDeleteSnapshotAction(id: string) {
  return runAction((actor) => forceDeleteSnapshot(actor, { id }), { revalidate: PATHS, message: 'The snapshot is being force-deleted' });
}

export async function resetSnapshotAction(_state: FormState, formData: FormData) {
  return runAction((actor) => resetSnapshotStatus(actor, formFields(formData)), { revalidate: PATHS, message: 'Status reset' });
}
