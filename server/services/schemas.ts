import { z } from 'zod';
import { SERVICE_BINARIES } from '../jobs/kinds';

export const serviceKeySchema = z.object({
  binary: z.enum(SERVICE_BINARIES as [string, ...string[]], { message: 'Unknown service binary' }),
  host: z.string().trim().min(1, 'Enter a host').max(255),
});

export const setServiceStatusSchema = serviceKeySchema.extend({
  enabled: z.boolean(),
  reason: z.string().trim().max(255, 'Use at most 255 characters').optional(),
});

export const pingSchema = serviceKeySchema.extend({
  holdSeconds: z.coerce.number().min(0, 'Use 0 to 600 seconds').max(600, 'Use 0 to 600 seconds').default(0),
});
