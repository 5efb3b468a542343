import { describe, expect, it } from 'vitest';
import { abbrev, executeCommand, parseCommand, type CommandHost, type TargetSelector } from '../src/commands.js';
import { parseProfile } from '../src/config/profile.js';
import { renderVcrt, renderVdpt, renderVipadcfg, renderVipadyn, type DisplaySource } from '../src/displays.js';

const config = parseProfile(`VIPADYNAMIC
 VIPADEFINE MOVEABLE WHENIDLE 255.255.255.255 127.0.0.100
 VIPADISTRIBUTE DISTMETHOD HOTSTANDBY 127.0.0.100 PORT 5801 DESTIP 127.0.1.1 PREFERRED 127.0.1.2 BACKUP 100
ENDVIPADYNAMIC`);

const T0 = Date.UTC(2026, 10, 25, 14, 45, 12);
const source: DisplaySource = {
  tcpipName: 'TCPCS',
  xcf: '127.0.1.1',
  now: T0,
  config,
  vdpt: [
    { dest: '127.0.0.100..5801', dvipa: '127.0.0.100', port: 5801, destXcf: '127.0.1.1', rdy: 1, totalConn: 12, activeConn: 3, wlm: 1, tsr: 100, tcsr: 100, cer: 100, sef: 100, abnorm: 0, health: 100, wq: 1, flags: ['HotStandby', 'Active'], flagLetters: 'HA', distMethod: 'HotStandby', srvType: 'Preferred', rank: 0, quiesced: false, qosPlcAct: '*DEFAULT*' },
    { dest: '127.0.0.100..5801', dvipa: '127.0.0.100', port: 5801, destXcf: '127.0.1.2', rdy: 0, totalConn: 0, activeConn: 0, wlm: 1, tsr: 75, tcsr: 100, cer: 75, sef: 100, abnorm: 2, health: 90, wq: 1, flags: ['HotStandby', 'Inactive'], flagLetters: 'H', distMethod: 'HotStandby', srvType: 'Backup', rank: 100, quiesced: false, qosPlcAct: '*DEFAULT*' },
  ],
  vcrt: [{ dest: '127.0.0.100..5801', dvipa: '127.0.0.100', port: 5801, srcIp: '127.0.1.2', srcPort: 40123, destXcf: '127.0.1.1', since: T0 }],
  affinities: [{ dest: '127.0.0.100..5801', srcIp: '127.0.1.3', destXcf: '127.0.1.1', timedAffinity: 60, count: 0, timeLeft: 42 }],
  vipadyn: [{ dvipa: '127.0.0.100', prefixLen: 32, status: 'Active', origin: 'VIPADefine', rank: 0, distStat: 'Dist/Dest', owns: true, activeConns: 1, activeSince: T0 }],
  deactivated: [],
};

function host(): CommandHost & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    tcpipName: 'TCPCS',
    systemName: 'SYS1',
    systems: { SYS1: '127.0.1.1', SYS2: '127.0.1.2' },
    displaySource: () => source,
    quiesce: (s: TargetSelector) => (calls.push(`quiesce ${JSON.stringify(s)}`), s.jobname === 'NOPE' ? 0 : 1),
    resume: (s: TargetSelector) => (calls.push(`resume ${JSON.stringify(s)}`), 1),
    deactivate: (d) => void calls.push(`deactivate ${d}`),
    reactivate: (d) => void calls.push(`reactivate ${d}`),
    leaveGroup: () => void calls.push('leave'),
    joinGroup: () => void calls.push('join'),
  };
}

describe('abbreviations', () => {
  it('accepts IBM minimum abbreviations and nothing shorter', () => {
    expect(abbrev('QUI', 'QUIESCE', 3)).toBe(true);
    expect(abbrev('qu', 'QUIESCE', 3)).toBe(false);
    expect(abbrev('QUIESCEX', 'QUIESCE', 3)).toBe(false);
  });
});

describe('parseCommand', () => {
  it.each([
    ['VARY TCPIP,,SYSPLEX,QUIESCE,TARGET', { kind: 'quiesce', system: null, selector: {}, scope: 'TARGET' }],
    ['v tcpip,,sys,qui,target', { kind: 'quiesce', system: null, selector: {}, scope: 'TARGET' }],
    ['V TCPIP,TCPCS,SYSPLEX,QUI,PO=5801,JOBNAME=IMSCON1,ASID=1F', { kind: 'quiesce', system: null, selector: { port: 5801, jobname: 'IMSCON1' }, scope: 'PORT' }],
    ['RO SYS2,V TCPIP,,SYSPLEX,RESUME,JOBNAME=IMS*', { kind: 'resume', system: 'SYS2', selector: { jobname: 'IMS*' }, scope: 'JOBNAME' }],
    ['V TCPIP,,SYSPLEX,DEACT,DVIPA=127.0.0.100', { kind: 'deactivate', dvipa: '127.0.0.100' }],
    ['V TCPIP,,SYSPLEX,REACTIVATE,DVIPA=127.0.0.100', { kind: 'reactivate', dvipa: '127.0.0.100' }],
    ['V TCPIP,,SYSPLEX,LEAVE', { kind: 'leavegroup' }],
    ['V TCPIP,,SYSPLEX,JOINGROUP', { kind: 'joingroup' }],
    ['NETSTAT VDPT DETAIL', { kind: 'netstat', report: 'VDPT', filter: { detail: true } }],
    ['netstat vcrt ipaddr 127.0.0.100 port 5801', { kind: 'netstat', report: 'VCRT', filter: { detail: false, ipaddr: '127.0.0.100', port: 5801 } }],
    ['D TCPIP,,N,VIPADCFG,DETAIL', { kind: 'netstat', report: 'VIPADCFG', filter: { detail: true } }],
    ['D TCPIP,,NETSTAT,VIPADYN', { kind: 'netstat', report: 'VIPADYN', filter: { detail: false } }],
    ['netstat -O -d', { kind: 'netstat', report: 'VDPT', filter: { detail: true } }],
    ['netstat -F', { kind: 'netstat', report: 'VIPADCFG', filter: { detail: false } }],
  ])('%s', (text, command) => {
    expect(parseCommand(text).command).toEqual(command);
  });
  it.each([
    ['', 'empty command'],
    ['V TCPIP,,SYSPLEX,QU,TARGET', 'unknown SYSPLEX request "QU"'],
    ['V TCPIP,,SYSPLEX,QUIESCE', 'QUIESCE needs TARGET, PORT= or JOBNAME='],
    ['V TCPIP,,SYSPLEX,QUIESCE,TARGET,PORT=1', 'TARGET cannot be combined with PORT or JOBNAME'],
    ['V TCPIP,,SYSPLEX,QUIESCE,PORT=99999', 'PORT= needs a port number from 1 to 65535'],
    ['V TCPIP,,SYSPLEX,QUIESCE,ASID=1', 'ASID= needs JOBNAME='],
    ['V TCPIP,,SYSPLEX,DEACT', 'DEACT needs DVIPA=address and nothing else'],
    ['V TCPIP,,OBEYFILE,DSN=X', 'only VARY TCPIP,,SYSPLEX,… is supported'],
    ['NETSTAT FOO', 'unknown NETSTAT report "FOO" (VDPT, VCRT, VIPADCFG or VIPADYN)'],
    ['FORMAT C:', 'expected TCPIP after FORMAT'],
  ])('rejects %j', (text, message) => {
    expect(() => parseCommand(text)).toThrowError(expect.objectContaining({ code: 'SD_ERR_BAD_COMMAND', message }));
  });
});

describe('executeCommand', () => {
  it('routes QUIESCE to the local stack, or to another system with RO', () => {
    const h = host();
    const r = executeCommand(h, 'V TCPIP,,SYSPLEX,QUI,TARGET');
    expect(r).toEqual({ ok: true, command: 'V TCPIP,,SYSPLEX,QUI,TARGET', lines: ['EZZ0060I PROCESSING COMMAND: V TCPIP,,SYSPLEX,QUI,TARGET', 'EZZ0053I COMMAND VARY QUIESCE COMPLETED SUCCESSFULLY'] });
    executeCommand(h, 'RO SYS2,V TCPIP,,SYSPLEX,RESUME,PORT=5801');
    expect(h.calls).toEqual(['quiesce {"xcf":"127.0.1.1"}', 'resume {"xcf":"127.0.1.2","port":5801}']);
  });
  it('reports failures without throwing', () => {
    const h = host();
    expect(executeCommand(h, 'V TCPIP,OTHER,SYSPLEX,QUI,TARGET')).toMatchObject({ ok: false, lines: ['IMX0001E V TCPIP,OTHER,SYSPLEX,QUI,TARGET REJECTED: procname OTHER is not this stack (TCPCS)'] });
    expect(executeCommand(h, 'RO SYS7,V TCPIP,,SYSPLEX,QUI,TARGET').lines[0]).toContain('system SYS7 is not known');
    expect(executeCommand(h, 'V TCPIP,,SYSPLEX,QUI,JOBNAME=NOPE').lines[0]).toContain('no distributed target on SYS1 matches JOBNAME JOBNAME=NOPE');
    expect(executeCommand(h, 'x'.repeat(300)).ok).toBe(false);
  });
});

describe('displays', () => {
  it('VDPT short form', () => {
    expect(renderVdpt(source)).toEqual([
      'MVS TCP/IP NETSTAT CS V2R5       TCPIP Name: TCPCS           14:45:12',
      'Dynamic VIPA Destination Port Table for TCP/IP stacks:',
      'Dest IPaddr     DPort DestXCF Addr    Rdy TotalConn  WLM TSR Flg',
      '-----------     ----- ------------    --- ---------  --- --- ---',
      '127.0.0.100     05801 127.0.1.1       001 0000000012 01  100 HA',
      '127.0.0.100     05801 127.0.1.2       000 0000000000 01  075 H',
      '2 of 2 records displayed',
    ]);
  });
  it('VDPT DETAIL shows hot-standby server type, TSR components, health and W/Q', () => {
    const lines = renderVdpt(source, { detail: true, port: 5801, ipaddr: '127.0.0.100' });
    expect(lines.slice(2, 13)).toEqual([
      'Dest:        127.0.0.100..5801',
      '  DestXCF:   127.0.1.1',
      '  TotalConn: 0000000012  Rdy: 001  WLM: 01  TSR: 100',
      '  DistMethod: HotStandby  SrvType: Preferred',
      '  Flg: HotStandby, Active',
      '    TCSR: 100  CER: 100  SEF: 100',
      '    Abnorm: 0000  Health: 100',
      '  ActiveConn: 0000000003',
      '    QosPlcAct: *DEFAULT*',
      '    W/Q: 01',
      'Dest:        127.0.0.100..5801',
    ]);
    expect(lines).toContain('  DistMethod: HotStandby  SrvType: Backup  Rank: 000100');
    expect(renderVdpt(source, { port: 1 }).at(-1)).toBe('0 of 0 records displayed');
  });
  it('VCRT short and DETAIL (with timed affinities)', () => {
    expect(renderVcrt(source).slice(2)).toEqual([
      'Dest IPaddr     DPort Src IPaddr      SPort DestXCF Addr',
      '-----------     ----- ----------      ----- ------------',
      '127.0.0.100     05801 127.0.1.2       40123 127.0.1.1',
      '1 of 1 records displayed',
    ]);
    expect(renderVcrt(source, { detail: true })).toContain('    TimedAffinity: 00060  Count: 00000  TimeLeft: 00042');
  });
  it('VIPADCFG lists define and distribute with hot-standby settings', () => {
    expect(renderVipadcfg(source).slice(1)).toEqual([
      'Dynamic VIPA Information:',
      '  VIPA Define:',
      '    IpAddr/PrefixLen: 127.0.0.100/32',
      '      Moveable: WhenIdle  SrvMgr: No',
      '  VIPA Distribute:',
      '    Dest:        127.0.0.100..5801',
      '      DestXCF:   127.0.1.1',
      '        DistMethod: HotStandby  SrvType: Preferred',
      '        AutoSwitchBack: Yes  HealthSwitch: Yes',
      '        SysPt: No  TimAff: No  Flg: ',
      '        OptLoc: No',
      '    Dest:        127.0.0.100..5801',
      '      DestXCF:   127.0.1.2',
      '        DistMethod: HotStandby  SrvType: Backup  Rank: 100',
      '        AutoSwitchBack: Yes  HealthSwitch: Yes',
      '        SysPt: No  TimAff: No  Flg: ',
      '        OptLoc: No',
    ]);
  });
  it('VIPADYN shows status, origin and distribution role', () => {
    expect(renderVipadyn(source).slice(1)).toEqual([
      'Dynamic VIPA:',
      '  IpAddr/PrefixLen: 127.0.0.100/32',
      '    Status: Active      Origin: VIPADefine  DistStat: Dist/Dest',
      '    ActTime: 11/25/2026 14:45:12',
      '1 of 1 records displayed',
    ]);
  });
});
