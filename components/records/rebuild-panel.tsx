'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { recreateFromScanAction, requestScanAction } from '@/server/backups/records-actions';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/card';
import { Field, Select } from '@/components/ui/field';
import { Notice } from '@/components/ui/notice';
import { ShortId, Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { statusLabel } from '@/components/status/status-labels';

interface Scanned {
  id: string;
  name: string | null;
  volumeId: string | null;
  parentId: string | null;
  createdAt: string | null;
  container: string;
  size: number;
  objectCount: number;
  known: boolean;
}
interface Scan {
  job: { id: string; status: string; error: string | null; createdAt: string; finishedAt: string | null };
  backups: Scanned[];
  problems: { container: string; objectName: string; reason: string }[];
}

/**
 * Disaster recovery when the database is lost: scan the repository for `_metadata` files and
 * recreate the records this database does not know.
 */
export function RebuildPanel({ initial, projects }: { initial: Scan | null; projects: { id: string; name: string }[] }) {
  const queryClient = useQueryClient();
  const { data: scan = initial } = useQuery<Scan | null>({
    queryKey: ['records', 'scan'],
    queryFn: async () => (await fetch('/api/admin/records/scan')).json(),
    initialData: initial,
    refetchInterval: (q) => (q.state.data && ['queued', 'running'].includes(q.state.data.job.status) ? 1000 : false),
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [projectId, setProjectId] = useState(projects[0]?.id ?? '');
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const missing = scan?.backups.filter((b) => !b.known) ?? [];
  const running = scan && ['queued', 'running'].includes(scan.job.status);

  return (
    <div className="space-y-4">
      <div className="flex items-center gap-3">
        <Button
          variant="secondary"
          disabled={!!running}
          onClick={async () => {
            const result = await requestScanAction();
            setNotice(result.ok ? null : { tone: 'error', text: result.message });
            await queryClient.invalidateQueries({ queryKey: ['records', 'scan'] });
          }}
        >
          {running ? 'Scanning…' : 'Scan the repository'}
        </Button>
        {scan && (
          <span className="text-sm text-slate-500">
            Last scan <LocalTime value={scan.job.createdAt} relative />: {statusLabel(scan.job.status)}
            {scan.job.error ? ` — ${scan.job.error}` : ''}
          </span>
        )}
      </div>
      {notice && <Notice tone={notice.tone}>{notice.text}</Notice>}
      {scan?.problems.length ? (
        <Notice tone="error">Unreadable: {scan.problems.map((p) => `${p.container}/${p.objectName}: ${p.reason}`).join('; ')}</Notice>
      ) : null}
      {scan &&
        scan.job.status === 'succeeded' &&
        (scan.backups.length === 0 ? (
          <EmptyState title="The repository holds no backups" />
        ) : (
          <>
            <Table label="Backups in the repository">
              <THead>
                <Th className="w-8">
                  <span className="sr-only">Select</span>
                </Th>
                <Th>Backup</Th>
                <Th>Volume</Th>
                <Th>Parent</Th>
                <Th>Size</Th>
                <Th>Objects</Th>
                <Th>Created</Th>
                <Th>In this database</Th>
              </THead>
              <TBody>
                {scan.backups.map((b) => (
                  <tr key={b.id} data-testid="scanned-backup">
                    <Td>
                      {!b.known && (
                        <input
                          type="checkbox"
                          aria-label={`Select ${b.name ?? b.id}`}
                          className="size-4 rounded border-slate-300"
                          checked={selected.has(b.id)}
                          onChange={() =>
                            setSelected((s) => {
                              const next = new Set(s);
                              if (next.has(b.id)) next.delete(b.id);
                              else next.add(b.id);
                              return next;
                            })
                          }
                        />
                      )}
                    </Td>
                    <Td>
                      <div className="font-medium text-slate-900">{b.name ?? <span className="italic text-slate-500">unnamed</span>}</div>
                      <div>
                        <ShortId id={b.id} />
                      </div>
                    </Td>
                    <Td className="font-mono text-xs">{b.volumeId ?? '—'}</Td>
                    <Td className="font-mono text-xs">
                      {b.parentId ? b.parentId.slice(0, 8) : <span className="font-sans text-slate-400">full</span>}
                    </Td>
                    <Td>{b.size} GiB</Td>
                    <Td>{b.objectCount}</Td>
                    <Td>
                      <LocalTime value={b.createdAt ? b.createdAt.replace(' ', 'T') : null} />
                    </Td>
                    <Td>{b.known ? <Badge tone="green">known</Badge> : <Badge tone="amber">missing</Badge>}</Td>
                  </tr>
                ))}
              </TBody>
            </Table>
            {missing.length > 0 && (
              <div className="flex flex-wrap items-end gap-3">
                <div className="min-w-56">
                  <Field label="Recreate into project" name="rebuildProjectId">
                    <Select name="rebuildProjectId" value={projectId} onChange={(e) => setProjectId(e.target.value)}>
                      {projects.map((p) => (
                        <option key={p.id} value={p.id}>
                          {p.name}
                        </option>
                      ))}
                    </Select>
                  </Field>
                </div>
                <Button
                  disabled={selected.size === 0}
                  onClick={async () => {
                    const result = await recreateFromScanAction([...selected], projectId);
                    setNotice(
                      result.ok ? { tone: 'success', text: result.message ?? 'Recreated' } : { tone: 'error', text: result.message },
                    );
                    if (result.ok) setSelected(new Set());
                    await queryClient.invalidateQueries({ queryKey: ['records', 'scan'] });
                  }}
                >
                  Recreate {selected.size || ''} selected
                </Button>
                <Button variant="ghost" onClick={() => setSelected(new Set(missing.map((b) => b.id)))}>
                  Select all missing
                </Button>
              </div>
            )}
          </>
        ))}
    </div>
  );
}
