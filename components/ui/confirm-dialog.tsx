'use client';

import { useState, type ReactNode } from 'react';
import { Button } from './button';
import { Dialog } from './dialog';
import { Notice } from './notice';

type Result = { ok: true; message?: string } | { ok: false; message: string };

/**
 * Asks before something destructive: says what will happen, runs `onConfirm`, shows its error in
 * place, and closes on success.
 */
export function ConfirmDialog({
  open,
  onClose,
  title,
  children,
  confirmLabel,
  onConfirm,
  tone = 'danger',
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<Result>;
  tone?: 'danger' | 'primary';
}) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string>();
  const close = () => {
    setError(undefined);
    onClose();
  };
  return (
    <Dialog open={open} onClose={close} title={title}>
      <div className="space-y-4">
        <div className="text-sm text-slate-600">{children}</div>
        {error && <Notice tone="error">{error}</Notice>}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button
            variant={tone}
            disabled={pending}
            onClick={async () => {
              setPending(true);
              try {
                const result = await onConfirm();
                if (result.ok) close();
                else setError(result.message);
              } finally {
                setPending(false);
              }
            }}
          >
            {pending ? 'Working…' : confirmLabel}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
