import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { inter } from './fonts';
import { QueryProvider } from '@/components/layout/query-provider';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Cinderblock', template: '%s · Cinderblock' },
  description: 'Block-storage backups with a console',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" className={inter.className}>
      <body className="min-h-screen">
        <QueryProvider>{children}</QueryProvider>
      </body>
    </html>
  );
}
