export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

export function gibToBytes(sizeGiB: number): number {
  return sizeGiB * GiB;
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${trimmed(bytes / GiB)} GiB`;
  if (bytes >= MiB) return `${trimmed(bytes / MiB)} MiB`;
  if (bytes >= 1024) return `${trimmed(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

function trimmed(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
