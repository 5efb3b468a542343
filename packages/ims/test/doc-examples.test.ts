import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeXcfFrame } from '@imsplex/codec';
import { DOC_EXAMPLES, exampleFrame, hexDump } from './doc-examples.js';

const doc = readFileSync(join(import.meta.dirname, '..', 'OTMA-LINK.md'), 'utf8');
const blocks = new Map([...doc.matchAll(/```hex (\S+)\n([\s\S]*?)\n```/g)].map((m) => [m[1]!, m[2]!]));

describe('OTMA-LINK.md hex examples', () => {
  it('shows every example', () => {
    expect([...blocks.keys()].sort()).toEqual(Object.keys(DOC_EXAMPLES).sort());
  });
  for (const name of Object.keys(DOC_EXAMPLES)) {
    it(`${name}: the dump is what the encoder writes, and it decodes back`, () => {
      const frame = exampleFrame(name);
      expect(blocks.get(name)).toBe(hexDump(frame));
      const back = decodeXcfFrame(frame);
      expect(back.control.messageType).toBe(DOC_EXAMPLES[name]!.control.messageType);
      expect(back.control.sendSequence).toBe(DOC_EXAMPLES[name]!.control.sendSequence);
    });
  }
});
