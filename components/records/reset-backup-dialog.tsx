'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { resetBackupStatusAction } from '@/server/backups/records-actions';
import { backupKeys } from '@/components/backups/backup-dialogs';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Notice } from '@/components/ui/notice';
import { statusLabel } from '@/components/status/status-labels';

const CHOICES = [
  {
    status: 'available',
    label: 'Available',
    explains:
      'A worker first checks the repository: the metadata, the sha file and every object it lists. Only then does the backup turn available; otherwise its status stays and the failure reason names what is missing.',
  },
  {
    status: 'error',
    label: 'Error',
    explains:
      'At once. A transfer still running is stopped and its partial objects removed; the source volume is marked error_backing-up (or a restore target error_restoring). An error backup can then be deleted.',
  },
] as const;

/** Admin reset of a stuck backup: only the states Cinder allows, each explained. */
export function ResetBackupDialog({ backupId, status }: { backupId: string; status: string }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [choice, setChoice] = useState<'available' | 'error'>(status === 'available' ? 'error' : 'available');
  const [result, setResult] = useState<{ ok: boolean; message?: string } | null>(null);
  const [pending, setPending] = useState(false);
  return (
    <>
      <Button
        variant="secondary"
        onClick={() => {
          setResult(null);
          setOpen(true);
        }}
      >
        Reset status…
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Reset the backup's status">
        <p className="mb-3 text-sm text-slate-600">
          Current status: <strong>{statusLabel(status)}</strong>. Use this when a backup is stuck, for example after a worker was lost
          mid-transfer.
        </p>
        <fieldset className="space-y-3">
          <legend className="sr-only">New status</legend>
          {CHOICES.map((c) => (
            <label
              key={c.status}
              className={`flex cursor-pointer gap-3 rounded-md p-3 ring-1 ${choice === c.status ? 'bg-brand-50 ring-brand-500' : 'ring-slate-200'}`}
            >
              <input
                type="radio"
                name="status"
                value={c.status}
                checked={choice === c.status}
                onChange={() => setChoice(c.status)}
                className="mt-1"
              />
              <span>
                <span className="block text-sm font-medium text-slate-900">{c.label}</span>
                <span className="block text-sm text-slate-600">{c.explains}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {result && (
          <div className="mt-3">
            <Notice tone={result.ok ? 'success' : 'error'}>{result.message}</Notice>
          </div>
        )}
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setOpen(false)}>
            Close
          </Button>
          <Button
            disabled={pending}
            onClick={async () => {
              setPending(true);
              const outcome = await resetBackupStatusAction(backupId, choice);
              setPending(false);
              setResult({ ok: outcome.ok, message: outcome.message });
              // The backup's page polls while the verify job is pending, so its outcome shows up there.
              await queryClient.invalidateQueries({ queryKey: backupKeys.all });
              router.refresh();
            }}
          >
            {pending ? 'Resetting…' : `Reset to ${choice}`}
          </Button>
        </div>
      </Dialog>
    </>
  );
}
