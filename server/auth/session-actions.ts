'use server';

import { cookies } from 'next/headers';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { signOut } from './config';
import { PROJECT_COOKIE, projectChoices } from './session';
import { runAction } from '../action';
import { AppError } from '../errors';
import { parseInput } from '../validation';

export async function signOutAction() {
  await signOut({ redirectTo: '/login' });
}

/** The portal's project switcher: only a project the actor may see can be chosen. */
export async function switchProjectAction(projectId: string) {
  return runAction(async (actor) => {
    const { id } = parseInput(z.object({ id: z.string().min(1).max(64) }), { id: projectId });
    const choice = (await projectChoices(actor)).find((p) => p.id === id);
    if (!choice) throw new AppError('not_found', `Project ${id} could not be found.`);
    (await cookies()).set(PROJECT_COOKIE, choice.id, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 60 * 60 * 24 * 365 });
    revalidatePath('/', 'layout');
    return choice;
  });
}
