'use server';

import { AuthError } from 'next-auth';
import { landingPage } from '../identity/queries';
import { SignInLocked, signIn } from './config';

export interface LoginState {
  error?: string;
  fieldErrors?: { username?: string; password?: string };
  username?: string;
}

const text = (form: FormData, name: string) => {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
};

/** Only a path on this site: not `//host` or `/\\host`, which browsers read as another site. */
const localPath = (next: string) => (/^\/(?![/\\])/.test(next) && ![...next].some((c) => c.charCodeAt(0) < 0x20) ? next : '/');

/**
 * Signs in from the login form. A wrong or empty password, a locked account, or a call without a
 * form is a message, never an exception.
 */
export async function loginAction(_previous: LoginState, formData: FormData): Promise<LoginState> {
  if (!(formData instanceof FormData)) return { error: 'Fill in the sign-in form and send it again.' };
  const username = text(formData, 'username').trim();
  const password = text(formData, 'password');
  const next = text(formData, 'next');
  const fieldErrors: LoginState['fieldErrors'] = {};
  if (!username) fieldErrors.username = 'Enter your user name';
  else if (username.length > 255) fieldErrors.username = 'User names are at most 255 characters';
  if (!password) fieldErrors.password = 'Enter your password';
  else if (password.length > 1000) fieldErrors.password = 'Passwords are at most 1000 characters';
  if (fieldErrors.username || fieldErrors.password) return { fieldErrors, username: username.slice(0, 255) };
  try {
    await signIn('credentials', { username, password, redirectTo: next && next !== '/' ? localPath(next) : await landingPage(username) });
    return {};
  } catch (error) {
    if (error instanceof SignInLocked) return { error: error.reason, username };
    if (error instanceof AuthError) return { error: 'Wrong user name or password, or the account is disabled.', username };
    throw error;
  }
}
