import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { BackupDetailView } from '@/components/backups/backup-detail';
import { requirePageActor } from '@/server/auth/session';
import { backupDetail } from '@/server/backups/queries';
import { AppError } from '@/server/errors';

export const metadata: Metadata = { title: 'Backup' };

export default async function BackupPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requirePageActor();
  const detail = await backupDetail(actor, (await params).id).catch((error) => {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    throw error;
  });
  const canWrite = actor.isAdmin || actor.roles.get(detail.backup.projectId) === 'member';
  return (
    <BackupDetailView
      initial={JSON.parse(JSON.stringify(detail))}
      links={{ backups: '/backups', volumes: '/volumes', snapshots: '/snapshots' }}
      canWrite={canWrite}
    />
  );
}
