'use server';

import { formFields, runAction, type ActionResult } from '../action';
import { sendPing, setServiceStatus } from './service';

export async function setServiceStatusAction(input: { binary: string; host: string; enabled: boolean; reason?: string }) {
  return runAction((actor) => setServiceStatus(actor, input), { revalidate: ['/admin/services'] });
}

export async function pingAction(_state: ActionResult | null, formData: FormData) {
  return runAction(
    async (actor) => {
      const fields = formFields(formData);
      const [binary, host] = String(fields.service ?? '').split('|');
      const job = await sendPing(actor, { binary, host, holdSeconds: fields.holdSeconds ?? 0 });
      return { jobId: job.id };
    },
    { message: 'Ping sent' },
  );
}
