'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { eventReason, follow, useFollowedNotice } from '@/components/ui/followed-notice';
import { Notice } from '@/components/ui/notice';
import { LocalTime } from '@/components/ui/time';
import { isWorking, StatusBadge, StatusChange } from '@/components/status/status-badge';
import { countOf, formatBytes } from '@/components/ui/format';
import type { ActionResult } from '@/server/action';
import { cancelBackupAction, deleteWithMergeAction, forceDeleteBackupAction } from '@/server/backups/actions';
import { MergeDeleteNotice } from './merge-delete-notice';
import { ExportRecordDialog } from '@/components/records/export-record-dialog';
import { ResetBackupDialog } from '@/components/records/reset-backup-dialog';
import type { BackupDetail } from '@/server/backups/queries';
import { backupKeys, EditBackupDialog, RestoreBackupDialog } from './backup-dialogs';
import { isTransferring, TransferProgress, useTransferRates } from './backup-progress';
import { IntegrityBadge } from './integrity-badge';
import { ChainBreakNotice, IntegrityPanel } from './integrity-panel';
import { BackupSourceCell, deleteRefusal, type BackupLinks, type BackupRowData } from './backup-table';
import { statusLabel } from '@/components/status/status-labels';

type Serialized<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Serialized<U>[]
    : T extends object
      ? { [K in keyof T]: Serialized<T[K]> }
      : T;
type Detail = Serialized<BackupDetail>;
type Dialogs = 'restore' | 'edit' | 'cancel' | 'delete' | 'force' | null;

/**
 * One backup: every field, the chain it belongs to (full → incrementals, each linked), metadata,
 * events and the failure reason, with restore, cancel, edit and delete. Polled every second
 * while it is being created, restored or deleted.
 */
export function BackupDetailView({
  initial,
  links,
  admin = false,
  canWrite,
}: {
  initial: Detail;
  links: BackupLinks;
  admin?: boolean;
  canWrite: boolean;
}) {
  const id = initial.backup.id;
  const router = useRouter();
  const queryClient = useQueryClient();
  const { data = initial, error } = useQuery<Detail>({
    queryKey: backupKeys.detail(id),
    queryFn: async () => {
      const response = await fetch(`/api/backups/${id}`);
      if (response.status === 404) throw new Error('gone');
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    initialData: initial,
    retry: (count, e) => e.message !== 'gone' && count < 3,
    refetchInterval: (q) =>
      q.state.error?.message === 'gone'
        ? false
        : isWorking(q.state.data?.backup.status) || (q.state.data?.pendingJobs ?? 0) > 0
          ? 1000
          : false,
  });
  const b = data.backup;
  const rates = useTransferRates(
    isTransferring(b.status) ? [{ key: `${b.id}:${b.status}`, bytes: b.progressBytes, total: b.progressTotalBytes, at: b.updatedAt }] : [],
  );
  const [dialog, setDialog] = useState<Dialogs>(null);
  const { notice, follow: followJob, show } = useFollowedNotice(data.events);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: backupKeys.all });
  };
  const close = () => setDialog(null);
  const after = async (result: ActionResult) => {
    if (result.ok) show(result.message ? { tone: 'success', text: result.message } : null);
    await refresh();
    return result;
  };
  const cancel = async () => {
    const result = await cancelBackupAction(id);
    if (result.ok) {
      followJob(
        follow(data.events, 'Cancelling: the backup service stops within one object…', {
          restore_cancelled: () => ({
            tone: 'success',
            text: 'The restore was cancelled. The backup is available; the target volume holds partial data.',
          }),
          restore_done: () => ({ tone: 'info', text: 'The restore finished before the cancel reached it.' }),
          restore_failed: (event) => ({ tone: 'error', text: `The restore failed: ${eventReason(event) ?? 'see the events below'}` }),
          create_done: () => ({ tone: 'info', text: 'The backup finished before the cancel reached it.' }),
        }),
      );
    }
    await refresh();
    return result;
  };
  const lastEvent = data.events[0];
  const resetByAdmin = b.status === 'error' && lastEvent?.action === 'reset_status' && lastEvent.toStatus === 'error';
  const refusal = deleteRefusal(b);

  if (error?.message === 'gone') {
    return (
      <Notice tone="info">
        This backup no longer exists: it was deleted or its creation was cancelled.{' '}
        <Link className="underline" href={links.backups}>
          Back to backups
        </Link>
      </Notice>
    );
  }

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <Link href={links.backups} className="text-sm text-slate-500 hover:text-slate-900">
            ← Backups
          </Link>
          <h1 className="mt-1 flex flex-wrap items-center gap-3 text-2xl font-semibold tracking-tight text-slate-900">
            {b.name ?? <span className="italic text-slate-500">unnamed backup</span>}
            <span data-testid="backup-status">
              <StatusBadge status={b.status} title={b.failReason} />
            </span>
            {b.isIncremental ? <Badge tone="blue">incremental</Badge> : <Badge tone="slate">full</Badge>}
          </h1>
          <p className="mt-1 font-mono text-xs text-slate-500">{b.id}</p>
        </div>
        {canWrite && (
          <div className="flex flex-wrap gap-2">
            {isTransferring(b.status) ? (
              <Button variant="secondary" onClick={() => setDialog('cancel')}>
                {b.status === 'restoring' ? 'Cancel restore…' : 'Cancel backup…'}
              </Button>
            ) : (
              <Button
                variant="secondary"
                disabled={b.status !== 'available' || !!data.chainBreak}
                title={data.chainBreak ? 'Damaged: an administrator must reset it first' : undefined}
                onClick={() => setDialog('restore')}
              >
                Restore…
              </Button>
            )}
            <Button variant="secondary" onClick={() => setDialog('edit')}>
              Edit…
            </Button>
            <Button variant="danger" disabled={refusal !== null} title={refusal ?? undefined} onClick={() => setDialog('delete')}>
              Delete…
            </Button>
            {admin && (
              <Button
                variant="danger"
                disabled={b.status === 'restoring'}
                title={b.status === 'restoring' ? 'Cancel the restore first' : undefined}
                onClick={() => setDialog('force')}
              >
                Force delete…
              </Button>
            )}
            {admin && <ResetBackupDialog backupId={b.id} status={b.status} />}
            {admin && b.status === 'available' && <ExportRecordDialog backupId={b.id} name={b.name} />}
          </div>
        )}
      </div>
      {!canWrite && <Notice tone="info">You can read this project&apos;s backups but not change them (reader role).</Notice>}
      {b.failReason && (
        <div data-testid="fail-reason">
          {resetByAdmin ? (
            <Notice tone="info">
              <b>Reset to error</b> by {lastEvent.actorName ?? 'an administrator'}. It can now be deleted, or reset to available after a
              check.
            </Notice>
          ) : (
            <Notice tone="error">
              <b>{b.status === 'error' ? 'Failed:' : 'Last check:'}</b> {b.failReason}
            </Notice>
          )}
        </div>
      )}
      {b.status === 'restoring' && b.restoreVolumeId && (
        <Notice tone="info">
          Restoring onto volume{' '}
          <Link className="underline" href={`${links.volumes}/${b.restoreVolumeId}`}>
            {b.restoreVolumeId.slice(0, 8)}
          </Link>
          . It cannot be used until the restore ends.
        </Notice>
      )}
      {b.status === 'deleting' && <Notice tone="info">Being deleted: the backup service is removing its objects.</Notice>}
      {data.chainBreak && (
        <div data-testid="chain-break">
          <ChainBreakNotice chainBreak={data.chainBreak} backupId={b.id} base={links.backups} />
        </div>
      )}
      {notice && <Notice tone={notice.tone}>{notice.text}</Notice>}

      {isTransferring(b.status) && (
        <Card
          title={b.status === 'restoring' ? 'Restore in progress' : 'Backup in progress'}
          description={
            b.status === 'restoring'
              ? 'Reading the chain, full backup first, and writing the volume.'
              : 'Reading the volume, storing only blocks that are not empty or unchanged.'
          }
        >
          <TransferProgress
            status={b.status}
            bytes={b.progressBytes}
            total={b.progressTotalBytes}
            rate={rates.get(`${b.id}:${b.status}`)}
            queue={b.queue}
          />
          {b.status === 'creating' && <p className="mt-2 text-xs text-slate-500">{formatBytes(b.bytesStored)} stored so far.</p>}
        </Card>
      )}

      <div className="grid items-start gap-6 lg:grid-cols-3">
        <Card title="Details" className="lg:col-span-2">
          <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
            <Prop label="Name">{b.name ?? <span className="text-slate-400">none</span>}</Prop>
            <Prop label="Status">
              <StatusBadge status={b.status} />
            </Prop>
            <Prop label="Description" wide>
              {b.description ?? <span className="text-slate-400">none</span>}
            </Prop>
            <Prop label="Size">
              {b.size} GiB <span className="text-xs text-slate-500">(of the volume when backed up)</span>
            </Prop>
            <Prop label="Bytes stored">
              <span data-testid="bytes-stored">{formatBytes(b.bytesStored)}</span>{' '}
              <span className="text-xs text-slate-500">in {countOf(b.objectCount, 'object')}</span>
            </Prop>
            <Prop label="Progress">
              {formatBytes(b.progressBytes)} of {formatBytes(b.progressTotalBytes)}
            </Prop>
            <Prop label="Type">
              {b.isIncremental ? 'Incremental' : 'Full'}
              {b.hasDependentBackups ? ` · ${countOf(b.numDependentBackups, 'dependent backup')}` : ''}
            </Prop>
            <Prop label="Source">
              <BackupSourceCell row={b} links={links} />
            </Prop>
            <Prop label="Data captured at">
              <LocalTime value={b.dataTimestamp} />
            </Prop>
            <Prop label="Created">
              <LocalTime value={b.createdAt} />
            </Prop>
            <Prop label="Updated">
              <LocalTime value={b.updatedAt} />
            </Prop>
            <Prop label="Availability zone">{b.availabilityZone ?? <span className="text-slate-400">—</span>}</Prop>
            <Prop label="Container">
              <span className="break-all font-mono text-xs">{b.container ?? 'default'}</span>
            </Prop>
            <Prop label="Project">{b.projectName}</Prop>
            {admin && (
              <Prop label="Host">
                <span className="font-mono text-xs">{b.host ?? '—'}</span>
              </Prop>
            )}
            {admin && (
              <Prop label="Service">
                <span className="break-all font-mono text-xs">{b.service ?? '—'}</span>
              </Prop>
            )}
            {b.failReason && (
              <Prop label="Fail reason" wide>
                <span className="text-red-700">{b.failReason}</span>
              </Prop>
            )}
          </dl>
        </Card>

        <Card
          title="Metadata"
          actions={
            canWrite ? (
              <Button size="sm" variant="secondary" onClick={() => setDialog('edit')}>
                Edit
              </Button>
            ) : undefined
          }
        >
          {Object.keys(data.metadata).length === 0 ? (
            <p className="text-sm text-slate-500">No metadata. {canWrite ? 'Add key=value pairs with Edit.' : ''}</p>
          ) : (
            <dl className="space-y-1.5 text-sm" data-testid="backup-metadata">
              {Object.entries(data.metadata).map(([k, v]) => (
                <div key={k} className="flex gap-2">
                  <dt className="shrink-0 font-mono text-xs leading-5 text-slate-500">{k}</dt>
                  <dd className="break-all text-slate-900">{v}</dd>
                </div>
              ))}
            </dl>
          )}
        </Card>
      </div>

      <IntegrityPanel
        backupId={b.id}
        integrity={b.integrity}
        tests={data.restoreTests}
        checks={data.checksUnderWay}
        events={data.events}
        canCheck={canWrite && b.status === 'available'}
        onChanged={refresh}
      />

      <Card
        title="Chain"
        description="A restore reads the full backup, then each incremental up to the one restored. Deleting a backup others depend on merges it into them."
      >
        <BackupChain ancestors={data.ancestors} current={b} dependents={data.dependents} base={links.backups} />
        {b.hasDependentBackups && (
          <p className="mt-3 text-sm text-amber-800">
            {b.numDependentBackups === 1 ? 'An incremental backup depends' : `${b.numDependentBackups} incremental backups depend`} on this
            backup: deleting it merges it into {b.numDependentBackups === 1 ? 'that one' : 'them'} first, so they still restore.
          </p>
        )}
      </Card>

      <Card title="Events" description="Who changed what, newest first.">
        {data.events.length === 0 ? (
          <p className="text-sm text-slate-500">No events.</p>
        ) : (
          <ol className="space-y-2 text-sm" data-testid="backup-events">
            {data.events.map((e) => {
              const reason = (e.detail as { reason?: unknown } | null)?.reason;
              return (
                <li key={e.id} data-testid="event" className="flex flex-wrap items-baseline gap-x-3">
                  <span className="w-44 shrink-0 text-xs text-slate-500">
                    <LocalTime value={e.at} />
                  </span>
                  <span className="font-medium text-slate-900">{e.action.replaceAll('_', ' ')}</span>
                  <StatusChange from={e.fromStatus} to={e.toStatus} className="text-slate-600" />
                  <span className="text-xs text-slate-500">by {e.actorName ?? 'system'}</span>
                  {typeof reason === 'string' && <span className="basis-full pl-47 text-xs text-red-700">{reason}</span>}
                </li>
              );
            })}
          </ol>
        )}
      </Card>

      {dialog === 'restore' && (
        <RestoreBackupDialog
          open
          onClose={close}
          backup={b}
          onDone={(result) => {
            const target = result.ok ? (result.data as { volumeName?: string | null; volumeId?: string } | undefined) : undefined;
            const volume = target?.volumeName ?? target?.volumeId?.slice(0, 8) ?? 'the volume';
            followJob(
              follow(data.events, result.message ?? 'Restoring…', {
                restore_done: () => ({ tone: 'success', text: `Restored to volume ${volume}: it is available.` }),
                restore_failed: (event) => ({ tone: 'error', text: `The restore failed: ${eventReason(event) ?? 'see the events below'}` }),
                restore_abandoned: (event) => ({
                  tone: 'error',
                  text: `The restore stopped: ${eventReason(event) ?? 'the backup service went away'}`,
                }),
                restore_cancelled: () => ({ tone: 'info', text: 'The restore was cancelled.' }),
              }),
            );
            void refresh();
          }}
        />
      )}
      {dialog === 'edit' && <EditBackupDialog open onClose={close} onDone={() => void refresh()} backup={b} metadata={data.metadata} />}
      <ConfirmDialog
        open={dialog === 'cancel'}
        onClose={close}
        title={b.status === 'restoring' ? 'Cancel this restore?' : 'Cancel this backup?'}
        confirmLabel={b.status === 'restoring' ? 'Cancel restore' : 'Cancel backup'}
        onConfirm={cancel}
      >
        {b.status === 'restoring' ? (
          <p>
            The restore stops within one object. A new volume being restored ends in error (delete it); an existing one keeps a partial copy
            and is marked error_restoring until it is restored again or reset. The backup stays available.
          </p>
        ) : (
          <p>
            The backup stops within one object, what it wrote is removed and the backup goes away with its quota. The volume is not
            affected.
          </p>
        )}
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === 'delete'}
        onClose={close}
        title={`Delete backup ${b.name ?? ''}?`}
        confirmLabel="Delete permanently"
        onConfirm={async () => {
          const r = await deleteWithMergeAction(id);
          if (r.ok) {
            await refresh();
            router.push(links.backups);
          }
          return r;
        }}
      >
        {b.hasDependentBackups && <MergeDeleteNotice backup={b} />}
        <p>Deleted backups are not recoverable. Its {b.size} GiB are released from the backup quota.</p>
      </ConfirmDialog>
      {admin && (
        <ConfirmDialog
          open={dialog === 'force'}
          onClose={close}
          title="Force-delete this backup?"
          confirmLabel="Force delete"
          onConfirm={async () => after(await forceDeleteBackupAction(id))}
        >
          <p>
            {b.status === 'creating'
              ? 'The running backup is cancelled: the worker stops within one object and removes what it wrote.'
              : `The backup is deleted whatever its status (now ${statusLabel(b.status)}), objects and all.`}{' '}
            Project {b.projectName} gets its quota back. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

type ChainNode = Pick<BackupRowData, 'id' | 'name' | 'status' | 'isIncremental' | 'bytesStored' | 'createdAt' | 'integrity'>;

/** ancestors (full first) → this backup → the incrementals made from it, each linked. */
function BackupChain({
  ancestors,
  current,
  dependents,
  base,
}: {
  ancestors: ChainNode[];
  current: ChainNode;
  dependents: ChainNode[];
  base: string;
}) {
  const arrow = (
    <span aria-hidden className="self-center px-1 text-lg text-slate-300">
      →
    </span>
  );
  return (
    <ol className="flex flex-wrap items-stretch gap-1" aria-label="Backup chain" data-testid="backup-chain">
      {ancestors.map((a) => (
        <li key={a.id} className="flex items-stretch gap-1">
          <ChainCard node={a} base={base} role="parent" />
          {arrow}
        </li>
      ))}
      <li className="flex items-stretch gap-1">
        <ChainCard node={current} base={base} role="current" />
        {dependents.length > 0 && arrow}
      </li>
      {dependents.length > 0 && (
        <li className="flex flex-col gap-1">
          {dependents.map((d) => (
            <ChainCard key={d.id} node={d} base={base} role="dependent" />
          ))}
        </li>
      )}
    </ol>
  );
}

function ChainCard({ node, base, role }: { node: ChainNode; base: string; role: 'parent' | 'current' | 'dependent' }) {
  const body = (
    <>
      <div className="flex items-center justify-between gap-2 text-[11px] font-medium uppercase tracking-wide text-slate-500">
        <span>{node.isIncremental ? 'incremental' : 'full'}</span>
        <span>{role === 'current' ? 'this backup' : role}</span>
      </div>
      <div className="mt-0.5 truncate font-medium text-slate-900">
        {node.name ?? <span className="italic text-slate-500">unnamed</span>}
      </div>
      <div className="mt-1 flex flex-wrap items-center gap-1.5 text-xs text-slate-500">
        <StatusBadge status={node.status} />
        {node.integrity.state === 'damaged' && <IntegrityBadge integrity={node.integrity} />}
        <span>{formatBytes(node.bytesStored)}</span>
      </div>
      <div className="mt-1 text-[11px] text-slate-400">
        <LocalTime value={node.createdAt} />
      </div>
    </>
  );
  // The chain breaks at a damaged backup: it and what builds on it are refused for restore.
  const damaged = node.integrity.state === 'damaged';
  const frame = `block w-52 rounded-md px-3 py-2 ring-1 ring-inset ${damaged ? 'ring-2 ring-red-500' : ''}`;
  if (role === 'current')
    return (
      <div className={`${frame} bg-brand-50 ${damaged ? '' : 'ring-brand-500'}`} aria-current="true">
        {body}
      </div>
    );
  return (
    <Link
      href={`${base}/${node.id}`}
      className={`${frame} bg-white ${damaged ? '' : 'ring-slate-200'} hover:bg-slate-50 hover:ring-slate-300`}
      data-testid={`chain-${role}`}
    >
      {body}
    </Link>
  );
}

function Prop({ label, children, wide = false }: { label: string; children: ReactNode; wide?: boolean }) {
  return (
    <div className={wide ? 'sm:col-span-2' : undefined}>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-0.5 text-slate-900">{children}</dd>
    </div>
  );
}
