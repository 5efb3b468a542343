import { describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_DEFINITION, parseSystemConfig } from '../src/config.js';
import { ImsConfigError } from '../src/errors.js';

function err(text: string): ImsConfigError {
  try {
    parseSystemConfig(text, 'ims.cfg');
  } catch (e) {
    if (e instanceof ImsConfigError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('system definition', () => {
  it('parses the default system', () => {
    const c = parseSystemConfig(DEFAULT_SYSTEM_DEFINITION, 'd.cfg');
    expect(c.imsId).toBe('IMS1');
    expect(c.otma).toMatchObject({ group: 'XCFGRP1', member: 'IMS1', ackTimeoutSec: 120 });
    expect([...c.transactions.keys()]).toEqual(['IVTNO', 'IVTCV', 'ECHO', 'SLOW', 'ABEND', 'MULTISEG', 'SWITCH', 'SWITCHB']);
    expect(c.transactions.get('IVTNO')).toMatchObject({ psb: 'DFSIVP1', normalPriority: 7, limitPriority: 10, limitCount: 2, maxRegions: 1, responseMode: true });
    expect(c.transactions.get('IVTCV')!.spaSize).toBe(80);
    expect(c.transactions.get('ECHO')!.maxRegions).toBe(Number.MAX_SAFE_INTEGER);
    expect(c.regions.map((r) => [r.name, r.classes, r.count])).toEqual([
      ['MPP1', [1, 2], 8],
      ['MPP2', [2, 1], 8],
    ]);
  });

  it('continuation lines, comments, quoted and hex values', () => {
    const c = parseSystemConfig(
      `* comment
IMSCTRL IMSID=IMSA,
        MAXQ=50           trailing comment
OTMA GROUP=G1,SECSENSE=X'1234'
APPLCTN PSB=P1,MODULE='./my prog.js'
TRANSACT CODE=T1,STATUS=STOPPED
REGION NAME=R1`,
      'x.cfg',
    );
    expect(c.imsId).toBe('IMSA');
    expect(c.maxInputTotal).toBe(50);
    expect(c.otma.securitySense).toBe(0x1234);
    expect(c.programs.get('P1')!.module).toBe('./my prog.js');
    expect(c.transactions.get('T1')!.stopped).toBe(true);
  });

  it.each([
    ['IMSCTRL IMSID=IMS1\nREGION NAME=R\nTRANSACT CODE=X', 3, 'TRANSACT', 'must follow an APPLCTN'],
    ['APPLCTN PSB=P,IMPL=ECHO\nTRANSACT CODE=X,MAXRGN=5000\nREGION NAME=R', 2, 'MAXRGN', 'must be 0..999'],
    ['APPLCTN PSB=P,IMPL=ECHO\nTRANSACT CODE=X,BOGUS=1\nREGION NAME=R', 2, 'BOGUS', 'unknown keyword'],
    ['APPLCTN PSB=P,IMPL=NOPE\nREGION NAME=R', 1, 'IMPL', 'unknown sample'],
    ['OTMA GROUP=G,HOST=10.0.0.1\nREGION NAME=R', 1, 'HOST', 'loopback'],
    ['APPLCTN PSB=P,IMPL=ECHO\nTRANSACT CODE=X,MSGTYPE=(SNGLSEG,RESPONSE,9)\nREGION NAME=R', 2, 'MSGTYPE', 'not served'],
    ['FOO BAR=1', 1, 'FOO', 'unknown statement'],
    ['APPLCTN PSB=TOOLONGNAME,IMPL=ECHO', 1, 'PSB', 'not a valid name'],
    ["APPLCTN PSB=P,MODULE='x.js\nREGION NAME=R", 1, '?', 'unterminated'],
    ['IMSCTRL IMSID=A,', 1, 'IMSCTRL', 'nothing follows'],
  ])('error names file, line and key: %#', (text, line, key, msg) => {
    const e = err(text);
    expect(e.code).toBe('IMS_ERR_CONFIG');
    expect(e.line).toBe(line);
    expect(e.key).toBe(key);
    expect(e.message).toMatch(new RegExp(`^ims\\.cfg:${line}: ${key.replace('?', '\\?')}: .*${msg}`));
  });
});
