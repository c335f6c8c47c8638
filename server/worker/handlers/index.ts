import type { JobKind } from '../../jobs/kinds';
import { pingHandler } from './ping';
import type { JobHandler } from './types';

export const handlers: Record<JobKind, JobHandler> = {
  ping: pingHandler,
};
