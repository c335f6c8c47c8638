'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { CreateBackupDialog, type BackupSource } from '@/components/backups/backup-dialogs';
import { Button, buttonClass } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { eventReason, follow, useFollowedNotice } from '@/components/ui/followed-notice';
import { Notice } from '@/components/ui/notice';
import { ProgressBar } from '@/components/ui/progress-bar';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { deleteSnapshotAction } from '@/server/snapshots/actions';
import {
  checksumAction,
  deleteVolumeAction,
  detachVolumeAction,
  exportVolumeAction,
  forceDeleteVolumeAction,
} from '@/server/volumes/actions';
import { checkVolumeOperation, type VolumeOperation } from '@/server/volumes/operations';
import type { VolumeDetail } from '@/server/volumes/queries';
import { volumeKeys } from './volume-table';
import { AttachDialog, CreateVolumeDialog, ExtendDialog, ResetVolumeDialog, SnapshotDialog, UploadDialog } from './volume-dialogs';
import { isWorking, StatusBadge, StatusChange, StatusText } from '@/components/status/status-badge';
import { VolumeStatusBadges } from './volume-status-badge';
import { formatBytes } from '@/components/ui/format';
import { jobKindLabel } from '@/components/dashboard/labels';

type Serialized<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Serialized<U>[]
    : T extends object
      ? { [K in keyof T]: Serialized<T[K]> }
      : T;
type Detail = Serialized<VolumeDetail>;
type Dialogs = 'upload' | 'snapshot' | 'extend' | 'attach' | 'detach' | 'delete' | 'reset' | 'force' | 'clone' | 'delete-snapshot' | null;

export function VolumeDetailView({
  initial,
  base,
  admin = false,
  canWrite = true,
}: {
  initial: Detail;
  base: string;
  admin?: boolean;
  canWrite?: boolean;
}) {
  const id = initial.volume.id;
  const router = useRouter();
  const queryClient = useQueryClient();
  const { data = initial, error } = useQuery<Detail>({
    queryKey: volumeKeys.detail(id),
    queryFn: async () => {
      const response = await fetch(`/api/volumes/${id}`);
      if (response.status === 404) throw new Error('gone');
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    initialData: initial,
    retry: (count, e) => e.message !== 'gone' && count < 3,
    refetchInterval: (q) => {
      const d = q.state.data;
      if (!d || q.state.error?.message === 'gone') return false;
      const busy =
        isWorking(d.volume.status) ||
        isWorking(d.volume.backupStatus) ||
        d.jobs.some((j) => j.status === 'queued' || j.status === 'running') ||
        d.snapshots.some((s) => isWorking(s.status));
      return busy ? 1000 : false;
    },
  });
  const [dialog, setDialog] = useState<Dialogs>(null);
  const [cloneFrom, setCloneFrom] = useState<Detail['snapshots'][number] | null>(null);
  const [deletingSnapshot, setDeletingSnapshot] = useState<Detail['snapshots'][number] | null>(null);
  const { notice, follow: followJob, show: setNotice } = useFollowedNotice(data.events);
  const [backupSource, setBackupSource] = useState<BackupSource | null>(null);
  const backupsBase = admin ? '/admin/backups' : '/backups';
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: volumeKeys.all });
  };
  const close = () => setDialog(null);
  const v = data.volume;
  const allowed = (op: VolumeOperation) => checkVolumeOperation(op, v).ok;
  const run = async (call: () => Promise<{ ok: boolean; message?: string }>) => {
    const result = await call();
    // Success shows in place (progress, the checksum, the download link); only a refusal needs words.
    setNotice(result.ok ? null : { tone: 'error', text: result.message ?? 'Failed' });
    await refresh();
  };
  const latestExport = data.jobs.find((j) => j.kind === 'volume_export');
  const runningJobs = data.jobs.filter((j) => j.status === 'queued' || j.status === 'running');
  const checksumRunning = runningJobs.some((j) => j.kind === 'volume_checksum');

  if (error?.message === 'gone') {
    return (
      <Notice tone="info">
        This volume has been deleted.{' '}
        <Link className="underline" href={base}>
          Back to volumes
        </Link>
      </Notice>
    );
  }

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <Link href={base} className="text-sm text-slate-500 hover:text-slate-900">
            ← Volumes
          </Link>
          <h1 className="mt-1 flex items-center gap-3 text-2xl font-semibold tracking-tight text-slate-900">
            {v.name ?? <span className="italic text-slate-500">unnamed volume</span>}
            <span data-testid="volume-status">
              <VolumeStatusBadges status={v.status} backupStatus={v.backupStatus} />
            </span>
          </h1>
          <p className="mt-1 font-mono text-xs text-slate-500">{v.id}</p>
          <Link href={`${backupsBase}?volumeId=${id}`} className="mt-1 inline-block text-sm text-slate-500 hover:text-slate-900">
            Backups of this volume →
          </Link>
        </div>
        <div className="flex flex-wrap gap-2">
          {canWrite && (
            <Button
              variant="secondary"
              disabled={!allowed('backup')}
              title={allowed('backup') ? undefined : (checkVolumeOperation('backup', v) as { reason: string }).reason}
              onClick={() => setBackupSource({ volume: v })}
            >
              Back up…
            </Button>
          )}
          {canWrite && (
            <>
              <Button variant="secondary" disabled={!allowed('upload')} onClick={() => setDialog('upload')}>
                Upload…
              </Button>
              <Button variant="secondary" disabled={!allowed('snapshot_force')} onClick={() => setDialog('snapshot')}>
                Snapshot…
              </Button>
              <Button variant="secondary" disabled={!allowed('extend')} onClick={() => setDialog('extend')}>
                Extend…
              </Button>
              {v.status === 'in-use' ? (
                <Button variant="secondary" disabled={!allowed('detach')} onClick={() => setDialog('detach')}>
                  Detach…
                </Button>
              ) : (
                <Button variant="secondary" disabled={!allowed('attach')} onClick={() => setDialog('attach')}>
                  Attach…
                </Button>
              )}
              <Button variant="danger" disabled={!allowed('delete')} onClick={() => setDialog('delete')}>
                Delete…
              </Button>
            </>
          )}
        </div>
      </div>
      {!canWrite && <Notice tone="info">You can read this project&apos;s volumes but not change them (reader role).</Notice>}
      {v.statusReason && <Notice tone={v.status.startsWith('error') ? 'error' : 'info'}>{v.statusReason}</Notice>}
      {notice && <Notice tone={notice.tone}>{notice.text}</Notice>}

      <div className="grid gap-6 lg:grid-cols-3">
        <Card title="Details" className="lg:col-span-2">
          <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
            <Prop label="Size">{v.size} GiB</Prop>
            <Prop label="Status">
              <StatusBadge status={v.status} />
            </Prop>
            <Prop label="Backup status">
              <span data-testid="backup-status-value">
                {v.backupStatus ? <StatusText status={v.backupStatus} /> : <span className="text-slate-400">none</span>}
              </span>
            </Prop>
            <Prop label="Attach status">
              <StatusText status={v.attachStatus} />
            </Prop>
            <Prop label="Project">{v.projectName}</Prop>
            <Prop label="Host">
              <span className="font-mono text-xs">{v.host ?? '—'}</span>
            </Prop>
            <Prop label="Created">
              <LocalTime value={v.createdAt} />
            </Prop>
            <Prop label="Updated">
              <LocalTime value={v.updatedAt} />
            </Prop>
            {v.sourceSnapshotId && (
              <Prop label="Created from snapshot">
                <span className="font-mono text-xs">{v.sourceSnapshotId}</span>
              </Prop>
            )}
            {v.description && <Prop label="Description">{v.description}</Prop>}
          </dl>
          {admin && (
            <div className="mt-5 flex gap-2 border-t border-slate-100 pt-4">
              <Button size="sm" variant="secondary" onClick={() => setDialog('reset')}>
                Reset state…
              </Button>
              <Button size="sm" variant="danger" onClick={() => setDialog('force')}>
                Force delete…
              </Button>
            </div>
          )}
        </Card>

        <div className="space-y-6">
          <Card title="Checksum" description="SHA-256 of the whole volume, computed by the volume service.">
            <div className="space-y-3">
              <div className="break-all font-mono text-xs text-slate-800" data-testid="volume-checksum">
                {v.checksumSha256 ?? <span className="font-sans text-sm text-slate-400">Not computed yet</span>}
              </div>
              {v.checksumAt && (
                <div className="text-xs text-slate-500">
                  Computed <LocalTime value={v.checksumAt} />
                </div>
              )}
              <Button
                size="sm"
                variant="secondary"
                disabled={checksumRunning || !allowed('checksum')}
                onClick={() => run(() => checksumAction(id))}
              >
                {checksumRunning ? 'Computing…' : v.checksumSha256 ? 'Recompute SHA-256' : 'Compute SHA-256'}
              </Button>
            </div>
          </Card>
          <Card title="Download" description="The whole volume as a raw image file.">
            <div className="space-y-3">
              {latestExport?.status === 'succeeded' && (
                <a className={buttonClass('primary', 'sm')} href={`/api/volumes/${id}/download?job=${latestExport.id}`} download>
                  Download image ({formatBytes(Number((latestExport.result as { bytes?: number } | null)?.bytes ?? 0))})
                </a>
              )}
              {latestExport && (latestExport.status === 'queued' || latestExport.status === 'running') && (
                <p className="text-sm text-slate-500">Preparing the download…</p>
              )}
              {latestExport?.status === 'failed' && <Notice tone="error">{latestExport.error}</Notice>}
              <div>
                <Button
                  size="sm"
                  variant="secondary"
                  disabled={!allowed('download') || latestExport?.status === 'running' || latestExport?.status === 'queued'}
                  onClick={() => run(() => exportVolumeAction(id))}
                >
                  {latestExport?.status === 'succeeded' ? 'Prepare a fresh copy' : 'Prepare download'}
                </Button>
              </div>
            </div>
          </Card>
        </div>
      </div>

      {runningJobs.length > 0 && (
        <Card title="Work in progress">
          <ul className="space-y-3">
            {runningJobs.map((j) => {
              const progress = j.progress as { doneBytes?: number; totalBytes?: number } | null;
              return (
                <li key={j.id} className="text-sm" data-testid="job-progress">
                  <div className="mb-1 flex justify-between">
                    <span>
                      {jobKindLabel(j.kind)} · <StatusText status={j.status} />
                    </span>
                    {progress?.totalBytes ? (
                      <span className="text-slate-500">
                        {formatBytes(progress.doneBytes ?? 0)} of {formatBytes(progress.totalBytes)}
                      </span>
                    ) : null}
                  </div>
                  {j.queue ? (
                    <p className="text-xs text-slate-500" data-testid="job-queued" data-reason={j.queue.reason}>
                      Queued: position {j.queue.position}, {j.queue.waiting}
                    </p>
                  ) : (
                    <ProgressBar
                      value={progress?.doneBytes ?? 0}
                      max={progress?.totalBytes ?? 1}
                      label={`${jobKindLabel(j.kind)} progress`}
                    />
                  )}
                </li>
              );
            })}
          </ul>
        </Card>
      )}

      <Card title="Attachments">
        {data.attachments.length === 0 ? (
          <p className="text-sm text-slate-500">Not attached to any instance.</p>
        ) : (
          <Table label="Attachments">
            <THead>
              <Th>Instance</Th>
              <Th>Mount point</Th>
              <Th>Status</Th>
              <Th>Attached</Th>
            </THead>
            <TBody>
              {data.attachments.map((a) => (
                <tr key={a.id}>
                  <Td className="font-medium text-slate-900">{a.instanceName}</Td>
                  <Td className="font-mono text-xs">{a.mountpoint}</Td>
                  <Td>
                    <StatusText status={a.attachStatus} />
                  </Td>
                  <Td>
                    <LocalTime value={a.attachedAt} />
                  </Td>
                </tr>
              ))}
            </TBody>
          </Table>
        )}
      </Card>

      <Card
        title="Snapshots"
        actions={
          canWrite ? (
            <Button size="sm" variant="secondary" disabled={!allowed('snapshot_force')} onClick={() => setDialog('snapshot')}>
              Create snapshot
            </Button>
          ) : undefined
        }
      >
        {data.snapshots.length === 0 ? (
          <p className="text-sm text-slate-500">No snapshots. A snapshot is a point-in-time copy you can create new volumes from.</p>
        ) : (
          <Table label="Snapshots of this volume">
            <THead>
              <Th>Name</Th>
              <Th>Size</Th>
              <Th>Status</Th>
              <Th>Created</Th>
              {canWrite && <Th className="text-right">Actions</Th>}
            </THead>
            <TBody>
              {data.snapshots.map((s) => (
                <tr key={s.id} data-testid="snapshot-row">
                  <Td>
                    <div className="font-medium text-slate-900">{s.name ?? <span className="italic text-slate-500">unnamed</span>}</div>
                    <div>
                      <ShortId id={s.id} />
                    </div>
                  </Td>
                  <Td>{s.size} GiB</Td>
                  <Td>
                    <StatusBadge status={s.status} title={s.statusReason} />
                    {s.temporary && <span className="ml-1 text-xs text-slate-500">(temporary)</span>}
                  </Td>
                  <Td>
                    <LocalTime value={s.createdAt} />
                  </Td>
                  {canWrite && (
                    <Td className="text-right">
                      <div className="flex flex-col items-end gap-1">
                        <Button
                          size="sm"
                          variant="secondary"
                          disabled={s.status !== 'available'}
                          onClick={() => {
                            setCloneFrom(s);
                            setDialog('clone');
                          }}
                        >
                          New volume…
                        </Button>
                        {!s.temporary && (
                          <Button
                            size="sm"
                            variant="secondary"
                            disabled={s.status !== 'available' || s.backupStatus === 'backing-up'}
                            onClick={() => setBackupSource({ volume: v, snapshot: s })}
                          >
                            Back up…
                          </Button>
                        )}
                        <Button
                          size="sm"
                          variant="ghost"
                          disabled={!['available', 'error', 'error_deleting'].includes(s.status)}
                          onClick={() => {
                            setDeletingSnapshot(s);
                            setDialog('delete-snapshot');
                          }}
                        >
                          Delete…
                        </Button>
                      </div>
                    </Td>
                  )}
                </tr>
              ))}
            </TBody>
          </Table>
        )}
      </Card>

      <Card title="Events" description="Who changed what, newest first.">
        {data.events.length === 0 ? (
          <p className="text-sm text-slate-500">No events.</p>
        ) : (
          <ol className="space-y-2 text-sm" data-testid="volume-events">
            {data.events.map((e) => (
              <li key={e.id} data-testid="event" className="flex flex-wrap items-baseline gap-x-3">
                <span className="w-44 shrink-0 text-xs text-slate-500">
                  <LocalTime value={e.at} />
                </span>
                <span className="font-medium text-slate-900">{e.action.replaceAll('_', ' ')}</span>
                <StatusChange from={e.fromStatus} to={e.toStatus} className="text-slate-600" />
                <span className="text-xs text-slate-500">by {e.actorName ?? 'system'}</span>
              </li>
            ))}
          </ol>
        )}
      </Card>

      <UploadDialog
        open={dialog === 'upload'}
        onClose={close}
        volume={v}
        onDone={() => {
          followJob(
            follow(data.events, 'Upload received; the volume service is writing it…', {
              upload_done: () => ({ tone: 'success', text: 'The upload was written to the volume.' }),
              upload_failed: (event) => ({
                tone: 'error',
                text: `The upload was not written: ${eventReason(event) ?? 'see the events below'}`,
              }),
              job_failed: (event) =>
                (event.detail as { kind?: string } | null)?.kind === 'volume_write_image'
                  ? { tone: 'error', text: `Writing the upload failed: ${eventReason(event) ?? 'see the events below'}` }
                  : null,
            }),
          );
          void refresh();
        }}
      />
      {backupSource && (
        <CreateBackupDialog
          open
          admin={admin}
          source={backupSource}
          onClose={() => setBackupSource(null)}
          onDone={(started) => {
            setNotice({
              tone: 'success',
              text: (
                <>
                  {started.message}.{' '}
                  <Link className="underline" href={`${backupsBase}/${started.id}`}>
                    Watch its progress
                  </Link>
                </>
              ),
            });
            void refresh();
          }}
        />
      )}
      <SnapshotDialog open={dialog === 'snapshot'} onClose={close} onDone={refresh} volume={v} />
      <ExtendDialog open={dialog === 'extend'} onClose={close} onDone={refresh} volume={v} />
      <AttachDialog open={dialog === 'attach'} onClose={close} onDone={refresh} volumeId={id} />
      {cloneFrom && (
        <CreateVolumeDialog
          open={dialog === 'clone'}
          onClose={close}
          onDone={refresh}
          projectId={v.projectId}
          snapshots={[]}
          fromSnapshot={cloneFrom}
        />
      )}
      {admin && <ResetVolumeDialog open={dialog === 'reset'} onClose={close} onDone={refresh} volume={v} />}
      <ConfirmDialog
        open={dialog === 'detach'}
        onClose={close}
        title="Detach volume?"
        confirmLabel="Detach"
        tone="primary"
        onConfirm={async () => {
          const r = await detachVolumeAction(id);
          await refresh();
          return r;
        }}
      >
        <p>
          Detach from {data.attachments.map((a) => a.instanceName).join(', ') || 'its instance'}. Make sure nothing on the instance is still
          writing to it.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === 'delete-snapshot' && !!deletingSnapshot}
        onClose={close}
        title={`Delete snapshot ${deletingSnapshot?.name ?? deletingSnapshot?.id.slice(0, 8) ?? ''}?`}
        confirmLabel="Delete snapshot"
        onConfirm={async () => {
          const r = await deleteSnapshotAction(deletingSnapshot!.id);
          await refresh();
          return r;
        }}
      >
        <p>
          The snapshot {deletingSnapshot?.name ?? ''} ({deletingSnapshot?.id.slice(0, 8)}, {deletingSnapshot?.size} GiB) is destroyed and
          cannot be recovered. Volumes made from it and backups of it are kept.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === 'delete'}
        onClose={close}
        title={`Delete ${v.name ?? 'this volume'}?`}
        confirmLabel="Delete permanently"
        onConfirm={async () => {
          const r = await deleteVolumeAction(id);
          if (r.ok) {
            await refresh();
            router.push(base);
          }
          return r;
        }}
      >
        <p>All {v.size} GiB of data on this volume is destroyed and cannot be recovered. Backups of it are kept.</p>
      </ConfirmDialog>
      {admin && (
        <ConfirmDialog
          open={dialog === 'force'}
          onClose={close}
          title="Force-delete this volume?"
          confirmLabel="Force delete"
          onConfirm={async () => {
            const r = await forceDeleteVolumeAction(id);
            if (r.ok) {
              await refresh();
              router.push(base);
            }
            return r;
          }}
        >
          <p>Deletes the volume whatever its status, ending its attachments and clearing its backup status. Its data is destroyed.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function Prop({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-0.5 text-slate-900">{children}</dd>
    </div>
  );
}
