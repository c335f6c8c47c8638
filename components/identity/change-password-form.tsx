'use client';

import { useRouter } from 'next/navigation';
import { changeOwnPasswordAction } from '@/server/identity/actions';
import { ActionForm } from '@/components/ui/action-form';
import { Field, TextInput } from '@/components/ui/field';

/** Change your own password; on success every session ends, so the browser goes to the sign-in page. */
export function ChangePasswordForm() {
  const router = useRouter();
  return (
    <ActionForm
      action={changeOwnPasswordAction}
      submitLabel="Change password"
      pendingLabel="Changing…"
      onSuccess={() => setTimeout(() => router.push('/login'), 1500)}
    >
      {(errors) => (
        <>
          <Field label="Current password" name="current" error={errors.current}>
            <TextInput name="current" type="password" autoComplete="current-password" error={errors.current} />
          </Field>
          <Field label="New password" name="password" error={errors.password} hint="At least 8 characters.">
            <TextInput name="password" type="password" autoComplete="new-password" error={errors.password} />
          </Field>
          <Field label="New password again" name="confirm" error={errors.confirm}>
            <TextInput name="confirm" type="password" autoComplete="new-password" error={errors.confirm} />
          </Field>
        </>
      )}
    </ActionForm>
  );
}
