'use client';

import { useEffect, useRef, type ReactNode } from 'react';

/**
 * Rarely used, heavier actions of a table row (force delete, reset) behind one "More" button, so a
 * list does not show a red button on every row. Closes on Escape and on a click elsewhere.
 */
export function RowMenu({ label, children }: { label: string; children: ReactNode }) {
  const menu = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    const close = (event: Event) => {
      const details = menu.current;
      if (!details?.open) return;
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !details.contains(event.target as Node)) details.open = false;
    };
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
    };
  }, []);
  return (
    <details ref={menu} className="relative inline-block text-left">
      <summary
        aria-label={label}
        title={label}
        className="flex cursor-pointer list-none items-center rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100 [&::-webkit-details-marker]:hidden"
      >
        More ▾
      </summary>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: closes the menu after an item ran; a key that runs an item clicks it, so this runs too. */}
      <div
        role="menu"
        className="absolute right-0 z-20 mt-1 flex w-44 flex-col items-stretch gap-1 rounded-md bg-white p-1 shadow-lg ring-1 ring-slate-200"
        onClick={() => {
          if (menu.current) menu.current.open = false;
        }}
      >
        {children}
      </div>
    </details>
  );
}
