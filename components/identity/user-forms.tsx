'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { createUserAction, setPasswordAction, setUserEnabledAction } from '@/server/identity/actions';
import { ActionForm } from '@/components/ui/action-form';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { Dialog } from '@/components/ui/dialog';
import { Checkbox, Field, Select, TextInput } from '@/components/ui/field';

export function CreateUserForm({ projects }: { projects: { id: string; name: string }[] }) {
  return (
    <ActionForm action={createUserAction} submitLabel="Create user" pendingLabel="Creating…">
      {(errors) => (
        <>
          <Field label="User name" name="name" error={errors.name}>
            <TextInput name="name" required maxLength={64} autoComplete="off" error={errors.name} />
          </Field>
          <Field label="Password" name="password" error={errors.password} hint="At least 8 characters.">
            <TextInput name="password" type="password" required autoComplete="new-password" error={errors.password} />
          </Field>
          <Field label="Project" name="projectId" error={errors.projectId} hint="Optional: the project the user starts in.">
            <Select name="projectId" defaultValue="">
              <option value="">No project</option>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Role in that project" name="role" error={errors.role}>
            <Select name="role" defaultValue="member">
              <option value="member">member: creates and manages resources</option>
              <option value="reader">reader: can only look</option>
            </Select>
          </Field>
          <Checkbox name="isAdmin" label="Cloud administrator (every project, the operator console)" />
        </>
      )}
    </ActionForm>
  );
}

export function UserRowActions({ userId, name, enabled, isSelf }: { userId: string; name: string; enabled: boolean; isSelf: boolean }) {
  const router = useRouter();
  const [pending, start] = useTransition();
  const [settingPassword, setSettingPassword] = useState(false);
  const [disabling, setDisabling] = useState(false);
  return (
    <div className="flex justify-end gap-2">
      <Button size="sm" variant="secondary" onClick={() => setSettingPassword(true)}>
        Set password…
      </Button>
      {!isSelf && (
        <Button
          size="sm"
          variant="secondary"
          disabled={pending}
          onClick={() => {
            if (enabled) setDisabling(true);
            else
              start(async () => {
                await setUserEnabledAction(userId, true);
                router.refresh();
              });
          }}
        >
          {enabled ? 'Disable' : 'Enable'}
        </Button>
      )}
      <ConfirmDialog
        open={disabling}
        onClose={() => setDisabling(false)}
        title={`Disable ${name}?`}
        confirmLabel="Disable"
        onConfirm={async () => {
          const result = await setUserEnabledAction(userId, false);
          router.refresh();
          return result;
        }}
      >
        They are signed out at once and cannot sign in until enabled again.
      </ConfirmDialog>
      <Dialog open={settingPassword} onClose={() => setSettingPassword(false)} title={`Set a new password for ${name}`}>
        <ActionForm
          action={setPasswordAction}
          submitLabel="Set password"
          onSuccess={() => setTimeout(() => setSettingPassword(false), 600)}
        >
          {(errors) => (
            <>
              <input type="hidden" name="userId" value={userId} />
              <Field
                label="New password"
                name="password"
                error={errors.password}
                hint="At least 8 characters. Every session of this user is signed out."
              >
                <TextInput name="password" type="password" autoComplete="new-password" error={errors.password} />
              </Field>
            </>
          )}
        </ActionForm>
      </Dialog>
    </div>
  );
}
