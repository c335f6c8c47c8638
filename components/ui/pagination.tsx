import Link from 'next/link';

/**
 * "Showing 21–40 of 1,234" with previous/next links; `hrefFor(page)` keeps the other URL filters.
 * Nothing at all for an empty list: the list's own empty state says so, once.
 */
export function Pagination({
  page,
  pageCount,
  pageSize,
  total,
  hrefFor,
  noun = 'items',
}: {
  page: number;
  pageCount: number;
  pageSize: number;
  total: number;
  hrefFor: (page: number) => string;
  noun?: string;
}) {
  if (total === 0) return null;
  const first = (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  const link = 'rounded-md px-3 py-1.5 text-sm font-medium ring-1 ring-inset ring-slate-300 bg-white text-slate-700 hover:bg-slate-50';
  const disabled = 'rounded-md px-3 py-1.5 text-sm font-medium ring-1 ring-inset ring-slate-200 bg-slate-50 text-slate-300';
  return (
    <nav aria-label="Pagination" className="mt-3 flex items-center justify-between text-sm text-slate-600">
      <p data-testid="pagination-summary">
        Showing{' '}
        <b className="font-medium text-slate-900">
          {first.toLocaleString('en')}–{last.toLocaleString('en')}
        </b>{' '}
        of <b className="font-medium text-slate-900">{total.toLocaleString('en')}</b> {noun}
      </p>
      <div className="flex items-center gap-2">
        <span className="mr-2 text-xs text-slate-500">
          Page {page} of {pageCount}
        </span>
        {page > 1 ? (
          <Link className={link} href={hrefFor(page - 1)} rel="prev">
            Previous
          </Link>
        ) : (
          <span className={disabled} aria-disabled>
            Previous
          </span>
        )}
        {page < pageCount ? (
          <Link className={link} href={hrefFor(page + 1)} rel="next">
            Next
          </Link>
        ) : (
          <span className={disabled} aria-disabled>
            Next
          </span>
        )}
      </div>
    </nav>
  );
}
