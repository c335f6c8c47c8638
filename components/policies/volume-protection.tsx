import Link from 'next/link';
import { Badge } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { LocalTime } from '@/components/ui/time';
import type { Actor } from '@/server/auth/actor';
import { RECENT_BACKUP_DAYS, volumeProtection } from '@/server/policies/queries';
import { statusLabel } from '@/components/status/status-labels';
import { NextRun } from '@/components/policies/next-run';

/** The volume page's "Backup policies" card: its policies and next runs, its last backup, or "unprotected". */
export async function VolumeProtection({ actor, volumeId, projectId }: { actor: Actor; volumeId: string; projectId: string }) {
  const protection = await volumeProtection(actor, volumeId, projectId);
  if (!protection) return null;
  return (
    <div className="mt-6">
      <Card
        title="Backup policies"
        actions={
          protection.unprotected ? (
            <span data-testid="unprotected">
              <Badge tone="amber">{statusLabel('unprotected')}</Badge>
            </span>
          ) : undefined
        }
        description={protection.unprotected ? `No policy and no backup in the last ${RECENT_BACKUP_DAYS} days.` : undefined}
      >
        <dl className="grid grid-cols-2 gap-2 text-sm">
          <dt className="text-slate-600">Last successful backup</dt>
          <dd>{protection.lastBackup ? <LocalTime value={protection.lastBackup.createdAt} /> : 'none'}</dd>
        </dl>
        {protection.policies.length === 0 ? (
          <p className="mt-2 text-sm text-slate-600">
            Not on any policy.{' '}
            <Link className="underline" href="/policies">
              Assign it to one
            </Link>
            .
          </p>
        ) : (
          <ul className="mt-2 space-y-1 text-sm">
            {protection.policies.map((p) => (
              <li key={p.policyId}>
                <Link className="underline" href={`/policies/${p.policyId}`}>
                  {p.name}
                </Link>
                : next run <NextRun at={p.nextRunAt} />
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
