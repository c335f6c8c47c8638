import type { Metadata } from 'next';
import Link from 'next/link';
import { QUOTA_LABELS } from '@/components/quotas/labels';
import { QuotaEditor } from '@/components/quotas/quota-editor';
import { Card, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { requireAdminPage } from '@/server/auth/session';
import { allProjectQuotas, quotaDefaultsList } from '@/server/quotas/admin';
import { projectQuotas } from '@/server/quotas/queries';

export const metadata: Metadata = { title: 'Quotas' };

const SHOWN = ['volumes', 'gigabytes', 'snapshots', 'backups', 'backup_gigabytes'];

function usage(q: { limit: number; inUse: number } | undefined) {
  if (!q) return '—';
  return `${q.inUse} / ${q.limit < 0 ? '∞' : q.limit}`;
}

export default async function AdminQuotasPage({ searchParams }: { searchParams: Promise<{ project?: string }> }) {
  const actor = await requireAdminPage();
  const { project: chosen } = await searchParams;
  const [all, defaults] = await Promise.all([allProjectQuotas(), quotaDefaultsList()]);
  const selected = all.find((p) => p.id === chosen);
  const selectedQuotas = selected ? await projectQuotas(actor, selected.id) : [];
  return (
    <>
      <PageHeader
        title="Quotas"
        description="Limits and usage per project. A limit cannot be set below what the project already uses; -1 means unlimited."
      />
      {selected && (
        <Card
          title={`Limits for ${selected.name}`}
          description="Usage counts every resource that exists, in error too, until it is deleted."
          className="mb-6"
          actions={
            <Link href="/admin/quotas" className="text-sm text-slate-500 hover:text-slate-900">
              Close
            </Link>
          }
        >
          <QuotaEditor projectId={selected.id} rows={selectedQuotas} />
        </Card>
      )}
      <Table label="Project quotas">
        <THead>
          <Th>Project</Th>
          {SHOWN.map((r) => (
            <Th key={r}>{QUOTA_LABELS[r]?.label ?? r}</Th>
          ))}
          <Th className="text-right">Actions</Th>
        </THead>
        <TBody>
          {all.map((p) => (
            <tr key={p.id} data-testid="quota-project-row" className={p.id === chosen ? 'bg-brand-50/50' : undefined}>
              <Td className="font-medium text-slate-900">{p.name}</Td>
              {SHOWN.map((r) => {
                const q = p.quotas[r];
                const full = q && q.limit >= 0 && q.inUse >= q.limit;
                return (
                  <Td key={r} className={full ? 'font-medium text-red-600' : undefined}>
                    {usage(q)}
                  </Td>
                );
              })}
              <Td className="text-right">
                <Link
                  href={`/admin/quotas?project=${p.id}`}
                  className="whitespace-nowrap text-sm font-medium text-brand-700 hover:underline"
                  aria-label={`Edit limits of ${p.name}`}
                >
                  Edit limits
                </Link>
              </Td>
            </tr>
          ))}
        </TBody>
      </Table>
      {!selected && (
        <Card title="Defaults" description="The limits a new project starts with." className="mt-6">
          <QuotaEditor rows={defaults} />
        </Card>
      )}
    </>
  );
}
