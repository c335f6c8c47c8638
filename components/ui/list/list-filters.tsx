import Link from 'next/link';
import { buttonClass } from '@/components/ui/button';

export interface FilterOption {
  value: string;
  label: string;
}

/** A GET form: filters live in the URL, so a filtered list can be bookmarked and shared. */
export function ListFilters({
  base,
  current,
  statuses,
  integrityStates,
  projects,
  searchLabel,
  keep = [],
}: {
  base: string;
  current: Record<string, string | undefined>;
  /** Each status's value (what the URL and the API carry) and label (the words its badges use). */
  statuses: readonly FilterOption[];
  /** Offers a filter on what is known of each backup's objects (backups only). */
  integrityStates?: readonly FilterOption[];
  projects?: { id: string; name: string }[];
  searchLabel: string;
  /** Filters set elsewhere (e.g. a volume id from a link) that applying this form keeps. */
  keep?: string[];
}) {
  const control =
    'rounded-md border-0 px-3 py-1.5 text-sm text-slate-900 shadow-xs ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-500';
  const active = !!(current.q || current.status || current.integrity || current.projectId || keep.some((k) => current[k]));
  return (
    <form method="get" action={base} className="mb-4 flex flex-wrap items-end gap-3" role="search">
      {current.sort && <input type="hidden" name="sort" value={current.sort} />}
      {current.dir && <input type="hidden" name="dir" value={current.dir} />}
      {keep.map((k) => current[k] && <input key={k} type="hidden" name={k} value={current[k]} />)}
      <label className="text-xs font-medium text-slate-600">
        Search
        <input type="search" name="q" defaultValue={current.q ?? ''} placeholder={searchLabel} className={`mt-1 block w-64 ${control}`} />
      </label>
      <label className="text-xs font-medium text-slate-600">
        Status
        <select name="status" defaultValue={current.status ?? ''} className={`mt-1 block w-44 ${control}`}>
          <option value="">Any status</option>
          {statuses.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      {integrityStates && (
        <label className="text-xs font-medium text-slate-600">
          Integrity
          <select name="integrity" defaultValue={current.integrity ?? ''} className={`mt-1 block w-40 ${control}`}>
            <option value="">Any</option>
            {integrityStates.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      )}
      {projects && (
        <label className="text-xs font-medium text-slate-600">
          Project
          <select name="projectId" defaultValue={current.projectId ?? ''} className={`mt-1 block w-48 ${control}`}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <button type="submit" className={buttonClass('secondary', 'sm')}>
        Apply
      </button>
      {active && (
        <Link href={base} className="text-sm text-slate-500 hover:text-slate-900">
          Clear filters
        </Link>
      )}
    </form>
  );
}
