export { QUOTA_LABELS } from '@/server/quotas/labels';
