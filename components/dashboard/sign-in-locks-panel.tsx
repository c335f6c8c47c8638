import Link from 'next/link';
import { Card } from '@/components/ui/card';
import { LocalTime } from '@/components/ui/time';

interface SignInLock {
  id: number;
  at: Date | string;
  actorName: string | null;
  resourceId: string;
  detail: unknown;
}

/** Accounts and addresses that repeated wrong passwords locked: someone may be guessing. */
export function SignInLocksPanel({ locks }: { locks: SignInLock[] }) {
  if (locks.length === 0) return null;
  return (
    <Card
      title="Sign-in locks"
      description="Repeated wrong passwords locked these for a while; someone may be guessing."
      actions={
        <Link className="text-sm text-brand-600 hover:underline" href="/admin/events?action=sign_in_locked">
          In the audit log
        </Link>
      }
    >
      <ul className="space-y-1 text-sm" data-testid="sign-in-locks">
        {locks.map((lock) => {
          const detail = (lock.detail ?? {}) as { account?: string; address?: string; channel?: string };
          return (
            <li key={lock.id} className="flex flex-wrap items-baseline gap-x-3">
              <span className="w-44 text-xs text-slate-500">
                <LocalTime value={lock.at} />
              </span>
              <span className="font-medium text-slate-900">{lock.actorName ?? detail.account ?? 'unknown account'}</span>
              <span className="text-xs text-slate-500">
                {detail.channel ? `${detail.channel} ` : ''}
                {detail.address ? `from ${detail.address}` : ''}
              </span>
            </li>
          );
        })}
      </ul>
    </Card>
  );
}
