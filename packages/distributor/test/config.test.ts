import { describe, expect, it } from 'vitest';
import { parseProfile } from '../src/config/profile.js';
import { resolveOptions } from '../src/config/options.js';
import { ConfigError, type DistributorError } from '../src/errors.js';

/** The seed topology: SYS1 owns 127.0.0.100, distributing 5595 to three z/OS Connect and 5801 to two IMS Connect. */
export const SEED_PROFILE = `; TCP/IP profile of SYS1 (other statements are skipped)
TCPCONFIG TCPSENDBFRSIZE 64K
VIPADYNAMIC
  VIPADEFINE MOVEABLE IMMEDIATE 255.255.255.255 127.0.0.100
  VIPADISTRIBUTE DEFINE DISTMETHOD SERVERWLM 127.0.0.100
     PORT 5595 DESTIP 127.0.1.1 127.0.1.2 127.0.1.3
  VIPADISTRIBUTE DEFINE DISTMETHOD WEIGHTEDACTIVE OPTLOCAL 1
     TIMEDAFFINITY 60 127.0.0.100 PORT 5801
     DESTIP 127.0.1.1 WEIGHT 20 /* the bigger LPAR */
            127.0.1.2 WEIGHT 10
ENDVIPADYNAMIC
IMSPLEX
  STACK SYS1 127.0.1.1
  DATAPLANE HANDOFF
  PROBE INTERVAL 200 TIMEOUT 150
  TSR INTERVAL 1000
  HEARTBEAT INTERVAL 100 TIMEOUT 400
  PEER 127.0.1.1 PORT 5990
  PEER 127.0.1.2 PORT 5990
  TARGET 127.0.1.1 PORT 5801 HEALTH http://127.0.1.1:9801/health JOBNAME IMSCON1
  TARGET 127.0.1.2 WLMWEIGHT 32 MAXCONN 100
ENDIMSPLEX
`;

function problems(text: string, file = 'TEST.PROFILE'): string[] {
  try {
    parseProfile(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('SD_ERR_CONFIG');
    return (e as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

const wrap = (body: string) => `VIPADYNAMIC\n${body}\nENDVIPADYNAMIC\n`;

describe('parseProfile', () => {
  it('parses the seed topology into the typed config', () => {
    const c = parseProfile(SEED_PROFILE, 'SYS1.PROFILE');
    expect(c.defines).toEqual([{ address: '127.0.0.100', mask: '255.255.255.255', moveable: 'IMMEDIATE', serviceMgr: false, line: 4 }]);
    expect(c.distributes).toHaveLength(2);
    const [zc, ic] = c.distributes;
    expect(zc).toMatchObject({ dvipa: '127.0.0.100', ports: [5595], method: 'SERVERWLM', optLocal: null, timedAffinity: 0, line: 5 });
    expect(zc!.destinations.map((d) => d.xcf)).toEqual(['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    expect(ic).toMatchObject({ ports: [5801], method: 'WEIGHTEDACTIVE', optLocal: 1, timedAffinity: 60 });
    expect(ic!.destinations.map((d) => [d.xcf, d.weight])).toEqual([
      ['127.0.1.1', 20],
      ['127.0.1.2', 10],
    ]);
    expect(c.emulator).toMatchObject({
      stackName: 'SYS1',
      stackXcf: '127.0.1.1',
      dataPlane: 'HANDOFF',
      probeIntervalMs: 200,
      probeTimeoutMs: 150,
      tsrIntervalMs: 1000,
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 400,
    });
    expect(c.emulator.peers).toEqual([
      { xcf: '127.0.1.1', port: 5990 },
      { xcf: '127.0.1.2', port: 5990 },
    ]);
    expect(c.emulator.targets[0]).toMatchObject({ xcf: '127.0.1.1', port: 5801, healthUrl: 'http://127.0.1.1:9801/health', jobname: 'IMSCON1' });
    expect(c.emulator.targets[1]).toMatchObject({ xcf: '127.0.1.2', port: null, wlmWeight: 32, maxConn: 100 });
    expect(Object.isFrozen(c.distributes[0])).toBe(true);
  });

  it('is case-insensitive and accepts OPTLOCAL alone as OPTLOCAL 1, HOTSTANDBY options, port ranges and DESTIP ALL', () => {
    const c = parseProfile(
      wrap(`vipabackup 100 moveable whenidle 255.255.255.0 127.0.0.100
 vipadistribute distmethod hotstandby noautoswitchback nohealthswitch optlocal 127.0.0.100 port 6000-6002 destip 127.0.1.1 preferred 127.0.1.2 backup 200
 VIPADISTRIBUTE DISTMETHOD ROUNDROBIN SYSPLEXPORTS 127.0.0.100 PORT 7000 DESTIP ALL`),
    );
    expect(c.backups[0]).toMatchObject({ rank: 100, moveable: 'WHENIDLE', mask: '255.255.255.0' });
    expect(c.distributes[0]).toMatchObject({ method: 'HOTSTANDBY', autoSwitchBack: false, healthSwitch: false, optLocal: 1, ports: [6000, 6001, 6002] });
    expect(c.distributes[0]!.destinations.map((d) => [d.srvType, d.rank])).toEqual([
      ['PREFERRED', 0],
      ['BACKUP', 200],
    ]);
    expect(c.distributes[1]!.destinations.map((d) => d.xcf)).toEqual(['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    expect(c.distributes[1]!.destinations.every((d) => d.dynamic)).toBe(true);
    expect(c.distributes[1]!.sysplexPorts).toBe(true);
  });

  it('applies VIPADISTRIBUTE DELETE and VIPADELETE', () => {
    const c = parseProfile(
      wrap(`VIPADEFINE 255.255.255.255 127.0.0.100 127.0.0.101
VIPADISTRIBUTE 127.0.0.100 PORT 1 2 DESTIP 127.0.1.1
VIPADISTRIBUTE DELETE 127.0.0.100 PORT 1
VIPADISTRIBUTE 127.0.0.101 PORT 3 DESTIP 127.0.1.1
VIPADELETE 127.0.0.101`),
    );
    expect(c.distributes.map((d) => [d.dvipa, d.ports])).toEqual([['127.0.0.100', [2]]]);
    expect(c.defines.map((d) => d.address)).toEqual(['127.0.0.100']);
  });

  it('reports every problem as file:line: key: what is wrong', () => {
    const lines = problems(
      `VIPADYNAMIC
  VIPADEFINE MOVEABLE SOMETIMES 255.255.255.255 127.0.0.100
  VIPADISTRIBUTE DISTMETHOD FASTEST 127.0.0.100 PORT 5801 DESTIP 127.0.1.1
  VIPADISTRIBUTE OPTLOCAL 17 127.0.0.100 PORT 5802 DESTIP 10.1.1.1
  VIPADISTRIBUTE DISTMETHOD ROUNDROBIN 127.0.0.100 PORT 5803 DESTIP 127.0.1.1 WEIGHT 5
ENDVIPADYNAMIC`,
      'SYS1.PROFILE',
    );
    expect(lines).toEqual([
      'SYS1.PROFILE:2: VIPADEFINE: MOVEABLE must be followed by IMMEDIATE or WHENIDLE, got "SOMETIMES"',
      'SYS1.PROFILE:3: DISTMETHOD: must be one of BASEWLM, SERVERWLM, ROUNDROBIN, WEIGHTEDACTIVE, HOTSTANDBY, got "FASTEST"',
      'SYS1.PROFILE:4: VIPADISTRIBUTE: OPTLOCAL must be from 0 to 16, got 17',
      'SYS1.PROFILE:4: VIPADISTRIBUTE: DESTIP 10.1.1.1 is not a loopback address (imsplex uses 127.0.0.0/8 only)',
      'SYS1.PROFILE:4: DESTIP: needs ALL or at least one target XCF address',
      'SYS1.PROFILE:5: DESTIP: WEIGHT is valid only with DISTMETHOD WEIGHTEDACTIVE',
    ]);
  });

  it('rejects HOTSTANDBY without exactly one PREFERRED and at least one BACKUP', () => {
    const lines = problems(wrap('VIPADEFINE 255.255.255.255 127.0.0.100\nVIPADISTRIBUTE DISTMETHOD HOTSTANDBY 127.0.0.100 PORT 1 DESTIP 127.0.1.1 PREFERRED 127.0.1.2 PREFERRED'));
    expect(lines).toContain('TEST.PROFILE:3: DESTIP: HOTSTANDBY needs exactly one PREFERRED target, found 2');
    expect(lines).toContain('TEST.PROFILE:3: DESTIP: HOTSTANDBY needs at least one BACKUP target');
    const lines2 = problems(wrap('VIPADEFINE 255.255.255.255 127.0.0.100\nVIPADISTRIBUTE DISTMETHOD ROUNDROBIN 127.0.0.100 PORT 1 DESTIP 127.0.1.1 PREFERRED'));
    expect(lines2).toEqual(['TEST.PROFILE:3: DESTIP: PREFERRED is valid only with DISTMETHOD HOTSTANDBY']);
  });

  it('rejects cross-statement conflicts', () => {
    expect(problems(wrap('VIPADEFINE 255.255.255.255 127.0.0.100\nVIPABACKUP 10 127.0.0.100'))).toEqual([
      'TEST.PROFILE:3: VIPABACKUP: 127.0.0.100 is already defined on line 2 (one VIPADEFINE or VIPABACKUP per DVIPA)',
    ]);
    expect(problems(wrap('VIPADISTRIBUTE 127.0.0.100 PORT 1 DESTIP 127.0.1.1'))).toEqual(['TEST.PROFILE:2: VIPADISTRIBUTE: 127.0.0.100 has no VIPADEFINE or VIPABACKUP in this profile']);
    expect(problems(wrap('VIPADEFINE 255.255.255.255 127.0.0.100\nVIPADISTRIBUTE 127.0.0.100 PORT 1 DESTIP 127.0.1.1\nVIPADISTRIBUTE 127.0.0.100 PORT 1 DESTIP 127.0.1.2'))).toEqual([
      'TEST.PROFILE:4: VIPADISTRIBUTE: 127.0.0.100..1 is already distributed by the statement on line 3',
    ]);
  });

  it('rejects block and statement misuse', () => {
    expect(problems('VIPADYNAMIC\nVIPADEFINE 255.255.255.255 127.0.0.100\n')).toEqual(['TEST.PROFILE:1: VIPADYNAMIC: no ENDVIPADYNAMIC before the end of the file']);
    expect(problems('VIPADEFINE 255.255.255.255 127.0.0.100\n')).toEqual([
      'TEST.PROFILE:1: VIPADEFINE: is valid only inside a VIPADYNAMIC block',
      'TEST.PROFILE:1: VIPADYNAMIC: the profile has no VIPADYNAMIC block',
    ]);
    expect(problems(wrap('VIPARANGE DEFINE 255.255.255.0 127.0.0.0'))).toEqual(['TEST.PROFILE:2: VIPARANGE: is not supported by imsplex']);
    expect(problems(wrap('VIPADEFINE 127.0.0.100'))).toEqual(['TEST.PROFILE:2: VIPADEFINE: needs an address mask such as 255.255.255.255 before the addresses, got "127.0.0.100"']);
    expect(problems(wrap('VIPADEFINE 255.255.255.255 127.0.0.100') + 'IMSPLEX\n DATAPLANE SPLICE\n PROBE INTERVAL 5\n BOGUS 1\nENDIMSPLEX')).toEqual([
      'TEST.PROFILE:5: DATAPLANE: must be PROXY or HANDOFF, got "SPLICE"',
      'TEST.PROFILE:6: PROBE: PROBE INTERVAL (ms) must be from 10 to 3600000, got 5',
      'TEST.PROFILE:7: BOGUS: unknown statement in IMSPLEX block',
    ]);
  });

  it('needs a heartbeat timeout longer than the interval', () => {
    expect(problems(wrap('VIPADEFINE 255.255.255.255 127.0.0.100') + 'IMSPLEX\nHEARTBEAT INTERVAL 500 TIMEOUT 500\nENDIMSPLEX')).toEqual([
      'TEST.PROFILE:5: HEARTBEAT: TIMEOUT (500 ms) must be longer than INTERVAL (500 ms)',
    ]);
  });
});

describe('resolveOptions', () => {
  it('takes the stack from the profile, drops itself from the peers and keeps its heartbeat port', () => {
    const r = resolveOptions({ config: SEED_PROFILE });
    expect(r).toMatchObject({ stackName: 'SYS1', xcf: '127.0.1.1', dataPlane: 'handoff', heartbeatPort: 5990 });
    expect(r.peers).toEqual([{ xcf: '127.0.1.2', port: 5990 }]);
    expect(Object.isFrozen(r)).toBe(true);
  });
  it('role backup turns VIPADEFINE into a plain VIPABACKUP of the given rank on another stack', () => {
    const r = resolveOptions({ config: SEED_PROFILE, role: 'backup', stackName: 'SYS2', rank: 120, dataPlane: 'proxy' });
    expect(r.xcf).toBe('127.0.1.2');
    expect(r.config.defines).toEqual([]);
    expect(r.config.backups).toEqual([{ address: '127.0.0.100', rank: 120, moveable: null, mask: null, line: 4 }]);
    expect(r.peers).toEqual([{ xcf: '127.0.1.1', port: 5990 }]);
    expect(r.dataPlane).toBe('proxy');
  });
  it('rejects bad options with SD_ERR_BAD_OPTION and bad profiles with SD_ERR_CONFIG', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as DistributorError).code;
      }
      return 'no error';
    };
    expect(code(() => resolveOptions({ config: SEED_PROFILE, rank: 0 }))).toBe('SD_ERR_BAD_OPTION');
    expect(code(() => resolveOptions({ config: SEED_PROFILE, xcf: '10.0.0.1' }))).toBe('SD_ERR_BAD_OPTION');
    expect(code(() => resolveOptions({ config: SEED_PROFILE, stackName: 'SYS9' }))).toBe('SD_ERR_BAD_OPTION');
    expect(code(() => resolveOptions({ config: SEED_PROFILE, admin: { host: '0.0.0.0', port: 1 } }))).toBe('SD_ERR_BAD_OPTION');
    expect(code(() => resolveOptions({ config: 'VIPADYNAMIC' }))).toBe('SD_ERR_CONFIG');
  });
  it('errors carry the shared imsplex brand', () => {
    try {
      parseProfile('x');
    } catch (e) {
      expect((e as Record<symbol, unknown>)[Symbol.for('imsplex.error')]).toBe(true);
    }
  });
});
