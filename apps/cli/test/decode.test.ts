import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBytes } from '../src/decode.js';
import { SAMPLE_REPLY_HEX, SAMPLE_REQUEST_HEX, runDemo } from '../src/demo.js';
import { hexDump, parseHex } from '../src/hex.js';
import { buildPcap, tcpStreams } from '../src/pcap.js';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'imsplex-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Spec §13.5: RSM for an unknown datastore, SAMPL1 framing. */
const RSM_NFNDDST = '00 00 00 18 00 14 00 00 5C D9 C5 D8 E2 E3 E2 5C 00 00 00 08 00 00 00 48';

describe('parseHex', () => {
  const bytes = Uint8Array.of(0x00, 0x00, 0x00, 0x27, 0x00, 0x17, 0x00, 0x00, 0xc5, 0xd5, 0xe3, 0xd9, 0xe8, 0x40, 0xe6, 0xc1, 0xe2, 0x40);
  it('reads plain hex with or without blanks and 0x prefixes', () => {
    expect(parseHex('00 00 00 27 00 17 00 00 C5 D5 E3 D9 E8 40 E6 C1 E2 40')).toEqual(bytes);
    expect(parseHex('00000027001700 00c5d5e3d9e840e6c1e240')).toEqual(bytes);
    expect(parseHex('0x00,0x00,0x00,0x27,0x00,0x17,0x00,0x00,0xc5,0xd5,0xe3,0xd9,0xe8,0x40,0xe6,0xc1,0xe2,0x40')).toEqual(bytes);
  });
  it('drops the offset column of the spec, xxd and hexdump -C, and their ASCII columns', () => {
    expect(parseHex(hexDump(bytes))).toEqual(bytes);
    const xxd = '00000000: 0000 0027 0017 0000 c5d5 e3d9 e840 e6c1  ...\'............\n00000010: e240                                     .@';
    expect(parseHex(xxd)).toEqual(bytes);
    const hd = "00000000  00 00 00 27 00 17 00 00  c5 d5 e3 d9 e8 40 e6 c1  |...'.........@..|\n00000010  e2 40                                             |.@|\n00000012\n";
    expect(parseHex(hd)).toEqual(bytes);
  });
  it('does not take leading plain hex for an offset unless it equals the bytes read so far', () => {
    // "00000027" would be offset 0x27 — not 0 — so it is data.
    expect(parseHex('00000027  00170000')).toEqual(Uint8Array.of(0, 0, 0, 0x27, 0, 0x17, 0, 0));
  });
  it('rejects stray characters and odd digit counts with CLI_ERR_BAD_HEX', () => {
    expect(() => parseHex('00 0G')).toThrow(expect.objectContaining({ code: 'CLI_ERR_BAD_HEX' }));
    expect(() => parseHex('000')).toThrow(expect.objectContaining({ code: 'CLI_ERR_BAD_HEX' }));
  });
});

describe('decode', () => {
  it('decodes the spec request (§13.1) field by field', () => {
    const [d] = decodeBytes(parseHex(SAMPLE_REQUEST_HEX));
    expect(d!.kind).toBe('request');
    if (d!.kind !== 'request') return;
    const u = d!.value.irm.user;
    expect(d!.value.irm.clientId).toBe('CLIENT01');
    expect(d!.value.irm.timer).toBe(0x31);
    expect(u?.kind === 'sample' && [u.trancode, u.datastore, u.racfUserId, u.f2.commitMode, u.f3.syncLevel, u.f4.type]).toEqual(['IVTNO', 'IMS1', 'USER01', 'CM1', 'NONE', 'SEND_RECEIVE']);
    expect(d!.value.segments).toHaveLength(1);
  });
  it('decodes a reply and an RSM, and says why bytes are undecodable', async () => {
    const [rep] = decodeBytes(parseHex(SAMPLE_REPLY_HEX));
    expect(rep!.kind === 'reply' && rep!.value.kind).toBe('data');
    const r = await cli(['decode', '--hex', RSM_NFNDDST]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('return code 8, reason 72 (NFNDDST)');
    const bad = await cli(['decode', '--hex', '00 00 00 05 01']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('CLI_ERR_UNDECODABLE');
    expect(bad.err).toContain('as request');
  });
  it('decodes from stdin and from a file, with --show-hex', async () => {
    const r = await cli(['decode', '--show-hex'], new TextEncoder().encode(SAMPLE_REPLY_HEX));
    expect(r.out).toContain('segment 1 (19 bytes): "ENTRY WAS DISPLAYED"');
    expect(r.out).toContain('0000  00 00 00 27 00 17');
    const f = join(dir, 'req.hex');
    writeFileSync(f, SAMPLE_REQUEST_HEX);
    const r2 = await cli(['decode', f, '--as', 'request']);
    expect(r2.out).toContain('IRM_TRNCOD "IVTNO"  IRM_IMSDESTID "IMS1"');
    const r3 = await cli(['decode', f, '--as', 'otma']);
    expect(r3.code).toBe(1);
  });
});

describe('decode of a capture', () => {
  const req = parseHex(SAMPLE_REQUEST_HEX);
  const rep = parseHex(SAMPLE_REPLY_HEX);
  const c = { src: '127.0.1.1', dst: '127.0.0.100', srcPort: 40000, dstPort: 5801 };
  const s = { src: '127.0.0.100', dst: '127.0.1.1', srcPort: 5801, dstPort: 40000 };
  const pcap = buildPcap([
    { ...c, seq: 999, payload: new Uint8Array(), syn: true },
    // the request in two segments, delivered out of order, the second one retransmitted
    { ...c, seq: 1000 + 50, payload: req.subarray(50) },
    { ...c, seq: 1000, payload: req.subarray(0, 50) },
    { ...c, seq: 1000 + 50, payload: req.subarray(50) },
    { ...s, seq: 5000, payload: rep },
  ]);
  it('reassembles each TCP direction in sequence order', () => {
    const streams = tcpStreams(pcap);
    expect(streams.map((x) => [x.src, x.dstPort, x.bytes.length])).toEqual([
      ['127.0.1.1', 5801, 113],
      ['127.0.0.100', 40000, 39],
    ]);
    expect(streams[0]!.bytes).toEqual(req);
  });
  it('decodes both directions through the CLI', async () => {
    const f = join(dir, 'cap.pcap');
    writeFileSync(f, pcap);
    const r = await cli(['decode', f]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('== 127.0.1.1:40000 → 127.0.0.100:5801 (113 bytes)');
    expect(r.out).toContain('IRM_TRNCOD "IVTNO"');
    expect(r.out).toContain('"ENTRY WAS DISPLAYED"');
  });
  it('rejects a truncated capture with CLI_ERR_BAD_PCAP', async () => {
    const f = join(dir, 'bad.pcap');
    writeFileSync(f, pcap.subarray(0, pcap.length - 10));
    const r = await cli(['decode', f]);
    expect(r.err).toContain('CLI_ERR_BAD_PCAP');
  });
});

describe('demo', () => {
  it("decodes the spec's sample message and reply and re-encodes them byte for byte", async () => {
    expect(runDemo().ok).toBe(true);
    const r = await cli(['demo']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('segment 1 (21 bytes): "IVTNO   DISPLAY LAST1"');
    expect(r.out).toContain('CSM *CSMOKY*: flags X\'10\' (protocol level X\'02\')');
    expect(r.out.match(/re-encoded: identical/g)).toHaveLength(2);
  });
});
