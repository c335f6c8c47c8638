import { requireAdmin } from '../../auth/policy';
import { AppError, invalid } from '../../errors';
import { VOLUME_BINARY } from '../../jobs/kinds';
import { listServices, type ServiceView } from '../../services/queries';
import { setServiceStatus } from '../../services/service';
import { json, readJson, type CinderContext } from './context';

/**
 * `os-services` (reference §3.4) with Zed's semantics (enable clears the reason; disable and
 * disable-log-reason set `disabled`), and `os-availability-zone`.
 */
const cinderTime = (date: Date) => `${date.toISOString().slice(0, 23)}000`;

function serviceView(s: ServiceView, c: CinderContext) {
  const view: Record<string, unknown> = {
    binary: s.binary,
    host: s.host,
    zone: s.zone,
    status: s.status,
    state: s.state,
    updated_at: cinderTime(s.updatedAt),
    disabled_reason: s.disabledReason,
  };
  if (c.version.atLeast('3.7')) view.cluster = null;
  if (s.binary === VOLUME_BINARY) {
    view.replication_status = 'disabled';
    view.active_backend_id = null;
    view.frozen = false;
    if (c.version.atLeast('3.49')) view.backend_state = s.state;
  }
  return view;
}

export async function listServicesHandler(c: CinderContext) {
  requireAdmin(c.actor, 'volume_extension:services:index');
  const host = c.query.get('host') ?? undefined;
  const binary = c.query.get('binary') ?? c.query.get('service') ?? undefined;
  const rows = await listServices({ host: host || undefined, binary: binary || undefined });
  return json(c, { services: rows.map((s) => serviceView(s, c)) });
}

const printable = (text: string) => /^(?:[^\p{C}]| )*$/u.test(text);

export async function updateServiceHandler(c: CinderContext) {
  requireAdmin(c.actor, 'volume_extension:services:update');
  const action = c.params.action;
  if (!['enable', 'disable', 'disable-log-reason'].includes(action)) {
    if (['freeze', 'thaw', 'failover_host', 'failover', 'set-log', 'get-log'].includes(action)) {
      throw invalid(`Invalid input received: The action ${action} is not supported by Cinderblock.`);
    }
    throw invalid('Invalid input received: Unknown action');
  }
  const body = await readJson(c.request);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('Malformed request body');
  const b = body as Record<string, unknown>;
  const host = b.host;
  if (typeof host !== 'string' || !host) throw invalid("Missing required element 'host' in request body.");
  const service = typeof b.service === 'string' ? b.service : '';
  const binary = typeof b.binary === 'string' ? b.binary : '';
  const binaryKey = binary || service;
  if (!binaryKey) throw invalid('The server could not comply with the request since it is either malformed or otherwise incorrect.');
  let reason: string | undefined;
  if (action === 'disable-log-reason') {
    const raw = b.disabled_reason;
    if (typeof raw !== 'string' || raw.trim().length === 0 || raw.length > 255 || !printable(raw)) {
      throw invalid('Disabled reason contains invalid characters or is too long');
    }
    reason = raw;
  }
  const [found] = await listServices({ host, binary: binaryKey });
  if (!found) throw new AppError('not_found', `Service ${binaryKey} could not be found on host ${host}.`);
  const enabled = action === 'enable';
  const updated = await setServiceStatus(c.actor, { binary: found.binary, host: found.host, enabled, reason });
  const result: Record<string, unknown> = {
    disabled: updated.disabled,
    status: updated.disabled ? 'disabled' : 'enabled',
    host,
    service,
    binary,
  };
  if (action !== 'disable') result.disabled_reason = updated.disabledReason;
  return json(c, result);
}

export async function availabilityZonesHandler(c: CinderContext) {
  const rows = await listServices({ binary: VOLUME_BINARY });
  const zones = new Map<string, boolean>();
  for (const s of rows) zones.set(s.zone, (zones.get(s.zone) ?? false) || (s.state === 'up' && s.status === 'enabled'));
  if (zones.size === 0) zones.set('nova', false);
  return json(c, { availabilityZoneInfo: [...zones].map(([zoneName, available]) => ({ zoneName, zoneState: { available } })) });
}
