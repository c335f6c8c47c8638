'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/card';
import { bulkOutcome } from '@/components/ui/bulk-outcome';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { RowMenu } from '@/components/ui/row-menu';
import { listHref } from '@/components/ui/list/list-url';
import { SortHeader } from '@/components/ui/list/sort-header';
import { Notice } from '@/components/ui/notice';
import { Pagination } from '@/components/ui/pagination';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { isWorking, StatusBadge } from '@/components/status/status-badge';
import { countOf, formatBytes } from '@/components/ui/format';
import type { ActionResult } from '@/server/action';
import { cancelBackupAction, deleteBackupsAction, deleteWithMergeAction, forceDeleteBackupAction } from '@/server/backups/actions';
import { MergeDeleteNotice } from './merge-delete-notice';
import type { BackupListRow } from '@/server/backups/queries';
import { backupKeys, RestoreBackupDialog } from './backup-dialogs';
import { isTransferring, TransferProgress, useTransferRates } from './backup-progress';
import { IntegrityBadge } from './integrity-badge';
import { statusLabel } from '@/components/status/status-labels';
import { type RowOutcome, useRowJobNotice } from './use-row-job-notice';

type Serialized<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Serialized<U>[]
    : T extends object
      ? { [K in keyof T]: Serialized<T[K]> }
      : T;
export type BackupRowData = Serialized<BackupListRow>;
export interface BackupPage {
  rows: BackupRowData[];
  total: number;
  page: number;
  pageSize: number;
  pageCount: number;
}

/** Where the table links: this console's backups, volumes and snapshots. */
export interface BackupLinks {
  backups: string;
  volumes: string;
  snapshots: string;
}

type RowDialog = { kind: 'restore' | 'cancel' | 'delete' | 'force'; row: BackupRowData } | null;

/** A backup's source: its volume (or "deleted") and, for a snapshot backup, the snapshot. */
export function BackupSourceCell({
  row,
  links,
}: {
  row: Pick<BackupRowData, 'volumeId' | 'volumeName' | 'volumeExists' | 'snapshotId' | 'snapshotName' | 'snapshotExists'>;
  links: BackupLinks;
}) {
  return (
    <div className="space-y-0.5">
      <div>
        {row.volumeExists ? (
          <Link className="text-slate-800 hover:text-brand-700 hover:underline" href={`${links.volumes}/${row.volumeId}`}>
            {row.volumeName ?? row.volumeId.slice(0, 8)}
          </Link>
        ) : (
          <span className="text-slate-500" title={row.volumeId}>
            volume {row.volumeId.slice(0, 8)} <i>(deleted)</i>
          </span>
        )}
      </div>
      {row.snapshotId && (
        <div className="text-xs text-slate-500">
          from snapshot{' '}
          {row.snapshotExists ? (
            <Link className="hover:text-brand-700 hover:underline" href={`${links.snapshots}?q=${row.snapshotId}`}>
              {row.snapshotName ?? row.snapshotId.slice(0, 8)}
            </Link>
          ) : (
            <span title={row.snapshotId}>
              {row.snapshotId.slice(0, 8)} <i>(deleted)</i>
            </span>
          )}
        </div>
      )}
    </div>
  );
}

/** How a delete, force delete or cancel started from the list ended: gone, failed with its reason, or a restore stopped. */
function endOf(kind: 'delete' | 'force' | 'cancel', before: BackupRowData): RowOutcome<BackupRowData> {
  const label = before.name ?? before.id.slice(0, 8);
  return (current) => {
    if (!current) {
      if (kind === 'cancel') return { tone: 'success', text: `Backup ${label} cancelled: what it wrote was removed.` };
      const merged = kind === 'delete' && before.hasDependentBackups ? ', merged into its incrementals first' : '';
      return { tone: 'success', text: `Backup ${label} deleted${merged}.` };
    }
    if (current.status === 'available' && before.status === 'restoring')
      return { tone: 'info', text: `The restore from ${label} was cancelled.` };
    return { tone: 'error', text: `Backup ${label} is ${current.status}${current.failReason ? `: ${current.failReason}` : ''}.` };
  };
}

/** Why a backup cannot be deleted now, or null when it can. */
export function deleteRefusal(row: { status: string; hasDependentBackups: boolean }): string | null {
  if (row.status !== 'available' && row.status !== 'error')
    return `Only available or failed backups can be deleted; this one is ${statusLabel(row.status)}.`;
  return null;
}

/**
 * The backups table: server-rendered first page, then polled through GET /api/backups every
 * second while any backup is being created, restored or deleted, so progress moves live.
 * Filters, sort and page live in the URL.
 */
export function BackupTable({
  initial,
  query,
  scope = {},
  links,
  admin = false,
  canWrite,
  empty,
}: {
  initial: BackupPage;
  query: Record<string, string | undefined>;
  scope?: Record<string, string>;
  links: BackupLinks;
  admin?: boolean;
  canWrite: boolean;
  empty: ReactNode;
}) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const params = { ...query, ...scope };
  const { data = initial } = useQuery<BackupPage>({
    queryKey: backupKeys.list(params),
    queryFn: async () => {
      const response = await fetch(
        `/api/backups?${new URLSearchParams(Object.entries(params).filter(([, v]) => v) as [string, string][])}`,
      );
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.rows.some((r) => isWorking(r.status)) ? 1000 : false),
  });
  const rates = useTransferRates(
    data.rows
      .filter((r) => isTransferring(r.status))
      .map((r) => ({ key: `${r.id}:${r.status}`, bytes: r.progressBytes, total: r.progressTotalBytes, at: r.updatedAt })),
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [dialog, setDialog] = useState<RowDialog>(null);
  const { notice, show: setNotice, follow } = useRowJobNotice(data.rows);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: backupKeys.all });
    router.refresh();
  };
  /** After a row's action: its message follows the job it started (when `kind` is given) to how it ended. */
  const after = async (result: ActionResult, kind?: 'delete' | 'force' | 'cancel') => {
    if (result.ok && kind && dialog) follow(dialog.row, { tone: 'info', text: result.message }, endOf(kind, dialog.row));
    else if (result.ok) setNotice(result.message ? { tone: 'success', text: result.message } : null);
    await refresh();
    return result;
  };
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allSelected = data.rows.length > 0 && data.rows.every((r) => selected.has(r.id));
  const selectedRows = data.rows.filter((r) => selected.has(r.id));
  const filtered = !!(query.q || query.status || query.volumeId || query.projectId);
  const close = () => setDialog(null);
  const row = dialog?.row;

  return (
    <div>
      {canWrite && (
        <div className="mb-3 flex items-center gap-2">
          <Button variant="danger" size="sm" disabled={selectedRows.length === 0} onClick={() => setConfirming(true)}>
            Delete selected{selectedRows.length ? ` (${selectedRows.length})` : ''}
          </Button>
          {selectedRows.length > 0 && (
            <Button variant="ghost" size="sm" onClick={() => setSelected(new Set())}>
              Clear selection
            </Button>
          )}
        </div>
      )}
      {query.volumeId && (
        <p className="mb-3 text-sm text-slate-600" data-testid="volume-filter">
          Backups of volume <b className="font-medium text-slate-900">{data.rows[0]?.volumeName ?? query.volumeId.slice(0, 8)}</b> only ·{' '}
          <Link
            className="text-slate-500 underline hover:text-slate-900"
            href={listHref(links.backups, query, { volumeId: undefined, page: undefined })}
          >
            show all volumes
          </Link>
        </p>
      )}
      {notice && (
        <div className="mb-3">
          <Notice tone={notice.tone}>{notice.text}</Notice>
        </div>
      )}
      {data.rows.length === 0 ? (
        <EmptyState title={data.total === 0 && !filtered ? 'No backups yet' : 'No backups match these filters'}>
          {data.total === 0 && !filtered ? (
            empty
          ) : (
            <>
              Try another status or search, or{' '}
              <Link className="underline" href={links.backups}>
                show every backup
              </Link>
              .
            </>
          )}
        </EmptyState>
      ) : (
        // A dense table: nine columns with a progress bar fit a laptop screen.
        <div className="[&_td]:px-3 [&_th]:px-3">
          <Table label="Backups">
            <THead>
              {canWrite && (
                <Th className="w-8">
                  <input
                    type="checkbox"
                    aria-label="Select all on this page"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(data.rows.map((r) => r.id)))}
                    className="size-4 rounded border-slate-300"
                  />
                </Th>
              )}
              <SortHeader base={links.backups} current={query} column="name">
                Name
              </SortHeader>
              {admin && <Th>Project</Th>}
              <SortHeader base={links.backups} current={query} column="status">
                Status
              </SortHeader>
              <SortHeader base={links.backups} current={query} column="size">
                Size
              </SortHeader>
              <Th className="hidden xl:table-cell">Source</Th>
              <SortHeader base={links.backups} current={query} column="created">
                Created
              </SortHeader>
              {canWrite && <Th className="text-right">Actions</Th>}
            </THead>
            <TBody>
              {data.rows.map((b) => (
                <tr
                  key={b.id}
                  data-testid="backup-row"
                  data-backup-id={b.id}
                  className={selected.has(b.id) ? 'bg-brand-50/50' : 'hover:bg-slate-50'}
                >
                  {canWrite && (
                    <Td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${b.name ?? b.id}`}
                        checked={selected.has(b.id)}
                        onChange={() => toggle(b.id)}
                        className="size-4 rounded border-slate-300"
                      />
                    </Td>
                  )}
                  <Td>
                    <Link
                      href={`${links.backups}/${b.id}`}
                      className="block max-w-40 truncate font-medium xl:max-w-72 text-slate-900 hover:text-brand-700 hover:underline"
                    >
                      {b.name ?? <span className="italic text-slate-500">unnamed</span>}
                    </Link>
                    <div className="mt-0.5 flex items-center gap-2">
                      <ShortId id={b.id} />
                      {b.isIncremental ? (
                        <span data-testid="incremental-marker">
                          <Badge tone="blue">incremental</Badge>
                        </span>
                      ) : (
                        <Badge tone="slate">full</Badge>
                      )}
                    </div>
                    {b.description && (
                      <div className="max-w-40 truncate text-xs text-slate-500 xl:max-w-72" title={b.description}>
                        {b.description}
                      </div>
                    )}
                  </Td>
                  {admin && (
                    <Td>
                      <Link className="hover:underline" href={listHref(links.backups, query, { projectId: b.projectId, page: undefined })}>
                        {b.projectName}
                      </Link>
                    </Td>
                  )}
                  <Td>
                    <div className="flex flex-col items-start gap-1">
                      <StatusBadge status={b.status} title={b.failReason} />
                      <IntegrityBadge integrity={b.integrity} />
                    </div>
                    {b.integrity.state === 'damaged' && b.integrity.object && (
                      <div className="mt-1 max-w-40 truncate font-mono text-[11px] text-red-600" title={b.integrity.problem ?? undefined}>
                        {b.integrity.object}
                      </div>
                    )}
                    {isTransferring(b.status) && (
                      <TransferProgress
                        compact
                        status={b.status}
                        bytes={b.progressBytes}
                        total={b.progressTotalBytes}
                        rate={rates.get(`${b.id}:${b.status}`)}
                        queue={b.queue}
                      />
                    )}
                    {b.status === 'error' && b.failReason && (
                      <div className="mt-1 max-w-40 truncate text-xs text-red-600 xl:max-w-64" title={b.failReason}>
                        {b.failReason}
                      </div>
                    )}
                  </Td>
                  <Td className="tabular-nums">
                    <div>{b.size} GiB</div>
                    <div className="text-xs text-slate-500" data-testid="bytes-stored">
                      {formatBytes(b.bytesStored)} stored
                    </div>
                  </Td>
                  <Td className="hidden xl:table-cell">
                    <BackupSourceCell row={b} links={links} />
                  </Td>
                  <Td className="text-xs">
                    <div className="w-24 whitespace-normal">
                      <LocalTime value={b.createdAt} />
                    </div>
                  </Td>
                  {canWrite && (
                    <Td className="text-right">
                      <div className="flex flex-col items-end gap-1">
                        {isTransferring(b.status) ? (
                          <Button size="sm" variant="secondary" onClick={() => setDialog({ kind: 'cancel', row: b })}>
                            {b.status === 'restoring' ? 'Cancel restore…' : 'Cancel…'}
                          </Button>
                        ) : (
                          <Button
                            size="sm"
                            variant="secondary"
                            disabled={b.status !== 'available'}
                            onClick={() => setDialog({ kind: 'restore', row: b })}
                          >
                            Restore…
                          </Button>
                        )}
                        <Button
                          size="sm"
                          variant="ghost"
                          disabled={deleteRefusal(b) !== null}
                          title={deleteRefusal(b) ?? undefined}
                          onClick={() => setDialog({ kind: 'delete', row: b })}
                        >
                          Delete…
                        </Button>
                        {admin && (
                          <RowMenu label={`More actions for ${b.name ?? b.id.slice(0, 8)}`}>
                            <Button
                              size="sm"
                              variant="ghost"
                              disabled={b.status === 'restoring'}
                              title={b.status === 'restoring' ? 'Cancel the restore first' : undefined}
                              onClick={() => setDialog({ kind: 'force', row: b })}
                            >
                              Force delete…
                            </Button>
                          </RowMenu>
                        )}
                      </div>
                    </Td>
                  )}
                </tr>
              ))}
            </TBody>
          </Table>
        </div>
      )}
      <Pagination
        page={data.page}
        pageCount={data.pageCount}
        pageSize={data.pageSize}
        total={data.total}
        noun="backups"
        hrefFor={(p) => listHref(links.backups, query, { page: p })}
      />

      <ConfirmDialog
        open={confirming}
        onClose={() => setConfirming(false)}
        title={`Delete ${countOf(selectedRows.length, 'backup')}?`}
        confirmLabel="Delete permanently"
        onConfirm={async () => {
          const result = await deleteBackupsAction(selectedRows.map((r) => r.id));
          setNotice(
            result.ok ? bulkOutcome(result.data ?? [], selectedRows, 'backup', 'Deleting') : { tone: 'error', text: result.message },
          );
          setSelected(new Set());
          await refresh();
          return { ok: true };
        }}
      >
        <p>
          Deleted backups cannot be recovered. A whole chain selected goes in one go, newest first. A backup with incrementals that are not
          selected too, and busy backups, are skipped with the reason (delete such a backup on its own to merge it into its incrementals).
        </p>
        <ul className="mt-2 list-inside list-disc">
          {selectedRows.map((r) => (
            <li key={r.id}>
              {r.name ?? r.id.slice(0, 8)} ({r.size} GiB)
              {deleteRefusal(r) && <span className="text-amber-700"> — will be refused: {deleteRefusal(r)}</span>}
              {!deleteRefusal(r) && r.hasDependentBackups && (
                <span className="text-slate-500"> — has incrementals: deleted only if they are selected too</span>
              )}
            </li>
          ))}
        </ul>
      </ConfirmDialog>
      {dialog?.kind === 'restore' && (
        <RestoreBackupDialog
          open
          onClose={close}
          backup={dialog.row}
          onDone={(result) => {
            setNotice({
              tone: 'success',
              text: (
                <>
                  {result.message}.{' '}
                  <Link className="underline" href={`${links.backups}/${dialog.row.id}`}>
                    Follow the restore
                  </Link>
                </>
              ),
            });
            void refresh();
          }}
        />
      )}
      <ConfirmDialog
        open={dialog?.kind === 'cancel'}
        onClose={close}
        title={row?.status === 'restoring' ? 'Cancel this restore?' : 'Cancel this backup?'}
        confirmLabel={row?.status === 'restoring' ? 'Cancel restore' : 'Cancel backup'}
        onConfirm={async () => after(await cancelBackupAction(row!.id), 'cancel')}
      >
        {row?.status === 'restoring' ? (
          <p>
            The restore stops within one object. A new volume being restored ends in error (delete it); an existing one keeps a partial copy
            and is marked error_restoring until it is restored again or reset. The backup stays available.
          </p>
        ) : (
          <p>The backup stops within one object, what it wrote is removed and its quota is released. The volume is not affected.</p>
        )}
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog?.kind === 'delete'}
        onClose={close}
        title={`Delete backup ${row?.name ?? ''}?`}
        confirmLabel="Delete permanently"
        onConfirm={async () => after(await deleteWithMergeAction(row!.id), 'delete')}
      >
        {row?.hasDependentBackups && <MergeDeleteNotice backup={row} />}
        <p>Deleted backups are not recoverable. Its {row?.size} GiB are released from the backup quota.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog?.kind === 'force'}
        onClose={close}
        title="Force-delete this backup?"
        confirmLabel="Force delete"
        onConfirm={async () => after(await forceDeleteBackupAction(row!.id), 'force')}
      >
        <p>
          {row?.status === 'creating'
            ? 'The running backup is cancelled: the worker stops within one object and removes what it wrote.'
            : `The backup is deleted whatever its status (now ${statusLabel(row?.status ?? '')}), objects and all.`}{' '}
          Project {row?.projectName} gets its quota back. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
