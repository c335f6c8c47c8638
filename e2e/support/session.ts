import { expect, type Page } from '@playwright/test';

export async function signIn(page: Page, user: string, password: string, baseUrl = '') {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(user);
}

export const ADMIN = { user: 'admin', password: 'admin-e2e-password' };
export const DEMO = { user: 'demo', password: 'demo-e2e-password' };
