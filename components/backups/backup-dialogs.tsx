'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ActionForm } from '@/components/ui/action-form';
import { Dialog } from '@/components/ui/dialog';
import { Checkbox, Field, Select, TextArea, TextInput } from '@/components/ui/field';
import { Notice } from '@/components/ui/notice';
import type { ActionResult } from '@/server/action';
import { createBackupAction, restoreBackupAction, updateBackupAction } from '@/server/backups/actions';
import { statusLabel } from '@/components/status/status-labels';
import { countOf } from '@/components/ui/format';

/** What a backup is taken of: a volume, or one of its snapshots. */
export interface BackupSource {
  volume: { id: string; name: string | null; status: string; size: number; projectId: string; projectName?: string };
  snapshot?: { id: string; name: string | null };
}

export const backupKeys = {
  all: ['backups'] as const,
  list: (query: Record<string, string | undefined>) => ['backups', 'list', query] as const,
  detail: (id: string) => ['backups', 'detail', id] as const,
  hasAvailable: (volumeId: string) => ['backups', 'has-available', volumeId] as const,
  targets: (id: string) => ['backups', 'targets', id] as const,
};

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

/** `key=value` lines, the way the metadata field reads them. */
export function metadataText(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

/**
 * "Back up": name, description, container, metadata; "Incremental" only when the volume already
 * has an available backup; force set for an attached volume (and said so). An administrator
 * backing up another project's volume acts for that project: the backup is that project's.
 */
export function CreateBackupDialog({
  open,
  onClose,
  onDone,
  source,
  admin = false,
}: {
  open: boolean;
  onClose: () => void;
  onDone: (started: { id: string; message: string }) => void;
  source: BackupSource;
  admin?: boolean;
}) {
  const { volume, snapshot } = source;
  const { data: hasAvailable } = useQuery({
    queryKey: backupKeys.hasAvailable(volume.id),
    queryFn: async () =>
      (
        await getJson<{ total: number }>(
          `/api/backups?${new URLSearchParams({ volumeId: volume.id, status: 'available', pageSize: '1', projectId: volume.projectId })}`,
        )
      ).total > 0,
    enabled: open,
  });
  const inUse = !snapshot && volume.status === 'in-use';
  const what = snapshot ? `snapshot ${snapshot.name ?? snapshot.id.slice(0, 8)}` : `volume ${volume.name ?? volume.id.slice(0, 8)}`;
  return (
    <Dialog open={open} onClose={onClose} title={`Back up ${what}`}>
      <ActionForm
        action={createBackupAction}
        submitLabel="Start backup"
        pendingLabel="Starting…"
        onSuccess={(result) => {
          if (result.ok) onDone({ id: (result.data as { id: string }).id, message: result.message ?? 'Backup started' });
          onClose();
        }}
      >
        {(errors) => (
          <>
            <input type="hidden" name="volumeId" value={volume.id} />
            {snapshot && <input type="hidden" name="snapshotId" value={snapshot.id} />}
            {admin && <input type="hidden" name="projectId" value={volume.projectId} />}
            {inUse && <input type="hidden" name="force" value="true" />}
            <p className="text-sm text-slate-600">
              A copy of all {volume.size} GiB{snapshot ? ` of the snapshot (volume ${volume.name ?? volume.id.slice(0, 8)})` : ''} in the
              backup repository. Empty space costs almost nothing to store; the backup quota counts {volume.size} GiB.
            </p>
            {admin && (
              <Notice tone="info">
                Acting for project <b>{volume.projectName ?? volume.projectId}</b>: the backup belongs to that project and counts against
                its quota.
              </Notice>
            )}
            {inUse && (
              <Notice tone="info">
                This volume is attached to an instance, so it is backed up from a temporary snapshot taken now (force is set for you). The
                copy is crash-consistent: like a power cut, not a clean shutdown. The volume stays usable meanwhile.
              </Notice>
            )}
            {errors.force && (
              <p className="text-sm text-red-600" role="alert">
                {errors.force}
              </p>
            )}
            <Field label="Name" name="name" error={errors.name} hint="Optional; up to 255 characters.">
              <TextInput name="name" maxLength={300} placeholder="e.g. nightly-2024-05-01" error={errors.name} autoFocus />
            </Field>
            <Field label="Description" name="description" error={errors.description}>
              <TextArea name="description" rows={2} error={errors.description} />
            </Field>
            {hasAvailable && (
              <div className="space-y-1">
                <Checkbox name="incremental" label="Incremental: store only what changed since the newest available backup" />
                {errors.incremental ? (
                  <p className="text-sm text-red-600" role="alert">
                    {errors.incremental}
                  </p>
                ) : (
                  <p className="text-xs text-slate-500">
                    Faster and smaller. It depends on its parent: the parent cannot be deleted while this one exists.
                  </p>
                )}
              </div>
            )}
            {hasAvailable === false && (
              <p className="text-xs text-slate-500">
                This is the volume&apos;s first available backup, so it is a full one; later backups can be incremental.
              </p>
            )}
            {errors.snapshotId && (
              <p className="text-sm text-red-600" role="alert">
                {errors.snapshotId}
              </p>
            )}
            <Field
              label="Container"
              name="container"
              error={errors.container}
              hint={'Optional: a directory or bucket in the repository, kept as you write it (no absolute paths or "..").'}
            >
              <TextInput name="container" maxLength={300} placeholder="default" error={errors.container} />
            </Field>
            <Field label="Metadata" name="metadata" error={errors.metadata} hint="Optional: one key=value per line.">
              <TextArea name="metadata" rows={2} placeholder={'app=billing\nretain=30d'} error={errors.metadata} />
            </Field>
          </>
        )}
      </ActionForm>
    </Dialog>
  );
}

interface RestoreTarget {
  id: string;
  name: string | null;
  size: number;
  status: string;
  createdAt: string;
}

/** A name no existing volume is likely to have: `<name>-restored-<YYYY-MM-DD>`. */
export function restoredVolumeName(backup: { name: string | null; id: string }, today = new Date()): string {
  return `${backup.name ?? `backup-${backup.id.slice(0, 8)}`}-restored-${today.toISOString().slice(0, 10)}`;
}

/** Name, short id, size and status: three volumes called "vol1" still look different. */
function targetLabel(volume: RestoreTarget): string {
  return `${volume.name ?? 'unnamed'} · ${volume.id.slice(0, 8)} · ${volume.size} GiB · ${statusLabel(volume.status)}`;
}

/** Restore to a new volume (optionally named) or onto an eligible existing one. */
export function RestoreBackupDialog({
  open,
  onClose,
  onDone,
  backup,
}: {
  open: boolean;
  onClose: () => void;
  onDone: (result: ActionResult) => void;
  backup: { id: string; name: string | null; size: number };
}) {
  const [target, setTarget] = useState('new');
  const overwriting = target !== 'new';
  const { data: targets, isPending } = useQuery({
    queryKey: backupKeys.targets(backup.id),
    queryFn: () => getJson<RestoreTarget[]>(`/api/backups/${backup.id}/targets`),
    enabled: open,
  });
  const close = () => {
    setTarget('new');
    onClose();
  };
  return (
    <Dialog open={open} onClose={close} title={`Restore backup ${backup.name ?? backup.id.slice(0, 8)}`}>
      <ActionForm
        action={restoreBackupAction}
        submitLabel={overwriting ? 'Overwrite and restore' : 'Restore'}
        variant={overwriting ? 'danger' : 'primary'}
        pendingLabel="Starting restore…"
        onSuccess={(result) => {
          onDone(result);
          close();
        }}
      >
        {(errors) => (
          <>
            <input type="hidden" name="id" value={backup.id} />
            <Field
              label="Restore to"
              name="target"
              error={errors.target ?? errors.volumeId}
              hint={
                isPending
                  ? 'Looking for eligible volumes…'
                  : targets?.length
                    ? `${countOf(targets.length, 'existing volume')} can take it.`
                    : 'No existing volume can take it, so a new one will be made.'
              }
            >
              <Select name="target" value={target} onChange={(e) => setTarget(e.target.value)} error={errors.target ?? errors.volumeId}>
                <option value="new">A new volume of {backup.size} GiB</option>
                {targets?.length ? (
                  <optgroup label="Overwrite an existing volume (its data is destroyed)">
                    {targets.map((v) => (
                      <option key={v.id} value={v.id}>
                        {targetLabel(v)}
                      </option>
                    ))}
                  </optgroup>
                ) : null}
              </Select>
            </Field>
            {target === 'new' ? (
              <Field label="New volume name" name="name" error={errors.name} hint="A new volume of its own; change the name if you like.">
                <TextInput name="name" maxLength={300} defaultValue={restoredVolumeName(backup)} error={errors.name} autoFocus />
              </Field>
            ) : (
              <Notice tone="error">
                Everything on volume <b>{targets?.find((v) => v.id === target)?.name ?? target.slice(0, 8)}</b> ({target.slice(0, 8)}) is
                overwritten with the backup&apos;s data and cannot be recovered. It cannot be attached or used until the restore ends.
              </Notice>
            )}
            <p className="text-xs text-slate-500">
              An existing volume qualifies when it is available (not attached), not being backed up or restored, and at least {backup.size}{' '}
              GiB, the size of the backed-up volume. A new volume counts {backup.size} GiB against the project&apos;s volume quota.
            </p>
          </>
        )}
      </ActionForm>
    </Dialog>
  );
}

/** Name, description and metadata; the metadata replaces what was there. */
export function EditBackupDialog({
  open,
  onClose,
  onDone,
  backup,
  metadata,
}: {
  open: boolean;
  onClose: () => void;
  onDone: () => void;
  backup: { id: string; name: string | null; description: string | null };
  metadata: Record<string, string>;
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Edit backup">
      <ActionForm
        action={updateBackupAction}
        submitLabel="Save"
        pendingLabel="Saving…"
        onSuccess={() => {
          onDone();
          onClose();
        }}
      >
        {(errors) => (
          <>
            <input type="hidden" name="id" value={backup.id} />
            <Field label="Name" name="name" error={errors.name}>
              <TextInput name="name" maxLength={300} defaultValue={backup.name ?? ''} error={errors.name} autoFocus />
            </Field>
            <Field label="Description" name="description" error={errors.description}>
              <TextArea name="description" rows={2} defaultValue={backup.description ?? ''} error={errors.description} />
            </Field>
            <Field label="Metadata" name="metadata" error={errors.metadata} hint="One key=value per line; remove a line to remove the key.">
              <TextArea name="metadata" rows={4} defaultValue={metadataText(metadata)} error={errors.metadata} />
            </Field>
          </>
        )}
      </ActionForm>
    </Dialog>
  );
}
