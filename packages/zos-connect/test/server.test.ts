/**
 * The server over real sockets: HTTP on port 0 → z/OS Connect → IMS Connect protocol over TCP to the
 * in-memory IMS Connect of @imsplex/client/testing (which runs an IVP phone book that answers like
 * the IMS engine's IVTNO/IVTCV).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZosConnectServer, type ZosConnectServer } from '../src/index.js';
import { basic, createTestImsConnect, ivpHandlers, PhoneBook, SAMPLES, type TestImsConnect } from './helpers.js';

let ims: TestImsConnect;
let server: ZosConnectServer;
let url: string;
let book: PhoneBook;

beforeAll(async () => {
  book = new PhoneBook();
  ims = createTestImsConnect({ handlers: ivpHandlers(book), datastores: ['IMS1'] });
  const ep = await ims.listen({ host: '127.0.0.1', port: 0 });
  server = createZosConnectServer({ config: SAMPLES, host: '127.0.0.1', port: 0, clientOverrides: () => ({ host: ep.host, port: ep.port }) });
  url = (await server.start()).url;
});

afterAll(async () => {
  await server.stop();
  await ims.close();
});

async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url + p, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
}

describe('phone book API (IVTNO)', () => {
  it('GET displays an entry', async () => {
    const r = await call('GET', '/phonebook/LAST1');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ lastName: 'LAST1', firstName: 'FIRST1', extension: '8-111-1111', zipCode: 'D01/R01', message: 'ENTRY WAS DISPLAYED' });
  });

  it("sends IBM's IVTNOM input record: IN-TRANCDE X(10), IN-COMMAND X(8), the record (CP037)", async () => {
    const before = ims.requests.length;
    await call('GET', '/phonebook/LAST2');
    const req = ims.requests[before]!;
    const seg = req.segments[0]!;
    expect(Buffer.from(seg).toString('hex')).toBe(
      // IN-TRANCDE 'IVTNO     '
      'c9e5e3d5d6' + '40'.repeat(5) +
        // IN-COMMAND 'DIS     '
        'c4c9e2' + '40'.repeat(5) +
        // IN-LAST-NAME 'LAST2     ', IN-FIRST-NAME, IN-EXTENSION, IN-ZIP-CODE blank
        'd3c1e2e3f2' + '40'.repeat(5) + '40'.repeat(27),
    );
    // 55 data bytes: LL = 59 on the wire, INPUT-MSG's length.
    expect(seg.length).toBe(55);
  });

  it('GET of a missing entry is 404 through the response condition; a blank name is 400', async () => {
    let r = await call('GET', '/phonebook/NOBODY');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'SPECIFIED PERSON WAS NOT FOUND' });
    r = await call('GET', '/phonebook/%20');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: 'LAST NAME WAS NOT SPECIFIED' });
  });

  it('POST adds, PUT updates, DELETE deletes', async () => {
    let r = await call('POST', '/phonebook/SMITH', { firstName: 'JOHN', extension: '8-555-0001', zipCode: 'D09/R09' });
    expect(r.status).toBe(201);
    expect(r.body.message).toBe('ENTRY WAS ADDED');
    expect(book.db.get('SMITH')).toEqual({ first: 'JOHN', extension: '8-555-0001', zip: 'D09/R09' });
    r = await call('POST', '/phonebook/SMITH', { firstName: 'JOHN', extension: '8-555-0001', zipCode: 'D09/R09' });
    expect(r.status).toBe(409);
    r = await call('POST', '/phonebook/JONES', { firstName: 'ANN' });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('DATA IS NOT ENOUGH.  PLEASE KEY IN MORE');
    r = await call('PUT', '/phonebook/SMITH', { extension: '8-555-0002' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ firstName: 'JOHN', extension: '8-555-0002', message: 'ENTRY WAS UPDATED' });
    r = await call('PUT', '/phonebook/SMITH', {});
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: 'NO DATA WAS INPUT.  PLEASE KEY IN MORE' });
    r = await call('DELETE', '/phonebook/SMITH');
    expect(r.status).toBe(200);
    expect(r.body.message).toBe('ENTRY WAS DELETED');
    r = await call('DELETE', '/phonebook/SMITH');
    expect(r.status).toBe(404);
  });

  it('a field longer than its PIC X is a 400 with the BAQR0417W body', async () => {
    const r = await call('GET', '/phonebook/ABCDEFGHIJKL');
    expect(r.status).toBe(400);
    expect(r.body.errorMessage).toMatch(/^BAQR0417W: /);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_BAD_REQUEST');
    expect(r.body.errorDetails.causeCode).toBe('COPYBOOK_ERR_STRING_TOO_LONG');
  });

  it('bad JSON is 400, a non-object body is 400, a wrong content type is 415', async () => {
    let r = await call('POST', '/phonebook/X', '{"firstName":');
    expect(r.status).toBe(400);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_BAD_REQUEST');
    r = await call('POST', '/phonebook/X', '[1,2]');
    expect(r.status).toBe(400);
    const res = await fetch(`${url}/phonebook/X`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).errorDetails.code).toBe('ZCON_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('a body over maxRequestBodySize is 413', async () => {
    const r = await call('POST', '/phonebook/X', { firstName: 'x'.repeat(2 * 1024 * 1024) });
    expect(r.status).toBe(413);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_PAYLOAD_TOO_LARGE');
  });

  it('unknown paths are 404 and wrong methods 405 with Allow', async () => {
    let r = await call('GET', '/nothing/here');
    expect(r.status).toBe(404);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_NOT_FOUND');
    r = await call('PATCH', '/phonebook/LAST1', {});
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('DELETE, GET, POST, PUT');
  });

  it('serves the API document with the request host in servers', async () => {
    const r = await call('GET', '/phonebook/api-docs');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.0.3');
    expect(r.body.servers).toEqual([{ url: `${url}/phonebook` }]);
    expect(JSON.stringify(r.body)).not.toContain('x-zosconnect');
    expect((await call('POST', '/phonebook/api-docs', {})).status).toBe(405);
  });
});

describe('IVTCV conversation API', () => {
  it('start, continue, end', async () => {
    let r = await call('POST', '/ivtcv/conversations', { command: 'DIS', lastName: 'LAST3' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ open: true, message: 'ENTRY WAS DISPLAYED', command: 'DIS', lastName: 'LAST3', firstName: 'FIRST3' });
    const id = r.body.conversationId as string;
    expect(r.headers.get('x-zosconnect-conversation-id')).toBe(id);
    r = await call('PUT', `/ivtcv/conversations/${id}`, { command: 'DIS', lastName: 'LAST4' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ conversationId: id, open: true, firstName: 'FIRST4' });
    // A blank command repeats the last one (IVTCV keeps it in its SPA).
    r = await call('PUT', `/ivtcv/conversations/${id}`, { lastName: 'LAST5' });
    expect(r.body).toMatchObject({ open: true, command: 'DIS', firstName: 'FIRST5' });
    r = await call('DELETE', `/ivtcv/conversations/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ conversationId: id, open: false, message: 'CONVERSATION HAS ENDED', command: '', lastName: '', firstName: '', extension: '', zipCode: '' });
    r = await call('PUT', `/ivtcv/conversations/${id}`, { command: 'DIS', lastName: 'LAST4' });
    expect(r.status).toBe(404);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_CONVERSATION_NOT_FOUND');
    expect(server.backend.openConversations).toBe(0);
  });
});

describe('admin API', () => {
  const admin = { authorization: basic('zcadmin', 'zcadmin') };
  const reader = { authorization: basic('zcreader', 'zcreader') };
  const oper = { authorization: basic('zcoper', 'zcoper') };

  it('needs credentials (401 with WWW-Authenticate) and the right role (403)', async () => {
    let r = await call('GET', '/zosConnect/services');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Basic/);
    r = await call('GET', '/zosConnect/services', undefined, { authorization: basic('zcadmin', 'wrong') });
    expect(r.status).toBe(401);
    r = await call('PUT', '/zosConnect/services/IVTNO?status=stopped', undefined, reader);
    expect(r.status).toBe(403);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_FORBIDDEN');
  });

  it('lists and describes services and APIs', async () => {
    let r = await call('GET', '/zosConnect/services', undefined, reader);
    expect(r.status).toBe(200);
    expect(r.body.zosConnectServices.map((s: any) => s.ServiceName).sort()).toEqual(['IVTCV', 'IVTNO']);
    r = await call('GET', '/zosConnect/services/IVTNO', undefined, reader);
    expect(r.body.zosConnect).toMatchObject({ serviceName: 'IVTNO', serviceStatus: 'Started', serviceInvokeURL: `${url}/zosConnect/services/IVTNO?action=invoke` });
    expect(r.body.IVTNO).toMatchObject({ transactionCode: 'IVTNO', connectionRef: 'IMSCONN1' });
    r = await call('GET', '/zosConnect/services/IVTNO/schema/response', undefined, reader);
    expect(Object.keys(r.body.properties)).toEqual(['OUT_MESSAGE', 'OUT_COMMAND', 'OUT_RECORD', 'OUT_SEGMENT_NO']);
    expect(Object.keys(r.body.properties.OUT_RECORD.properties)).toEqual(['OUT_LAST_NAME', 'OUT_FIRST_NAME', 'OUT_EXTENSION', 'OUT_ZIP_CODE']);
    r = await call('GET', '/zosConnect/apis', undefined, reader);
    expect(r.body.apis.map((a: any) => a.name).sort()).toEqual(['ivtcv', 'phonebook']);
    r = await call('GET', '/zosConnect/apis/phonebook', undefined, reader);
    expect(r.body).toMatchObject({ name: 'phonebook', status: 'Started', apiUrl: `${url}/phonebook`, documentation: { swagger: `${url}/phonebook/api-docs` } });
    r = await call('GET', '/zosConnect/services/NOPE', undefined, reader);
    expect(r.status).toBe(404);
    expect(r.body.errorMessage).toBe('BAQR0431W: Service NOPE is not available.');
  });

  it('invokes a service directly', async () => {
    const r = await call('POST', '/zosConnect/services/IVTNO?action=invoke', { IN_COMMAND: 'DIS', IN_RECORD: { IN_LAST_NAME: 'LAST5' } }, admin);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      OUT_MESSAGE: 'ENTRY WAS DISPLAYED',
      OUT_COMMAND: 'DIS',
      OUT_RECORD: { OUT_LAST_NAME: 'LAST5', OUT_FIRST_NAME: 'FIRST5', OUT_EXTENSION: '8-111-5555', OUT_ZIP_CODE: 'D05/R05' },
      OUT_SEGMENT_NO: '0001',
    });
    // The service default fills IN_COMMAND.
    const d = await call('POST', '/zosConnect/services/IVTNO?action=invoke', { IN_RECORD: { IN_LAST_NAME: 'LAST5' } }, admin);
    expect(d.body.OUT_COMMAND).toBe('DIS');
  });

  it('a stopped service or API answers 503; in the lists it stays', async () => {
    let r = await call('PUT', '/zosConnect/services/IVTNO?status=stopped', undefined, oper);
    expect(r.status).toBe(200);
    expect(r.body.zosConnect.serviceStatus).toBe('Stopped');
    r = await call('GET', '/phonebook/LAST1');
    expect(r.status).toBe(503);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_STOPPED');
    expect((await call('DELETE', '/zosConnect/apis/phonebook', undefined, admin)).status).toBe(409);
    r = await call('PUT', '/zosConnect/services/IVTNO?status=started', undefined, oper);
    expect(r.body.zosConnect.serviceStatus).toBe('Started');
    r = await call('PUT', '/zosConnect/apis/phonebook?status=stopped', undefined, oper);
    expect(r.body.status).toBe('Stopped');
    expect((await call('GET', '/phonebook/LAST1')).status).toBe(503);
    r = await call('PUT', '/zosConnect/apis/phonebook?status=bogus', undefined, oper);
    expect(r.status).toBe(400);
    await call('PUT', '/zosConnect/apis/phonebook?status=started', undefined, oper);
    expect((await call('GET', '/phonebook/LAST1')).status).toBe(200);
  });

  it('serves the admin API document, health and metrics', async () => {
    const d = await call('GET', '/zosConnect/api-docs');
    expect(d.body.info.title).toBe('z/OS Connect administration API');
    const h = await call('GET', '/health');
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ ready: true, health: 100 });
    const m = await fetch(`${url}/metrics`);
    const text = await m.text();
    expect(text).toMatch(/zosconnect_http_requests_total\{kind="api",api="phonebook",operation="getEntry",status="200"\} \d+/);
    expect(text).toMatch(/zosconnect_ims_interactions_total\{service="IVTNO",outcome="ok"\} \d+/);
  });

  it('pause refuses new work with 503 and ready:false; resume restores it', async () => {
    expect((await call('POST', '/zosConnect/operations/pause', undefined, oper)).body.state).toBe('paused');
    const r = await call('GET', '/phonebook/LAST1');
    expect(r.status).toBe(503);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_UNAVAILABLE');
    const h = await call('GET', '/health');
    expect(h.status).toBe(503);
    expect(h.body.ready).toBe(false);
    expect((await call('POST', '/zosConnect/operations/resume', undefined, oper)).body.state).toBe('running');
    expect((await call('GET', '/phonebook/LAST1')).status).toBe(200);
  });
});

describe('separate admin listener', () => {
  it('serves health and metrics there, not on the API port', async () => {
    const s = createZosConnectServer({ config: SAMPLES, host: '127.0.0.1', port: 0, admin: { host: '127.0.0.1', port: 0 } });
    try {
      const info = await s.start();
      expect(info.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const h = await fetch(`${info.adminUrl}/health`);
      expect(await h.json()).toEqual({ ready: true, health: 100 });
      expect((await fetch(`${info.adminUrl}/metrics`)).status).toBe(200);
      expect((await fetch(`${info.url}/health`)).status).toBe(404);
      const list = await fetch(`${info.adminUrl}/zosConnect/apis`, { headers: { authorization: basic('zcreader', 'zcreader') } });
      expect(list.status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
