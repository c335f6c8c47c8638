'use client';

import { useState } from 'react';
import { buttonClass } from '@/components/ui/button';
import { Field, Select } from '@/components/ui/field';

/** Downloads every available backup record of a project, parents first. */
export function ExportProjectForm({ projects }: { projects: { id: string; name: string }[] }) {
  const [projectId, setProjectId] = useState(projects[0]?.id ?? '');
  return (
    <div className="flex flex-wrap items-end gap-3">
      <div className="min-w-56">
        <Field label="Project" name="exportProjectId">
          <Select name="exportProjectId" value={projectId} onChange={(e) => setProjectId(e.target.value)}>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <a className={buttonClass('secondary')} href={`/api/admin/records?projectId=${encodeURIComponent(projectId)}`} download>
        Download records
      </a>
    </div>
  );
}
