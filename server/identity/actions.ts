'use server';

import { formFields, runAction, type ActionResult } from '../action';
import {
  changeOwnPassword,
  createProject,
  createUser,
  removeMembership,
  setMembership,
  setPassword,
  setProjectEnabled,
  setUserEnabled,
} from './service';

type FormState = ActionResult | null;

export async function createProjectAction(_state: FormState, formData: FormData) {
  return runAction((actor) => createProject(actor, formFields(formData)), {
    revalidate: ['/admin/projects'],
    message: (p) => `Project ${p.name} created`,
  });
}

export async function setProjectEnabledAction(projectId: string, enabled: boolean) {
  return runAction((actor) => setProjectEnabled(actor, { id: projectId, enabled }), { revalidate: ['/admin/projects'] });
}

export async function createUserAction(_state: FormState, formData: FormData) {
  return runAction((actor) => createUser(actor, formFields(formData, ['isAdmin'])), {
    revalidate: ['/admin/users'],
    message: (u) => `User ${u.name} created`,
  });
}

export async function setUserEnabledAction(userId: string, enabled: boolean) {
  return runAction((actor) => setUserEnabled(actor, { id: userId, enabled }), { revalidate: ['/admin/users'] });
}

export async function setPasswordAction(_state: FormState, formData: FormData) {
  return runAction((actor) => setPassword(actor, formFields(formData)), {
    revalidate: ['/admin/users'],
    message: "Password changed; the user's sessions were signed out",
  });
}

export async function changeOwnPasswordAction(_state: FormState, formData: FormData) {
  return runAction((actor) => changeOwnPassword(actor, formFields(formData)), {
    message: 'Password changed. Every session ended: sign in again with the new password.',
  });
}

export async function setMembershipAction(_state: FormState, formData: FormData) {
  return runAction((actor) => setMembership(actor, formFields(formData)), {
    revalidate: ['/admin/projects', '/admin/users'],
    message: 'Membership saved',
  });
}

export async function removeMembershipAction(userId: string, projectId: string) {
  return runAction((actor) => removeMembership(actor, { userId, projectId }), { revalidate: ['/admin/projects', '/admin/users'] });
}
