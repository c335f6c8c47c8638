'use client';

import Link from 'next/link';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { CreateBackupDialog } from '@/components/backups/backup-dialogs';
import { ActionForm } from '@/components/ui/action-form';
import { Button, buttonClass } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { RowMenu } from '@/components/ui/row-menu';
import { Dialog } from '@/components/ui/dialog';
import { Field, Select } from '@/components/ui/field';
import { Notice } from '@/components/ui/notice';
import { Pagination } from '@/components/ui/pagination';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { deleteSnapshotAction, forceDeleteSnapshotAction, resetSnapshotAction } from '@/server/snapshots/actions';
import type { SnapshotListRow } from '@/server/snapshots/queries';
import { listHref } from '@/components/ui/list/list-url';
import { SortHeader } from '@/components/ui/list/sort-header';
import { CreateVolumeDialog } from '@/components/volumes/volume-dialogs';
import { isWorking, StatusBadge } from '@/components/status/status-badge';
import { statusLabel } from '@/components/status/status-labels';

type Row = Omit<SnapshotListRow, 'createdAt'> & { createdAt: string | Date };
export interface SnapshotPage {
  rows: Row[];
  total: number;
  page: number;
  pageSize: number;
  pageCount: number;
}

export const snapshotKeys = {
  all: ['snapshots'] as const,
  list: (q: Record<string, string | undefined>) => ['snapshots', 'list', q] as const,
};

/** The states an administrator may reset a snapshot to, and what each one lets happen next. */
const SNAPSHOT_STATUSES: [string, string][] = [
  ['available', 'usable: back up, clone, delete'],
  ['error', 'unusable; can only be deleted'],
  ['creating', 'waiting for the volume service'],
  ['error_deleting', 'a delete failed; delete again or force-delete'],
];

export function SnapshotTable({
  initial,
  query,
  scope = {},
  base,
  volumeBase,
  admin = false,
  canWrite = true,
}: {
  initial: SnapshotPage;
  query: Record<string, string | undefined>;
  scope?: Record<string, string>;
  base: string;
  volumeBase: string;
  admin?: boolean;
  canWrite?: boolean;
}) {
  const queryClient = useQueryClient();
  const { data = initial } = useQuery<SnapshotPage>({
    queryKey: snapshotKeys.list({ ...query, ...scope }),
    queryFn: async () => {
      const response = await fetch(
        `/api/volumes/snapshots?${new URLSearchParams(Object.entries({ ...query, ...scope }).filter(([, v]) => v) as [string, string][])}`,
      );
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.rows.some((r) => isWorking(r.status)) ? 1500 : false),
  });
  const [deleting, setDeleting] = useState<Row | null>(null);
  const [forcing, setForcing] = useState<Row | null>(null);
  const [resetting, setResetting] = useState<Row | null>(null);
  const [cloning, setCloning] = useState<Row | null>(null);
  const [notice, setNotice] = useState<ReactNode>(null);
  const [backingUp, setBackingUp] = useState<Row | null>(null);
  const backupsBase = admin ? '/admin/backups' : '/backups';
  const refresh = () =>
    Promise.all([queryClient.invalidateQueries({ queryKey: snapshotKeys.all }), queryClient.invalidateQueries({ queryKey: ['volumes'] })]);

  return (
    <div>
      {notice && (
        <div className="mb-3">
          <Notice tone="success">{notice}</Notice>
        </div>
      )}
      {data.rows.length === 0 ? (
        <EmptyState
          title={query.q || query.status ? 'No snapshots match these filters' : 'No snapshots yet'}
          action={
            canWrite ? (
              <Link href={volumeBase} className={buttonClass('primary')}>
                Choose a volume to snapshot
              </Link>
            ) : undefined
          }
        >
          Snapshot a volume from its page. A snapshot freezes the volume&apos;s content; you can create new volumes from it.
        </EmptyState>
      ) : (
        <Table label="Snapshots">
          <THead>
            <SortHeader base={base} current={query} column="name">
              Name
            </SortHeader>
            <Th>Volume</Th>
            {admin && <Th>Project</Th>}
            <SortHeader base={base} current={query} column="size">
              Size
            </SortHeader>
            <SortHeader base={base} current={query} column="status">
              Status
            </SortHeader>
            <SortHeader base={base} current={query} column="created">
              Created
            </SortHeader>
            {canWrite && <Th className="text-right">Actions</Th>}
          </THead>
          <TBody>
            {data.rows.map((s) => (
              <tr key={s.id} data-testid="snapshot-row" className="hover:bg-slate-50">
                <Td>
                  <div className="font-medium text-slate-900">{s.name ?? <span className="italic text-slate-500">unnamed</span>}</div>
                  <div>
                    <ShortId id={s.id} />
                  </div>
                </Td>
                <Td>
                  <Link className="hover:underline" href={`${volumeBase}/${s.volumeId}`}>
                    {s.volumeName ?? s.volumeId.slice(0, 8)}
                  </Link>
                </Td>
                {admin && (
                  <Td>
                    <Link className="hover:underline" href={listHref(base, query, { projectId: s.projectId, page: undefined })}>
                      {s.projectName}
                    </Link>
                  </Td>
                )}
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
                      <Button size="sm" variant="secondary" disabled={s.status !== 'available'} onClick={() => setCloning(s)}>
                        New volume…
                      </Button>
                      {!s.temporary && (
                        <Button
                          size="sm"
                          variant="secondary"
                          disabled={s.status !== 'available' || s.backupStatus === 'backing-up'}
                          onClick={() => setBackingUp(s)}
                        >
                          Back up…
                        </Button>
                      )}
                      <Button
                        size="sm"
                        variant="ghost"
                        disabled={!['available', 'error', 'error_deleting'].includes(s.status)}
                        onClick={() => setDeleting(s)}
                      >
                        Delete…
                      </Button>
                      {admin && (
                        <RowMenu label={`More actions for ${s.name ?? s.id.slice(0, 8)}`}>
                          <Button size="sm" variant="ghost" onClick={() => setResetting(s)}>
                            Reset…
                          </Button>
                          <Button size="sm" variant="ghost" onClick={() => setForcing(s)}>
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
      )}
      <Pagination
        page={data.page}
        pageCount={data.pageCount}
        pageSize={data.pageSize}
        total={data.total}
        noun="snapshots"
        hrefFor={(p) => listHref(base, query, { page: p })}
      />

      <ConfirmDialog
        open={!!deleting}
        onClose={() => setDeleting(null)}
        title={`Delete snapshot ${deleting?.name ?? ''}?`}
        confirmLabel="Delete permanently"
        onConfirm={async () => {
          const r = await deleteSnapshotAction(deleting!.id);
          await refresh();
          return r;
        }}
      >
        <p>The snapshot&apos;s {deleting?.size} GiB point-in-time copy is destroyed. Volumes created from it are not affected.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={!!forcing}
        onClose={() => setForcing(null)}
        title="Force-delete this snapshot?"
        confirmLabel="Force delete"
        onConfirm={async () => {
          const r = await forceDeleteSnapshotAction(forcing!.id);
          await refresh();
          return r;
        }}
      >
        <p>Deletes the snapshot whatever its status.</p>
      </ConfirmDialog>
      <Dialog open={!!resetting} onClose={() => setResetting(null)} title="Reset snapshot state">
        {resetting && (
          <ActionForm
            action={resetSnapshotAction}
            submitLabel="Reset state"
            onSuccess={() => {
              setResetting(null);
              setNotice('Snapshot status reset');
              void refresh();
            }}
          >
            {(errors) => (
              <>
                <input type="hidden" name="id" value={resetting.id} />
                <Field
                  label="Status"
                  name="status"
                  error={errors.status}
                  hint={`Now ${statusLabel(resetting.status)}. Only the database changes.`}
                >
                  <Select name="status" defaultValue="available" error={errors.status}>
                    {SNAPSHOT_STATUSES.map(([s, meaning]) => (
                      <option key={s} value={s}>
                        {statusLabel(s)} — {meaning}
                      </option>
                    ))}
                  </Select>
                </Field>
              </>
            )}
          </ActionForm>
        )}
      </Dialog>
      {backingUp && (
        <CreateBackupDialog
          open
          admin={admin}
          onClose={() => setBackingUp(null)}
          source={{
            volume: {
              id: backingUp.volumeId,
              name: backingUp.volumeName,
              status: 'available',
              size: backingUp.size,
              projectId: backingUp.projectId,
              projectName: backingUp.projectName,
            },
            snapshot: backingUp,
          }}
          onDone={(started) => {
            setNotice(
              <>
                {started.message}.{' '}
                <Link className="underline" href={`${backupsBase}/${started.id}`}>
                  Watch its progress
                </Link>
              </>,
            );
            void refresh();
          }}
        />
      )}
      {cloning && (
        <CreateVolumeDialog
          open
          onClose={() => setCloning(null)}
          onDone={() => {
            setNotice('The volume is being created');
            void refresh();
          }}
          projectId={cloning.projectId}
          snapshots={[]}
          fromSnapshot={cloning}
        />
      )}
    </div>
  );
}
