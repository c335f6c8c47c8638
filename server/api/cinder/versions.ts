import { MAX_VERSION, MIN_VERSION } from './microversions';

/** The version document (reference §0; api-ref `versions/versions-response.json`). */
export function versionEntry(endpoint: string) {
  return {
    id: 'v3.0',
    links: [
      { href: 'https://docs.openstack.org/', rel: 'describedby', type: 'text/html' },
      { href: `${endpoint}/v3/`, rel: 'self' },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
    min_version: MIN_VERSION,
    status: 'CURRENT',
    updated: '2023-08-31T00:00:00Z',
    version: MAX_VERSION,
  };
}

/** The endpoint's root: "multiple choices", as Cinder answers it (cinderclient reads it for its version range). */
export const rootVersions = (endpoint: string) => Response.json({ versions: [versionEntry(endpoint)] }, { status: 300 });

/** `GET /v3/`. */
export const v3Version = (endpoint: string) => Response.json({ versions: [versionEntry(endpoint)] });
