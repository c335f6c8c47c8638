/** The shell lines that make the openstack and cinder clients use a credential. */
export function credentialEnvironment(authUrl: string, credential?: { id: string; secret: string }): string {
  return [
    'export OS_AUTH_TYPE=v3applicationcredential',
    `export OS_AUTH_URL=${authUrl}`,
    `export OS_APPLICATION_CREDENTIAL_ID=${credential?.id ?? '<id of your credential>'}`,
    `export OS_APPLICATION_CREDENTIAL_SECRET=${credential?.secret ?? '<its secret>'}`,
  ].join('\n');
}
