'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useActionState, useState } from 'react';
import { pingAction, setServiceStatusAction } from '@/server/services/actions';
import type { ActionResult } from '@/server/action';
import { Badge } from '@/components/ui/badge';
import { Button, buttonClass } from '@/components/ui/button';
import { Card, EmptyState } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { Field, Select, TextInput } from '@/components/ui/field';
import { Notice } from '@/components/ui/notice';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { StatusBadge } from '@/components/status/status-badge';

interface Service {
  id: number;
  binary: string;
  host: string;
  zone: string;
  version: string;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  state: 'up' | 'down';
  updatedAt: string;
  heartbeatAgeSeconds: number;
}
interface Ping {
  id: string;
  status: string;
  targetBinary: string;
  targetHost: string | null;
  attempts: number;
  result: { host?: string; durationMs?: number } | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}
interface ServicesData {
  services: Service[];
  pings: Ping[];
}

export const servicesQueryKey = ['admin', 'services'] as const;

export function ServicesPanel({ initial }: { initial: ServicesData }) {
  const { data = initial } = useQuery<ServicesData>({
    queryKey: servicesQueryKey,
    queryFn: async () => {
      const response = await fetch('/api/admin/services');
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    initialData: initial,
    refetchInterval: 2000,
  });
  const [disabling, setDisabling] = useState<Service | null>(null);
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: servicesQueryKey });

  return (
    <div className="space-y-8">
      {data.services.length === 0 ? (
        <EmptyState title="No services have registered yet">
          Start a worker (<code className="rounded bg-slate-100 px-1">npm run worker</code>, or{' '}
          <code className="rounded bg-slate-100 px-1">npm start</code> runs one for you). It registers a backup and a volume service within
          seconds.
        </EmptyState>
      ) : (
        <Table label="Services">
          <THead>
            <Th>Binary</Th>
            <Th>Host</Th>
            <Th>Zone</Th>
            <Th>Status</Th>
            <Th>State</Th>
            <Th>Last heartbeat</Th>
            <Th>Version</Th>
            <Th className="text-right">Actions</Th>
          </THead>
          <TBody>
            {data.services.map((s) => (
              <tr key={s.id} data-testid={`service-${s.binary}-${s.host}`}>
                <Td className="font-medium text-slate-900">{s.binary}</Td>
                <Td>{s.host}</Td>
                <Td>{s.zone}</Td>
                <Td>
                  {s.status === 'enabled' ? <Badge tone="green">enabled</Badge> : <Badge tone="amber">disabled</Badge>}
                  {s.disabledReason && (
                    <div className="mt-1 max-w-56 truncate text-xs text-slate-500" title={s.disabledReason}>
                      {s.disabledReason}
                    </div>
                  )}
                </Td>
                <Td>
                  <span data-testid="service-state">
                    {s.state === 'up' ? <Badge tone="green">up</Badge> : <Badge tone="red">down</Badge>}
                  </span>
                </Td>
                <Td>
                  <LocalTime value={s.updatedAt} />
                  <div className="text-xs text-slate-500">{s.heartbeatAgeSeconds}s ago</div>
                </Td>
                <Td>{s.version}</Td>
                <Td className="text-right">
                  {s.status === 'enabled' ? (
                    <Button size="sm" variant="secondary" onClick={() => setDisabling(s)}>
                      Disable…
                    </Button>
                  ) : (
                    <Button
                      size="sm"
                      variant="secondary"
                      onClick={async () => {
                        await setServiceStatusAction({ binary: s.binary, host: s.host, enabled: true });
                        await refresh();
                      }}
                    >
                      Enable
                    </Button>
                  )}
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}

      <Dialog open={!!disabling} onClose={() => setDisabling(null)} title={`Disable ${disabling?.binary} on ${disabling?.host}`}>
        {disabling && (
          <DisableForm
            service={disabling}
            onDone={async () => {
              setDisabling(null);
              await refresh();
            }}
          />
        )}
      </Dialog>

      <PingCard services={data.services} pings={data.pings} onSent={refresh} />
    </div>
  );
}

function DisableForm({ service, onDone }: { service: Service; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  return (
    <form
      className="space-y-4"
      onSubmit={async (e) => {
        e.preventDefault();
        const result = await setServiceStatusAction({ binary: service.binary, host: service.host, enabled: false, reason });
        if (result.ok) onDone();
        else setError(result.fieldErrors?.reason ?? result.message);
      }}
    >
      <p className="text-sm text-slate-600">
        A disabled service finishes what it is running but takes no new work. Requests that need it are refused until it is enabled again.
      </p>
      <Field label="Reason" name="reason" error={error} hint="Shown to other operators in the services list.">
        <TextInput
          name="reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          maxLength={255}
          placeholder="e.g. disk replacement"
          error={error}
        />
      </Field>
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onDone}>
          Keep enabled
        </Button>
        <button type="submit" className={buttonClass('danger')}>
          Disable service
        </button>
      </div>
    </form>
  );
}

function PingCard({ services, pings, onSent }: { services: Service[]; pings: Ping[]; onSent: () => void }) {
  const [state, action, pending] = useActionState<ActionResult | null, FormData>(async (prev, formData) => {
    const result = await pingAction(prev, formData);
    onSent();
    return result;
  }, null);
  const live = services.filter((s) => s.state === 'up' && s.status === 'enabled');
  return (
    <Card
      title="Ping a service"
      description="Sends a job through the queue to one service and shows which host ran it, how long it took and how many attempts it needed."
    >
      <form action={action} className="flex flex-wrap items-end gap-4">
        <div className="min-w-72">
          <Field
            label="Service"
            name="service"
            error={state && !state.ok ? (state.fieldErrors?.binary ?? state.fieldErrors?.host) : undefined}
          >
            <Select name="service" required>
              {live.length === 0 && <option value="">No service is up</option>}
              {live.map((s) => (
                <option key={s.id} value={`${s.binary}|${s.host}`}>
                  {s.binary} on {s.host}
                </option>
              ))}
            </Select>
          </Field>
        </div>
        <div className="w-40">
          <Field label="Hold (seconds)" name="holdSeconds" error={state && !state.ok ? state.fieldErrors?.holdSeconds : undefined}>
            <TextInput name="holdSeconds" type="number" min={0} max={600} defaultValue={0} />
          </Field>
        </div>
        <button type="submit" className={buttonClass('primary')} disabled={pending || live.length === 0}>
          {pending ? 'Sending…' : 'Send ping'}
        </button>
      </form>
      {state && !state.ok && !state.fieldErrors && (
        <div className="mt-3">
          <Notice tone="error">{state.message}</Notice>
        </div>
      )}
      {pings.length > 0 && (
        <div className="mt-5">
          <Table label="Recent pings">
            <THead>
              <Th>Sent</Th>
              <Th>Service</Th>
              <Th>Status</Th>
              <Th>Ran on</Th>
              <Th>Took</Th>
              <Th>Attempts</Th>
            </THead>
            <TBody>
              {pings.map((p) => (
                <tr key={p.id} data-testid="ping-row">
                  <Td>
                    <LocalTime value={p.createdAt} />
                  </Td>
                  <Td>
                    {p.targetBinary} on {p.targetHost ?? 'any host'}
                  </Td>
                  <Td>
                    <StatusBadge
                      status={p.status}
                      tone={
                        p.status === 'succeeded' ? 'green' : p.status === 'failed' ? 'red' : p.status === 'cancelled' ? 'amber' : 'blue'
                      }
                      pulse={p.status === 'running' || p.status === 'queued'}
                    />
                  </Td>
                  <Td>{p.result?.host ?? '—'}</Td>
                  <Td>{p.result?.durationMs !== undefined ? `${p.result.durationMs} ms` : '—'}</Td>
                  <Td>{p.attempts}</Td>
                </tr>
              ))}
            </TBody>
          </Table>
        </div>
      )}
    </Card>
  );
}
