import Link from 'next/link';
import { buttonClass } from '@/components/ui/button';

const control =
  'mt-1 block rounded-md border-0 px-3 py-1.5 text-sm text-slate-900 shadow-xs ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-brand-500';

/** The audit log's filters as a GET form: a filtered log can be bookmarked, and the CSV link exports the same filter. */
export function AuditFilters({
  base,
  current,
  projects,
  users,
  csvHref,
}: {
  base: string;
  current: Record<string, string | undefined>;
  projects: { id: string; name: string }[];
  users: { id: string; name: string }[];
  csvHref: string;
}) {
  const active = Object.entries(current).some(([key, value]) => key !== 'page' && value);
  return (
    <form method="get" action={base} className="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label="Filter the audit log">
      <label className="text-xs font-medium text-slate-600">
        Project
        <select name="projectId" defaultValue={current.projectId ?? ''} className={`${control} w-44`}>
          <option value="">All projects</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label className="text-xs font-medium text-slate-600">
        User
        <select name="userId" defaultValue={current.userId ?? ''} className={`${control} w-40`}>
          <option value="">Anyone</option>
          {users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name}
            </option>
          ))}
        </select>
      </label>
      <label className="text-xs font-medium text-slate-600">
        Resource type
        <input
          name="resourceType"
          defaultValue={current.resourceType ?? ''}
          placeholder="backup, volume, user…"
          className={`${control} w-36`}
        />
      </label>
      <label className="text-xs font-medium text-slate-600">
        Resource id
        <input name="resourceId" defaultValue={current.resourceId ?? ''} className={`${control} w-44`} />
      </label>
      <label className="text-xs font-medium text-slate-600">
        Action
        <input name="action" defaultValue={current.action ?? ''} placeholder="sign_in, create…" className={`${control} w-36`} />
      </label>
      <label className="text-xs font-medium text-slate-600">
        Outcome
        <select name="outcome" defaultValue={current.outcome ?? ''} className={`${control} w-32`}>
          <option value="">Any</option>
          <option value="success">Success</option>
          <option value="failure">Failure</option>
        </select>
      </label>
      <label className="text-xs font-medium text-slate-600">
        From (UTC)
        <input type="datetime-local" name="from" defaultValue={current.from ?? ''} className={`${control} w-52`} />
      </label>
      <label className="text-xs font-medium text-slate-600">
        To (UTC)
        <input type="datetime-local" name="to" defaultValue={current.to ?? ''} className={`${control} w-52`} />
      </label>
      <button type="submit" className={buttonClass('secondary', 'sm')}>
        Apply
      </button>
      {active && (
        <Link href={base} className="text-sm text-slate-500 hover:text-slate-900">
          Clear filters
        </Link>
      )}
      <a href={csvHref} className={`${buttonClass('secondary', 'sm')} ml-auto`} download>
        Export CSV
      </a>
    </form>
  );
}
