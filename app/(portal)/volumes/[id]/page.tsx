import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { VolumeProtection } from '@/components/policies/volume-protection';
import { VolumeDetailView } from '@/components/volumes/volume-detail';
import { requirePageActor } from '@/server/auth/session';
import { AppError } from '@/server/errors';
import { volumeDetail } from '@/server/volumes/queries';

export const metadata: Metadata = { title: 'Volume' };

export default async function VolumePage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requirePageActor();
  const detail = await volumeDetail(actor, (await params).id).catch((error) => {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    throw error;
  });
  const canWrite = actor.isAdmin || actor.roles.get(detail.volume.projectId) === 'member';
  return (
    <>
      <VolumeDetailView initial={JSON.parse(JSON.stringify(detail))} base="/volumes" canWrite={canWrite} />
      <VolumeProtection actor={actor} volumeId={detail.volume.id} projectId={detail.volume.projectId} />
    </>
  );
}
