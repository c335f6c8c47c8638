import type { Metadata } from 'next';
import { headers } from 'next/headers';
import { CreateAppCredentialForm, RevokeAppCredentialButton } from '@/components/access/app-credential-forms';
import { credentialEnvironment } from '@/components/access/credential-environment';
import { Card, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th, THead } from '@/components/ui/table';
import { LocalTime } from '@/components/ui/time';
import { currentProject, requirePageActor } from '@/server/auth/session';
import { listApplicationCredentials } from '@/server/identity/app-credentials';
import { publicOriginFromEnv } from '@/server/api/cinder/links';

export const metadata: Metadata = { title: 'API access' };

/** Application credentials for the Cinder-compatible REST API: create (secret shown once) and revoke. */
export default async function AccessPage() {
  const actor = await requirePageActor();
  const { project, choices } = await currentProject(actor);
  const credentials = await listApplicationCredentials(actor);
  const requestHeaders = await headers();
  const origin =
    publicOriginFromEnv() ?? `${requestHeaders.get('x-forwarded-proto') ?? 'http'}://${requestHeaders.get('host') ?? 'localhost'}`;
  const authUrl = `${origin}/identity/v3`;
  return (
    <>
      <PageHeader
        title="API access"
        description="Application credentials let scripts, the cinder and openstack clients, Terraform and SDKs use the REST API without your password."
      />
      <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
        <Card title="Your application credentials">
          {credentials.length === 0 ? (
            <p className="text-sm text-slate-600">None yet.</p>
          ) : (
            <Table label="Application credentials">
              <THead>
                <Th>Name</Th>
                <Th>Project</Th>
                <Th>Created</Th>
                <Th>Expires</Th>
                <Th className="text-right">Actions</Th>
              </THead>
              <TBody>
                {credentials.map((c) => (
                  <tr key={c.id}>
                    <Td>
                      <div className="font-medium text-slate-900">{c.name}</div>
                      <div className="text-xs text-slate-500">
                        <code>{c.id}</code>
                      </div>
                      {c.description && <div className="text-xs text-slate-500">{c.description}</div>}
                    </Td>
                    <Td>{c.projectName}</Td>
                    <Td>
                      <LocalTime value={c.createdAt} />
                    </Td>
                    <Td>
                      {c.expiresAt ? (
                        <span className={c.expired ? 'text-red-600' : undefined}>
                          <LocalTime value={c.expiresAt} />
                          {c.expired ? ' (expired)' : ''}
                        </span>
                      ) : (
                        'never'
                      )}
                    </Td>
                    <Td className="text-right">
                      <RevokeAppCredentialButton id={c.id} name={c.name} />
                    </Td>
                  </tr>
                ))}
              </TBody>
            </Table>
          )}
        </Card>
        <Card title="New application credential">
          <CreateAppCredentialForm
            projects={choices.map((p) => ({ id: p.id, name: p.name }))}
            defaultProjectId={project?.id}
            authUrl={authUrl}
          />
        </Card>
      </div>
      <Card title="Using it" className="mt-6">
        <pre className="overflow-x-auto text-xs text-slate-700">{`${credentialEnvironment(authUrl)}\nopenstack volume backup list`}</pre>
      </Card>
    </>
  );
}
