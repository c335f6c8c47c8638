import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { BackupDetailView } from '@/components/backups/backup-detail';
import { requireAdminPage } from '@/server/auth/session';
import { backupDetail } from '@/server/backups/queries';
import { AppError } from '@/server/errors';

export const metadata: Metadata = { title: 'Backup' };

export default async function AdminBackupPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requireAdminPage();
  const detail = await backupDetail(actor, (await params).id).catch((error) => {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    throw error;
  });
  return (
    <BackupDetailView
      initial={JSON.parse(JSON.stringify(detail))}
      links={{ backups: '/admin/backups', volumes: '/admin/volumes', snapshots: '/admin/snapshots' }}
      admin
      canWrite
    />
  );
}
