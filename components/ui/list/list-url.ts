/** Builds a list URL that keeps the current filters and changes some of them. */
export function listHref(
  base: string,
  current: Record<string, string | undefined>,
  changes: Record<string, string | number | undefined>,
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...current, ...changes })) {
    if (value !== undefined && value !== '' && !(key === 'page' && String(value) === '1')) params.set(key, String(value));
  }
  const query = params.toString();
  return query ? `${base}?${query}` : base;
}

export function sortHref(base: string, current: Record<string, string | undefined>, column: string): string {
  const active = (current.sort ?? 'created') === column;
  const dir = active ? (current.dir === 'asc' ? 'desc' : 'asc') : column === 'name' ? 'asc' : 'desc';
  return listHref(base, current, { sort: column, dir, page: undefined });
}
