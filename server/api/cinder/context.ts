import type { Actor } from '../../auth/actor';
import type { TokenContext } from '../../identity/tokens';
import { AppError } from '../../errors';
import { parseJsonBody } from '../request-input';
import type { Links } from './links';
import type { Microversion } from './microversions';

/** Everything a REST handler needs: the negotiated version, the token's scope, links and the request. */
export interface CinderContext {
  request: Request;
  version: Microversion;
  token: TokenContext;
  /** The actor the service layer sees: the token's user, limited to the token's project. */
  actor: Actor;
  /** The token's project: what Cinder calls `context.project_id`. */
  projectId: string;
  links: Links;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: Record<string, string>;
}

export type Handler = (context: CinderContext) => Promise<Response>;

const MALFORMED = 'Malformed request body';

/**
 * The JSON body of a request. Another content type is a 415 as in Cinder; a body that is not JSON
 * is a 400 ("Malformed message body: cannot understand JSON"), and so is one nested absurdly deep or
 * holding text PostgreSQL cannot store (a NUL character, a lone UTF-16 surrogate).
 */
export async function readJson(request: Request): Promise<unknown> {
  const type = request.headers.get('content-type');
  if (type && !/^application\/(?:[\w.+-]*\+)?json\b/i.test(type.trim())) {
    throw new UnsupportedMediaType(type.split(';')[0].trim());
  }
  const text = await request.text();
  if (text.trim() === '') throw new AppError('invalid', `${MALFORMED}: the body is empty.`);
  const body = parseJsonBody(text);
  if (body.ok) return body.value;
  throw new AppError('invalid', `Malformed message body: ${body.reason}`);
}

export class UnsupportedMediaType extends Error {
  constructor(readonly contentType: string) {
    super(`Invalid content type ${contentType}.`);
  }
}

export function json(context: CinderContext, body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: context.headers });
}

export function empty(context: CinderContext, status = 202): Response {
  return new Response(null, { status, headers: context.headers });
}
