'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { createProjectAction, removeMembershipAction, setMembershipAction, setProjectEnabledAction } from '@/server/identity/actions';
import { ActionForm } from '@/components/ui/action-form';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { Field, Select, TextInput } from '@/components/ui/field';

export function CreateProjectForm() {
  return (
    <ActionForm action={createProjectAction} submitLabel="Create project" pendingLabel="Creating…">
      {(errors) => (
        <>
          <Field label="Name" name="name" error={errors.name} hint="Letters, digits, dot, dash and underscore.">
            <TextInput name="name" required maxLength={64} error={errors.name} />
          </Field>
          <Field label="Description" name="description" error={errors.description}>
            <TextInput name="description" maxLength={255} error={errors.description} />
          </Field>
        </>
      )}
    </ActionForm>
  );
}

export function ProjectEnabledToggle({ projectId, enabled, name }: { projectId: string; enabled: boolean; name: string }) {
  const router = useRouter();
  const [pending, start] = useTransition();
  const [asking, setAsking] = useState(false);
  if (name === 'admin') return null;
  const enable = () =>
    start(async () => {
      await setProjectEnabledAction(projectId, true);
      router.refresh();
    });
  return (
    <>
      <Button
        size="sm"
        variant={enabled ? 'secondary' : 'primary'}
        disabled={pending}
        onClick={() => (enabled ? setAsking(true) : enable())}
      >
        {enabled ? 'Disable' : 'Enable'}
      </Button>
      <ConfirmDialog
        open={asking}
        onClose={() => setAsking(false)}
        title={`Disable project ${name}?`}
        confirmLabel="Disable"
        onConfirm={async () => {
          const result = await setProjectEnabledAction(projectId, false);
          router.refresh();
          return result;
        }}
      >
        Its members lose access until it is enabled again; nothing is deleted.
      </ConfirmDialog>
    </>
  );
}

export function AddMemberForm({ projectId, users }: { projectId: string; users: { id: string; name: string }[] }) {
  return (
    <ActionForm action={setMembershipAction} submitLabel="Add or change member" className="flex flex-wrap items-end gap-3">
      {(errors) => (
        <>
          <input type="hidden" name="projectId" value={projectId} />
          <div className="min-w-56">
            <Field label="User" name="userId" error={errors.userId}>
              <Select name="userId" required>
                {users.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name}
                  </option>
                ))}
              </Select>
            </Field>
          </div>
          <div className="w-40">
            <Field label="Role" name="role" error={errors.role}>
              <Select name="role" defaultValue="member">
                <option value="member">member</option>
                <option value="reader">reader</option>
              </Select>
            </Field>
          </div>
        </>
      )}
    </ActionForm>
  );
}

export function RemoveMemberButton({ userId, projectId, name }: { userId: string; projectId: string; name: string }) {
  const router = useRouter();
  const [asking, setAsking] = useState(false);
  return (
    <>
      <Button size="sm" variant="ghost" onClick={() => setAsking(true)}>
        Remove
      </Button>
      <ConfirmDialog
        open={asking}
        onClose={() => setAsking(false)}
        title={`Remove ${name} from this project?`}
        confirmLabel="Remove"
        onConfirm={async () => {
          const result = await removeMembershipAction(userId, projectId);
          router.refresh();
          return result;
        }}
      >
        They lose access to its volumes and backups; nothing is deleted.
      </ConfirmDialog>
    </>
  );
}
