'use server';

import { AuthError } from 'next-auth';
import { signIn } from './config';

export interface LoginState {
  error?: string;
  fieldErrors?: { username?: string; password?: string };
  username?: string;
}

/** Signs in from the login form; a wrong or empty password is a message, never an exception. */
export async function loginAction(_previous: LoginState, formData: FormData): Promise<LoginState> {
  const username = String(formData.get('username') ?? '').trim();
  const password = String(formData.get('password') ?? '');
  const next = String(formData.get('next') ?? '/');
  const fieldErrors: LoginState['fieldErrors'] = {};
  if (!username) fieldErrors.username = 'Enter your user name';
  if (!password) fieldErrors.password = 'Enter your password';
  if (fieldErrors.username || fieldErrors.password) return { fieldErrors, username };
  try {
    await signIn('credentials', { username, password, redirectTo: next.startsWith('/') && !next.startsWith('//') ? next : '/' });
    return {};
  } catch (error) {
    if (error instanceof AuthError) return { error: 'Wrong user name or password, or the account is disabled.', username };
    throw error;
  }
}
