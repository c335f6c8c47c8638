import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-3 px-4 text-center">
      <p className="text-sm font-semibold text-brand-600">404</p>
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="max-w-md text-sm text-slate-600">There is nothing here, or you do not have access to it.</p>
      <Link href="/" className="text-sm font-medium text-slate-900 underline">
        Back to your projects
      </Link>
    </main>
  );
}
