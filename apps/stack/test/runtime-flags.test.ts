/**
 * The runtime flags of the boxes: the source runtime runs TypeScript through tsx with the source
 * condition; the dist runtime runs built code only (no loader, no source condition), even when the
 * supervisor itself runs from source, as tests and benchmarks do.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boxSpecs, guardPath } from '../src/boxes.js';
import { DEFAULT_TOPOLOGY, parseTopology } from '../src/topology.js';

const topology = { ...parseTopology(DEFAULT_TOPOLOGY, 'default'), dataDir: '/nonexistent-imsplex-data' };
const builtGuard = join(import.meta.dirname, '..', 'dist', 'guard.js');

describe('box runtime flags', () => {
  it('source runtime: tsx loader, source condition, the TypeScript guard and bins', () => {
    for (const spec of boxSpecs(topology, { runtime: 'source', secret: 'pw' })) {
      expect(spec.argv).toContain('--conditions=@imsplex/source');
      expect(spec.argv.some((a) => /[\\/]src[\\/]bin\.ts$|redis-box\.ts$/.test(a))).toBe(true);
    }
  });

  it.runIf(existsSync(builtGuard))('dist runtime (built): no loader, no source condition, the built guard', () => {
    expect(guardPath('dist')).toBe(builtGuard);
    for (const spec of boxSpecs(topology, { runtime: 'dist', secret: 'pw' })) {
      expect(spec.argv).not.toContain('--conditions=@imsplex/source');
      expect(spec.argv.filter((a) => a.endsWith('.ts'))).toEqual([]);
      expect(spec.argv.slice(0, 2)).toEqual(['--import', builtGuard]);
    }
  });
});
