'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { Dialog } from '@/components/ui/dialog';
import { deleteTargetAction, sendTestAction } from '@/server/notifications/actions';
import { type EditableTarget, TargetForm } from './target-form';

/** How a delivery stands, as the page last drew it. */
export interface DeliveryOutcome {
  status: string;
  lastError: string | null;
}

/** The test's notice, following its delivery to where it ended. */
function testNotice(outcome: DeliveryOutcome | undefined): { text: string; tone: string } {
  if (outcome?.status === 'sent') return { text: 'Test delivered.', tone: 'text-emerald-700' };
  if (outcome?.status === 'failed') return { text: `Test failed: ${outcome.lastError ?? 'no reason recorded'}`, tone: 'text-red-700' };
  const retrying = outcome?.lastError ? ` (retrying: ${outcome.lastError})` : '';
  return { text: `Sending the test…${retrying}`, tone: 'text-slate-600' };
}

/**
 * Send test, Edit… and Delete… (confirmed, naming the target) for one target. `deliveries` holds the
 * outcome of each recent delivery, so a test's notice follows it until it is sent or has failed.
 */
export function TargetRowActions({ target, deliveries }: { target: EditableTarget; deliveries: Record<string, DeliveryOutcome> }) {
  const router = useRouter();
  const [pending, start] = useTransition();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [said, setSaid] = useState<string>();
  const [testId, setTestId] = useState<string>();
  const test = testId ? testNotice(deliveries[testId]) : null;
  return (
    <div className="flex flex-wrap justify-end gap-2">
      <Button
        size="sm"
        variant="secondary"
        disabled={pending}
        onClick={() =>
          start(async () => {
            const result = await sendTestAction(target.id);
            setTestId(result.ok ? result.data : undefined);
            setSaid(result.ok ? undefined : result.message);
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
        <p className="w-full text-right text-xs text-red-700" role="alert">
          {said}
        </p>
      )}
      {test && (
        <p className={`w-full text-right text-xs ${test.tone}`} role="status" data-testid="test-notice">
          {test.text}
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
