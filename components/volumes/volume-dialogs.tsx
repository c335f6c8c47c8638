'use client';

import { useState } from 'react';
import { ActionForm } from '@/components/ui/action-form';
import { Button, buttonClass } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Checkbox, Field, Select, TextArea, TextInput } from '@/components/ui/field';
import { Notice } from '@/components/ui/notice';
import { ProgressBar } from '@/components/ui/progress-bar';
import { createSnapshotAction } from '@/server/snapshots/actions';
import { attachVolumeAction, createVolumeAction, extendVolumeAction, resetVolumeAction } from '@/server/volumes/actions';
import { formatBytes } from '@/components/ui/format';
import { statusLabel } from '@/components/status/status-labels';

export interface SnapshotChoice {
  id: string;
  name: string | null;
  size: number;
}

export function CreateVolumeDialog({
  open,
  onClose,
  onDone,
  projectId,
  snapshots,
  fromSnapshot,
}: {
  open: boolean;
  onClose: () => void;
  onDone: () => void;
  projectId: string;
  snapshots: SnapshotChoice[];
  fromSnapshot?: SnapshotChoice;
}) {
  const [source, setSource] = useState(fromSnapshot?.id ?? '');
  const chosen = snapshots.find((s) => s.id === source) ?? fromSnapshot;
  return (
    <Dialog open={open} onClose={onClose} title={fromSnapshot ? `New volume from ${fromSnapshot.name ?? 'snapshot'}` : 'Create volume'}>
      <ActionForm
        action={createVolumeAction}
        submitLabel="Create volume"
        pendingLabel="Creating…"
        onSuccess={() => {
          onDone();
          onClose();
        }}
      >
        {(errors) => (
          <>
            <input type="hidden" name="projectId" value={projectId} />
            <Field label="Name" name="name" error={errors.name} hint="Optional; up to 255 characters.">
              <TextInput name="name" maxLength={300} placeholder="e.g. db-data" error={errors.name} autoFocus />
            </Field>
            <Field
              label="Source"
              name="sourceSnapshotId"
              error={errors.sourceSnapshotId}
              hint="Start empty, or as a copy of a snapshot (sparse: only written blocks take space)."
            >
              <Select name="sourceSnapshotId" value={source} onChange={(e) => setSource(e.target.value)} error={errors.sourceSnapshotId}>
                <option value="">Empty volume</option>
                {fromSnapshot && !snapshots.some((s) => s.id === fromSnapshot.id) && (
                  <option value={fromSnapshot.id}>
                    {fromSnapshot.name ?? fromSnapshot.id} ({fromSnapshot.size} GiB)
                  </option>
                )}
                {snapshots.map((s) => (
                  <option key={s.id} value={s.id}>
                    Snapshot {s.name ?? s.id.slice(0, 8)} ({s.size} GiB)
                  </option>
                ))}
              </Select>
            </Field>
            <Field
              label="Size (GiB)"
              name="size"
              error={errors.size}
              hint={chosen ? `At least ${chosen.size} GiB; leave empty for the snapshot's size.` : 'A whole number of GiB.'}
            >
              <TextInput name="size" inputMode="numeric" placeholder={chosen ? String(chosen.size) : '10'} error={errors.size} />
            </Field>
            <Field label="Description" name="description" error={errors.description}>
              <TextArea name="description" error={errors.description} />
            </Field>
          </>
        )}
      </ActionForm>
    </Dialog>
  );
}

export function ExtendDialog({
  open,
  onClose,
  onDone,
  volume,
}: {
  open: boolean;
  onClose: () => void;
  onDone: () => void;
  volume: { id: string; size: number };
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Extend volume">
      <ActionForm
        action={extendVolumeAction}
        submitLabel="Extend"
        pendingLabel="Extending…"
        onSuccess={() => {
          onDone();
          onClose();
        }}
      >
        {(errors) => (
          <>
            <input type="hidden" name="id" value={volume.id} />
            <p className="text-sm text-slate-600">
              Volumes only grow. The extra space is charged to the project&apos;s gigabytes quota now.
            </p>
            <Field label="New size (GiB)" name="newSize" error={errors.newSize ?? errors.form} hint={`Currently ${volume.size} GiB.`}>
              <TextInput name="newSize" inputMode="numeric" defaultValue={volume.size + 1} error={errors.newSize} autoFocus />
            </Field>
          </>
        )}
      </ActionForm>
    </Dialog>
  );
}

export function AttachDialog({
  open,
  onClose,
  onDone,
  volumeId,
}: {
  open: boolean;
  onClose: () => void;
  onDone: () => void;
  volumeId: string;
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Attach to an instance">
      <ActionForm
        action={attachVolumeAction}
        submitLabel="Attach"
        pendingLabel="Attaching…"
        onSuccess={() => {
          onDone();
          onClose();
        }}
      >
        {(errors) => (
          <>
            <input type="hidden" name="id" value={volumeId} />
            <Field label="Instance" name="instanceName" error={errors.instanceName} hint="The name of the server that uses this volume.">
              <TextInput name="instanceName" placeholder="web-1" error={errors.instanceName} autoFocus />
            </Field>
            <Field label="Mount point" name="mountpoint" error={errors.mountpoint} hint="Optional; defaults to /dev/vdb.">
              <TextInput name="mountpoint" placeholder="/dev/vdb" error={errors.mountpoint} />
            </Field>
          </>
        )}
      </ActionForm>
    </Dialog>
  );
}

export function SnapshotDialog({
  open,
  onClose,
  onDone,
  volume,
}: {
  open: boolean;
  onClose: () => void;
  onDone: () => void;
  volume: { id: string; status: string; size: number };
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Create snapshot">
      <ActionForm
        action={createSnapshotAction}
        submitLabel="Create snapshot"
        pendingLabel="Creating…"
        onSuccess={() => {
          onDone();
          onClose();
        }}
      >
        {(errors) => (
          <>
            <input type="hidden" name="volumeId" value={volume.id} />
            <p className="text-sm text-slate-600">
              A point-in-time copy of the whole volume. It counts {volume.size} GiB against the gigabytes quota.
            </p>
            <Field label="Name" name="name" error={errors.name}>
              <TextInput name="name" maxLength={300} placeholder="e.g. before-upgrade" error={errors.name} autoFocus />
            </Field>
            <Field label="Description" name="description" error={errors.description}>
              <TextArea name="description" error={errors.description} />
            </Field>
            {volume.status === 'in-use' && (
              <div className="space-y-1">
                <Checkbox name="force" label="Force: snapshot while attached (crash-consistent)" />
                {errors.force && (
                  <p className="text-sm text-red-600" role="alert">
                    {errors.force}
                  </p>
                )}
              </div>
            )}
          </>
        )}
      </ActionForm>
    </Dialog>
  );
}

/** Streams a file to the upload route with progress; the worker then writes it onto the volume. */
export function UploadDialog({
  open,
  onClose,
  onDone,
  volume,
}: {
  open: boolean;
  onClose: () => void;
  onDone: () => void;
  volume: { id: string; size: number; name: string | null };
}) {
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const limit = volume.size * 1024 ** 3;
  const reset = () => {
    setFile(null);
    setError(undefined);
    setFormError(undefined);
    setProgress(null);
  };
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!file) return setError('Choose a file to upload');
    if (file.size > limit) return setError(`The file is larger than the volume: at most ${volume.size} GiB fits.`);
    setError(undefined);
    setFormError(undefined);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/volumes/${volume.id}/upload`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-file-name', encodeURIComponent(file.name));
    xhr.upload.onprogress = (ev) => setProgress({ loaded: ev.loaded, total: ev.total || file.size });
    xhr.onerror = () => {
      setProgress(null);
      setFormError('The upload was cut off; nothing was written. Check your connection and try again.');
    };
    xhr.onload = () => {
      setProgress(null);
      let body: { error?: string; fieldErrors?: Record<string, string> } = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        reset();
        onDone();
        onClose();
        return;
      }
      if (body.fieldErrors?.file) setError(body.error ?? body.fieldErrors.file);
      else setFormError(body.error ?? `Upload failed (HTTP ${xhr.status})`);
    };
    setProgress({ loaded: 0, total: file.size });
    xhr.send(file);
  };
  return (
    <Dialog
      open={open}
      onClose={() => {
        if (!progress) {
          reset();
          onClose();
        }
      }}
      title="Upload an image"
    >
      <form className="space-y-4" onSubmit={submit} noValidate>
        <p className="text-sm text-slate-600">
          The file is written at the start of the volume and the rest is zeroed. Everything on <b>{volume.name ?? volume.id}</b> is
          replaced.
        </p>
        <Field label="File" name="file" error={error} hint={`A disk image or any file up to ${volume.size} GiB.`}>
          <input
            id="file"
            name="file"
            type="file"
            aria-invalid={error ? true : undefined}
            className="block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-2 file:text-sm file:font-medium hover:file:bg-slate-200"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setError(undefined);
            }}
          />
        </Field>
        {file && (
          <p className="text-xs text-slate-500">
            {file.name}: {formatBytes(file.size)}
          </p>
        )}
        {progress && (
          <div className="space-y-1">
            <ProgressBar value={progress.loaded} max={progress.total} label="Upload progress" />
            <p className="text-xs text-slate-500">
              {formatBytes(progress.loaded)} of {formatBytes(progress.total)} sent
            </p>
          </div>
        )}
        {formError && <Notice tone="error">{formError}</Notice>}
        <div className="flex justify-end gap-2">
          <Button
            variant="secondary"
            onClick={() => {
              reset();
              onClose();
            }}
            disabled={!!progress}
          >
            Cancel
          </Button>
          <button type="submit" className={buttonClass('primary')} disabled={!!progress}>
            {progress ? 'Uploading…' : 'Upload'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The states an administrator may reset a volume to, and what each one lets happen next. */
const VOLUME_STATUSES: [string, string][] = [
  ['available', 'usable: attach, snapshot, back up, extend, delete'],
  ['error', 'unusable; can only be deleted'],
  ['in-use', 'attached (needs an attachment)'],
  ['creating', 'waiting for the volume service'],
  ['attaching', 'an attach in progress'],
  ['detaching', 'a detach in progress'],
  ['extending', 'an extend in progress'],
  ['error_deleting', 'a delete failed; delete again or force-delete'],
  ['error_extending', 'an extend failed; can be deleted'],
  ['maintenance', 'blocked for every operation'],
];
const BACKUP_STATUS_CHOICES: [string, string][] = [
  ['none', 'no backup work (clears a stuck one)'],
  ['backing-up', 'blocks delete, a second backup, upload, restore-into'],
  ['error_backing-up', 'a backup failed; blocks nothing'],
  ['restoring-backup', 'blocks every other operation'],
  ['error_restoring', 'partial data; blocks attach, snapshot, backup, extend'],
];

export function ResetVolumeDialog({
  open,
  onClose,
  onDone,
  volume,
}: {
  open: boolean;
  onClose: () => void;
  onDone: () => void;
  volume: { id: string; status: string; attachStatus: string; backupStatus: string | null };
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Reset volume state">
      <ActionForm
        action={resetVolumeAction}
        submitLabel="Reset state"
        pendingLabel="Resetting…"
        onSuccess={() => {
          onDone();
          onClose();
        }}
      >
        {(errors) => (
          <>
            <input type="hidden" name="id" value={volume.id} />
            <p className="text-sm text-slate-600">
              Only the database changes; nothing on the backend is touched. Use it for a volume stuck after a worker failure.
            </p>
            <Field label="Status" name="status" error={errors.status} hint={`Now ${statusLabel(volume.status)}.`}>
              <Select name="status" defaultValue="" error={errors.status}>
                <option value="">Leave as is</option>
                {VOLUME_STATUSES.map(([s, meaning]) => (
                  <option key={s} value={s}>
                    {statusLabel(s)} — {meaning}
                  </option>
                ))}
              </Select>
            </Field>
            <Field
              label="Attach status"
              name="attachStatus"
              error={errors.attachStatus}
              hint={`Now ${statusLabel(volume.attachStatus)}. Detached also ends every attachment.`}
            >
              <Select name="attachStatus" defaultValue="" error={errors.attachStatus}>
                <option value="">Leave as is</option>
                <option value="attached">{statusLabel('attached')}</option>
                <option value="detached">{statusLabel('detached')}</option>
              </Select>
            </Field>
            <Field
              label="Backup status"
              name="backupStatus"
              error={errors.backupStatus}
              hint={`Now ${volume.backupStatus ? statusLabel(volume.backupStatus) : 'none'}.`}
            >
              <Select name="backupStatus" defaultValue="" error={errors.backupStatus}>
                <option value="">Leave as is</option>
                {BACKUP_STATUS_CHOICES.map(([s, meaning]) => (
                  <option key={s} value={s}>
                    {s === 'none' ? 'None' : statusLabel(s)} — {meaning}
                  </option>
                ))}
              </Select>
            </Field>
          </>
        )}
      </ActionForm>
    </Dialog>
  );
}
