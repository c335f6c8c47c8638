'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { Notice } from '@/components/ui/notice';
import { deletePolicyAction, pausePolicyAction, runPolicyNowAction } from '@/server/policies/actions';

/** Run now, pause/resume and delete, with the outcome shown in place. */
export function PolicyControls({
  id,
  name,
  paused,
  canWrite,
  canRun,
}: {
  id: string;
  name: string;
  paused: boolean;
  canWrite: boolean;
  canRun: boolean;
}) {
  const router = useRouter();
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string }>();
  const [confirming, setConfirming] = useState(false);
  const [pending, setPending] = useState(false);
  const act = async (call: () => Promise<{ ok: boolean; message?: string }>) => {
    setPending(true);
    const result = await call();
    setPending(false);
    setMessage({ tone: result.ok ? 'success' : 'error', text: result.message ?? (result.ok ? 'Done' : 'Failed') });
    router.refresh();
  };
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        {canRun && (
          <Button variant="secondary" disabled={pending} onClick={() => act(() => runPolicyNowAction(id))}>
            Run now
          </Button>
        )}
        {canWrite && (
          <Button variant="secondary" disabled={pending} onClick={() => act(() => pausePolicyAction(id, !paused))}>
            {paused ? 'Resume' : 'Pause'}
          </Button>
        )}
        {canWrite && (
          <Button variant="danger" disabled={pending} onClick={() => setConfirming(true)}>
            Delete
          </Button>
        )}
      </div>
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
      <ConfirmDialog
        open={confirming}
        onClose={() => setConfirming(false)}
        title={`Delete policy ${name}?`}
        confirmLabel="Delete policy"
        onConfirm={async () => {
          const result = await deletePolicyAction(id);
          if (result.ok) router.push('/policies');
          return result.ok ? { ok: true } : { ok: false, message: result.message };
        }}
      >
        Its schedule stops. The backups it made stay, and are no longer pruned by it.
      </ConfirmDialog>
    </div>
  );
}
