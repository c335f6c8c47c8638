'use client';

import { useActionState } from 'react';
import { loginAction, type LoginState } from '@/server/auth/login-action';
import { Field, TextInput } from '@/components/ui/field';
import { Notice } from '@/components/ui/notice';
import { buttonClass } from '@/components/ui/button';

export function LoginForm({ next }: { next: string }) {
  const [state, action, pending] = useActionState<LoginState, FormData>(loginAction, {});
  return (
    <form action={action} className="space-y-4" noValidate>
      <input type="hidden" name="next" value={next} />
      {state.error && <Notice tone="error">{state.error}</Notice>}
      <Field label="User name" name="username" error={state.fieldErrors?.username}>
        <TextInput name="username" autoComplete="username" defaultValue={state.username} error={state.fieldErrors?.username} autoFocus />
      </Field>
      <Field label="Password" name="password" error={state.fieldErrors?.password}>
        <TextInput name="password" type="password" autoComplete="current-password" error={state.fieldErrors?.password} />
      </Field>
      <button type="submit" disabled={pending} className={`${buttonClass('primary')} w-full`}>
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
