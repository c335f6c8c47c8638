'use client';

import { useRouter } from 'next/navigation';
import { ActionForm } from '@/components/ui/action-form';
import { Checkbox } from '@/components/ui/field';
import { assignVolumesAction } from '@/server/policies/actions';
import { statusLabel } from '@/components/status/status-labels';

/** The project's volumes with a tick for each one on the policy; saving replaces the set. */
export function PolicyAssignForm({
  id,
  projectId,
  volumes,
  assigned,
}: {
  id: string;
  projectId: string;
  volumes: { id: string; name: string | null; status: string }[];
  assigned: string[];
}) {
  const router = useRouter();
  if (volumes.length === 0) return <p className="text-sm text-slate-600">This project has no volumes yet.</p>;
  return (
    <ActionForm action={assignVolumesAction} submitLabel="Save volumes" onSuccess={() => router.refresh()}>
      {(errors) => (
        <>
          <input type="hidden" name="id" value={id} />
          <input type="hidden" name="projectId" value={projectId} />
          <div role="group" aria-label="Volumes on this policy" className="grid grid-cols-2 gap-2">
            {volumes.map((v) => (
              <Checkbox
                key={v.id}
                name="volumeIds"
                value={v.id}
                label={`${v.name ?? v.id} (${statusLabel(v.status)})`}
                defaultChecked={assigned.includes(v.id)}
              />
            ))}
          </div>
          {errors.volumeIds && (
            <p className="text-sm text-red-600" role="alert">
              {errors.volumeIds}
            </p>
          )}
        </>
      )}
    </ActionForm>
  );
}
