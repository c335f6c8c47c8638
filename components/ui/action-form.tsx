'use client';

import { startTransition, useActionState, useEffect, useRef, type ReactNode } from 'react';
import type { ActionResult } from '@/server/action';
import { buttonClass } from './button';
import { Notice } from './notice';

type FormAction = (state: ActionResult | null, formData: FormData) => Promise<ActionResult>;

/**
 * A form bound to a server action: field errors go next to their fields (through `children`),
 * other failures and the success message above the button; the form resets only after success.
 */
export function ActionForm({
  action,
  submitLabel,
  pendingLabel,
  children,
  className = 'space-y-4',
  onSuccess,
  variant = 'primary',
}: {
  action: FormAction;
  submitLabel: string;
  pendingLabel?: string;
  children: (errors: Record<string, string | undefined>) => ReactNode;
  className?: string;
  onSuccess?: (result: ActionResult) => void;
  variant?: 'primary' | 'danger';
}) {
  const [state, formAction, pending] = useActionState<ActionResult | null, FormData>(action, null);
  const form = useRef<HTMLFormElement>(null);
  // Each result is acted on once: callers pass a fresh onSuccess every render, and one that
  // refreshes the page would otherwise run again on the render it caused, and again after that.
  const handled = useRef<ActionResult | null>(null);
  useEffect(() => {
    if (state?.ok && handled.current !== state) {
      handled.current = state;
      form.current?.reset();
      onSuccess?.(state);
    }
  }, [state, onSuccess]);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  return (
    <form
      ref={form}
      className={className}
      noValidate
      // Submitted by hand rather than through `action`, so a refused form keeps what was typed.
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        startTransition(() => formAction(data));
      }}
    >
      {children(errors)}
      {state && !state.ok && !state.fieldErrors && <Notice tone="error">{state.message}</Notice>}
      {state?.ok && state.message && <Notice tone="success">{state.message}</Notice>}
      <div>
        <button type="submit" className={buttonClass(variant)} disabled={pending}>
          {pending ? (pendingLabel ?? 'Saving…') : submitLabel}
        </button>
      </div>
    </form>
  );
}
