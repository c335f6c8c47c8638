/** The list filters a page reads from its URL; anything else in the URL is ignored. */
export function pickListQuery(params: Record<string, string | string[] | undefined>, keys: string[]): Record<string, string | undefined> {
  const query: Record<string, string | undefined> = {};
  for (const key of keys) {
    const value = params[key];
    const text = Array.isArray(value) ? value[0] : value;
    if (text) query[key] = text;
  }
  return query;
}
