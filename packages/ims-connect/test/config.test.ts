import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ConfigError, ImsConnectServer, loadHwsCfg, parseHwsCfg, resolveOptions } from '../src/index.js';

const SAMPLE = `* IMS Connect sample (IBM APAR PI50579 shape)
HWS (ID=IMS1CONN,RACF=N,XIBAREA=20)
TCPIP (HOSTNAME=TCP2,PORTID=(12100),MAXSOC=2000,TIMEOUT=6000,
       PORT=(ID=12101,KEEPAV=10,EDIT=MYEDIT,IDLETO=500),
       EXIT=(HWSSMPL0,HWSSMPL1),IPV6=N)   /* trailing comment */
DATASTORE (ID=IMS1,GROUP=IMSSS1,MEMBER=IMS1HWS1,TMEMBER=IMSWS100,XCFADDR=127.0.1.1:9001,ALTDS=(IMS2))
DATASTORE (ID=IMS2,GROUP=IMSSS1,MEMBER=IMS2HWS1,TMEMBER=IMSWS200,ACKTO=30,RRNAME=REROUTE1)
IMSPLEX (MEMBER=IMS1CON,TMEMBER=IMSSS)
EMULATOR (BIND=127.0.1.1,ADMINPORT=9801,ADMINTOKEN='s3cret')
`;

function err(text: string): ConfigError {
  try {
    loadHwsCfg(text, 'HWSCFG00');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('HWSCFG parser', () => {
  it('parses IBM syntax into the typed options', () => {
    const { options, warnings } = loadHwsCfg(SAMPLE, 'HWSCFG00');
    expect(options.id).toBe('IMS1CONN');
    expect(options.racf).toBe(false);
    expect(options.maxSockets).toBe(2000);
    expect(options.timeout).toBe(60_000);
    expect(options.host).toBe('127.0.1.1');
    expect(options.ports.map((p) => [p.id, p.keepAlive, p.edit, p.idleTimeout, p.tls])).toEqual([
      [12100, 0, '', 0, false],
      [12101, 10, 'MYEDIT', 5000, false],
    ]);
    expect(options.exits).toEqual(['HWSSMPL0', 'HWSSMPL1']);
    expect(options.datastores.map((d) => [d.id, d.group, d.member, d.tmember, d.ackTimeout, d.rerouteName, d.address, d.alternates])).toEqual([
      ['IMS1', 'IMSSS1', 'IMS1HWS1', 'IMSWS100', 120, 'HWS$DEF', { host: '127.0.1.1', port: 9001 }, ['IMS2']],
      ['IMS2', 'IMSSS1', 'IMS2HWS1', 'IMSWS200', 30, 'REROUTE1', undefined, []],
    ]);
    expect(options.admin).toEqual({ host: '127.0.1.1', port: 9801, token: 's3cret' });
    expect(warnings.some((w) => w.includes('XIBAREA'))).toBe(true);
    expect(warnings.some((w) => w.includes('IMSPLEX statement'))).toBe(true);
  });

  it.each([
    ['HWS (ID=1BAD)\nTCPIP (PORTID=(1))', 1, 'ID'],
    ['HWS (ID=A)\nTCPIP (PORTID=(1),\n  MAXSOC=10)', 3, 'MAXSOC'],
    ['HWS (ID=A)\nTCPIP (PORTID=(1),BOGUS=1)', 2, 'BOGUS'],
    ['HWS (ID=A)\nTCPIP (PORTID=(1,1))', 2, 'PORTID'],
    ['HWS (ID=A)\nTCPIP (PORTID=(1))\nDATASTORE (ID=IMS1)', 3, 'TMEMBER'],
    ['HWS (ID=A)\nTCPIP (PORTID=(1))\nDATASTORE (ID=IMS1,TMEMBER=X,XCFADDR=nope)', 3, 'XCFADDR'],
    ['HWS (ID=A)\nTCPIP (PORTID=(1))\nDATASTORE (ID=IMS1,TMEMBER=X,ALTDS=(NOPE))', 3, 'ALTDS'],
    ['HWS (ID=A,RACF=Y)\nTCPIP (PORTID=(1))', 1, 'RACF'],
    ['HWS (ID=A)\nTCPIP (PORTID=(1)\nDATASTORE (ID=B)', 3, 'PORTID'],
    ['HWS (ID=A)\nTCPIP (PORTID=(1))\nWHAT (X=1)', 3, 'WHAT'],
    ['HWS (ID=A)\nTCPIP (SSLPORT=(1))', 2, 'SSLPORT'],
    ['HWS (ID=A)\nTCPIP (PORTID=(65536))', 2, 'PORTID'],
    ['HWS (ID=A)\nTCPIP (PORTID=(0),\n  PORT=(ID=0))', 3, 'PORT'],
    ['HWS (ID=A)\nTCPIP (PORTID=(0,0))', 2, 'PORTID'],
  ])('%j → error at line %i naming %s', (text, line, key) => {
    const e = err(text);
    expect(e.code).toBe('IMS_ERR_CONFIG');
    expect(e.file).toBe('HWSCFG00');
    expect(e.line).toBe(line);
    expect(e.key.toUpperCase()).toBe(key.toUpperCase());
    expect(e.message.startsWith(`HWSCFG00:${line}: `)).toBe(true);
  });

  it('missing statements are errors; comments and free-form lines are accepted', () => {
    expect(() => parseHwsCfg('TCPIP (PORTID=(1))', 'F')).toThrow(/HWS statement is required/);
    expect(() => parseHwsCfg('HWS (ID=A)', 'F')).toThrow(/TCPIP statement is required/);
    const { options } = parseHwsCfg('* comment\nHWS (ID=a)\n/* multi\nline */ TCPIP (\n PORTID=\n (5801))', 'F');
    expect(options.id).toBe('A');
    expect(options.ports).toEqual([{ id: 5801 }]);
  });

  it('the options object is validated the same way', () => {
    expect(() => resolveOptions({ id: 'A', ports: [1, 1] })).toThrow(/port 1 is defined twice/);
    expect(() => resolveOptions({ id: 'A', ports: [1], host: '10.0.0.1' })).toThrow(/loopback/);
    expect(() => resolveOptions({ id: 'A', ports: [1], codePage: 'latin1' })).toThrow(/EBCDIC/);
    const o = resolveOptions({ id: 'a', ports: [{ id: 5801, keepAlive: 30 }] });
    expect(Object.isFrozen(o)).toBe(true);
    expect(o.ports[0]).toEqual({ id: 5801, keepAlive: 30, edit: '', idleTimeout: 0, tls: false });
    expect(o.maxSockets).toBe(50);
  });
});

describe('port 0 (imsplex extension: an ephemeral port for tests)', () => {
  it.each([['PORTID=(0)'], ['PORT=(ID=0,KEEPAV=5)']])('TCPIP %s binds a port the OS chose; boundPort(0) and the view report it', async (spec) => {
    const { options } = loadHwsCfg(`HWS (ID=EPHEM)\nTCPIP (${spec},MAXSOC=60)\n`, 'HWSCFG00');
    expect(options.ports.map((p) => p.id)).toEqual([0]);
    const server = new ImsConnectServer(options, { logger: pino({ level: 'silent' }) });
    expect(server.boundPort(0)).toBe(0); // not bound yet
    await server.start();
    try {
      const port = server.boundPort(0);
      expect(port).toBeGreaterThan(0);
      expect(server.view().ports.map((p) => p.id)).toEqual([port]);
      expect(server.health().ports).toEqual([{ id: port, listening: true, clients: 0, tls: false }]);
      // STOPPORT/OPENPORT by the bound number reopen the same port.
      expect(await server.stopPort(port)).toBe(true);
      expect(await server.openPort(port)).toBe(true);
      expect(server.boundPort(0)).toBe(port);
    } finally {
      await server.close();
    }
  });

  it('a second port 0 is refused in the options object too', () => {
    expect(() => resolveOptions({ id: 'A', ports: [0, { id: 0, tls: true }], tls: { cert: 'x', key: 'y' } })).toThrow(/ephemeral port 0 may be defined once/);
    expect(resolveOptions({ id: 'A', ports: [0, 5801] }).ports.map((p) => p.id)).toEqual([0, 5801]);
  });
});
