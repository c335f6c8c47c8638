import { timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import { db, type Executor } from '../db/client';
import { registerCountedHistogram } from './histogram-from-rows';
import {
  backupCounts,
  BYTES_BUCKETS,
  deliveryCounts,
  DURATION_BUCKETS,
  jobCounts,
  serviceHeartbeats,
  transferBytes,
  transferDurations,
} from './queries';
import { webMetrics } from './web-requests';

const FINISHED = ['succeeded', 'failed', 'cancelled'];

/** The scrape token from the environment; without one the endpoint does not exist. */
export function metricsToken(source: NodeJS.ProcessEnv = process.env): string | undefined {
  return z
    .string()
    .min(16)
    .optional()
    .catch(undefined)
    .parse(source.CINDERBLOCK_METRICS_TOKEN || undefined);
}

/** `Authorization: Bearer <token>`, compared in constant time. */
export function bearerMatches(header: string | null, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * One scrape: a fresh registry filled from a handful of aggregate queries (so every web process
 * answers the same, whatever ran where), merged with this process's request durations.
 */
export async function scrapeMetrics(tx: Executor = db()): Promise<{ contentType: string; body: string }> {
  const [jobs, durations, sizes, backups, services, deliveries] = await Promise.all([
    jobCounts(tx),
    transferDurations(tx),
    transferBytes(tx),
    backupCounts(tx),
    serviceHeartbeats(tx),
    deliveryCounts(tx),
  ]);
  const registry = new Registry();
  const registers = [registry];

  const jobsTotal = new Counter({
    name: 'cinderblock_jobs_total',
    help: 'Finished jobs by kind and outcome (succeeded, failed, cancelled), from the jobs table.',
    labelNames: ['kind', 'outcome'],
    registers,
  });
  const queued = new Gauge({
    name: 'cinderblock_jobs_queued',
    help: 'Jobs waiting to be claimed, by kind.',
    labelNames: ['kind'],
    registers,
  });
  const running = new Gauge({
    name: 'cinderblock_jobs_running',
    help: 'Jobs being run by a worker, by kind.',
    labelNames: ['kind'],
    registers,
  });
  const oldest = new Gauge({
    name: 'cinderblock_jobs_queued_oldest_age_seconds',
    help: 'Age of the oldest queued job, by kind.',
    labelNames: ['kind'],
    registers,
  });
  for (const row of jobs) {
    if (FINISHED.includes(row.status)) jobsTotal.inc({ kind: row.kind, outcome: row.status }, row.count);
    if (row.status === 'queued') {
      queued.set({ kind: row.kind }, row.count);
      oldest.set({ kind: row.kind }, row.oldestSeconds ?? 0);
    }
    if (row.status === 'running') running.set({ kind: row.kind }, row.count);
  }

  registerCountedHistogram(
    registry,
    {
      name: 'cinderblock_transfer_duration_seconds',
      help: 'Duration of finished backup and restore transfers (from the jobs table).',
      labelName: 'direction',
      bounds: DURATION_BUCKETS,
    },
    durations.map((r) => ({ ...r, label: r.direction })),
  );
  registerCountedHistogram(
    registry,
    {
      name: 'cinderblock_transfer_size_bytes',
      help: 'Bytes of finished transfers: stored in the repository by a backup, restored by a restore.',
      labelName: 'direction',
      bounds: BYTES_BUCKETS,
    },
    sizes.map((r) => ({ ...r, label: r.direction })),
  );

  const backupsGauge = new Gauge({
    name: 'cinderblock_backups',
    help: 'Backup records (not deleted) by status and integrity.',
    labelNames: ['status', 'integrity'],
    registers,
  });
  const repository = new Gauge({
    name: 'cinderblock_repository_stored_bytes',
    help: 'Bytes the backup repository holds for the backup records (sum of bytes stored).',
    registers,
  });
  repository.set(0);
  for (const row of backups) {
    backupsGauge.set({ status: row.status, integrity: row.integrity }, row.count);
    repository.inc(row.bytes);
  }

  const heartbeat = new Gauge({
    name: 'cinderblock_service_heartbeat_age_seconds',
    help: 'Seconds since each service last heartbeat.',
    labelNames: ['binary', 'host'],
    registers,
  });
  const enabled = new Gauge({
    name: 'cinderblock_service_enabled',
    help: '1 when the service is enabled, 0 when an administrator disabled it.',
    labelNames: ['binary', 'host'],
    registers,
  });
  for (const row of services) {
    heartbeat.set({ binary: row.binary, host: row.host }, row.ageSeconds);
    enabled.set({ binary: row.binary, host: row.host }, row.disabled ? 0 : 1);
  }

  const delivered = new Gauge({
    name: 'cinderblock_notification_deliveries',
    help: 'Notification deliveries by target kind and status (pending, sent, failed).',
    labelNames: ['target_kind', 'status'],
    registers,
  });
  for (const row of deliveries) delivered.set({ target_kind: row.kind, status: row.status }, row.count);

  const merged = Registry.merge([registry, webMetrics().registry]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
