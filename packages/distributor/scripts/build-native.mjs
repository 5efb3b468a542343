#!/usr/bin/env node
// Builds the native proxy data plane (native/splice.c, a Node-API addon) with the system C compiler
// into dist/native/<platform>-<arch>/imsplex-splice.node. No node-gyp, no binding.gyp: one `cc`
// call against Node's own headers. Linux only (epoll). Where it cannot build (another platform, no
// compiler, no headers) it prints one warning line and exits 0: the JS data planes remain.
// Idempotent: nothing to do when the output is newer than the source and this script (`--force`
// rebuilds). The output is written to a temporary file and renamed, so concurrent runs (parallel
// test workers) never load a half-written file. A compile error exits 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(PKG, 'native', 'splice.c');
const OUT_DIR = join(PKG, 'dist', 'native', `${process.platform}-${process.arch}`);
const OUT = join(OUT_DIR, 'imsplex-splice.node');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');

function skip(why) {
  process.stderr.write(`imsplex-distributor: native data plane not built (${why}); the JS data planes will be used\n`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`${process.platform} is not supported, Linux only`);

const mtime = (p) => statSync(p).mtimeMs;
if (!force && existsSync(OUT) && mtime(OUT) >= mtime(SOURCE) && mtime(OUT) >= mtime(fileURLToPath(import.meta.url))) process.exit(0);

/** Node's own headers first (the node binary's prefix), then npm's configured nodedir. */
function includeDir() {
  const own = join(dirname(process.execPath), '..', 'include', 'node');
  if (existsSync(join(own, 'node_api.h'))) return own;
  try {
    const nodedir = execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dir = join(nodedir, 'include', 'node');
    if (nodedir && nodedir !== 'undefined' && existsSync(join(dir, 'node_api.h'))) return dir;
  } catch {
    // npm not usable: no second place to look.
  }
  return null;
}

const include = includeDir();
if (include === null) skip("Node's C headers (node_api.h) not found");
const cc = process.env.CC || 'cc';
if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).error) skip(`no C compiler (${cc})`);

mkdirSync(OUT_DIR, { recursive: true });
const tmp = `${OUT}.${process.pid}.tmp`;
const args = ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror', '-std=c11', '-D_GNU_SOURCE', '-pthread', `-I${include}`, '-o', tmp, SOURCE];
const r = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  process.stderr.write(`imsplex-distributor: ${cc} ${args.join(' ')} failed\n`);
  process.exit(1);
}
renameSync(tmp, OUT);
if (!quiet) process.stdout.write(`imsplex-distributor: built ${OUT}\n`);
