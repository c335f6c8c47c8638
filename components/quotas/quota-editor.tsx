'use client';

import { useRouter } from 'next/navigation';
import { ActionForm } from '@/components/ui/action-form';
import { Field, TextInput } from '@/components/ui/field';
import { updateProjectQuotasAction, updateQuotaDefaultsAction } from '@/server/quotas/actions';
import { QUOTA_LABELS } from './labels';

interface Row {
  resource: string;
  limit: number;
  inUse?: number;
}

/** One input per limit, with the usage beside it; a limit below usage is refused next to its field. */
export function QuotaEditor({ projectId, rows }: { projectId?: string; rows: Row[] }) {
  const router = useRouter();
  return (
    <ActionForm
      action={projectId ? updateProjectQuotasAction : updateQuotaDefaultsAction}
      submitLabel={projectId ? 'Save limits' : 'Save defaults'}
      onSuccess={() => router.refresh()}
    >
      {(errors) => (
        <>
          {projectId && <input type="hidden" name="projectId" value={projectId} />}
          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {rows.map((q) => {
              const { label, unit } = QUOTA_LABELS[q.resource] ?? { label: q.resource };
              const limitOnly = q.resource === 'per_volume_gigabytes';
              return (
                <Field
                  key={q.resource}
                  label={`${label}${unit ? ` (${unit})` : ''}`}
                  name={q.resource}
                  error={errors[q.resource]}
                  hint={
                    q.inUse === undefined
                      ? '-1 means unlimited.'
                      : limitOnly
                        ? 'Bounds one volume; -1 means no limit.'
                        : `${q.inUse}${unit ? ` ${unit}` : ''} in use. -1 means unlimited.`
                  }
                >
                  <TextInput
                    name={q.resource}
                    defaultValue={q.limit}
                    inputMode="numeric"
                    error={errors[q.resource]}
                    aria-label={`${label} limit`}
                  />
                </Field>
              );
            })}
          </div>
        </>
      )}
    </ActionForm>
  );
}
