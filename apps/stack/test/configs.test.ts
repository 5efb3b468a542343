import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProfile, resolveOptions } from '@imsplex/distributor';
import { loadHwsCfg } from '@imsplex/ims-connect';
import { distributorProfile, hwsCfg, imsDefinition, writeConfigs, PROFILE_TIMINGS } from '../src/configs.js';
import { DEFAULT_TOPOLOGY, parseTopology, toSingleHost, type ImsConnectDef, type ImsDef } from '../src/topology.js';

const t = parseTopology(DEFAULT_TOPOLOGY, 'default');
const dir = mkdtempSync(join(tmpdir(), 'imsplex-configs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generated distributor profile', () => {
  const text = distributorProfile(t);
  const p = parseProfile(text, 'PROFILE.TCPIP');
  it('defines the VIPA and distributes 5595 and 5801 to the right stacks (IBM VIPADYNAMIC syntax)', () => {
    expect(p.defines).toEqual([expect.objectContaining({ address: '127.0.0.100', moveable: 'IMMEDIATE' })]);
    expect(p.distributes.map((d) => [d.ports, d.method, d.optLocal, d.destinations.map((x) => x.xcf)])).toEqual([
      [[5595], 'ROUNDROBIN', null, ['127.0.1.1', '127.0.1.2', '127.0.1.3']],
      [[5801], 'SERVERWLM', 1, ['127.0.1.1', '127.0.1.2']],
    ]);
  });
  it('names the targets, their health endpoints, the peers and the fast timings', () => {
    expect(p.emulator.targets.find((x) => x.xcf === '127.0.1.2' && x.port === 5801)).toMatchObject({ host: '127.0.1.2', targetPort: 5801, healthUrl: 'http://127.0.1.2:7300/health', jobname: 'HWS2' });
    expect(p.emulator.targets.find((x) => x.xcf === '127.0.1.3' && x.port === 5595)).toMatchObject({ healthUrl: 'http://127.0.1.3:7400/health', jobname: 'ZCON3' });
    expect(p.emulator.peers).toEqual([
      { xcf: '127.0.1.1', port: 7150 },
      { xcf: '127.0.1.2', port: 7150 },
    ]);
    expect(p.emulator).toMatchObject({ probeIntervalMs: PROFILE_TIMINGS.probeIntervalMs, heartbeatTimeoutMs: PROFILE_TIMINGS.heartbeatTimeoutMs, dataPlane: 'HANDOFF' });
    expect(p.emulator.systems).toMatchObject({ SYS1: '127.0.1.1', SYS2: '127.0.1.2', SYS3: '127.0.1.3' });
  });
  it('serves the backup too: with role backup the VIPADEFINE becomes a VIPABACKUP', () => {
    const o = resolveOptions({ config: text, role: 'backup', stackName: 'SYS2', xcf: '127.0.1.2', rank: 100 });
    expect(o.config.defines).toEqual([]);
    expect(o.config.backups).toEqual([expect.objectContaining({ address: '127.0.0.100', rank: 100 })]);
  });
  it('in single-host mode targets listen on 127.0.0.1 but keep distinct XCF identities', () => {
    const s = toSingleHost(t).topology;
    const q = parseProfile(distributorProfile(s), 'P');
    expect(q.distributes[0]!.destinations.map((d) => d.xcf)).toEqual(['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    expect(q.emulator.targets.filter((x) => x.port === 5595).map((x) => `${x.host}:${x.targetPort}`)).toEqual(['127.0.0.1:5605', '127.0.0.1:5615', '127.0.0.1:5625']);
    expect(q.emulator.peers).toEqual([{ xcf: '127.0.0.1', port: 7160 }]);
  });
});

describe('generated HWSCFG', () => {
  it('parses with the IMS Connect emulator: port 5801, MAXSOC, both datastores with each other as alternate', () => {
    const hws2 = t.boxes.find((b) => b.name === 'HWS2') as ImsConnectDef;
    const text = hwsCfg(t, hws2);
    expect(text).toContain('HWS      (ID=HWS2,RACF=N)');
    const { options } = loadHwsCfg(text, 'HWSCFG.HWS2');
    expect(options.id).toBe('HWS2');
    expect(options.host).toBe('127.0.1.2');
    expect(options.maxSockets).toBe(200);
    expect(options.ports.map((p) => (typeof p === 'number' ? p : p.id))).toEqual([5801]);
    expect(options.datastores!.map((d) => [d.id, d.tmember, d.address, d.alternates])).toEqual([
      ['IMS1', 'IMS1', { host: '127.0.1.1', port: 7200 }, ['IMS2']],
      ['IMS2', 'IMS2', { host: '127.0.1.2', port: 7200 }, ['IMS1']],
    ]);
    expect(options.admin).toMatchObject({ host: '127.0.1.2', port: 7300 });
  });
});

describe('generated IMS definition and the data folder', () => {
  it('names the IMSID, the OTMA link and the admin endpoint of each IMS', () => {
    const ims2 = t.boxes.find((b) => b.name === 'IMS2') as ImsDef;
    const text = imsDefinition(t, ims2);
    expect(text).toContain('IMSCTRL  IMSID=IMS2,');
    expect(text).toContain('OTMA     GROUP=XCFGRP1,MEMBER=IMS2,HOST=127.0.1.2,PORT=7200,ACKTO=120');
    expect(text).toContain('ADMIN    HOST=127.0.1.2,PORT=7250');
    expect(text).toMatch(/TRANSACT CODE=IVTNO/);
  });
  it('writes every file under one data folder', () => {
    const w = writeConfigs({ ...t, dataDir: dir });
    expect(w.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(
      ['distributor/PROFILE.TCPIP', 'imsconnect/HWSCFG.HWS1', 'imsconnect/HWSCFG.HWS2', 'ims/IMS1/IMS.DEF', 'ims/IMS2/IMS.DEF', ...(w.warnings.length ? [] : ['zosconnect'])].sort(),
    );
    expect(readFileSync(join(dir, 'imsconnect', 'HWSCFG.HWS1'), 'utf8')).toBe(hwsCfg(t, t.boxes.find((b) => b.name === 'HWS1') as ImsConnectDef));
  });
});

describe('imsplex-stack topology / generate commands', () => {
  const run = async (argv: string[]) => {
    const { run: cli } = await import('../src/cli.js');
    let out = '';
    let err = '';
    const code = await cli(argv, { out: (t) => (out += t), err: (t) => (err += t) }, { handleSignals: false });
    return { code, out, err };
  };
  it('prints the built-in topology, validates a file, and reports errors with file:line (exit 2)', async () => {
    const { writeFileSync } = await import('node:fs');
    expect((await run(['topology'])).out).toBe(DEFAULT_TOPOLOGY);
    const good = join(dir, 'good.topology');
    writeFileSync(good, DEFAULT_TOPOLOGY);
    expect((await run(['topology', good])).out).toBe(`${good}: OK — 3 hosts, 9 boxes, VIPA 127.0.0.100 ports 5595, 5801\n`);
    const bad = join(dir, 'bad.topology');
    writeFileSync(bad, DEFAULT_TOPOLOGY.replace('method  = ROUNDROBIN', 'method  = FASTEST'));
    const r = await run(['topology', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`STACK_ERR_TOPOLOGY: ${bad}:19: method: must be one of`);
  });
  it('generate writes the configuration of a --single-host topology without starting anything', async () => {
    const d = join(dir, 'gen');
    const r = await run(['generate', '--single-host', '-d', d]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote ${join(d, 'distributor', 'PROFILE.TCPIP')}`);
    expect(readFileSync(join(d, 'imsconnect', 'HWSCFG.HWS2'), 'utf8')).toContain('PORTID=(5821)');
  });
});

describe('loopback aliases', () => {
  it('binds 127.0.0.1, and prints the alias commands per platform', async () => {
    const { aliasCommands, canBind } = await import('../src/hosts.js');
    expect(await canBind('127.0.0.1')).toBe(true);
    expect(aliasCommands(['127.0.1.1'], 'darwin')).toEqual(['sudo ifconfig lo0 alias 127.0.1.1 up']);
    expect(aliasCommands(['127.0.1.1'], 'linux')).toEqual(['sudo ip addr add 127.0.1.1/8 dev lo']);
  });
});
