import type { ReactNode, TdHTMLAttributes, ThHTMLAttributes } from 'react';

export function Table({ children, label }: { children: ReactNode; label: string }) {
  return (
    <div className="overflow-x-auto rounded-lg bg-white shadow-xs ring-1 ring-slate-200">
      <table aria-label={label} className="min-w-full divide-y divide-slate-200 text-sm">
        {children}
      </table>
    </div>
  );
}

export function Th({ children, className = '', ...props }: ThHTMLAttributes<HTMLTableCellElement>) {
  return (
    <th
      scope="col"
      className={`px-3 py-2.5 text-left align-bottom text-xs font-semibold uppercase tracking-wide text-slate-500 ${className}`}
      {...props}
    >
      {children}
    </th>
  );
}

/** A cell: text wraps, so a table fits 1024–1920 px; keep short values on one line with `whitespace-nowrap`. */
export function Td({ children, className = '', ...props }: TdHTMLAttributes<HTMLTableCellElement>) {
  return (
    <td className={`px-3 py-2.5 align-top text-slate-700 ${className}`} {...props}>
      {children}
    </td>
  );
}

/** The first eight characters of an id, the whole id on hover (and for copying from the detail page). */
export function ShortId({ id }: { id: string }) {
  return (
    <span className="font-mono text-[11px] text-slate-400" title={id}>
      {id.slice(0, 8)}
    </span>
  );
}

export function THead({ children }: { children: ReactNode }) {
  return (
    <thead className="bg-slate-50">
      <tr>{children}</tr>
    </thead>
  );
}

export function TBody({ children }: { children: ReactNode }) {
  return <tbody className="divide-y divide-slate-100">{children}</tbody>;
}
