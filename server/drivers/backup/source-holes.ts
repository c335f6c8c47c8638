/**
 * Where a source file holds data. A thin volume is a sparse file: its holes read as zeros, and the
 * extent map (FIEMAP, through filefrag, after flushing the file) says where they are, so a backup
 * neither reads nor compares them: a 16 GiB volume holding 1 GiB costs about what 1 GiB costs,
 * instead of 16 GiB of zero pages through the page cache. Every extent counts as data, whatever
 * its flags (an unwritten extent also reads as zeros, but it is read like any other); only the
 * gaps between extents are holes. When the map cannot be read or trusted (not a regular file, a
 * file system without FIEMAP, output not exactly as expected), every byte is read.
 */
import fs from 'node:fs/promises';
import { readExtentMap, type ByteRange } from '../volume/fiemap';

/** The byte ranges of [0, sizeBytes) that may hold data, sorted and disjoint; null when unknown. */
export async function sourceDataRanges(sourcePath: string, sizeBytes: number): Promise<ByteRange[] | null> {
  const stat = await fs.stat(sourcePath).catch(() => null);
  if (stat === null || !stat.isFile()) return null;
  const map = await readExtentMap(sourcePath);
  if (map === null || map.sizeBytes < sizeBytes) return null;
  const ranges: ByteRange[] = [];
  for (const extent of map.extents) {
    const start = extent.logical;
    const end = Math.min(extent.logical + extent.length, sizeBytes);
    if (start >= end) continue;
    const last = ranges.at(-1);
    if (last && last.offset + last.length >= start) last.length = Math.max(last.length, end - last.offset);
    else ranges.push({ offset: start, length: end - start });
  }
  return ranges;
}

/**
 * The blocks of the span [offset, offset+length) (offset on a block boundary) that may hold data,
 * as [first, end) block indexes relative to the span, merged; null (read all) when `ranges` is.
 */
export function spanDataBlocks(
  ranges: readonly ByteRange[] | null,
  offset: number,
  length: number,
  blockSize: number,
): Array<[number, number]> | null {
  if (ranges === null) return null;
  const spanEnd = offset + length;
  const blocks: Array<[number, number]> = [];
  let low = 0;
  let high = ranges.length;
  // The first range that ends after the span starts.
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ranges[middle]!.offset + ranges[middle]!.length <= offset) low = middle + 1;
    else high = middle;
  }
  for (let index = low; index < ranges.length && ranges[index]!.offset < spanEnd; index += 1) {
    const range = ranges[index]!;
    const first = Math.floor((Math.max(range.offset, offset) - offset) / blockSize);
    const end = Math.ceil((Math.min(range.offset + range.length, spanEnd) - offset) / blockSize);
    const last = blocks.at(-1);
    if (last && last[1] >= first) last[1] = Math.max(last[1], end);
    else blocks.push([first, end]);
  }
  return blocks;
}
