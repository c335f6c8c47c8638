'use client';

import { useRouter } from 'next/navigation';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Field, Select } from '@/components/ui/field';
import { checkVolumeOperation, type VolumeBackupStatus, type VolumeStatus } from '@/server/volumes/operations';
import { backupKeys, CreateBackupDialog, type BackupSource } from './backup-dialogs';
import { statusLabel } from '@/components/status/status-labels';

interface VolumeChoice {
  id: string;
  name: string | null;
  size: number;
  status: VolumeStatus;
  backupStatus: VolumeBackupStatus | null;
  projectId: string;
  projectName: string;
}

/**
 * An administrator acting for a project: pick the project and one of its volumes, then back it
 * up. The backup belongs to that project and is charged to its quota; the new row shows at the top of the table.
 */
export function BackupForProject({ projects }: { projects: { id: string; name: string }[] }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [projectId, setProjectId] = useState('');
  const [volumeId, setVolumeId] = useState('');
  const [source, setSource] = useState<BackupSource | null>(null);
  const { data: volumes, isFetching } = useQuery({
    queryKey: ['volumes', 'list', { projectId, pageSize: '100', sort: 'name', dir: 'asc' }],
    queryFn: async () => {
      const response = await fetch(`/api/volumes?${new URLSearchParams({ projectId, pageSize: '100', sort: 'name', dir: 'asc' })}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return (await response.json()).rows as VolumeChoice[];
    },
    enabled: open && !!projectId,
  });
  const chosen = volumes?.find((v) => v.id === volumeId);
  const reset = () => {
    setOpen(false);
    setProjectId('');
    setVolumeId('');
  };
  return (
    <>
      <Button onClick={() => setOpen(true)}>Back up for a project…</Button>
      <Dialog open={open} onClose={reset} title="Back up for a project">
        <div className="space-y-4">
          <p className="text-sm text-slate-600">
            You act for the project you choose: the backup belongs to it, shows in its console and counts against its backup quota.
          </p>
          <Field label="Project" name="actFor">
            <Select
              name="actFor"
              value={projectId}
              onChange={(e) => {
                setProjectId(e.target.value);
                setVolumeId('');
              }}
            >
              <option value="">Choose a project</option>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field
            label="Volume"
            name="actForVolume"
            hint={
              projectId && !isFetching && volumes?.length === 0
                ? 'This project has no volumes.'
                : 'Volumes being backed up or restored cannot be chosen.'
            }
          >
            <Select name="actForVolume" value={volumeId} disabled={!projectId} onChange={(e) => setVolumeId(e.target.value)}>
              <option value="">{isFetching ? 'Loading…' : 'Choose a volume'}</option>
              {volumes?.map((v) => {
                const check = checkVolumeOperation('backup', v);
                return (
                  <option key={v.id} value={v.id} disabled={!check.ok}>
                    {v.name ?? v.id.slice(0, 8)} ({v.size} GiB, {statusLabel(v.backupStatus ?? v.status)})
                  </option>
                );
              })}
            </Select>
          </Field>
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={reset}>
              Cancel
            </Button>
            <Button
              disabled={!chosen}
              onClick={() => {
                if (chosen) {
                  setSource({ volume: chosen });
                  reset();
                }
              }}
            >
              Continue
            </Button>
          </div>
        </div>
      </Dialog>
      {source && (
        <CreateBackupDialog
          open
          admin
          source={source}
          onClose={() => setSource(null)}
          onDone={() => {
            void queryClient.invalidateQueries({ queryKey: backupKeys.all });
            router.refresh();
          }}
        />
      )}
    </>
  );
}
