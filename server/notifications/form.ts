import { formInput } from '../action';

/**
 * A target form's fields as the shape the target schemas read: `config.*` fields nested, the
 * recipients one per line or comma-separated, the checked event kinds as a list. Field names
 * match the paths of the schemas' errors, so each error lands next to its field.
 */
export function targetInputFromForm(sent: FormData): Record<string, unknown> {
  const formData = formInput(sent);
  const text = (name: string) => {
    const value = formData.get(name);
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const kind = text('kind');
  const config =
    kind === 'email'
      ? {
          host: text('config.host'),
          port: text('config.port'),
          tls: text('config.tls'),
          user: text('config.user'),
          from: text('config.from'),
          to: (text('config.to') ?? '').split(/[\s,;]+/).filter(Boolean),
        }
      : { url: text('config.url') };
  return {
    ...(text('id') ? { id: text('id') } : {}),
    kind,
    name: text('name'),
    config,
    events: formData.getAll('events').filter((v): v is string => typeof v === 'string'),
    enabled: formData.has('id') ? formData.get('enabled') === 'on' : undefined,
    password: kind === 'email' ? text('password') : undefined,
    rotateSecret: kind === 'webhook' ? formData.get('rotateSecret') === 'on' : undefined,
  };
}
