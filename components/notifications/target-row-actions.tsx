'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { Dialog } from '@/components/ui/dialog';
import { deleteTargetAction, sendTestAction } from '@/server/notifications/actions';
import { type EditableTarget, TargetForm } from './target-form';

/** Send test, Edit… and Delete… (confirmed, naming the target) for one target. */
export function TargetRowActions({ target }: { target: EditableTarget }) {
  const router = useRouter();
  const [pending, start] = useTransition();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [said, setSaid] = useState<string>();
  return (
    <div className="flex flex-wrap justify-end gap-2">
      <Button
        size="sm"
        variant="secondary"
        disabled={pending}
        onClick={() =>
          start(async () => {
            const result = await sendTestAction(target.id);
            setSaid(result.message);
            router.refresh();
          })
        }
      >
        {pending ? 'Queuing…' : 'Send test'}
      </Button>
      <Button size="sm" variant="secondary" onClick={() => setEditing(true)}>
        Edit…
      </Button>
      <Button size="sm" variant="secondary" onClick={() => setDeleting(true)}>
        Delete…
      </Button>
      {said && (
        <p className="w-full text-right text-xs text-slate-600" role="status">
          {said}
        </p>
      )}
      <Dialog open={editing} onClose={() => setEditing(false)} title={`Edit ${target.name}`}>
        <TargetForm target={target} onDone={() => setEditing(false)} />
      </Dialog>
      <ConfirmDialog
        open={deleting}
        onClose={() => setDeleting(false)}
        title={`Delete ${target.name}?`}
        confirmLabel="Delete target"
        onConfirm={async () => {
          const result = await deleteTargetAction(target.id);
          if (result.ok) router.refresh();
          return result;
        }}
      >
        The target <strong>{target.name}</strong> and its delivery history are removed; events stop going there.
      </ConfirmDialog>
    </div>
  );
}
