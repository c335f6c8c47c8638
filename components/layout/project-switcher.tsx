'use client';

import { useRouter } from 'next/navigation';
import { useTransition } from 'react';
import { switchProjectAction } from '@/server/auth/session-actions';

export function ProjectSwitcher({ current, choices }: { current?: string; choices: { id: string; name: string; role: string }[] }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  if (choices.length === 0) return null;
  return (
    <label className="block">
      <span className="mb-1 block px-1 text-xs font-medium uppercase tracking-wide text-slate-500">Project</span>
      <select
        aria-label="Project"
        value={current}
        disabled={pending}
        onChange={(e) =>
          startTransition(async () => {
            await switchProjectAction(e.target.value);
            router.refresh();
          })
        }
        className="block w-full rounded-md border-0 bg-slate-800 px-2.5 py-1.5 text-sm text-white ring-1 ring-slate-700 focus:ring-2 focus:ring-brand-500"
      >
        {choices.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
            {p.role === 'reader' ? ' (read only)' : p.role === 'admin' ? ' (as admin)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
