import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { EmailConfig, WebhookConfig } from './schemas';
import type { NotificationEventBody } from './enqueue';

export const SIGNATURE_HEADER = 'X-Cinderblock-Signature';
const SEND_TIMEOUT_MS = 15_000;

/** `sha256=<hex>`: HMAC-SHA256 of the exact request body with the target's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface Message {
  deliveryId: string;
  subject: string;
  event: NotificationEventBody;
}

function plainText(message: Message): string {
  const { event } = message;
  const lines = [
    event.summary,
    '',
    `Event: ${event.kind}`,
    `When: ${event.at}`,
    `Resource: ${event.resourceType} ${event.resourceId}`,
    ...(event.projectId ? [`Project: ${event.projectId}`] : []),
    ...Object.entries(event.detail ?? {}).map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`),
    '',
    `Delivery ${message.deliveryId}`,
  ];
  return lines.join('\n');
}

/** Sends one mail over SMTP; throws with the server's words when it refuses. */
export async function sendEmail(config: EmailConfig, password: string | null, message: Message): Promise<void> {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.tls === 'tls',
    requireTLS: config.tls === 'starttls',
    ignoreTLS: config.tls === 'none',
    auth: config.user ? { user: config.user, pass: password ?? '' } : undefined,
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
  try {
    await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: message.subject,
      text: plainText(message),
      headers: { 'X-Cinderblock-Event': message.event.kind, 'X-Cinderblock-Delivery': message.deliveryId },
    });
  } finally {
    transport.close();
  }
}

/** POSTs the event as JSON, signed; anything but a 2xx answer is a failure naming the status. */
export async function sendWebhook(config: WebhookConfig, secret: string, message: Message, signal: AbortSignal): Promise<void> {
  const body = JSON.stringify({ deliveryId: message.deliveryId, subject: message.subject, ...message.event });
  const response = await fetch(config.url, {
    method: 'POST',
    body,
    redirect: 'manual',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Cinderblock-Notifications',
      'X-Cinderblock-Event': message.event.kind,
      'X-Cinderblock-Delivery': message.deliveryId,
      [SIGNATURE_HEADER]: signBody(secret, body),
    },
    signal: AbortSignal.any([signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]),
  });
  await response.body?.cancel().catch(() => undefined);
  if (response.status < 200 || response.status > 299)
    throw new Error(`The webhook answered HTTP ${response.status} ${response.statusText}`.trim());
}
