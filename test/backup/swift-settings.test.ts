/** Swift settings: what the environment builds, what the configuration refuses, which catalog endpoint Keystone v3 gives. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { swiftStoreConfig } from '../../server/runtime';
import { createStore, isBackupError, storeConfigSchema } from '../../server/drivers/backup/index';
import { objectStoreEndpoint } from '../../server/drivers/backup/stores/swift-auth';
import { parseEnv, sharedEnvSchema } from '../../server/env';

const base = { NODE_ENV: 'test', DATABASE_URL: 'postgres://localhost/x', CINDERBLOCK_BACKUP_STORE: 'swift' } as const;

/** The validated auth settings the environment gives, without the unset ones. */
function authOf(env: Record<string, string>): unknown {
  const config = storeConfigSchema.parse(swiftStoreConfig(parseEnv(sharedEnvSchema, { ...base, ...env })));
  assert.equal(config.kind, 'swift');
  return JSON.parse(JSON.stringify(config.kind === 'swift' ? config.auth : null));
}

/** The body of a Keystone v3 `POST /v3/auth/tokens` answer, trimmed to what the catalog lookup reads. */
const keystoneToken = {
  token: {
    methods: ['password'],
    expires_at: '2026-12-07T16:00:00.000000Z',
    project: { id: 'f0c1d2', name: 'service', domain: { id: 'default', name: 'Default' } },
    catalog: [
      {
        type: 'identity',
        name: 'keystone',
        id: 'k1',
        endpoints: [{ id: 'e1', interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: 'https://keystone:5000/v3' }],
      },
      {
        type: 'object-store',
        name: 'swift',
        id: 's1',
        endpoints: [
          { id: 'e2', interface: 'admin', region: 'RegionOne', region_id: 'RegionOne', url: 'http://swift-admin:8080/v1' },
          {
            id: 'e3',
            interface: 'internal',
            region: 'RegionOne',
            region_id: 'RegionOne',
            url: 'http://swift-internal:8080/v1/AUTH_f0c1d2',
          },
          { id: 'e4', interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: 'https://swift.example.com/v1/AUTH_f0c1d2' },
          { id: 'e5', interface: 'public', region: 'RegionTwo', region_id: 'RegionTwo', url: 'https://swift2.example.com/v1/AUTH_f0c1d2' },
        ],
      },
    ],
  },
};

describe('Swift settings', () => {
  test("Keystone's catalog gives the object-store endpoint of the configured interface and region", () => {
    assert.equal(objectStoreEndpoint(keystoneToken, { interface: 'public' }), 'https://swift.example.com/v1/AUTH_f0c1d2');
    assert.equal(objectStoreEndpoint(keystoneToken, { interface: 'internal' }), 'http://swift-internal:8080/v1/AUTH_f0c1d2');
    assert.equal(
      objectStoreEndpoint(keystoneToken, { interface: 'public', region: 'RegionTwo' }),
      'https://swift2.example.com/v1/AUTH_f0c1d2',
    );
    assert.equal(objectStoreEndpoint(keystoneToken, { interface: 'public', region: 'RegionThree' }), undefined);
    assert.equal(objectStoreEndpoint({ token: { catalog: [] } }, { interface: 'public' }), undefined);
  });

  test("the environment builds Cinder's defaults: v1 auth, volumebackups, 50 MiB objects, 32 KiB blocks, 3 retries from 2 s", () => {
    const env = parseEnv(sharedEnvSchema, {
      ...base,
      CINDERBLOCK_SWIFT_AUTH_URL: 'http://swift:8080/auth/v1.0',
      CINDERBLOCK_SWIFT_USER: 'a:b',
      CINDERBLOCK_SWIFT_KEY: 'k',
    });
    const config = storeConfigSchema.parse(swiftStoreConfig(env));
    assert.deepEqual(config, {
      kind: 'swift',
      auth: { kind: 'v1', authUrl: 'http://swift:8080/auth/v1.0', user: 'a:b', key: 'k' },
      url: null,
      container: 'volumebackups',
      storagePolicy: null,
      retryAttempts: 3,
      retryBackoffMs: 2000,
      requestTimeoutMs: 60_000,
      objectSize: 52_428_800,
      shaBlockSize: 32_768,
    });
    const store = createStore(swiftStoreConfig(env));
    assert.equal(store.kind, 'swift');
    assert.equal(store.objectSize, 52_428_800);
    assert.equal(store.defaultContainer('any'), 'volumebackups');
  });

  test('Keystone v3 with a password or an application credential, or a fixed token', () => {
    assert.deepEqual(
      authOf({
        CINDERBLOCK_SWIFT_AUTH_VERSION: '3',
        CINDERBLOCK_SWIFT_AUTH_URL: 'https://keystone:5000/v3',
        CINDERBLOCK_SWIFT_USER: 'backup',
        CINDERBLOCK_SWIFT_KEY: 'secret',
        CINDERBLOCK_SWIFT_PROJECT: 'service',
        CINDERBLOCK_SWIFT_ENDPOINT_INTERFACE: 'internal',
      }),
      {
        kind: 'keystone',
        authUrl: 'https://keystone:5000/v3',
        user: 'backup',
        key: 'secret',
        userDomain: 'Default',
        project: 'service',
        projectDomain: 'Default',
        interface: 'internal',
      },
    );
    assert.deepEqual(
      authOf({
        CINDERBLOCK_SWIFT_AUTH_VERSION: '3',
        CINDERBLOCK_SWIFT_AUTH_URL: 'https://keystone:5000/v3',
        CINDERBLOCK_SWIFT_REGION: 'RegionTwo',
        CINDERBLOCK_SWIFT_APPLICATION_CREDENTIAL_ID: 'ac1',
        CINDERBLOCK_SWIFT_APPLICATION_CREDENTIAL_SECRET: 's3cret',
      }),
      {
        kind: 'keystone',
        authUrl: 'https://keystone:5000/v3',
        userDomain: 'Default',
        projectDomain: 'Default',
        interface: 'public',
        region: 'RegionTwo',
        applicationCredentialId: 'ac1',
        applicationCredentialSecret: 's3cret',
      },
    );
    assert.deepEqual(authOf({ CINDERBLOCK_SWIFT_URL: 'https://swift.example.com/v1/AUTH_p', CINDERBLOCK_SWIFT_TOKEN: 'gAAAA' }), {
      kind: 'token',
      token: 'gAAAA',
    });
  });

  test('incomplete settings are refused with the field named', () => {
    const refuses = (env: Record<string, string>, field: RegExp) =>
      assert.throws(
        () => createStore(swiftStoreConfig(parseEnv(sharedEnvSchema, { ...base, ...env }))),
        (error: unknown) => isBackupError(error, 'INVALID_ARGUMENT') && field.test(error.message),
      );
    refuses({ CINDERBLOCK_SWIFT_USER: 'a:b', CINDERBLOCK_SWIFT_KEY: 'k' }, /auth\.authUrl/);
    refuses(
      { CINDERBLOCK_SWIFT_AUTH_VERSION: '3', CINDERBLOCK_SWIFT_AUTH_URL: 'https://keystone:5000/v3', CINDERBLOCK_SWIFT_USER: 'u' },
      /user and key, or an application credential/,
    );
    refuses(
      {
        CINDERBLOCK_SWIFT_AUTH_URL: 'http://swift/auth/v1.0',
        CINDERBLOCK_SWIFT_USER: 'a:b',
        CINDERBLOCK_SWIFT_KEY: 'k',
        CINDERBLOCK_SWIFT_OBJECT_SIZE: '100000',
      },
      /objectSize.*multiple/,
    );
    assert.throws(
      () => parseEnv(sharedEnvSchema, { ...base, CINDERBLOCK_SWIFT_CONTAINER: 'a/b' }),
      /CINDERBLOCK_SWIFT_CONTAINER: must not contain/,
    );
  });
});
