import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { describeSchedule } from '@/components/policies/describe-schedule';
import { PolicyAssignForm } from '@/components/policies/policy-assign-form';
import { PolicyControls } from '@/components/policies/policy-controls';
import { PolicyForm } from '@/components/policies/policy-form';
import { PolicyRunsTable } from '@/components/policies/policy-runs-table';
import { PrunePreview } from '@/components/policies/prune-preview';
import { Badge } from '@/components/ui/badge';
import { Card, PageHeader } from '@/components/ui/card';
import { LocalTime } from '@/components/ui/time';
import { currentProject, requirePageActor } from '@/server/auth/session';
import { AppError } from '@/server/errors';
import { assignableVolumes, policyDetail } from '@/server/policies/queries';
import { previewPrune } from '@/server/policies/service';

export const metadata: Metadata = { title: 'Backup policy' };

export default async function PolicyPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const actor = await requirePageActor();
  const { project } = await currentProject(actor);
  let detail;
  try {
    detail = await policyDetail(actor, id, project?.id ?? null);
  } catch (error) {
    if (error instanceof AppError && (error.code === 'not_found' || error.code === 'invalid')) notFound();
    throw error;
  }
  const { policy } = detail;
  const scope = policy.projectId ?? project?.id ?? null;
  const [volumes, preview] = await Promise.all([
    scope ? assignableVolumes(actor, scope) : Promise.resolve([]),
    previewPrune(actor, { id }),
  ]);
  const names = new Map(detail.volumes.map((v) => [v.volumeId, v.name]));
  return (
    <>
      <PageHeader
        title={policy.name}
        description={
          <>
            {describeSchedule(policy.schedule, policy.timeZone)}
            {policy.paused && (
              <span className="ml-2">
                <Badge tone="amber">paused</Badge>
              </span>
            )}
            {policy.projectId === null && (
              <span className="ml-2">
                <Badge tone="blue">every project</Badge>
              </span>
            )}
          </>
        }
        actions={
          <PolicyControls
            id={policy.id}
            name={policy.name}
            paused={policy.paused}
            canWrite={detail.canWrite}
            canRun={detail.canAssign && detail.volumes.length > 0}
          />
        }
      />
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Next five runs">
          {detail.nextRuns.length === 0 ? (
            <p className="text-sm text-slate-600">{policy.paused ? 'Paused: no runs until it is resumed.' : 'This schedule never runs.'}</p>
          ) : (
            <ol className="list-decimal pl-5 text-sm" aria-label="Next five runs">
              {detail.nextRuns.map((run) => (
                <li key={run.toISOString()}>
                  <LocalTime value={run} />
                </li>
              ))}
            </ol>
          )}
        </Card>
        <Card title="Volumes" description="Each volume runs at the slot plus a small fixed spread, so many volumes do not start at once.">
          {detail.canAssign && scope ? (
            <PolicyAssignForm id={policy.id} projectId={scope} volumes={volumes} assigned={detail.volumes.map((v) => v.volumeId)} />
          ) : (
            <ul className="text-sm">
              {detail.volumes.map((v) => (
                <li key={v.volumeId}>{v.name ?? v.volumeId}</li>
              ))}
            </ul>
          )}
        </Card>
      </div>
      <div className="mt-6 space-y-6">
        <Card
          title="Prune preview"
          description="What retention would keep and prune now, and which rule keeps each backup. Backups made by hand are never pruned."
        >
          <PrunePreview preview={preview} volumeNames={names} />
        </Card>
        <Card title="Runs">
          <PolicyRunsTable runs={detail.runs} />
        </Card>
        {detail.canWrite && (
          <Card title="Edit policy">
            <PolicyForm
              key={policy.updatedAt.toISOString()}
              values={{
                id: policy.id,
                name: policy.name,
                schedule: policy.schedule,
                timeZone: policy.timeZone,
                fullEveryRuns: policy.fullEveryRuns,
                fullEveryDays: policy.fullEveryDays,
                force: policy.force,
                container: policy.container,
                retention: { ...policy.retention },
              }}
            />
          </Card>
        )}
      </div>
    </>
  );
}
