import type { Metadata } from 'next';
import { Card, PageHeader } from '@/components/ui/card';
import { ExportProjectForm } from '@/components/records/export-project-form';
import { ImportRecordsForm } from '@/components/records/import-records-form';
import { RebuildPanel } from '@/components/records/rebuild-panel';
import { requireAdminPage } from '@/server/auth/session';
import { latestScan } from '@/server/backups/records';
import { listProjects } from '@/server/identity/queries';

export const metadata: Metadata = { title: 'Backup records' };

export default async function RecordsPage() {
  const actor = await requireAdminPage();
  const [projects, scan] = await Promise.all([listProjects(actor), latestScan(actor)]);
  const choices = projects.filter((p) => p.enabled).map((p) => ({ id: p.id, name: p.name }));
  return (
    <>
      <PageHeader
        title="Backup records"
        description="A backup record points at objects in the repository. Export records to move backups to another installation or to keep for disaster recovery; import them (from here or from OpenStack Cinder) into a database that does not know them."
      />
      <div className="grid items-start gap-6 xl:grid-cols-2">
        <Card
          title="Import records"
          description="Each record turns available once a worker has checked that the repository holds its objects."
        >
          <ImportRecordsForm projects={choices} />
        </Card>
        <Card title="Export a project's records" description="Every available backup of the project, parents first, in one file.">
          <ExportProjectForm projects={choices} />
        </Card>
      </div>
      <Card
        className="mt-6"
        title="Rebuild from the repository"
        description="Lost the database? Scan the repository for backups and recreate the records it does not know."
      >
        <RebuildPanel initial={scan ? JSON.parse(JSON.stringify(scan)) : null} projects={choices} />
      </Card>
    </>
  );
}
