'use server';

import { formFields, runAction, type ActionResult } from '../action';
import { createApplicationCredential, revokeApplicationCredential } from './app-credentials';

type FormState = ActionResult | null;

/** Creates a credential; the secret comes back once, in this result, and is never shown again. */
export async function createApplicationCredentialAction(_state: FormState, formData: FormData) {
  return runAction(
    async (actor) => {
      const created = await createApplicationCredential(actor, formFields(formData));
      return { id: created.credential.id, name: created.credential.name, projectName: created.projectName, secret: created.secret };
    },
    { revalidate: ['/access'], message: (c) => `Application credential ${c.name} created` },
  );
}

export async function revokeApplicationCredentialAction(id: string) {
  return runAction((actor) => revokeApplicationCredential(actor, { id }), {
    revalidate: ['/access'],
    message: 'Application credential revoked; its tokens stopped working',
  });
}
