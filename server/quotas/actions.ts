'use server';

import { formFields, runAction, type ActionResult } from '../action';
import { updateProjectQuotas, updateQuotaDefaults } from './admin';

type FormState = ActionResult | null;

export async function updateProjectQuotasAction(_state: FormState, formData: FormData) {
  return runAction((actor) => updateProjectQuotas(actor, formFields(formData)), {
    revalidate: ['/admin/quotas', '/admin/projects', '/', '/volumes'],
    message: (changes) =>
      Object.keys(changes).length
        ? `Saved: ${Object.entries(changes)
            .map(([r, c]) => `${r} ${c.from} → ${c.to}`)
            .join(', ')}`
        : 'Nothing changed',
  });
}

export async function updateQuotaDefaultsAction(_state: FormState, formData: FormData) {
  return runAction((actor) => updateQuotaDefaults(actor, formFields(formData)), {
    revalidate: ['/admin/quotas'],
    message: 'Defaults saved; new projects get these limits',
  });
}
