import { z } from 'zod';
import { NOTIFICATION_EVENT_KINDS } from './events';

const name = z.string({ error: 'Give the target a name' }).trim().min(1, 'Give the target a name').max(100);
const events = z.array(z.enum(NOTIFICATION_EVENT_KINDS)).default([]);

export const emailConfigSchema = z.object({
  host: z.string({ error: 'Give the SMTP server' }).trim().min(1, 'Give the SMTP server'),
  port: z.coerce
    .number({ error: 'Give the port, a number from 1 to 65535' })
    .int('Give the port, a number from 1 to 65535')
    .min(1, 'Give the port, a number from 1 to 65535')
    .max(65535, 'Give the port, a number from 1 to 65535'),
  /** `tls`: TLS from the first byte (465); `starttls`: upgrade required; `none`: plain (loopback relays only). */
  tls: z.enum(['none', 'starttls', 'tls']),
  user: z.string().trim().max(200).optional(),
  from: z.string({ error: 'Give the sender address' }).trim().email('Give the sender address'),
  to: z.array(z.string().trim().email('Each recipient must be an e-mail address')).min(1, 'Give at least one recipient'),
});
export type EmailConfig = z.infer<typeof emailConfigSchema>;

export const webhookConfigSchema = z.object({
  url: z
    .string({ error: 'Give the webhook URL' })
    .trim()
    .url('Give the webhook URL')
    .refine((u) => /^https?:\/\//.test(u), 'The URL must be http or https'),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

/** A new target; an email target's `password` and a webhook's generated secret are kept write-only. */
export const createTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('email'), name, events, config: emailConfigSchema, password: z.string().max(500).optional() }),
  z.object({ kind: z.literal('webhook'), name, events, config: webhookConfigSchema }),
]);

/** An edit: the secret stays unless a new password is given (email) or a new secret is asked for (webhook). */
export const updateTargetSchema = z.discriminatedUnion('kind', [
  z.object({
    id: z.string().uuid(),
    kind: z.literal('email'),
    name,
    events,
    enabled: z.boolean().default(true),
    config: emailConfigSchema,
    password: z.string().max(500).optional(),
  }),
  z.object({
    id: z.string().uuid(),
    kind: z.literal('webhook'),
    name,
    events,
    enabled: z.boolean().default(true),
    config: webhookConfigSchema,
    rotateSecret: z.boolean().default(false),
  }),
]);

export const targetIdSchema = z.object({ id: z.string().uuid() });
