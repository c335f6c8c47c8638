import { webEnvSchema } from '../../env';

/**
 * Absolute links (reference §2.3): `CINDERBLOCK_PUBLIC_URL`, else the request's origin, then the
 * mount the request came through (`/volume` for the catalog endpoint, nothing for `/v3/…`).
 * `self` keeps the version segment, `bookmark` drops it; neither has a project segment when the
 * request URL had none (3.67).
 */
export function publicOrigin(request: Request): string {
  return publicOriginFromEnv() ?? new URL(request.url).origin;
}

export class Links {
  /** `origin + mount`, e.g. `https://cloud.example.com/volume`. */
  readonly endpoint: string;

  constructor(
    request: Request,
    mount: string,
    readonly projectInUrl: string | null,
  ) {
    this.endpoint = publicOrigin(request) + mount;
  }

  private project(): string {
    return this.projectInUrl ? `/${this.projectInUrl}` : '';
  }

  self(collection: string, id: string): string {
    return `${this.endpoint}/v3${this.project()}/${collection}/${id}`;
  }

  bookmark(collection: string, id: string): string {
    return `${this.endpoint}${this.project()}/${collection}/${id}`;
  }

  resource(collection: string, id: string) {
    return [
      { rel: 'self', href: this.self(collection, id) },
      { rel: 'bookmark', href: this.bookmark(collection, id) },
    ];
  }

  /** The `next` link: the original query with `marker` set to the last id. */
  next(collectionPath: string, query: URLSearchParams, marker: string): string {
    const params = new URLSearchParams(query);
    params.set('marker', marker);
    return `${this.endpoint}/v3${this.project()}/${collectionPath}?${params.toString()}`;
  }
}

/** The configured public URL, if any (pages have no request to fall back on). */
export function publicOriginFromEnv(): string | null {
  const configured = webEnvSchema.shape.CINDERBLOCK_PUBLIC_URL.safeParse(process.env.CINDERBLOCK_PUBLIC_URL || undefined);
  return configured.success && configured.data ? configured.data.replace(/\/+$/, '') : null;
}
