import type { Metadata } from 'next';
import { DeliveriesTable } from '@/components/notifications/deliveries-table';
import { TargetForm } from '@/components/notifications/target-form';
import { TargetRowActions } from '@/components/notifications/target-row-actions';
import { Badge } from '@/components/ui/badge';
import { RefreshWhile } from '@/components/ui/refresh-while';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { DialogButton } from '@/components/ui/dialog';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { requireAdminPage } from '@/server/auth/session';
import { NOTIFICATION_EVENTS, type NotificationEvent } from '@/server/notifications/events';
import { listTargets, recentDeliveries } from '@/server/notifications/targets';

export const metadata: Metadata = { title: 'Notifications' };

function destinationOf(target: { kind: string; config: Record<string, unknown> }) {
  if (target.kind === 'webhook') return String(target.config.url ?? '');
  const to = Array.isArray(target.config.to) ? (target.config.to as string[]).join(', ') : '';
  return `${to} via ${String(target.config.host ?? '')}:${String(target.config.port ?? '')}`;
}

export default async function NotificationsPage() {
  const actor = await requireAdminPage();
  const [targets, deliveries] = await Promise.all([listTargets(actor), recentDeliveries(actor, 50)]);
  const plain = JSON.parse(JSON.stringify({ targets, deliveries })) as {
    targets: typeof targets;
    deliveries: Parameters<typeof DeliveriesTable>[0]['rows'];
  };
  const outcomes = Object.fromEntries(plain.deliveries.map((d) => [d.id, { status: d.status, lastError: d.lastError }]));
  return (
    <>
      <PageHeader
        title="Notifications"
        description="Where failures are sent: e-mail over SMTP and signed webhooks. The worker delivers them, retrying with backoff; a restart loses none."
      />
      <div className="space-y-6">
        <Card
          title="Targets"
          description="Each target receives the events its rules name. Secrets are write-only: they are never shown again after they are set."
          actions={
            <DialogButton label="New target…" title="New notification target">
              <TargetForm />
            </DialogButton>
          }
        >
          {plain.targets.length === 0 ? (
            <EmptyState title="No targets yet">
              Create one with New target…; until then failures are only recorded in the audit log.
            </EmptyState>
          ) : (
            <Table label="Notification targets">
              <THead>
                <Th>Name</Th>
                <Th>Goes to</Th>
                <Th>Events</Th>
                <Th className="text-right">Actions</Th>
              </THead>
              <TBody>
                {plain.targets.map((target) => (
                  <tr key={target.id}>
                    <Td>
                      <span className="font-medium text-slate-900">{target.name}</span>{' '}
                      <Badge tone={target.enabled ? 'green' : 'slate'}>{target.enabled ? target.kind : `${target.kind}, disabled`}</Badge>
                    </Td>
                    <Td>
                      <span className="break-all" title={destinationOf(target)}>
                        {destinationOf(target)}
                      </span>
                    </Td>
                    <Td>
                      {target.events.length === 0 ? (
                        <span className="text-slate-500">None (tests only)</span>
                      ) : (
                        target.events.map((e) => NOTIFICATION_EVENTS[e as NotificationEvent] ?? e).join(', ')
                      )}
                    </Td>
                    <Td>
                      <TargetRowActions target={target} deliveries={outcomes} />
                    </Td>
                  </tr>
                ))}
              </TBody>
            </Table>
          )}
        </Card>
        <Card title="Rules" description="Which events go where.">
          <ul className="space-y-1 text-sm">
            {Object.entries(NOTIFICATION_EVENTS).map(([event, label]) => {
              const names = plain.targets.filter((t) => t.enabled && t.events.includes(event)).map((t) => t.name);
              return (
                <li key={event}>
                  <span className="font-medium text-slate-800">{label}</span>
                  {' → '}
                  {names.length ? names.join(', ') : <span className="text-slate-500">nobody</span>}
                </li>
              );
            })}
          </ul>
        </Card>
        <Card title="Recent deliveries" description="Updates on its own while a delivery is being sent.">
          <RefreshWhile active={plain.deliveries.some((d) => d.status === 'pending')} />
          <DeliveriesTable rows={plain.deliveries} />
        </Card>
      </div>
    </>
  );
}
