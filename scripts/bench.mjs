#!/usr/bin/env node
// Root `pnpm bench`: runs the `bench` script of every workspace package that has one, in turn (never
// in parallel: the machine has 2 cores), and prints one table of the ratios each reported.
// A package benchmark reports a row by printing a line `@@bench <json>` with the fields
// {suite, case, value, unit, baseline, baselineValue, ratio, goal?}.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
// Benchmarks beyond a package's `bench` script that the root run includes.
const EXTRA = { '@imsplex/ims': ['bench:sharedq'] };
// Some benchmarks run the boxes from their built dist (what users run): build everything first.
const build = spawnSync('npx', ['--yes', 'pnpm@12.4.2', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
});
if (build.status !== 0) process.exit(build.status ?? 1);
const only = process.argv.slice(2);
const dirs = ['packages', 'apps'].flatMap((g) => readdirSync(join(root, g)).map((d) => join(root, g, d)));
const rows = [];
let failed = 0;
for (const dir of dirs) {
  const pj = join(dir, 'package.json');
  if (!existsSync(pj)) continue;
  const json = JSON.parse(readFileSync(pj, 'utf8'));
  if (!json.scripts?.bench) continue;
  if (only.length && !only.some((o) => json.name.endsWith(o))) continue;
  for (const script of ['bench', ...(EXTRA[json.name] ?? []).filter((s) => json.scripts[s])]) {
    console.log(`\n=== ${json.name} ${script} ===`);
    const r = spawnSync('npx', ['--yes', 'pnpm@12.4.2', 'run', script], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    for (const line of (r.stdout ?? '').split('\n')) {
      if (line.startsWith('@@bench ')) rows.push({ pkg: json.name, ...JSON.parse(line.slice(8)) });
      else process.stdout.write(line + '\n');
    }
    if (r.status !== 0) {
      failed++;
      console.log(`bench: ${json.name} ${script} exited with ${r.status}`);
    }
  }
}
const fmt = (n) => (typeof n === 'number' ? (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)) : String(n ?? ''));
console.log('\n| package | suite | case | value | baseline | ratio | goal |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const ok = r.goal == null ? '' : r.ratio >= r.goal ? ` (>= ${r.goal} ok)` : ` (< ${r.goal} MISSED)`;
  console.log(`| ${r.pkg} | ${r.suite} | ${r.case} | ${fmt(r.value)} ${r.unit} | ${r.baseline}: ${fmt(r.baselineValue)} | ${fmt(r.ratio)}x | ${ok} |`);
}
process.exit(failed ? 1 : 0);
