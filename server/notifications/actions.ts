'use server';

import { type ActionResult, runAction } from '../action';
import { targetInputFromForm } from './form';
import { createTarget, deleteTarget, sendTestNotification, updateTarget } from './targets';

const PAGE = '/admin/notifications';

export async function createTargetAction(_state: ActionResult | null, formData: FormData) {
  return runAction(
    async (actor) => {
      const { target, secret } = await createTarget(actor, targetInputFromForm(formData));
      return { id: target.id, secret };
    },
    { revalidate: [PAGE], message: 'Target created' },
  );
}

export async function updateTargetAction(_state: ActionResult | null, formData: FormData) {
  return runAction(
    async (actor) => {
      const { target, secret } = await updateTarget(actor, targetInputFromForm(formData));
      return { id: target.id, secret };
    },
    { revalidate: [PAGE], message: 'Target saved' },
  );
}

export async function deleteTargetAction(id: string) {
  return runAction((actor) => deleteTarget(actor, { id }), { revalidate: [PAGE], message: 'Target deleted' });
}

export async function sendTestAction(id: string) {
  return runAction((actor) => sendTestNotification(actor, { id }), { revalidate: [PAGE], message: 'Test queued' });
}
