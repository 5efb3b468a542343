/** Custom user message exits registered through the codec's extension API, and the bin. */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CP037, buildPingRequest, decodeReply, defineLayout, encodeRequest, registerExit } from '@imsplex/codec';
import { connect } from 'node:net';
import { RawClient, harness } from './harness.js';

describe('custom exits (codec registerExit)', () => {
  it('a site exit with its own IRM user part is served with its reply framing', async () => {
    registerExit(
      {
        id: '*MYEXIT*',
        minIrmLength: 28 + 16,
        userPart: defineLayout('MYEXIT user part', [
          { name: 'datastore', kind: 'char', length: 8 },
          { name: 'trancode', kind: 'char', length: 8 },
        ]) as never,
        replyHasLlll: true,
        description: 'test exit',
      },
      { replace: true },
    );
    const h = await harness();
    try {
      const c = h.memory();
      // LLLL | IRM fixed part (28) + user part (16) | LLZZ data | EOM
      // IBM's minimum message is X'58' (88 bytes) for every exit, so the data makes up the rest.
      const data = CP037.encode('ECHO    CUSTOM EXIT DATA, LONG ENOUGH');
      const irm = new Uint8Array(44);
      irm.set([0, 44, 0, 0], 0);
      irm.set(CP037.encode('*MYEXIT*'), 4);
      irm[17] = 0x31; // timer
      irm[18] = 0x10; // persistent
      irm.set(CP037.encode('CUSTOM01'), 20);
      irm.set(CP037.encode('IMS1    '), 28);
      irm.set(CP037.encode('ECHO    '), 36);
      const total = 4 + irm.length + 4 + data.length + 4;
      const msg = new Uint8Array(total);
      new DataView(msg.buffer).setUint32(0, total);
      msg.set(irm, 4);
      new DataView(msg.buffer).setUint16(4 + 44, data.length + 4);
      msg.set(data, 4 + 44 + 4);
      msg.set([0, 4, 0, 0], total - 4);
      c.send(msg);
      const r = decodeReply((await c.next())!, { llll: true });
      expect(r.kind === 'data' && CP037.decode(r.segments[0]!)).toBe('CUSTOM EXIT DATA, LONG ENOUGH');
    } finally {
      await h.close();
    }
  });
});

describe('bin', () => {
  it('imsplex-ims-connect --config with PORTID=(0): reports the ephemeral port, serves it, answers operator commands, quiesces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsc-bin-'));
    try {
      const cfg = join(dir, 'HWSCFG01');
      // PORTID=(0) is the imsplex extension for tests: no free-port probe, no race.
      writeFileSync(cfg, 'HWS (ID=BINTEST)\nTCPIP (PORTID=(0))\nDATASTORE (ID=IMS1,TMEMBER=IMS1,XCFADDR=127.0.0.1:1)\n');
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', join(__dirname, '../src/bin.ts'), '--config', cfg], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, IMSPLEX_LOG_LEVEL: 'silent' } });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      let out = '';
      const ready = new Promise<number>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /READY PORTS=(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
          if (out.includes('HWSC0001I HWS ID=BINTEST') && !out.includes('HWSC0020I')) child.stdin.write('CLOSEHWS QUIESCE\n');
        });
      });
      const port = await Promise.race([ready, exited.then(() => 0)]);
      expect(port).toBeGreaterThan(0);
      // The reported port is the one the server listens on: a PING over TCP is answered.
      const s = connect({ host: '127.0.0.1', port, noDelay: true });
      const c = new RawClient(s);
      c.send(encodeRequest(buildPingRequest({ clientId: 'BINPING', timer: 2000 })));
      const r = decodeReply((await c.next())!, { llll: true });
      expect(r.kind === 'data' && CP037.decode(r.segments[0]!)).toBe('HWSC0030I *PING RESPONSE*');
      s.destroy();
      child.stdin.write('VIEWHWS SUMMARY\n');
      const code = await exited;
      expect(out).toContain(`HWSC0010I IMS CONNECT BINTEST READY PORTS=${port}`);
      expect(out).toContain('HWSC0001I DATASTORE=IMS1 STATUS=');
      expect(out).toContain('HWSC0020I');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it('a bad config exits 1 naming file:line: key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsc-bin-'));
    try {
      const cfg = join(dir, 'HWSCFG02');
      writeFileSync(cfg, 'HWS (ID=BINTEST)\nTCPIP (PORTID=(5801),MAXSOC=1)\n');
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@imsplex/source', join(__dirname, '../src/bin.ts'), '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(1);
      expect(err).toContain(`${cfg}:2: MAXSOC: must be from 50 to 65535, got 1`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
