/**
 * A file's extent map (FIEMAP), read through e2fsprogs' `filefrag -s -e -v` (Node has no ioctl),
 * and the byte ranges where two files' maps do not prove their contents equal. Parsing is strict:
 * any line that is not exactly what filefrag prints makes the map untrusted (null), never guessed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface Extent {
  /** Byte offset in the file. */
  logical: number;
  /** Byte address on the device (file system's view). */
  physical: number;
  length: number;
  flags: string[];
}

export interface ExtentMap {
  sizeBytes: number;
  blockSize: number;
  extents: Extent[];
}

export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * Flags that leave "same physical block ⇒ same bytes" true. Anything else (unwritten, delalloc,
 * unknown_loc, encoded, inline, not_aligned, data_inline, …) marks the extent as changed.
 */
const TRUSTED_FLAGS = new Set(['last', 'shared', 'merged', 'eof']);

const SIZE_LINE = /^File size of .+ is (\d+) \((\d+) blocks? of (\d+) bytes\)$/;
const EXTENT_LINE = /^\s*(\d+):\s+(\d+)\.\.\s*(\d+):\s+(\d+)\.\.\s*(\d+):\s+(\d+):\s+(?:(\d+):\s*)?([a-z_,]*)$/;
const HEADER_LINE = /^\s*ext:\s+logical_offset:\s+physical_offset:\s+length:\s+expected:\s+flags:$/;
const COUNT_LINE = /^.+: (\d+) extents? found$/;
const FS_TYPE_LINE = /^Filesystem type is: [0-9a-f]+$/;

function safeInteger(text: string): number | null {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/** Parses `filefrag -e -v` output for one file; null when anything is unexpected. */
export function parseFilefrag(output: string): ExtentMap | null {
  const lines = output.split('\n').filter((line) => line.length > 0);
  let index = 0;
  if (!FS_TYPE_LINE.test(lines[index] ?? '')) return null;
  index += 1;
  const size = SIZE_LINE.exec(lines[index] ?? '');
  if (!size) return null;
  index += 1;
  const sizeBytes = safeInteger(size[1]);
  const blockSize = safeInteger(size[3]);
  if (sizeBytes === null || blockSize === null || blockSize <= 0) return null;
  // filefrag prints the column header only when there is at least one extent.
  const hasHeader = HEADER_LINE.test(lines[index] ?? '');
  if (hasHeader) index += 1;
  const extents: Extent[] = [];
  for (; index < lines.length - 1; index += 1) {
    const match = EXTENT_LINE.exec(lines[index]);
    if (!match) return null;
    const [ordinal, logicalStart, logicalEnd, physicalStart, physicalEnd, length] = match.slice(1, 7).map(safeInteger);
    if ([ordinal, logicalStart, logicalEnd, physicalStart, physicalEnd, length].some((value) => value === null)) return null;
    if (ordinal !== extents.length) return null;
    if (logicalEnd! - logicalStart! + 1 !== length || physicalEnd! - physicalStart! + 1 !== length || length! <= 0) return null;
    const extent: Extent = {
      logical: logicalStart! * blockSize,
      physical: physicalStart! * blockSize,
      length: length! * blockSize,
      flags: match[8] ? match[8].split(',') : [],
    };
    if (!Number.isSafeInteger(extent.physical + extent.length) || !Number.isSafeInteger(extent.logical + extent.length)) return null;
    const previous = extents.at(-1);
    if (previous && previous.logical + previous.length > extent.logical) return null;
    extents.push(extent);
  }
  const count = COUNT_LINE.exec(lines[index] ?? '');
  if (!count || index !== lines.length - 1 || hasHeader !== extents.length > 0) return null;
  // filefrag counts physically contiguous extents as one: at most one per line, at least one if any.
  const counted = safeInteger(count[1]);
  if (counted === null || counted > extents.length || (extents.length > 0 && counted < 1)) return null;
  // The kernel marks the map's final extent: without it the map is incomplete.
  if (extents.some((extent, at) => extent.flags.includes('last') !== (at === extents.length - 1))) return null;
  return { sizeBytes, blockSize, extents };
}

/** The file's extent map after flushing its dirty data (`-s`); null when it cannot be read or trusted. */
export async function readExtentMap(filePath: string): Promise<ExtentMap | null> {
  try {
    const { stdout } = await execFileAsync('filefrag', ['-s', '-e', '-v', filePath], {
      maxBuffer: 512 * 1024 * 1024,
      env: { ...process.env, LC_ALL: 'C' },
    });
    return parseFilefrag(stdout);
  } catch {
    return null;
  }
}

/** What one file holds at a byte position, over a run that stays the same. */
interface Segment {
  start: number;
  end: number;
  /** null: a hole (reads as zeros). */
  extent: Extent | null;
}

function segments(map: ExtentMap): Segment[] {
  const result: Segment[] = [];
  let cursor = 0;
  for (const extent of map.extents) {
    const start = Math.min(extent.logical, map.sizeBytes);
    const end = Math.min(extent.logical + extent.length, map.sizeBytes);
    if (cursor < start) result.push({ start: cursor, end: start, extent: null });
    if (start < end) result.push({ start, end, extent });
    cursor = Math.max(cursor, end);
  }
  if (cursor < map.sizeBytes) result.push({ start: cursor, end: map.sizeBytes, extent: null });
  return result;
}

function trusted(extent: Extent): boolean {
  return extent.flags.includes('shared') && extent.flags.every((flag) => TRUSTED_FLAGS.has(flag));
}

/** Whether [start, end) provably holds the same bytes in both files. */
function provablySame(start: number, current: Segment, previous: Segment): boolean {
  if (current.extent === null && previous.extent === null) return true;
  if (current.extent === null || previous.extent === null) return false;
  if (!trusted(current.extent) || !trusted(previous.extent)) return false;
  const currentPhysical = current.extent.physical + (start - current.extent.logical);
  const previousPhysical = previous.extent.physical + (start - previous.extent.logical);
  return currentPhysical === previousPhysical;
}

/**
 * The byte ranges of `current` that may differ from `previous` (same size, same file system): all
 * but the runs that are holes in both, or that map to the same physical blocks at the same offset
 * in two extents both marked shared with no other flag. A later snapshot sharing a changed block is
 * not mistaken for unchanged: the block must be the very one `previous` holds at that offset.
 * null when the maps cannot be compared.
 */
export function differingRanges(current: ExtentMap, previous: ExtentMap): ByteRange[] | null {
  if (current.sizeBytes !== previous.sizeBytes || current.blockSize !== previous.blockSize) return null;
  const a = segments(current);
  const b = segments(previous);
  const ranges: ByteRange[] = [];
  const add = (start: number, end: number) => {
    const last = ranges.at(-1);
    if (last && last.offset + last.length === start) last.length += end - start;
    else ranges.push({ offset: start, length: end - start });
  };
  let i = 0;
  let j = 0;
  let position = 0;
  while (i < a.length && j < b.length) {
    const end = Math.min(a[i].end, b[j].end);
    if (end > position && !provablySame(position, a[i], b[j])) add(position, end);
    position = end;
    if (a[i].end === end) i += 1;
    if (b[j].end === end) j += 1;
  }
  return ranges;
}
