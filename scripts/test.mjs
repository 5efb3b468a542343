#!/usr/bin/env node
// Runs every vitest project once (projects mode: sibling packages resolve to their sources, no build
// needed) and ends with the plain `N passed, N failed` line that CI reads.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const cacheDir = join(root, 'node_modules', '.cache', 'imsplex');
mkdirSync(cacheDir, { recursive: true });
const report = join(cacheDir, 'vitest-report.json');
rmSync(report, { force: true });

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', ['--no-install', ...args], { cwd: root, stdio: 'inherit', env: process.env });

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  skipped = r.numPendingTests + (r.numTodoTests ?? 0);
  // A suite that failed to load counts as a failure even though it ran no test.
  const brokenSuites = (r.testResults ?? []).filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
  failed += brokenSuites;
} catch {
  failed = Math.max(failed, 1);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
