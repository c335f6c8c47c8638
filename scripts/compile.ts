/**
 * Compiles the worker process and the benchmark into plain JavaScript under .data/build, so they
 * run without a TypeScript loader: the loader costs a process about 35 MiB and each of its worker
 * threads about 7 MiB, a tenth of the worker's memory budget. Packages stay external (loaded from
 * node_modules as usual). The backup engine's thread entry is compiled beside every program, where
 * the worker pool looks for it.
 *
 *   node --import tsx scripts/compile.ts worker|bench    writes .data/build/<program>/<program>.mjs
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const PROGRAMS = {
  worker: 'server/worker/main.ts',
  bench: 'bench/run.ts',
} as const;

export type Program = keyof typeof PROGRAMS;

const WORKER_THREAD_ENTRY = 'server/drivers/backup/worker-thread.ts';

/**
 * Compiles `program` and returns the path of its entry file. Each file is written beside its place
 * and renamed over it, so a worker that starts while another launcher compiles never loads half a file.
 */
export async function compileProgram(root: string, program: Program): Promise<string> {
  const outdir = path.join(root, '.data', 'build', program);
  const { outputFiles } = await build({
    absWorkingDir: root,
    entryPoints: { [program]: PROGRAMS[program], 'worker-thread': WORKER_THREAD_ENTRY },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  fs.mkdirSync(outdir, { recursive: true });
  for (const file of outputFiles) {
    const partial = `${file.path}.${process.pid}.partial`;
    fs.writeFileSync(partial, file.contents);
    fs.renameSync(partial, file.path);
  }
  return path.join(outdir, `${program}.mjs`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = process.argv[2];
  if (program === undefined || !(program in PROGRAMS)) {
    console.error(`usage: compile.ts ${Object.keys(PROGRAMS).join('|')}`);
    process.exit(2);
  }
  await compileProgram(path.resolve(import.meta.dirname, '..'), program as Program);
}
