import Link from 'next/link';
import type { ReactNode } from 'react';
import { signOutAction } from '@/server/auth/session-actions';
import { NavLink } from './nav-link';

export interface NavItem {
  href: string;
  label: string;
}

/** The frame of every signed-in page: a sidebar with the sections, and the page beside it. */
export function AppShell({
  area,
  nav,
  user,
  switcher,
  crossLink,
  children,
}: {
  area: string;
  nav: NavItem[];
  user: { name: string; role: string };
  switcher?: ReactNode;
  crossLink?: NavItem;
  children: ReactNode;
}) {
  return (
    <div className="flex min-h-screen">
      <aside className="flex w-52 shrink-0 flex-col bg-slate-900 text-slate-300 xl:w-60">
        <div className="flex items-center gap-2 px-5 py-5">
          <span className="grid size-8 place-items-center rounded-md bg-brand-600 font-bold text-white">C</span>
          <div>
            <div className="text-sm font-semibold text-white">Cinderblock</div>
            <div className="text-xs text-slate-400">{area}</div>
          </div>
        </div>
        {switcher && <div className="px-3 pb-3">{switcher}</div>}
        <nav aria-label="Sections" className="flex-1 space-y-0.5 px-3">
          {nav.map((item) => (
            <NavLink key={item.href} href={item.href}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="border-t border-slate-800 px-3 py-4 text-sm">
          {crossLink && (
            <Link href={crossLink.href} className="mb-3 block rounded-md px-3 py-2 text-slate-300 hover:bg-slate-800 hover:text-white">
              {crossLink.label} →
            </Link>
          )}
          <div className="flex items-center justify-between gap-2 px-3">
            <div className="min-w-0">
              <div className="truncate font-medium text-white" data-testid="signed-in-user">
                {user.name}
              </div>
              <div className="text-xs text-slate-400">
                {user.role} ·{' '}
                <Link href="/account" className="underline-offset-2 hover:text-white hover:underline">
                  Account
                </Link>
              </div>
            </div>
            <form action={signOutAction}>
              <button
                type="submit"
                className="whitespace-nowrap rounded-md px-2 py-1 text-xs text-slate-300 ring-1 ring-slate-700 hover:bg-slate-800 hover:text-white"
              >
                Sign out
              </button>
            </form>
          </div>
        </div>
      </aside>
      <main className="min-w-0 flex-1 px-5 py-6 xl:px-8 xl:py-8">{children}</main>
    </div>
  );
}
