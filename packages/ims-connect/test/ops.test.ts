import { describe, expect, it } from 'vitest';
import { SecurityManager, hashPassword, parseCommand, parseUsersFile, socketHealth, verifyPassword } from '../src/index.js';
import { harness } from './harness.js';

describe('operator command spellings', () => {
  it.each([
    ['VIEWHWS', { kind: 'VIEWHWS', summary: false }],
    ['R 12,VIEWHWS SUMMARY', { kind: 'VIEWHWS', summary: true }],
    ['F HWS1,QUERY MEMBER TYPE(IMSCON) SHOW(ALL)', { kind: 'VIEWHWS', summary: false }],
    ['QRY IMSCON TYPE(CONFIG) SHOW(ALL)', { kind: 'VIEWHWS', summary: false }],
    ['VIEWPORT 9999', { kind: 'VIEWPORT', port: 9999 }],
    ['QUERY IMSCON TYPE(PORT) NAME(*)', { kind: 'VIEWPORT', port: 'ALL' }],
    ['viewds ims1', { kind: 'VIEWDS', datastore: 'IMS1' }],
    ['F HWS1,QUERY DATASTORE NAME(IMS1) SHOW(ALL)', { kind: 'VIEWDS', datastore: 'IMS1' }],
    ['STOPCLNT 9999 CLIENT01', { kind: 'STOPCLNT', port: 9999, client: 'CLIENT01' }],
    ['UPDATE IMSCON TYPE(CLIENT) NAME(CLIENT01) PORT(9999) STOP(COMM)', { kind: 'STOPCLNT', port: 9999, client: 'CLIENT01' }],
    ['STOPPORT 9999', { kind: 'STOPPORT', port: 9999 }],
    ['F HWS1,UPDATE PORT NAME(9999) START(COMM)', { kind: 'OPENPORT', port: 9999 }],
    ['STOPDS IMS1', { kind: 'STOPDS', datastore: 'IMS1' }],
    ['UPD IMSCON TYPE(DATASTORE) NAME(IMS1) START(COMM)', { kind: 'OPENDS', datastore: 'IMS1' }],
    ['CLOSEHWS QUIESCE', { kind: 'SHUTDOWN', mode: 'QUIESCE' }],
    ['F HWS1,SHUTDOWN MEMBER FORCE', { kind: 'SHUTDOWN', mode: 'FORCE' }],
    ['UPDATE IMSCON TYPE(CONFIG) SHUTDOWN(COMM) OPTION(QUIESCE)', { kind: 'SHUTDOWN', mode: 'QUIESCE' }],
    ['QUIESCE', { kind: 'SHUTDOWN', mode: 'QUIESCE' }],
  ])('%s', (text, cmd) => {
    expect(parseCommand(text)).toEqual(cmd);
  });

  it.each(['', 'FOO', 'VIEWPORT', 'STOPPORT 99999', 'CLOSEHWS NOW', 'UPDATE PORT NAME(1)'])('rejects %j with HWSC0011E', (t) => {
    expect(() => parseCommand(t)).toThrow(/HWSC0011E/);
  });

  it('VIEWHWS output is shaped like HWSC0001I lines; STOPPORT/OPENPORT/STOPDS act', async () => {
    const h = await harness({}, {}, true);
    try {
      const c = h.memory();
      const { buildRequest, encodeRequest } = await import('@imsplex/codec');
      c.send(encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'VIEW01', trancode: 'ECHO', data: 'X' })));
      await c.next();
      const port = h.server.boundPort(0);
      const out = await h.server.command('VIEWHWS');
      expect(out[0]).toBe('HWSC0001I HWS ID=HWS1 RACF=N PSWDMC=N');
      expect(out).toContain('HWSC0001I DATASTORE=IMS1 STATUS=ACTIVE');
      expect(out).toContain(`HWSC0001I PORT=${port} STATUS=ACTIVE`);
      expect(out.some((l) => /^HWSC0001I VIEW01 +\S* +ECHO +IMS1 +RECV/.test(l))).toBe(true);
      expect(out).toContain('HWSC0001I TOTAL CLIENTS=1 RECV=1 CONN=0 XMIT=0 OTHER=0');
      expect(await h.server.command(`STOPPORT ${port}`)).toEqual([`HWSS0770I LISTENING ON PORT=${port} TERMINATED`]);
      expect(h.server.health().ports[0]!.listening).toBe(false);
      expect(await h.server.command(`OPENPORT ${port}`)).toEqual([`HWSS0790I LISTENING ON PORT=${port} STARTED`]);
      expect(await h.server.command('STOPDS IMS1')).toEqual(['HWSD0260I DS=IMS1 STOPPED BY COMMAND']);
      expect(h.ims.state).toBe('STOPPED');
      expect(await h.server.command('STOPCLNT 1 NOBODY')).toEqual(['HWSC0012E CLIENT=NOBODY NOT FOUND ON PORT=1']);
      expect(await h.server.command(`STOPCLNT ${port} VIEW01`)).toEqual([`HWSC0000I STOPCLNT PORT=${port} CLIENT=VIEW01 COMPLETE`]);
      await c.whenClosed();
      expect(await h.server.command('NONSENSE')).toEqual(['HWSC0011E INVALID COMMAND "NONSENSE": unknown command "NONSENSE"']);
    } finally {
      await h.close();
    }
  });
});

describe('RACF users file', () => {
  const hash = hashPassword('secret', { salt: Buffer.alloc(16, 1) });
  it('hashes verify case-insensitively; wrong passwords and malformed hashes fail', () => {
    expect(verifyPassword('SECRET', hash)).toBe(true);
    expect(verifyPassword('secreT', hash)).toBe(true);
    expect(verifyPassword('other', hash)).toBe(false);
    expect(verifyPassword('secret', 'scrypt$1$1$1$x$y')).toBe(false);
    const pb = hashPassword('pw', { algorithm: 'pbkdf2-sha256', iterations: 1000 });
    expect(verifyPassword('PW', pb)).toBe(true);
  });
  it('parses the file with file:line errors', () => {
    const users = parseUsersFile(`# users\nUSER01 ${hash} GROUPS=GRP1 TRANS=IVTNO\n`, 'users.txt');
    expect(users).toEqual([{ user: 'USER01', hash, groups: ['GRP1'], transactions: ['IVTNO'] }]);
    expect(() => parseUsersFile('USER01 plaintext', 'users.txt')).toThrow(/^users\.txt:1: /);
    expect(() => parseUsersFile(`A ${hash}\nA ${hash}`, 'u')).toThrow(/u:2: user A is already defined at line 1/);
  });
  it('checks user, password, group and transaction', () => {
    const sm = new SecurityManager(parseUsersFile(`USER01 ${hash} GROUPS=GRP1 TRANS=IVTNO`));
    expect(sm.check('USER01', 'secret', '', 'IVTNO')).toEqual({ ok: true, user: 'USER01' });
    expect(sm.check('USER01', 'secret', 'GRP1', undefined).ok).toBe(true);
    expect(sm.check('NOBODY', 'secret', '', undefined)).toMatchObject({ ok: false, reason: 'UNKNOWN_USER', racfRc: 4 });
    expect(sm.check('USER01', 'wrong', '', undefined)).toMatchObject({ ok: false, reason: 'BAD_PASSWORD', racfRc: 8 });
    expect(sm.check('USER01', 'secret', 'GRP2', undefined)).toMatchObject({ ok: false, reason: 'BAD_GROUP' });
    expect(sm.check('USER01', 'secret', '', 'ECHO')).toMatchObject({ ok: false, reason: 'NOT_AUTHORIZED_TRAN' });
  });

  it('RACF=Y: a bad password gets RSM RC 8 reason 78 with the RACROUTE RC in byte 3', async () => {
    const { buildRequest, encodeRequest, decodeReply } = await import('@imsplex/codec');
    const h = await harness({ racf: true, users: [{ user: 'USER01', hash, groups: ['GRP1'] }] });
    try {
      const c = h.memory();
      c.send(encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'SEC01', trancode: 'ECHO', data: 'X', racfUserId: 'USER01', racfPassword: 'WRONG' })));
      const r = decodeReply((await c.next())!, { llll: true });
      expect(r.kind === 'status' && [r.rsm.returnCode, r.rsm.reasonCode, r.rsm.racfOrOtmaReason]).toEqual([8, 78, 8]);
      const d = h.memory();
      d.send(encodeRequest(buildRequest({ datastore: 'IMS1', clientId: 'SEC02', trancode: 'ECHO', data: 'OK', racfUserId: 'USER01', racfPassword: 'SECRET', racfGroup: 'GRP1' })));
      expect(decodeReply((await d.next())!, { llll: true }).kind).toBe('data');
    } finally {
      await h.close();
    }
  });
});

describe('health figure (free sockets vs MAXSOC)', () => {
  it.each([
    [2000, 0, 100],
    [2000, 1780, 100], // 11 % free
    [2000, 1800, 10],
    [2000, 1990, 0],
    [100, 79, 100], // 21 % free
    [100, 80, 20],
    [100, 95, 5],
    [100, 100, 0],
    [50, 60, 0],
  ])('MAXSOC=%i in use %i → %i', (max, used, health) => {
    expect(socketHealth(max, used)).toBe(health);
  });
});
