import Link from 'next/link';
import { Th } from '@/components/ui/table';
import { sortHref } from './list-url';

export function SortHeader({
  base,
  current,
  column,
  children,
}: {
  base: string;
  current: Record<string, string | undefined>;
  column: string;
  children: string;
}) {
  const active = (current.sort ?? 'created') === column;
  const dir = active ? (current.dir ?? 'desc') : undefined;
  return (
    <Th aria-sort={dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none'}>
      <Link
        href={sortHref(base, current, column)}
        className={`inline-flex items-center gap-1 hover:text-slate-900 ${active ? 'text-slate-900' : ''}`}
      >
        {children}
        <span aria-hidden className="text-[10px]">
          {dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : '↕'}
        </span>
      </Link>
    </Th>
  );
}
