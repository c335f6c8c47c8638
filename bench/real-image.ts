/**
 * A real filesystem image for the benchmark, built reproducibly from files every machine of this
 * kind has: Debian's documentation and translations, the project's installed dependencies and
 * the system's libraries, copied (in sorted order, up to an equal share of ~60 % of the image
 * each) into an ext4 image with `mkfs.ext4 -d`, with a fixed UUID, hash seed and creation time.
 * The changed twin is a copy in which `debugfs -w` deletes every 40th file and writes ~1 % of
 * the image in new files, as a day of use would. Cached per size; layout.json records the
 * SHA-256 of both images. The layout, the data and the file times are the same on every build
 * from the same installed files; the inodes' change times are those of the copies, so two builds
 * are not bit-identical (and need not be: the bench compares tools on one build).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { VolumePair } from './volume-images';

const FILL_FRACTION = 0.6;
const CHANGE_FRACTION = 0.01;
const DELETE_EVERY = 40;
const FS_UUID = '5b1c0f5e-7e57-4b1c-8c0f-00000000beef';
const FAKE_TIME = '1767225600'; // 2026-01-01 00:00:00 UTC

/** An e2fsprogs command: on PATH, or in the sbin folders a non-root PATH may lack. */
function e2fsprogs(command: 'mkfs.ext4' | 'debugfs'): string {
  const folders = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'];
  const found = folders.map((folder) => path.join(folder, command)).find((candidate) => fs.existsSync(candidate));
  if (found === undefined)
    throw new Error(`${command} not found: the real filesystem image needs e2fsprogs (or run the bench with --no-real)`);
  return found;
}

/** Where the image's files come from, in this order; each gets an equal share of the fill. */
function contentSources(repoRoot: string): string[] {
  return ['/usr/share/doc', '/usr/share/locale', path.join(repoRoot, 'node_modules'), '/usr/lib/x86_64-linux-gnu'].filter((source) =>
    fs.existsSync(source),
  );
}

/** Files for the changed twin's new data (not in the image). */
const ADDED_SOURCES = ['/usr/share/perl', '/usr/lib/python3', '/usr/share/man', '/usr/share/zoneinfo'];

/** Regular files under `root`, sorted, with their sizes (symlinks and unreadable entries left out). */
function regularFiles(root: string): Array<{ file: string; size: number }> {
  const found: Array<{ file: string; size: number }> = [];
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    try {
      fs.accessSync(file, fs.constants.R_OK);
      found.push({ file, size: fs.statSync(file).size });
    } catch {
      // unreadable: not part of the image
    }
  }
  return found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Copies files of each source into `staging/<n>/<relative path>` up to its share; returns the image paths copied. */
function stage(staging: string, sources: string[], budget: number): string[] {
  const copied: string[] = [];
  let left = budget;
  sources.forEach((source, index) => {
    let share = left / (sources.length - index);
    for (const { file, size } of regularFiles(source)) {
      if (size > share) continue;
      const relative = path.join(String(index), path.relative(source, file));
      const destination = path.join(staging, relative);
      fs.mkdirSync(path.dirname(destination), { recursive: true });
      fs.copyFileSync(file, destination);
      const { mtime } = fs.statSync(file);
      fs.utimesSync(destination, mtime, mtime);
      copied.push(`/${relative}`);
      share -= size;
      left -= size;
    }
  });
  return copied;
}

function sha256File(file: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    for (let count; (count = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, count));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** debugfs commands that delete every DELETE_EVERY-th file and add about CHANGE_FRACTION of the image in new files. */
function changeCommands(imageFiles: string[], size: number): string[] {
  const commands = imageFiles
    .filter((file, index) => index % DELETE_EVERY === DELETE_EVERY - 1 && !/["\n]/.test(file))
    .map((file) => `rm "${file}"`);
  commands.push('mkdir /added');
  let budget = size * CHANGE_FRACTION;
  let number = 0;
  for (const source of ADDED_SOURCES.filter((candidate) => fs.existsSync(candidate))) {
    for (const { file, size: fileSize } of regularFiles(source)) {
      if (budget <= 0) return commands;
      if (fileSize === 0 || fileSize > budget || /["\s]/.test(file)) continue;
      commands.push(`write "${file}" /added/${number}`);
      number += 1;
      budget -= fileSize;
    }
  }
  return commands;
}

export function ensureRealImagePair(cacheRoot: string, repoRoot: string, size: number): VolumePair {
  const directory = path.join(cacheRoot, `real-${size}`);
  const layoutPath = path.join(directory, 'layout.json');
  const base = path.join(directory, 'base.img');
  const changed = path.join(directory, 'changed.img');
  if (!fs.existsSync(layoutPath)) {
    fs.rmSync(directory, { recursive: true, force: true });
    fs.mkdirSync(directory, { recursive: true });
    process.stderr.write(`building the ${size} byte real filesystem images in ${directory} ...\n`);
    const staging = path.join(directory, 'staging');
    const imageFiles = stage(staging, contentSources(repoRoot), size * FILL_FRACTION);
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: FAKE_TIME, SOURCE_DATE_EPOCH: FAKE_TIME };
    execFileSync(
      e2fsprogs('mkfs.ext4'),
      [
        '-q',
        '-F',
        '-b',
        '4096',
        '-m',
        '0',
        '-U',
        FS_UUID,
        '-E',
        `hash_seed=${FS_UUID},lazy_itable_init=0,lazy_journal_init=0`,
        '-d',
        staging,
        base,
        `${size / 1024}k`,
      ],
      { env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    fs.rmSync(staging, { recursive: true, force: true });
    execFileSync('cp', ['--sparse=always', base, changed]);
    const commandFile = path.join(directory, 'changes.debugfs');
    fs.writeFileSync(commandFile, `${changeCommands(imageFiles, size).join('\n')}\n`);
    execFileSync(e2fsprogs('debugfs'), ['-w', '-f', commandFile, changed], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    const used = execFileSync('du', ['-B1', base], { encoding: 'utf8' }).split('\t')[0];
    fs.writeFileSync(
      layoutPath,
      JSON.stringify(
        {
          size,
          files: imageFiles.length,
          allocatedBytes: Number(used),
          sha256: { 'base.img': sha256File(base), 'changed.img': sha256File(changed) },
        },
        null,
        1,
      ),
    );
  }
  const layout = JSON.parse(fs.readFileSync(layoutPath, 'utf8')) as { sha256: Record<string, string> };
  return { base, changed, size, expectedSha256: { base: layout.sha256['base.img']!, changed: layout.sha256['changed.img']! } };
}
