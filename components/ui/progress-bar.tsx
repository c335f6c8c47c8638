/** A thin horizontal progress bar with an accessible value. */
export function ProgressBar({ value, max, label }: { value: number; max: number; label: string }) {
  const ratio = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  return (
    <div
      className="h-1.5 w-full rounded-full bg-slate-100"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
    >
      <div className="h-1.5 rounded-full bg-brand-500 transition-[width] duration-500" style={{ width: `${Math.round(ratio * 100)}%` }} />
    </div>
  );
}
