'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { CreateBackupDialog } from '@/components/backups/backup-dialogs';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/card';
import { Badge } from '@/components/ui/badge';
import { bulkOutcome } from '@/components/ui/bulk-outcome';
import type { ShownNotice } from '@/components/ui/followed-notice';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { Notice } from '@/components/ui/notice';
import { Pagination } from '@/components/ui/pagination';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { deleteVolumesAction } from '@/server/volumes/actions';
import { checkVolumeOperation } from '@/server/volumes/operations';
import type { VolumeListRow } from '@/server/volumes/queries';
import { listHref } from '@/components/ui/list/list-url';
import { SortHeader } from '@/components/ui/list/sort-header';
import { CreateVolumeDialog, type SnapshotChoice } from './volume-dialogs';
import { isWorking } from '@/components/status/status-badge';
import { VolumeStatusBadges } from './volume-status-badge';
import { statusLabel } from '@/components/status/status-labels';
import { NextRun } from '@/components/policies/next-run';
import { countOf } from '@/components/ui/format';

type Row = Omit<VolumeListRow, 'createdAt'> & { createdAt: string | Date };
export interface VolumePage {
  rows: Row[];
  total: number;
  page: number;
  pageSize: number;
  pageCount: number;
}

export const volumeKeys = {
  all: ['volumes'] as const,
  list: (query: Record<string, string | undefined>) => ['volumes', 'list', query] as const,
  detail: (id: string) => ['volumes', 'detail', id] as const,
};

/**
 * The volumes table: server-rendered first page, then polled through GET /api/volumes while any
 * row is in a working status, so badges change live. Filters, sort and page live in the URL.
 */
export function VolumeTable({
  initial,
  query,
  scope = {},
  base,
  admin = false,
  createIn,
  snapshots = [],
}: {
  initial: VolumePage;
  query: Record<string, string | undefined>;
  scope?: Record<string, string>;
  base: string;
  admin?: boolean;
  createIn?: string;
  snapshots?: SnapshotChoice[];
}) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const { data = initial } = useQuery<VolumePage>({
    queryKey: volumeKeys.list({ ...query, ...scope }),
    queryFn: async () => {
      const response = await fetch(
        `/api/volumes?${new URLSearchParams(Object.entries({ ...query, ...scope }).filter(([, v]) => v) as [string, string][])}`,
      );
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.rows.some((r) => isWorking(r.status) || isWorking(r.backupStatus)) ? 1500 : false),
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<ShownNotice | null>(null);
  const [backingUp, setBackingUp] = useState<Row | null>(null);
  // Members change their project's volumes; an administrator acts for the volume's project; readers only look.
  const canWrite = !!createIn || admin;
  const backupsBase = admin ? '/admin/backups' : '/backups';
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: volumeKeys.all });
    router.refresh();
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
  const detail = (id: string) => `${base}/${id}`;
  // Nothing to list and nothing filtered away: the empty state below is the whole page, with its one Create button.
  const nothingYet = data.total === 0 && !query.q && !query.status;

  return (
    <div>
      {!(nothingYet && canWrite) && (
        <div className="mb-3 flex items-center justify-between gap-3">
          {canWrite ? (
            <div className="flex items-center gap-2">
              <Button variant="danger" size="sm" disabled={selectedRows.length === 0} onClick={() => setConfirming(true)}>
                Delete selected{selectedRows.length ? ` (${selectedRows.length})` : ''}
              </Button>
              {selectedRows.length > 0 && (
                <Button variant="ghost" size="sm" onClick={() => setSelected(new Set())}>
                  Clear selection
                </Button>
              )}
            </div>
          ) : (
            <p className="text-sm text-slate-500">You can read this project&apos;s volumes but not change them (reader role).</p>
          )}
          {createIn && <Button onClick={() => setCreating(true)}>Create volume</Button>}
        </div>
      )}
      {notice && (
        <div className="mb-3">
          <Notice tone={notice.tone}>{notice.text}</Notice>
        </div>
      )}
      {data.rows.length === 0 ? (
        <EmptyState
          title={nothingYet ? 'No volumes yet' : 'No volumes match these filters'}
          action={createIn ? <Button onClick={() => setCreating(true)}>Create volume</Button> : undefined}
        >
          {canWrite
            ? 'A volume is a block device of a fixed size. Create one, upload an image onto it, snapshot it and back it up.'
            : 'Members of this project create volumes; they show up here.'}
        </EmptyState>
      ) : (
        <Table label="Volumes">
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
            <SortHeader base={base} current={query} column="name">
              Name
            </SortHeader>
            {admin && <Th>Project</Th>}
            <SortHeader base={base} current={query} column="size">
              Size
            </SortHeader>
            <SortHeader base={base} current={query} column="status">
              Status
            </SortHeader>
            <Th className="hidden xl:table-cell">Attached to</Th>
            <SortHeader base={base} current={query} column="created">
              Created
            </SortHeader>
            {canWrite && <Th className="text-right">Actions</Th>}
          </THead>
          <TBody>
            {data.rows.map((v) => (
              <tr
                key={v.id}
                data-testid="volume-row"
                data-volume-id={v.id}
                className={selected.has(v.id) ? 'bg-brand-50/50' : 'hover:bg-slate-50'}
              >
                {canWrite && (
                  <Td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${v.name ?? v.id}`}
                      checked={selected.has(v.id)}
                      onChange={() => toggle(v.id)}
                      className="size-4 rounded border-slate-300"
                    />
                  </Td>
                )}
                <Td className="min-w-40 break-words">
                  <Link href={detail(v.id)} className="font-medium text-slate-900 hover:text-brand-700 hover:underline">
                    {v.name ?? <span className="italic text-slate-500">unnamed</span>}
                  </Link>
                  <div>
                    <ShortId id={v.id} />
                  </div>
                  <Protection row={v} />
                </Td>
                {admin && (
                  <Td>
                    <Link className="hover:underline" href={listHref(base, query, { projectId: v.projectId, page: undefined })}>
                      {v.projectName}
                    </Link>
                  </Td>
                )}
                <Td>{v.size} GiB</Td>
                <Td>
                  <VolumeStatusBadges status={v.status} backupStatus={v.backupStatus} reason={v.statusReason} />
                  {v.statusReason && v.status.startsWith('error') && (
                    <div className="mt-1 max-w-40 truncate text-xs text-red-600" title={v.statusReason}>
                      {v.statusReason}
                    </div>
                  )}
                </Td>
                <Td className="hidden xl:table-cell">
                  {v.attachedTo.length ? v.attachedTo.join(', ') : <span className="text-slate-400">—</span>}
                </Td>
                <Td>
                  <LocalTime value={v.createdAt} />
                </Td>
                {canWrite && (
                  <Td className="text-right">
                    <Button
                      size="sm"
                      variant="secondary"
                      disabled={!!backupRefusal(v)}
                      title={backupRefusal(v)}
                      onClick={() => setBackingUp(v)}
                    >
                      Back up…
                    </Button>
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
        noun="volumes"
        hrefFor={(p) => listHref(base, query, { page: p })}
      />

      <ConfirmDialog
        open={confirming}
        onClose={() => setConfirming(false)}
        title={`Delete ${countOf(selectedRows.length, 'volume')}?`}
        confirmLabel="Delete permanently"
        onConfirm={async () => {
          const result = await deleteVolumesAction(selectedRows.map((r) => r.id));
          if (!result.ok) return result;
          // Each selected volume was tried on its own: say which went and why the others stayed.
          setNotice(bulkOutcome(result.data ?? [], selectedRows, 'volume', 'Deleting'));
          setSelected(new Set());
          await refresh();
          return { ok: true };
        }}
      >
        <p>Their data is destroyed and cannot be recovered (backups are kept). Attached volumes and volumes with snapshots are skipped.</p>
        <ul className="mt-2 list-inside list-disc">
          {selectedRows.map((r) => (
            <li key={r.id}>
              {r.name ?? r.id} ({r.size} GiB)
            </li>
          ))}
        </ul>
      </ConfirmDialog>
      {backingUp && (
        <CreateBackupDialog
          open
          admin={admin}
          source={{ volume: backingUp }}
          onClose={() => setBackingUp(null)}
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
      {createIn && (
        <CreateVolumeDialog
          open={creating}
          onClose={() => setCreating(false)}
          onDone={refresh}
          projectId={createIn}
          snapshots={snapshots}
        />
      )}
    </div>
  );
}

function backupRefusal(volume: Row): string | undefined {
  const check = checkVolumeOperation('backup', volume);
  return check.ok ? undefined : check.reason;
}

/** Under a volume's name: the policies that back it up and the next run, or a warning that nothing does. */
function Protection({ row }: { row: Row }) {
  if (row.unprotected) {
    return (
      <div className="mt-1" data-testid="unprotected" title="No backup policy, and no good backup in the last 7 days">
        <Badge tone="amber">{statusLabel('unprotected')}</Badge>
      </div>
    );
  }
  if (row.policies.length === 0) return null;
  // Dates arrive as strings once the list is polled as JSON.
  const next = row.policies
    .map((p) => (p.nextRunAt ? new Date(p.nextRunAt).getTime() : null))
    .filter((at): at is number => at !== null)
    .sort((a, b) => a - b)[0];
  return (
    <div className="mt-1 text-xs text-slate-500" data-testid="volume-policies">
      {row.policies.map((p) => p.name).join(', ')}
      {next && (
        <>
          {' · next '}
          <NextRun at={new Date(next)} />
        </>
      )}
    </div>
  );
}
