'use client';

import { useRouter } from 'next/navigation';
import { importRecordsAction } from '@/server/backups/records-actions';
import { ActionForm } from '@/components/ui/action-form';
import { Field, Select, TextArea } from '@/components/ui/field';

/** Paste a record (or a whole project's export), or upload the file it was downloaded as. */
export function ImportRecordsForm({ projects }: { projects: { id: string; name: string }[] }) {
  const router = useRouter();
  return (
    <ActionForm action={importRecordsAction} submitLabel="Import" pendingLabel="Importing…" onSuccess={() => router.refresh()}>
      {(errors) => (
        <>
          <Field
            label="Record"
            name="record"
            error={errors.record}
            hint={
              <>
                Paste <code>{'{"backup_service": …, "backup_url": …}'}</code> as exported here or by OpenStack Cinder, or a project export
                (imported parents first).
              </>
            }
          >
            <TextArea
              name="record"
              rows={6}
              placeholder='{"backup_service": "cinder.backup.drivers.posix.PosixBackupDriver", "backup_url": "eyJ…"}'
              error={errors.record}
              className="font-mono"
            />
          </Field>
          <Field label="…or a file" name="file" hint="A record or project export downloaded from Cinderblock.">
            <input
              id="file"
              name="file"
              type="file"
              accept="application/json,.json"
              className="block text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium hover:file:bg-slate-200"
            />
          </Field>
          <Field
            label="Project"
            name="projectId"
            error={errors.projectId}
            hint="The imported backups belong to and are charged to this project."
          >
            <Select name="projectId" defaultValue={projects[0]?.id}>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </Select>
          </Field>
        </>
      )}
    </ActionForm>
  );
}
