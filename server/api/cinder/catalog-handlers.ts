import { AppError } from '../../errors';
import { json, type CinderContext } from './context';
import { requireVersion } from './microversions';
import { DEFAULT_TYPE_ID, DEFAULT_TYPE_NAME } from './volume-views';

/** `types` (one default type, as a fresh Cinder has) and `extensions` (what clients probe for). */
function defaultType(c: CinderContext) {
  const view: Record<string, unknown> = {
    id: DEFAULT_TYPE_ID,
    name: DEFAULT_TYPE_NAME,
    description: 'Default Volume Type',
    is_public: true,
    'os-volume-type-access:is_public': true,
    extra_specs: {},
  };
  if (c.actor.isAdmin) view.qos_specs_id = null;
  return view;
}

export async function listTypesHandler(c: CinderContext) {
  return json(c, { volume_types: [defaultType(c)] });
}

export async function showTypeHandler(c: CinderContext) {
  const id = c.params.id;
  if (id === 'default') {
    requireVersion(c.version, '3.62');
    return json(c, { volume_type: defaultType(c) });
  }
  if (id !== DEFAULT_TYPE_ID && id !== DEFAULT_TYPE_NAME) throw new AppError('not_found', `Volume type ${id} could not be found.`);
  return json(c, { volume_type: defaultType(c) });
}

export async function typeExtraSpecsHandler(c: CinderContext) {
  const id = c.params.id;
  if (id !== DEFAULT_TYPE_ID && id !== DEFAULT_TYPE_NAME) throw new AppError('not_found', `Volume type ${id} could not be found.`);
  return json(c, { extra_specs: {} });
}

const EXTENSIONS: [string, string, string][] = [
  ['os-admin-actions', 'AdminActions', 'Enable admin actions.'],
  ['os-availability-zone', 'AvailabilityZones', 'Describe Availability Zones.'],
  ['backups', 'Backups', 'Backups support.'],
  ['os-extended-services', 'ExtendedServices', 'Extended services support.'],
  ['os-extended-snapshot-attributes', 'ExtendedSnapshotAttributes', 'Extended SnapshotAttributes support.'],
  ['os-quota-sets', 'Quotas', 'Quota management support.'],
  ['os-services', 'Services', 'Services support.'],
  ['os-used-limits', 'UsedLimits', 'Provide data on limited resources that are being used.'],
  ['os-vol-host-attr', 'VolumeHostAttribute', 'Expose host as an attribute of a volume.'],
  ['os-vol-mig-status-attr', 'VolumeMigStatusAttribute', 'Expose migration_status as an attribute of a volume.'],
  ['os-vol-tenant-attr', 'VolumeTenantAttribute', 'Expose the internal project_id as an attribute of a volume.'],
  ['os-volume-actions', 'VolumeActions', 'Enable volume actions.'],
];

export async function listExtensionsHandler(c: CinderContext) {
  return json(c, {
    extensions: EXTENSIONS.map(([alias, name, description]) => ({
      alias,
      description,
      links: [],
      name,
      updated: '2013-04-18T00:00:00+00:00',
    })),
  });
}
