/** The HTTP mapping table, the error body, health and basic auth. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClientErrorCode, ImsClientError, ImsConnectRsmError, ImsInDoubtError } from '@imsplex/client';
import { ReasonCode, ReturnCode } from '@imsplex/codec';
import { authorize, computeHealth, HTTP_STATUS, htmlEscape, loadConfig, passwordMatches, resolveError, rsmKey, ZosConnectError, ZosConnectErrorCode } from '../src/index.js';
import { SAMPLES } from './helpers.js';

describe('HTTP_STATUS', () => {
  it('has a row for every client code, every RSM return and reason code and every own code, and no other', () => {
    const expected = [
      ...Object.values(ClientErrorCode),
      ...Object.values(ZosConnectErrorCode),
      ...Object.keys(ReturnCode).map((k) => `RSM_RC_${k}`),
      ...Object.keys(ReasonCode).map((k) => `RSM_RSN_${k}`),
    ].sort();
    expect(Object.keys(HTTP_STATUS).sort()).toEqual(expected);
    for (const [k, v] of Object.entries(HTTP_STATUS)) {
      expect(v.ibm, k).toBeGreaterThanOrEqual(400);
      expect(v.semantic, k).toBeGreaterThanOrEqual(400);
    }
  });

  it('picks the reason row for reason-code RCs and the RC row for timers and OTMA sense', () => {
    expect(rsmKey(8, 72)).toBe('RSM_RSN_NFNDDST');
    expect(rsmKey(8, 9999)).toBe('RSM_RC_IMS_CONNECT_ERROR');
    expect(rsmKey(32, 72)).toBe('RSM_RC_TIMER_EXPIRED_CLOSE');
    expect(rsmKey(16, 72)).toBe('RSM_RC_OTMA_NAK');
    expect(rsmKey(99, 1)).toBe('IMS_ERR_RSM');
  });
});

describe('resolveError', () => {
  it('unknown throws become 500 BAQR7033E with the cause kept', () => {
    const boom = new TypeError('x is undefined');
    const r = resolveError(boom, 'ibm');
    expect(r).toEqual({ status: 500, body: { errorMessage: 'BAQR7033E: Internal server error.', errorDetails: { code: 'ZCON_ERR_INTERNAL' } }, cause: boom });
  });

  it('an RSM carries retcode, reasoncode and racfrc', () => {
    const r = resolveError(new ImsConnectRsmError({ returnCode: 8, reasonCode: 78, otmaReason: 8 }, { clientId: 'ZCON0001' }), 'semantic');
    expect(r.status).toBe(403);
    expect(r.body.errorDetails).toMatchObject({ code: 'IMS_ERR_RSM', statusKey: 'RSM_RSN_SECFAIL', retcode: 8, reasoncode: 78, racfrc: 8, clientId: 'ZCON0001', outcome: 'not-run' });
  });

  it('in doubt says so and carries the client ID', () => {
    const e = new ImsInDoubtError({ clientId: 'ZCON00AB', commitMode: 1, interaction: 'send-receive', trancode: 'IVTNO', endpoint: '127.0.0.100:5801' }, new ImsClientError(ClientErrorCode.SOCKET, 'socket closed'));
    const ibm = resolveError(e, 'ibm');
    expect(ibm.status).toBe(500);
    expect(ibm.body.errorMessage).toMatch(/^ICO0005E: outcome unknown: .* The request was not retried\.$/);
    expect(ibm.body.errorDetails).toMatchObject({ code: 'IMS_ERR_IN_DOUBT', outcome: 'unknown', clientId: 'ZCON00AB', commitMode: 1, imsConnectTarget: '127.0.0.100:5801', causeCode: 'IMS_ERR_SOCKET' });
    expect(resolveError(e, 'semantic').status).toBe(502);
  });

  it('escapes <>\'"& in the message', () => {
    expect(htmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const r = resolveError(new ZosConnectError(ZosConnectErrorCode.NOT_FOUND, 'Service <x> is not available.'), 'ibm');
    expect(r.body.errorMessage).toBe('BAQR0431W: Service &lt;x&gt; is not available.');
    expect(r.status).toBe(404);
  });

  it('timeouts are 503 (ibm) and 504 (semantic)', () => {
    const e = new ZosConnectError(ZosConnectErrorCode.TIMEOUT, 'The asynchronous request has timed out after 5 milliseconds.');
    expect([resolveError(e, 'ibm').status, resolveError(e, 'semantic').status]).toEqual([503, 504]);
  });
});

describe('health', () => {
  it('follows the free-capacity knee and the backend state', () => {
    const base = { state: 'running', inFlight: 0, maxInFlight: 100, connectFailures: 0, jobname: undefined };
    expect(computeHealth(base)).toEqual({ ready: true, health: 100 });
    expect(computeHealth({ ...base, inFlight: 79 })).toEqual({ ready: true, health: 100 });
    expect(computeHealth({ ...base, inFlight: 85 })).toEqual({ ready: true, health: 15 });
    expect(computeHealth({ ...base, connectFailures: 2 })).toEqual({ ready: true, health: 10 });
    expect(computeHealth({ ...base, state: 'paused', jobname: 'ZCON1' })).toEqual({ ready: false, health: 0, jobname: 'ZCON1' });
  });
});

describe('basic auth', () => {
  const c = loadConfig(SAMPLES);
  const h = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  it('checks password and role', () => {
    expect(authorize(h('zcadmin', 'zcadmin'), 'Admin', c.users, c.manager)).toBe('zcadmin');
    expect(authorize(h('zcoper', 'zcoper'), 'Reader', c.users, c.manager)).toBe('zcoper');
    expect(() => authorize(h('zcoper', 'zcoper'), 'Invoke', c.users, c.manager)).toThrow(expect.objectContaining({ code: 'ZCON_ERR_FORBIDDEN' }));
    expect(() => authorize(h('zcadmin', 'nope'), 'Reader', c.users, c.manager)).toThrow(expect.objectContaining({ code: 'ZCON_ERR_UNAUTHORIZED' }));
    expect(() => authorize(undefined, 'Reader', c.users, c.manager)).toThrow(expect.objectContaining({ code: 'ZCON_ERR_UNAUTHORIZED' }));
    expect(() => authorize('Bearer x', 'Reader', c.users, c.manager)).toThrow(expect.objectContaining({ code: 'ZCON_ERR_UNAUTHORIZED' }));
  });
  it('accepts {sha256} passwords', () => {
    const hex = createHash('sha256').update('s3cret').digest('hex');
    expect(passwordMatches(`{sha256}${hex}`, 's3cret')).toBe(true);
    expect(passwordMatches(`{sha256}${hex}`, 's3cret!')).toBe(false);
    expect(passwordMatches('plain', 'plain')).toBe(true);
  });
});
