'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { ActionResult } from '@/server/action';
import { createApplicationCredentialAction, revokeApplicationCredentialAction } from '@/server/identity/app-credential-actions';
import { ActionForm } from '@/components/ui/action-form';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { CopyButton } from '@/components/ui/copy-button';
import { credentialEnvironment } from './credential-environment';
import { Field, Select, TextInput } from '@/components/ui/field';
import { Notice } from '@/components/ui/notice';

interface Created {
  id: string;
  name: string;
  projectName: string;
  secret: string;
}

/** The create form; after success the secret is shown once, with the id and ready-to-paste settings. */
export function CreateAppCredentialForm({
  projects,
  defaultProjectId,
  authUrl,
}: {
  projects: { id: string; name: string }[];
  defaultProjectId?: string;
  authUrl: string;
}) {
  const [created, setCreated] = useState<Created | null>(null);
  const onSuccess = (result: ActionResult) => {
    if (result.ok) setCreated(result.data as Created);
  };
  return (
    <div className="space-y-4">
      {created && (
        <Notice tone="success">
          <p className="font-medium">Copy the secret of {created.name} now: it is not shown again.</p>
          <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs">
            <dt className="font-medium">ID</dt>
            <dd>
              <code className="break-all" data-testid="app-credential-id">
                {created.id}
              </code>
            </dd>
            <dt className="font-medium">Secret</dt>
            <dd className="flex items-start gap-2">
              <code className="break-all" data-testid="app-credential-secret">
                {created.secret}
              </code>
              <CopyButton text={created.secret} label="Copy secret" />
            </dd>
            <dt className="font-medium">Project</dt>
            <dd>{created.projectName}</dd>
          </dl>
          <p className="mt-3 text-xs font-medium">Settings for the openstack and cinder clients:</p>
          <pre className="mt-1 overflow-x-auto rounded bg-white/70 p-2 text-xs" data-testid="app-credential-environment">
            {credentialEnvironment(authUrl, created)}
          </pre>
          <div className="mt-2">
            <CopyButton text={credentialEnvironment(authUrl, created)} label="Copy settings" />
          </div>
        </Notice>
      )}
      <ActionForm
        action={createApplicationCredentialAction}
        submitLabel="Create application credential"
        pendingLabel="Creating…"
        onSuccess={onSuccess}
      >
        {(errors) => (
          <>
            <Field label="Name" name="name" error={errors.name} hint="Letters, digits, dot, dash and underscore.">
              <TextInput name="name" required maxLength={64} error={errors.name} />
            </Field>
            <Field label="Description" name="description" error={errors.description}>
              <TextInput name="description" maxLength={255} error={errors.description} />
            </Field>
            <Field
              label="Project"
              name="projectId"
              error={errors.projectId}
              hint="Tokens from this credential act in this project, with your role there."
            >
              <Select name="projectId" defaultValue={defaultProjectId} error={errors.projectId}>
                {projects.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Expires" name="expiresAt" error={errors.expiresAt} hint="Optional. Empty: until you revoke it.">
              <TextInput name="expiresAt" type="datetime-local" error={errors.expiresAt} />
            </Field>
          </>
        )}
      </ActionForm>
    </div>
  );
}

export function RevokeAppCredentialButton({ id, name }: { id: string; name: string }) {
  const router = useRouter();
  const [asking, setAsking] = useState(false);
  return (
    <>
      <Button size="sm" variant="danger" onClick={() => setAsking(true)}>
        Revoke
      </Button>
      <ConfirmDialog
        open={asking}
        onClose={() => setAsking(false)}
        title={`Revoke ${name}?`}
        confirmLabel="Revoke"
        onConfirm={async () => {
          const result = await revokeApplicationCredentialAction(id);
          router.refresh();
          return result;
        }}
      >
        Scripts using it stop working at once.
      </ConfirmDialog>
    </>
  );
}
