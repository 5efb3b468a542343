#!/usr/bin/env node
// Packs every publishable package with `pnpm pack`, installs the tarballs together into a clean
// folder outside the workspace, and checks that each one imports under ESM and CJS and type-checks
// from its shipped .d.ts files. This tests what ships, not the workspace sources.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const pkgs = readdirSync(join(root, 'packages'))
  .map((d) => ({ dir: join(root, 'packages', d), json: JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) }))
  .filter((p) => !p.json.private);

const work = mkdtempSync(join(tmpdir(), 'imsplex-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
let ok = true;
try {
  const tarballs = [];
  for (const p of pkgs) {
    const out = run('npx', ['--yes', 'pnpm@12.4.2', 'pack', '--pack-destination', work], p.dir).trim().split('\n').pop();
    tarballs.push(out.startsWith('/') ? out : join(work, out.split('/').pop()));
  }
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, version: '0.0.0' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], app);

  const names = pkgs.map((p) => p.json.name);
  const subpaths = pkgs.flatMap((p) => Object.keys(p.json.exports).filter((k) => k !== '.' && k !== './package.json').map((k) => p.json.name + k.slice(1)));
  const all = [...names, ...subpaths];
  writeFileSync(join(app, 'esm.mjs'), all.map((n, i) => `import * as m${i} from '${n}';\nif (Object.keys(m${i}).length === 0) throw new Error('${n}: empty ESM module');`).join('\n') + '\nconsole.log("esm ok");\n');
  writeFileSync(join(app, 'cjs.cjs'), all.map((n) => `if (Object.keys(require('${n}')).length === 0) throw new Error('${n}: empty CJS module');`).join('\n') + '\nconsole.log("cjs ok");\n');
  writeFileSync(join(app, 'types.mts'), all.map((n, i) => `import * as t${i} from '${n}';\nexport const v${i}: object = t${i};`).join('\n') + '\n');
  writeFileSync(join(app, 'types.cts'), all.map((n, i) => `import t${i} = require('${n}');\nexport const v${i}: object = t${i};`).join('\n') + '\n');
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] }, files: ['types.mts', 'types.cts'] }));
  process.stdout.write(run('node', ['esm.mjs'], app));
  process.stdout.write(run('node', ['cjs.cjs'], app));
  run('node', [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
  console.log(`types ok\npack-check: ${all.length} entry points of ${pkgs.length} packages import under ESM, CJS and TypeScript`);
} catch (err) {
  ok = false;
  console.error('pack-check failed:', err.stdout ?? err.message);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
