import { backupCleanupHandler, backupCreateHandler, backupDeleteHandler, backupRestoreHandler } from './backup-jobs';
import { backupMergeHandler, backupObjectsRemoveHandler } from './backup-merge-jobs';
import { backupImportHandler, backupVerifyHandler, repositoryScanHandler } from './backup-maintenance-jobs';
import { backupRestoreTestHandler, backupScrubHandler } from './integrity-jobs';
import { notificationDeliverHandler } from './notification-jobs';
import { pingHandler } from './ping';
import { policyRetentionHandler } from './policy-jobs';
import { snapshotCreateHandler, snapshotDeleteHandler } from './snapshot-jobs';
import type { HandlerRegistry } from './types';
import {
  volumeCapacityHandler,
  volumeChecksumHandler,
  volumeCreateHandler,
  volumeDeleteHandler,
  volumeExportHandler,
  volumeExtendHandler,
  volumeWriteImageHandler,
} from './volume-jobs';

export const handlers: HandlerRegistry = {
  ping: pingHandler,
  volume_create: volumeCreateHandler,
  volume_delete: volumeDeleteHandler,
  volume_extend: volumeExtendHandler,
  volume_write_image: volumeWriteImageHandler,
  volume_export: volumeExportHandler,
  volume_checksum: volumeChecksumHandler,
  volume_capacity: volumeCapacityHandler,
  snapshot_create: snapshotCreateHandler,
  snapshot_delete: snapshotDeleteHandler,
  backup_create: backupCreateHandler,
  backup_restore: backupRestoreHandler,
  backup_delete: backupDeleteHandler,
  backup_merge: backupMergeHandler,
  backup_cleanup: backupCleanupHandler,
  backup_objects_remove: backupObjectsRemoveHandler,
  backup_verify: backupVerifyHandler,
  backup_import: backupImportHandler,
  backup_scrub: backupScrubHandler,
  backup_restore_test: backupRestoreTestHandler,
  repository_scan: repositoryScanHandler,
  notification_deliver: notificationDeliverHandler,
  policy_retention: policyRetentionHandler,
};
