import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: 'stack',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The stack tests start real process trees (up to 9 boxes); one file at a time keeps a 2-core
    // machine from starving the drill's timing.
    fileParallelism: false,
  },
});
