import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import type { Database } from '../db/client';
import type { WorkerEnv } from '../env';
import { SYSTEM_ACTOR } from '../auth/actor';
import { recordEvent } from '../events/audit';
import {
  BACKUP_BINARY,
  CANCEL_CHANNEL,
  classOfJob,
  JOBS_CHANNEL,
  jobPayloads,
  RETRIED_AFTER_LEASE_EXPIRY,
  VOLUME_BINARY,
  type JobClass,
  type JobKind,
} from '../jobs/kinds';
import { registerService, reportServiceAlive } from '../services/registration';
import { enqueueDueChecks } from '../backups/integrity-schedule';
import { sweepPolicies } from '../policies/runs';
import { sweepScratch } from '../backups/scratch';
import { sweepLeftovers } from '../volumes/backend';
import { sweepOrphanImages } from '../volumes/orphans';
import { sweepServiceHealth } from '../notifications/service-health';
import { pruneEndedDeliveries } from '../notifications/cleanup';
import { deliverySettings } from '../notifications/config';
import { handlers } from './handlers';
import type { JobContext, JobHandler, TypedJob } from './handlers/types';
import {
  claimJob,
  expireLease,
  failRecovered,
  fencedTransaction,
  finishJob,
  LeaseLostError,
  lockExpiredJob,
  renewLease,
  requeue,
  saveProgress,
  type JobRow,
} from './queue';

type AbortReason = 'cancel' | 'lease-lost' | 'shutdown';

class JobAbort extends Error {
  constructor(readonly reason: AbortReason) {
    super(`job aborted: ${reason}`);
    this.name = 'AbortError';
  }
}

interface RunningJob {
  job: JobRow;
  /** The slot it took when claimed. */
  jobClass: JobClass;
  controller: AbortController;
  done: Promise<void>;
}

/** Slots for short jobs (kinds.ts, JOB_CLASS); transfers have their own CINDERBLOCK_MAX_TRANSFERS slots and cannot take these. */
const SHORT_JOB_SLOTS = 8;
/** How often leftovers of ended or interrupted work (expired staged files, abandoned copies, old notification deliveries) are swept. */
const SWEEP_SECONDS = 600;
/** How often due integrity checks are enqueued (a few at a time, so they spread out) and stray scratch files removed. */
const INTEGRITY_SWEEP_SECONDS = 120;
/** How often policy runs are settled and due ones started (the jitter spreads them within a slot). */
const POLICY_SWEEP_SECONDS = 20;
export const WORKER_VERSION = '0.1.0';

/**
 * One worker process: registers its services, heartbeats, claims jobs with leases, wakes on
 * NOTIFY, aborts on cancel, recovers expired leases, and shuts down gracefully.
 */
export class Worker {
  readonly owner: string;
  /** binary → this worker's host for it (volume services are `host@backend`, as in Cinder). */
  readonly hosts: Record<string, string>;
  private readonly running = new Map<string, RunningJob>();
  private readonly timers: NodeJS.Timeout[] = [];
  private listeners: postgres.ListenMeta[] = [];
  private claiming = false;
  private claimAgain = false;
  private stopped = false;

  constructor(
    private readonly env: WorkerEnv,
    private readonly database: Database,
    private readonly sqlClient: postgres.Sql,
    private readonly log: (message: string) => void = (m) => console.log(`[worker] ${m}`),
  ) {
    this.owner = `${env.CINDERBLOCK_HOST}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.hosts = { [BACKUP_BINARY]: env.CINDERBLOCK_HOST, [VOLUME_BINARY]: `${env.CINDERBLOCK_HOST}@file` };
  }

  async start(): Promise<void> {
    await this.register();
    const listen = async (channel: string, onMessage: (payload: string) => void) => {
      this.listeners.push(await this.sqlClient.listen(channel, onMessage));
    };
    await listen(JOBS_CHANNEL, (binary) => {
      if (binary in this.hosts) this.wake();
    });
    await listen(CANCEL_CHANNEL, (jobId) => this.running.get(jobId)?.controller.abort(new JobAbort('cancel')));

    const every = (seconds: number, task: () => Promise<void>) => {
      const timer = setInterval(
        () => void task().catch((e) => this.log(`background task failed: ${(e as Error).message}`)),
        seconds * 1000,
      );
      this.timers.push(timer);
    };
    every(this.env.CINDERBLOCK_REPORT_INTERVAL, async () => {
      await this.heartbeat();
      await this.recoverExpiredLeases();
      await sweepServiceHealth(this.database, this.env.CINDERBLOCK_SERVICE_DOWN_TIME);
    });
    every(Math.max(0.2, this.env.CINDERBLOCK_JOB_LEASE_SECONDS / 3), () => this.renewLeases());
    if (this.env.CINDERBLOCK_JOB_POLL_SECONDS > 0) every(this.env.CINDERBLOCK_JOB_POLL_SECONDS, async () => this.wake());

    every(SWEEP_SECONDS, () => this.sweepLeftovers());
    every(INTEGRITY_SWEEP_SECONDS, () => this.sweepIntegrity());
    every(POLICY_SWEEP_SECONDS, () => this.sweepPolicies());

    await this.recoverExpiredLeases();
    await this.sweepLeftovers().catch((e) => this.log(`sweeping leftovers failed: ${(e as Error).message}`));
    await this.sweepIntegrity().catch((e) => this.log(`integrity sweep failed: ${(e as Error).message}`));
    this.log(
      `${this.owner} serving ${Object.entries(this.hosts)
        .map(([b, h]) => `${b} on ${h}`)
        .join(', ')} in zone ${this.env.CINDERBLOCK_AVAILABILITY_ZONE}`,
    );
    this.wake();
  }

  private async sweepLeftovers(): Promise<void> {
    const { staged, copies } = await sweepLeftovers(this.env);
    if (staged.length > 0) this.log(`removed ${staged.length} expired staged file(s)`);
    if (copies.length > 0) this.log(`removed ${copies.length} abandoned volume copy file(s): ${copies.join(', ')}`);
    const orphans = await sweepOrphanImages(this.env, this.database);
    if (orphans.kept.length > 0)
      this.log(
        `${orphans.kept.length} image file(s) no volume or snapshot owns, removed after an hour: ${orphans.kept.map((o) => o.fileName).join(', ')}`,
      );
    if (orphans.removed.length > 0)
      this.log(`removed ${orphans.removed.length} image file(s) no volume or snapshot owns: ${orphans.removed.join(', ')}`);
    const deliveries = await pruneEndedDeliveries(this.database, new Date(), deliverySettings().keepDays);
    if (deliveries > 0) this.log(`deleted ${deliveries} notification delivery record(s) older than the retention period`);
  }

  /** Scratch files of restore tests that no live job owns (a worker killed mid-test), then the checks the schedule says are due. */
  private async sweepIntegrity(): Promise<void> {
    const removed = await sweepScratch(this.env, this.database);
    if (removed.length > 0) this.log(`removed ${removed.length} stray restore-test scratch file(s): ${removed.join(', ')}`);
    const due = await enqueueDueChecks(this.database, new Date());
    const count = due.backup_scrub.length + due.backup_restore_test.length;
    if (count > 0) this.log(`scheduled ${due.backup_scrub.length} verify and ${due.backup_restore_test.length} restore test job(s)`);
  }

  /** Settles ended policy runs and starts due ones (exactly once across workers). */
  private async sweepPolicies(): Promise<void> {
    const { settled, started, waiting } = await sweepPolicies(this.database, new Date());
    if (settled.length + started.length + waiting.length > 0)
      this.log(`policy runs: ${settled.length} settled, ${started.length} started or skipped, ${waiting.length} waiting for a busy volume`);
  }

  private async register(): Promise<void> {
    for (const [binary, host] of Object.entries(this.hosts)) {
      await registerService(this.database, {
        binary,
        host,
        availabilityZone: this.env.CINDERBLOCK_AVAILABILITY_ZONE,
        version: WORKER_VERSION,
      });
    }
  }

  private async heartbeat(): Promise<void> {
    for (const [binary, host] of Object.entries(this.hosts)) await reportServiceAlive(this.database, binary, host);
  }

  /** The classes with a free slot here: a transfer is claimed only when a transfer slot is free, so none waits holding a lease. */
  private freeClasses(): JobClass[] {
    const busy: Record<JobClass, number> = { short: 0, transfer: 0 };
    for (const { jobClass } of this.running.values()) busy[jobClass] += 1;
    const free: JobClass[] = [];
    if (busy.short < SHORT_JOB_SLOTS) free.push('short');
    if (busy.transfer < this.env.CINDERBLOCK_MAX_TRANSFERS) free.push('transfer');
    return free;
  }

  /** Claims and starts jobs until the queue is empty or every slot is busy. */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    void (async () => {
      try {
        do {
          this.claimAgain = false;
          while (!this.stopped) {
            const classes = this.freeClasses();
            if (classes.length === 0) break;
            const job = await claimJob(this.database, {
              owner: this.owner,
              hosts: this.hosts,
              leaseSeconds: this.env.CINDERBLOCK_JOB_LEASE_SECONDS,
              classes,
            });
            if (!job) break;
            this.execute(job);
          }
        } while (this.claimAgain && !this.stopped);
      } catch (error) {
        this.log(`claiming failed: ${(error as Error).message}`);
      } finally {
        this.claiming = false;
      }
    })();
  }

  private execute(row: JobRow): void {
    const controller = new AbortController();
    const { handler, job, invalid } = typedJob(row);
    let lastProgressWrite = 0;
    let completed = false;
    const host = this.hosts[job.targetBinary];
    const context: JobContext = {
      job,
      signal: controller.signal,
      host,
      env: this.env,
      database: this.database,
      reportProgress: (progress: Record<string, number>) => {
        const now = Date.now();
        if (now - lastProgressWrite < 1000) return;
        lastProgressWrite = now;
        void saveProgress(this.database, job, progress).catch(() => undefined);
      },
      transact: (writes) => fencedTransaction(this.database, job, writes),
      complete: async (result?: Record<string, unknown>, writes?: Parameters<typeof finishJob>[3]) => {
        await finishJob(this.database, job, { status: 'succeeded', result }, writes);
        completed = true;
      },
    };

    const done = (async () => {
      try {
        if (invalid) throw new Error(invalid);
        if (job.cancelRequested) throw new JobAbort('cancel');
        await handler!.run(context);
        if (!completed) await finishJob(this.database, job, { status: 'succeeded' });
      } catch (error) {
        await this.settleFailure(job, invalid ? undefined : handler, controller.signal, error);
      } finally {
        this.running.delete(job.id);
        this.wake();
      }
    })();
    this.running.set(job.id, { job, jobClass: classOfJob(row), controller, done });
  }

  private async settleFailure(job: TypedJob<JobKind>, handler: JobHandler | undefined, signal: AbortSignal, error: unknown): Promise<void> {
    const reason = signal.aborted && signal.reason instanceof JobAbort ? signal.reason.reason : undefined;
    try {
      if (error instanceof LeaseLostError || reason === 'lease-lost') {
        this.log(`job ${job.id} (${job.kind}): lease lost; its result was refused`);
      } else if (reason === 'shutdown') {
        await expireLease(this.database, job);
      } else if (reason === 'cancel') {
        await finishJob(
          this.database,
          job,
          { status: 'cancelled', error: 'Cancelled on request' },
          (tx) => handler?.onCancel?.(tx, job) ?? Promise.resolve(),
        );
        this.log(`job ${job.id} (${job.kind}) cancelled`);
      } else {
        const message = error instanceof Error ? error.message : String(error);
        this.log(`job ${job.id} (${job.kind}) failed: ${message}`);
        await finishJob(
          this.database,
          job,
          { status: 'failed', error: message.slice(0, 2000) },
          (tx) => handler?.onFailure?.(tx, job, message) ?? Promise.resolve(),
        );
      }
    } catch (settleError) {
      if (settleError instanceof LeaseLostError) this.log(`job ${job.id} (${job.kind}): lease lost; its result was refused`);
      else this.log(`job ${job.id}: could not record its end: ${(settleError as Error).message}`);
    }
  }

  private async renewLeases(): Promise<void> {
    for (const { job, controller } of this.running.values()) {
      if (controller.signal.aborted) continue;
      const lease = await renewLease(this.database, job, this.env.CINDERBLOCK_JOB_LEASE_SECONDS);
      if (!lease) controller.abort(new JobAbort('lease-lost'));
      else if (lease.cancelRequested) controller.abort(new JobAbort('cancel'));
    }
  }

  /**
   * Jobs whose worker vanished: retried when their kind allows it, else ended as design.md's
   * outcomes say by the kind's `onAbandoned`. Any worker does this, the same one at start too.
   */
  async recoverExpiredLeases(): Promise<number> {
    let recovered = 0;
    for (;;) {
      const done = await this.database.transaction(async (tx) => {
        const job = await lockExpiredJob(tx);
        if (!job) return true;
        const kind = job.kind as JobKind;
        const retry = RETRIED_AFTER_LEASE_EXPIRY[kind] && job.attempts < job.maxAttempts && !job.cancelRequested;
        if (retry) {
          await requeue(tx, job);
        } else {
          await failRecovered(
            tx,
            job,
            job.cancelRequested ? 'Cancelled while its worker was gone' : 'Its worker stopped before finishing (lease expired)',
          );
          const typed = typedJob(job);
          if (!typed.invalid) await typed.handler?.onAbandoned?.(tx, typed.job);
        }
        await recordEvent(tx, {
          actor: SYSTEM_ACTOR,
          projectId: job.projectId,
          resourceType: 'job',
          resourceId: job.id,
          action: 'recover',
          fromStatus: 'running',
          toStatus: retry ? 'queued' : 'failed',
          detail: { kind, attempts: job.attempts, previousOwner: job.leaseOwner, recoveredBy: this.owner },
        });
        return false;
      });
      if (done) break;
      recovered += 1;
    }
    if (recovered) this.log(`recovered ${recovered} job(s) whose worker stopped`);
    return recovered;
  }

  /** Stops claiming, gives running work `graceSeconds`, then aborts and releases what is left. */
  async stop(graceSeconds = this.env.CINDERBLOCK_SHUTDOWN_GRACE_SECONDS): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all(this.listeners.map((l) => l.unlisten().catch(() => undefined)));
    const pending = [...this.running.values()];
    if (pending.length) {
      this.log(`waiting up to ${graceSeconds}s for ${pending.length} running job(s)`);
      const grace = new Promise((r) => setTimeout(r, graceSeconds * 1000).unref());
      await Promise.race([Promise.all(pending.map((r) => r.done)), grace]);
      for (const { controller } of this.running.values()) controller.abort(new JobAbort('shutdown'));
      await Promise.all([...this.running.values()].map((r) => r.done));
      if (pending.length) await this.recoverExpiredLeases().catch(() => 0);
    }
  }
}

/**
 * The job with its payload parsed, once, by its kind's schema, and the kind's handler; `invalid`
 * says why a job cannot run (unknown kind, or a payload its schema refuses).
 */
function typedJob(row: JobRow): { job: TypedJob<JobKind>; handler?: JobHandler; invalid?: string } {
  const kind = row.kind as JobKind;
  const schema = jobPayloads[kind];
  const handler = handlers[kind] as unknown as JobHandler | undefined;
  if (!schema || !handler) return { job: row as TypedJob<JobKind>, invalid: `No handler for job kind ${row.kind}` };
  const parsed = schema.safeParse(row.payload);
  if (!parsed.success)
    return {
      job: row as TypedJob<JobKind>,
      invalid: `Job ${row.id} (${row.kind}) has an invalid payload: ${parsed.error.issues[0]?.message}`,
    };
  return { job: { ...row, kind, payload: parsed.data } as TypedJob<JobKind>, handler };
}
