/**
 * The real stack, over real sockets: REST → zos-connect → IMS Connect protocol → the
 * `imsplex-ims-connect` process (spawned, so it can be killed) → OTMA over the XCF link →
 * @imsplex/ims running the IVP programs, with a manual IMS clock so SLOW never ends by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, startTestImsSystem, type TestImsSystem } from '@imsplex/ims';
import { createZosConnectServer, type ZosConnectServer } from '../src/index.js';
import { basic, tempConfig } from './helpers.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
// Node itself runs the bin (with tsx's loader), so the PID we kill is IMS Connect's own process.
const tsxLoader = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const hwsBin = path.join(root, 'packages/ims-connect/src/bin.ts');

let ims: TestImsSystem;
let clock: ManualClock;
let hws: ChildProcess | undefined;
let hwsPort: number;
let server: ZosConnectServer;
let url: string;
let tmp: string;
let cfg: { dir: string; cleanup: () => void };

const text = (name: string, tran: string, extra = '') =>
  `<service name="${name}"><ims connectionRef="IMSCONN1" interactionRef="IMSINT1" transactionCode="${tran}" ${extra}/><request format="text"/><response format="text"/></service>`;

beforeAll(async () => {
  clock = new ManualClock();
  ims = await startTestImsSystem({ clock });
  tmp = mkdtempSync(path.join(tmpdir(), 'zcon-e2e-'));
  const hwscfg = path.join(tmp, 'HWSCFG00');
  // HWSCFG needs a real port number: take one the OS just handed out.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const freePort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  writeFileSync(hwscfg, `HWS (ID=HWS1,RACF=N)\nTCPIP (HOSTNAME=TCP1,PORTID=(${freePort}),MAXSOC=100,TIMEOUT=5000)\nDATASTORE (ID=IMS1,GROUP=${ims.group},TMEMBER=${ims.member},XCFADDR=${ims.link.host}:${ims.link.port})\n`);
  hws = spawn(process.execPath, ['--import', tsxLoader, '--conditions=@imsplex/source', hwsBin, '--config', hwscfg], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  hwsPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    hws!.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY PORTS=(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    hws!.once('exit', (code) => reject(new Error(`imsplex-ims-connect exited with ${code}: ${out}`)));
  });
  cfg = tempConfig({ 'services/SLOW.xml': text('SLOW', 'SLOW'), 'services/SLOWT.xml': text('SLOWT', 'SLOW', 'interactionTimeout="100"'), 'services/NOSUCH.xml': text('NOSUCH', 'NOSUCH') });
  server = createZosConnectServer({ config: cfg.dir, host: '127.0.0.1', port: 0, clientOverrides: () => ({ host: '127.0.0.1', port: hwsPort }) });
  url = (await server.start()).url;
}, 60_000);

afterAll(async () => {
  await server?.stop({ timeout: 0 });
  if (hws && hws.exitCode === null && hws.signalCode === null) {
    const gone = new Promise((r) => hws!.once('exit', r));
    hws.kill('SIGKILL');
    await gone;
  }
  clock?.advance(3_600_000);
  await ims?.stop();
  cfg?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

async function call(method: string, p: string, body?: unknown) {
  const res = await fetch(url + p, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as any };
}
const invoke = async (svc: string, body: unknown) => {
  const res = await fetch(`${url}/zosConnect/services/${svc}?action=invoke`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic('zcadmin', 'zcadmin') }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
};

describe('REST → z/OS Connect → IMS Connect → IMS', () => {
  it('phone book: display, add, update, delete', async () => {
    let r = await call('GET', '/phonebook/LAST1');
    expect(r).toEqual({ status: 200, body: { lastName: 'LAST1', firstName: 'FIRST1', extension: '8-111-1111', zipCode: 'D01/R01', message: 'ENTRY WAS DISPLAYED' } });
    r = await call('POST', '/phonebook/E2E', { firstName: 'ADA', extension: '8-222-0001', zipCode: 'D10/R10' });
    expect(r.status).toBe(201);
    r = await call('PUT', '/phonebook/E2E', { zipCode: 'D11/R11' });
    expect(r.body).toMatchObject({ firstName: 'ADA', zipCode: 'D11/R11', message: 'ENTRY WAS UPDATED' });
    r = await call('DELETE', '/phonebook/E2E');
    expect(r.status).toBe(200);
    expect((await call('GET', '/phonebook/E2E')).status).toBe(404);
  });

  it('IVTCV conversation through OTMA', async () => {
    let r = await call('POST', '/ivtcv/conversations', { command: 'DIS', lastName: 'LAST2' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ open: true, message: 'ENTRY WAS DISPLAYED', command: 'DIS', lastName: 'LAST2', firstName: 'FIRST2' });
    const id = r.body.conversationId;
    r = await call('PUT', `/ivtcv/conversations/${id}`, { command: 'DIS', lastName: 'LAST3' });
    expect(r.body).toMatchObject({ open: true, firstName: 'FIRST3' });
    // IVTCV's SPA keeps the command: a step without one repeats DIS.
    r = await call('PUT', `/ivtcv/conversations/${id}`, { lastName: 'LAST4' });
    expect(r.body).toMatchObject({ open: true, command: 'DIS', firstName: 'FIRST4' });
    r = await call('DELETE', `/ivtcv/conversations/${id}`);
    expect(r.body).toMatchObject({ open: false, message: 'CONVERSATION HAS ENDED' });
  });

  it('an unknown transaction comes back as DFS064: 500 ZCON_ERR_IMS_DESTINATION', async () => {
    const r = await invoke('NOSUCH', { text: 'HELLO' });
    expect(r.status).toBe(500);
    expect(r.body.errorDetails.code).toBe('ZCON_ERR_IMS_DESTINATION');
    expect(r.body.errorDetails.dfsMessage).toMatch(/^DFS064 /);
  });

  it('the IRM timer expires in IMS Connect: an RSM timer code', async () => {
    const r = await invoke('SLOWT', { text: '60000' });
    expect(r.status).toBe(500);
    expect(r.body.errorDetails.code).toBe('IMS_ERR_RSM');
    expect([32, 36, 40]).toContain(r.body.errorDetails.retcode);
    // Let the abandoned SLOW finish in IMS, so its region is free again.
    clock.advance(60_000);
  });

  it('IMS Connect killed mid-request: in doubt, with the client ID, not retried', async () => {
    const before = server.backend.stats()['IMSCONN1']!;
    const baseline = clock.pending;
    const pending = invoke('SLOW', { text: '60000' });
    // Wait until the SLOW program is sleeping on the IMS clock: the request is inside IMS.
    for (let i = 0; i < 2000 && clock.pending <= baseline; i++) await new Promise((r) => setTimeout(r, 5));
    expect(clock.pending).toBeGreaterThan(baseline);
    const gone = new Promise((resolve) => hws!.once('exit', resolve));
    hws!.kill('SIGKILL');
    const r = await pending;
    expect(r.status).toBe(500);
    expect(r.body.errorDetails).toMatchObject({ code: 'IMS_ERR_IN_DOUBT', outcome: 'unknown', commitMode: 1, trancode: 'SLOW' });
    expect(r.body.errorDetails.clientId).toMatch(/^ZCON/);
    const after = server.backend.stats()['IMSCONN1']!;
    expect(after.retries - before.retries).toBe(0);
    expect(after.inDoubt - before.inDoubt).toBe(1);
    // With IMS Connect gone (its process reaped, so its listening socket is closed, and the pool has
    // seen its idle connections close), the next request cannot connect: outcome not-run.
    await gone;
    for (let i = 0; i < 2000 && server.backend.stats()['IMSCONN1']!.pool.size > 0; i++) await new Promise((r) => setTimeout(r, 5));
    const next = await call('GET', '/phonebook/LAST1');
    expect(next.status).toBe(500);
    expect(next.body.errorDetails, JSON.stringify(next.body)).toMatchObject({ outcome: 'not-run' });
  }, 30_000);
});
