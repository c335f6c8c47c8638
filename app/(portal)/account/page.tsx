import type { Metadata } from 'next';
import { ChangePasswordForm } from '@/components/identity/change-password-form';
import { Card, PageHeader } from '@/components/ui/card';
import { requirePageActor } from '@/server/auth/session';

export const metadata: Metadata = { title: 'Your account' };

export default async function AccountPage() {
  const actor = await requirePageActor();
  return (
    <>
      <PageHeader title="Your account" description={`Signed in as ${actor.name}.`} />
      <Card
        title="Password"
        description="Changing it signs you out everywhere and ends API tokens issued with the old one; application credentials keep working."
      >
        <div className="max-w-md">
          <ChangePasswordForm />
        </div>
      </Card>
    </>
  );
}
