import { describe, expect, it } from 'vitest';
import { VERSION } from './index.js';

describe('codec', () => {
  it('exports its version', () => {
    expect(VERSION).toBe('0.1.0');
  });
});
