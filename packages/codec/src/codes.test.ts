import { describe, expect, it } from 'vitest';
import {
  EXTENSIONS_REASON_CODES,
  ExtensionsReasonCode,
  OTMA_SENSE_CODES,
  OtmaSenseCode,
  REASON_CODES,
  RETURN_CODES,
  ReasonCode,
  ReturnCode,
  describeReasonCode,
  describeReturnCode,
  describeRsm,
  describeSenseCode,
  isCustomerSenseCode,
  isSuccessRsm,
  reasonCodeFromName,
  reasonName,
  returnCodeClosesSocket,
  returnCodeName,
} from './codes.js';

describe('return codes (spec §9.1)', () => {
  it('have IBM values', () => {
    expect(ReturnCode).toEqual({
      OK: 0,
      EXIT_ERROR: 4,
      IMS_CONNECT_ERROR: 8,
      OTMA_ERROR: 12,
      OTMA_NAK: 16,
      PING_REPLY: 20,
      SCI_ERROR: 24,
      OM_ERROR: 28,
      TIMER_EXPIRED_CLOSE: 32,
      DEFAULT_TIMER_EXPIRED: 36,
      TIMER_EXPIRED_KEEP: 40,
      CANCEL_TIMER_DONE: 44,
    });
  });
  it('say which ones close the socket', () => {
    const keeps = Object.values(RETURN_CODES).filter((r) => !r.closesSocket).map((r) => r.code);
    expect(keeps.sort((a, b) => a - b)).toEqual([0, 20, 40, 44]);
    expect(returnCodeClosesSocket(32)).toBe(true);
    expect(returnCodeClosesSocket(40)).toBe(false);
    expect(returnCodeClosesSocket(999)).toBe(true);
  });
  it('say what the reason field holds', () => {
    expect(RETURN_CODES[16]!.reasonKind).toBe('sense');
    expect(RETURN_CODES[24]!.reasonKind).toBe('csl');
    expect(RETURN_CODES[28]!.reasonKind).toBe('csl');
    expect([32, 36, 40].map((c) => RETURN_CODES[c]!.reasonKind)).toEqual(['timer', 'timer', 'timer']);
    expect(RETURN_CODES[8]!.reasonKind).toBe('reason');
  });
  it('describe known, DataPower and unknown codes', () => {
    expect(describeReturnCode(40)).toBe("RC 40 (X'28') TIMER_EXPIRED_KEEP: IRM_TIMER expired; the reason is the timer value; socket kept");
    expect(returnCodeName(0x84)).toBe('DATAPOWER');
    expect(returnCodeName(7)).toBe('RC_7');
    expect(describeReturnCode(7)).toBe("RC 7 (X'07'): unknown return code");
  });
});

describe('reason codes (spec §9.2)', () => {
  it('carry IBM numbers for IBM names', () => {
    const pairs: Array<[string, number]> = [
      ['NOSECHDR', 51], ['INVESECHL', 52], ['SECFNOPW', 53], ['SECFNUID', 54], ['SECFNPUI', 55], ['DUPECLNT', 56], ['INVLDTOK', 57], ['INVLDSTA', 58], ['CANTIMER', 59],
      ['NFNDCOMP', 70], ['NFNDFUNC', 71], ['NFNDDST', 72], ['DSCLOSE', 73], ['STP/CLSE', 74], ['DSCERR', 75], ['STOPCMD', 76], ['COMMERR', 77], ['SECFAIL', 78], ['PROTOERR', 79],
      ['NOTACTV', 80], ['CANCRTP', 81], ['INVLDCM1', 93], ['REQUEST', 94], ['CONVER', 95], ['REQ_CON', 96], ['DEAL_CTD', 97], ['DEAL_ABT', 98],
    ];
    for (const [name, n] of pairs) {
      expect(reasonName(n)).toBe(name);
      expect(reasonCodeFromName(name)).toBe(n);
    }
    expect(ReasonCode.DUPECLNT).toBe(56);
    expect(ReasonCode.STP_CLSE).toBe(74);
  });
  it('cover every numbered row of the table', () => {
    const rows = [4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 20, 24, 28, 32, 34, 36, 40, 44, 48, 51, 52, 53, 54, 55, 56, 57, 58, 59, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 93, 94, 95, 96, 97, 98, 99, 113, 114, 117, 118];
    expect(Object.keys(REASON_CODES).map(Number).sort((a, b) => a - b)).toEqual(rows);
    expect(new Set(Object.values(ReasonCode)).size).toBe(rows.length);
  });
  it('look up OMUSR_RESCODE names as carried on the wire (blank padded, any case)', () => {
    expect(reasonCodeFromName('NFNDDST ')).toBe(72);
    expect(reasonCodeFromName('dupeclnt')).toBe(56);
    expect(reasonCodeFromName('INVALID_IRM_LENGTH')).toBe(6);
    expect(reasonCodeFromName('NOSUCH')).toBeUndefined();
  });
  it('fall back for unknown codes', () => {
    expect(reasonName(1000)).toBe('RSN_1000');
    expect(describeReasonCode(72)).toBe("reason 72 (X'48') NFNDDST: datastore not found, or communication to it stopped by command");
    expect(describeReasonCode(3)).toBe("reason 3 (X'03'): unknown reason code");
  });
});

describe('IMS Connect Extensions and OTMA sense codes', () => {
  it('have the spec values', () => {
    expect(ExtensionsReasonCode).toEqual({ SECFAIL: 40, DESTUNA: 72, PACELMT: 150, EXIT_NOT_ACTIVE: 153, SECINOP: 154, EXIT_DELETED: 156, IPBLOCK: 157 });
    expect(Object.keys(EXTENSIONS_REASON_CODES)).toHaveLength(7);
    expect(OtmaSenseCode.HOLD_QUEUE_AUTHORIZATION).toBe(0x33);
    expect(OtmaSenseCode.COMMAND_ON_SYNCHRONIZED_TPIPE).toBe(0x23);
    expect(OtmaSenseCode.RESUME_TPIPE_TIMING).toBe(0x28);
    expect(OtmaSenseCode.TWO_PHASE_COMMIT_UNSUPPORTED).toBe(0x2e);
    // 5 IBM-documented (one UNV) + 8 imsplex values for NAKs IBM gives no code for
    expect(Object.keys(OTMA_SENSE_CODES)).toHaveLength(13);
  });
  it('carry the values the IMS engine and IMS Connect use where IBM gives none, tagged INF', () => {
    expect({
      PROTOCOL_ERROR: OtmaSenseCode.PROTOCOL_ERROR,
      TPIPE_BUSY: OtmaSenseCode.TPIPE_BUSY,
      TPIPE_LIMIT: OtmaSenseCode.TPIPE_LIMIT,
      CONVERSATION_NEEDS_CM1: OtmaSenseCode.CONVERSATION_NEEDS_CM1,
      CONVERSATION_NOT_FOUND: OtmaSenseCode.CONVERSATION_NOT_FOUND,
      CONVERSATION_BUSY: OtmaSenseCode.CONVERSATION_BUSY,
      SECURITY_VIOLATION: OtmaSenseCode.SECURITY_VIOLATION,
      QUEUE_FULL: OtmaSenseCode.QUEUE_FULL,
    }).toEqual({ PROTOCOL_ERROR: 0x0001, TPIPE_BUSY: 0x0002, TPIPE_LIMIT: 0x0003, CONVERSATION_NEEDS_CM1: 0x0019, CONVERSATION_NOT_FOUND: 0x001b, CONVERSATION_BUSY: 0x001c, SECURITY_VIOLATION: 0x00c3, QUEUE_FULL: 0x0030 });
    const tags = Object.fromEntries(Object.values(OTMA_SENSE_CODES).map((r) => [r.key, r.tag]));
    expect(tags).toEqual({
      RRS_NOT_ENABLED: 'UNV',
      COMMAND_ON_SYNCHRONIZED_TPIPE: 'IBM',
      RESUME_TPIPE_TIMING: 'IBM',
      TWO_PHASE_COMMIT_UNSUPPORTED: 'IBM',
      HOLD_QUEUE_AUTHORIZATION: 'IBM',
      PROTOCOL_ERROR: 'INF',
      TPIPE_BUSY: 'INF',
      TPIPE_LIMIT: 'INF',
      CONVERSATION_NEEDS_CM1: 'INF',
      CONVERSATION_NOT_FOUND: 'INF',
      CONVERSATION_BUSY: 'INF',
      SECURITY_VIOLATION: 'INF',
      QUEUE_FULL: 'INF',
    });
    // every inferred value says why, and stays out of the customer range
    for (const r of Object.values(OTMA_SENSE_CODES)) {
      if (r.tag !== 'IBM') expect(r.note).toMatch(/\w/);
      expect(isCustomerSenseCode(r.code)).toBe(false);
    }
    // values are distinct: one key per code
    expect(new Set(Object.values(OtmaSenseCode)).size).toBe(Object.keys(OtmaSenseCode).length);
    expect(describeSenseCode(0x1c)).toBe("sense X'001C' (28): conversation busy: the previous step is still running (imsplex value)");
    expect(describeSenseCode(0x33)).not.toContain('imsplex');
    expect(describeRsm(16, 0xc3)).toContain('security violation (DFS1292E) (imsplex value)');
  });
  it('split IBM and customer ranges', () => {
    expect(isCustomerSenseCode(0x0fff)).toBe(false);
    expect(isCustomerSenseCode(0x1000)).toBe(true);
    expect(isCustomerSenseCode(0x8fff)).toBe(true);
    expect(isCustomerSenseCode(0x9000)).toBe(false);
    expect(describeSenseCode(0x1234)).toBe("sense X'1234' (4660): customer OTMA exit sense code");
    expect(describeSenseCode(0x33)).toContain('hold queue');
  });
});

describe('RSM as a whole', () => {
  it('reads the reason field by return code', () => {
    expect(describeRsm(16, 0x33)).toContain("sense X'0033'");
    expect(describeRsm(40, 0x31)).toContain("timer value X'31'");
    expect(describeRsm(24, 0x0100)).toContain("CSL code X'00000100'");
    expect(describeRsm(8, 72)).toContain('NFNDDST');
  });
  it('knows which RSMs mean success', () => {
    expect(isSuccessRsm(0, 97)).toBe(true);
    expect(isSuccessRsm(4, 97)).toBe(true); // reason 97 is success whatever the RC [UNV]
    expect(isSuccessRsm(40, 97)).toBe(false); // there 97 is a timer value
    expect(isSuccessRsm(16, 97)).toBe(false); // there 97 is a sense code
    expect(isSuccessRsm(0, 98)).toBe(false);
    expect(isSuccessRsm(44, 59)).toBe(true);
    expect(isSuccessRsm(8, 72)).toBe(false);
  });
});
