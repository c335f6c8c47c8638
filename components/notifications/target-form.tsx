'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ActionForm } from '@/components/ui/action-form';
import { CopyButton } from '@/components/ui/copy-button';
import { Checkbox, Field, Select, TextInput } from '@/components/ui/field';
import { Notice } from '@/components/ui/notice';
import type { ActionResult } from '@/server/action';
import { createTargetAction, updateTargetAction } from '@/server/notifications/actions';
import { NOTIFICATION_EVENTS } from '@/server/notifications/events';

export interface EditableTarget {
  id: string;
  name: string;
  kind: 'email' | 'webhook';
  config: Record<string, unknown>;
  hasSecret: boolean;
  events: string[];
  enabled: boolean;
}

const errorAt = (errors: Record<string, string | undefined>, prefix: string) =>
  Object.entries(errors).find(([key]) => key === prefix || key.startsWith(`${prefix}.`))?.[1];

/** The one time a webhook's signing secret is shown: after it was created or rotated. */
export function SecretOnce({ secret }: { secret: string }) {
  return (
    <Notice tone="info">
      <span className="block font-medium">Signing secret (shown this once: copy it now)</span>
      <code className="mt-1 block break-all text-xs">{secret}</code>
      <span className="mt-2 inline-block">
        <CopyButton text={secret} label="Copy secret" />
      </span>
      <span className="mt-2 block text-xs">
        Each request carries <code>X-Cinderblock-Signature: sha256=&lt;hex&gt;</code>, the HMAC-SHA256 of the exact body with this secret.
      </span>
    </Notice>
  );
}

/** Creates a target (no `target`) or edits one; secrets are write-only: left empty, the stored one stays. */
export function TargetForm({ target, onDone }: { target?: EditableTarget; onDone?: () => void }) {
  const router = useRouter();
  const [kind, setKind] = useState<'email' | 'webhook'>(target?.kind ?? 'webhook');
  const [secret, setSecret] = useState<string>();
  const config = target?.config ?? {};
  const str = (key: string, fallback = '') =>
    typeof config[key] === 'string' || typeof config[key] === 'number' ? String(config[key]) : fallback;
  const onSuccess = (result: ActionResult) => {
    const shown = result.ok ? (result.data as { secret?: string } | undefined)?.secret : undefined;
    setSecret(shown);
    router.refresh();
    if (!shown) onDone?.();
  };
  return (
    <div className="space-y-4">
      {secret && <SecretOnce secret={secret} />}
      <ActionForm
        action={target ? updateTargetAction : createTargetAction}
        submitLabel={target ? 'Save target' : 'Create target'}
        pendingLabel="Saving…"
        onSuccess={onSuccess}
      >
        {(errors) => (
          <>
            {target && <input type="hidden" name="id" value={target.id} />}
            <input type="hidden" name="kind" value={kind} />
            <Field label="Name" name="name" error={errors.name}>
              <TextInput name="name" defaultValue={target?.name} required maxLength={100} error={errors.name} />
            </Field>
            {!target && (
              <Field label="Kind" name="kind-choice">
                <Select name="kind-choice" value={kind} onChange={(e) => setKind(e.target.value as 'email' | 'webhook')}>
                  <option value="webhook">Webhook (JSON POST, signed)</option>
                  <option value="email">E-mail over SMTP</option>
                </Select>
              </Field>
            )}
            {kind === 'webhook' ? (
              <>
                <Field label="URL" name="config.url" error={errorAt(errors, 'config.url')}>
                  <TextInput
                    name="config.url"
                    type="url"
                    defaultValue={str('url')}
                    placeholder="https://alerts.example.com/cinderblock"
                    error={errorAt(errors, 'config.url')}
                  />
                </Field>
                {target && <Checkbox name="rotateSecret" label="Generate a new signing secret (the old one stops working)" />}
              </>
            ) : (
              <>
                <div className="grid gap-4 sm:grid-cols-3">
                  <Field label="SMTP server" name="config.host" error={errorAt(errors, 'config.host')}>
                    <TextInput
                      name="config.host"
                      defaultValue={str('host')}
                      placeholder="smtp.example.com"
                      error={errorAt(errors, 'config.host')}
                    />
                  </Field>
                  <Field label="Port" name="config.port" error={errorAt(errors, 'config.port')}>
                    <TextInput
                      name="config.port"
                      inputMode="numeric"
                      defaultValue={str('port', '587')}
                      error={errorAt(errors, 'config.port')}
                    />
                  </Field>
                  <Field label="TLS" name="config.tls" error={errorAt(errors, 'config.tls')}>
                    <Select name="config.tls" defaultValue={str('tls', 'starttls')}>
                      <option value="starttls">STARTTLS (required)</option>
                      <option value="tls">TLS from the start (port 465)</option>
                      <option value="none">None (a local relay only)</option>
                    </Select>
                  </Field>
                </div>
                <div className="grid gap-4 sm:grid-cols-2">
                  <Field label="User" name="config.user" error={errorAt(errors, 'config.user')} hint="Empty: no authentication.">
                    <TextInput name="config.user" defaultValue={str('user')} autoComplete="off" error={errorAt(errors, 'config.user')} />
                  </Field>
                  <Field
                    label="Password"
                    name="password"
                    error={errors.password}
                    hint={target?.hasSecret ? 'Stored. Leave empty to keep it.' : undefined}
                  >
                    <TextInput name="password" type="password" autoComplete="new-password" error={errors.password} />
                  </Field>
                </div>
                <Field label="From" name="config.from" error={errorAt(errors, 'config.from')}>
                  <TextInput
                    name="config.from"
                    type="email"
                    defaultValue={str('from')}
                    placeholder="cinderblock@example.com"
                    error={errorAt(errors, 'config.from')}
                  />
                </Field>
                <Field
                  label="To"
                  name="config.to"
                  error={errorAt(errors, 'config.to')}
                  hint="One or more addresses, separated by commas or spaces."
                >
                  <TextInput
                    name="config.to"
                    defaultValue={Array.isArray(config.to) ? (config.to as string[]).join(', ') : ''}
                    error={errorAt(errors, 'config.to')}
                  />
                </Field>
              </>
            )}
            <fieldset className="space-y-2">
              <legend className="text-sm font-medium text-slate-800">Send these events here</legend>
              {Object.entries(NOTIFICATION_EVENTS).map(([event, label]) => (
                <Checkbox
                  key={event}
                  name="events"
                  id={`events-${target?.id ?? 'new'}-${event}`}
                  value={event}
                  label={label}
                  defaultChecked={target?.events.includes(event)}
                />
              ))}
            </fieldset>
            {target && <Checkbox name="enabled" label="Enabled" defaultChecked={target.enabled} />}
          </>
        )}
      </ActionForm>
    </div>
  );
}
