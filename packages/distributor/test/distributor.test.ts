import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { createServer as createHttp, type Server as HttpServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Distributor, type DistributorEvents } from '../src/distributor.js';
import { splice } from '../src/dataplane/proxy.js';
import { echoServer, freePort, randomNet } from './helpers.js';
import { NATIVE_EXPECTED } from './native-build.js';

type Echo = Awaited<ReturnType<typeof echoServer>>;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Env {
  net: string;
  sys1: string;
  sys2: string;
  vipa: string;
  port: number;
  a: Echo;
  b: Echo;
}

async function env(): Promise<Env> {
  const net = randomNet();
  const sys1 = `${net}.1`;
  const sys2 = `${net}.2`;
  const vipa = `${net}.100`;
  const a = await echoServer(sys1, 'A');
  const b = await echoServer(sys2, 'B');
  cleanups.push(() => a.close(), () => b.close());
  return { net, sys1, sys2, vipa, port: await freePort(vipa), a, b };
}

function profile(e: Env, distribute: string, extra = ''): string {
  return `VIPADYNAMIC
  VIPADEFINE MOVEABLE IMMEDIATE 255.255.255.255 ${e.vipa}
  VIPADISTRIBUTE DEFINE ${distribute} ${e.vipa} PORT ${e.port} DESTIP ${e.sys1} ${e.sys2}
ENDVIPADYNAMIC
IMSPLEX
  STACK SYS1 ${e.sys1}
  SYSTEM SYS2 ${e.sys2}
  TARGET ${e.sys1} ADDRESS ${e.sys1}:${e.a.port}
  TARGET ${e.sys2} ADDRESS ${e.sys2}:${e.b.port}
  PROBE INTERVAL 60000
  TSR INTERVAL 3600000
${extra}
ENDIMSPLEX`;
}

async function started(text: string, opts: Partial<ConstructorParameters<typeof Distributor>[0]> = {}): Promise<Distributor> {
  const d = new Distributor({ config: text, ...opts });
  cleanups.push(() => d.destroy());
  await d.start();
  return d;
}

/** Opens a connection through the VIPA and asks "WHO"; keeps the socket open. */
function who(e: Env, localAddress?: string): Promise<{ name: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: e.vipa, port: e.port, noDelay: true, ...(localAddress ? { localAddress } : {}) }, () => s.write('WHO\n'));
    s.once('data', (d) => resolve({ name: d.toString().trim(), socket: s }));
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed before an answer')));
  });
}

async function whoAndClose(e: Env, localAddress?: string): Promise<string> {
  const { name, socket } = await who(e, localAddress);
  await new Promise<void>((r) => {
    socket.once('close', () => r());
    socket.end();
  });
  return name;
}

function once<K extends keyof DistributorEvents>(d: Distributor, ev: K): Promise<DistributorEvents[K]> {
  return new Promise((resolve) => d.once(ev, resolve));
}

function echoOnce(s: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.write(text);
  });
}

describe('Distributor (proxy data plane, in process)', () => {
  it('owns the VIPA, splices connections to targets round robin and keeps the VCRT', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'));
    expect(d.owns(e.vipa)).toBe(true);
    const routed: DistributorEvents['connection:routed'][] = [];
    d.on('connection:routed', (r) => routed.push(r));
    const c1 = await who(e);
    const c2 = await who(e);
    expect([c1.name, c2.name]).toEqual(['A', 'B']);
    expect(await echoOnce(c1.socket, 'hello')).toBe('hello');
    const vcrt = d.stats().vcrt;
    expect(vcrt.map((x) => x.destXcf).sort()).toEqual([e.sys1, e.sys2]);
    expect(vcrt.every((x) => x.srcIp === '127.0.0.1' && x.dvipa === e.vipa)).toBe(true);
    expect(routed.map((r) => r.reason)).toEqual(['method', 'method']);
    expect(d.stats().vipas.find((v) => v.dvipa === e.vipa)!.activeConns).toBe(2);
    const closed = once(d, 'connection:closed');
    c1.socket.end();
    expect(await closed).toMatchObject({ xcf: e.sys1, abnormal: false });
    expect(d.stats().vipas.find((v) => v.dvipa === e.vipa)!.activeConns).toBe(1);
    expect(d.stats().vdpt.map((x) => [x.destXcf, x.totalConn, x.activeConn])).toEqual([
      [e.sys1, 1, 0],
      [e.sys2, 1, 1],
    ]);
    // The default splice is the native data plane on Linux (the global setup builds it);
    // IMSPLEX_SPLICE=direct|stream runs this suite on a JS path instead.
    const forced = process.env.IMSPLEX_SPLICE;
    const mode = forced === 'direct' || forced === 'stream' ? forced : NATIVE_EXPECTED ? 'native' : 'direct';
    expect(d.stats()).toMatchObject({ dataPlane: 'proxy', splice: mode, spliced: { [mode]: 2 } });
    c2.socket.destroy();
  });

  it('destroy() closes spliced connections (native pairs included); each still ends with connection:closed', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'));
    const conns = [await who(e), await who(e)];
    expect(await echoOnce(conns[0]!.socket, 'x')).toBe('x');
    const closedEvents: DistributorEvents['connection:closed'][] = [];
    const bothClosed = new Promise<void>((r) =>
      d.on('connection:closed', (c) => {
        closedEvents.push(c);
        if (closedEvents.length === 2) r();
      }),
    );
    const clientsClosed = Promise.all(conns.map((c) => new Promise((r) => c.socket.once('close', r))));
    for (const c of conns) c.socket.on('error', () => undefined);
    await d.destroy();
    await clientsClosed;
    await bothClosed;
    expect(closedEvents.map((c) => c.abnormal)).toEqual([false, false]);
    expect(d.stats().vcrt).toEqual([]);
    expect(d.stats().counters).toMatchObject({ routed: 2, closed: 2, abnormal: 0 });
  });

  it('close() waits for spliced connections to end, then releases everything', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'));
    const c = await who(e);
    let closedDone = false;
    const closing = d.close().then(() => (closedDone = true));
    // Still served while close() waits (the VIPA is released, the connection is not).
    expect(await echoOnce(c.socket, 'draining')).toBe('draining');
    expect(closedDone).toBe(false);
    c.socket.end();
    await closing;
    expect(d.state).toBe('closed');
    expect(d.stats().vcrt).toEqual([]);
  });

  it('MAXCONNECTIONS bounds proxied connections (also those spliced natively, which Node no longer counts)', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN', '  MAXCONNECTIONS 2'));
    const kept = [await who(e), await who(e)];
    const rejected = once(d, 'connection:rejected');
    await expect(who(e)).rejects.toThrow();
    expect(await rejected).toMatchObject({ reason: 'limit' });
    kept[0]!.socket.end();
    await once(d, 'connection:closed');
    expect((await who(e)).name).toMatch(/^[AB]$/);
    for (const k of kept) k.socket.destroy();
  });

  it('passes a half-close through: the client ends, still receives the echo and the end', async () => {
    const e = await env();
    await started(profile(e, 'DISTMETHOD ROUNDROBIN'));
    const got = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: e.vipa, port: e.port, allowHalfOpen: true }, () => s.end('half-closed'));
      let data = '';
      s.on('data', (x) => (data += x.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    expect(got).toBe('half-closed');
  });

  it('a refused connect marks the target down at once and the connection goes to another target', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'));
    await e.a.close();
    const down = once(d, 'target:down');
    expect(await whoAndClose(e)).toBe('B');
    expect(await down).toMatchObject({ xcf: e.sys1, reason: 'refused' });
    expect(d.stats().vdpt.find((x) => x.destXcf === e.sys1)!.rdy).toBe(0);
    expect(await whoAndClose(e)).toBe('B');
  });

  it('resets the client when no target is eligible', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'));
    d.command('V TCPIP,,SYSPLEX,QUIESCE,TARGET');
    d.command('RO SYS2,V TCPIP,,SYSPLEX,QUIESCE,TARGET');
    const rejected = once(d, 'connection:rejected');
    await expect(who(e)).rejects.toThrow();
    expect(await rejected).toMatchObject({ reason: 'no-target' });
  });

  it('QUIESCE stops new connections to a target without touching existing ones; RESUME restores it', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'));
    const kept = await who(e);
    expect(kept.name).toBe('A');
    const q = d.command('V TCPIP,,SYSPLEX,QUI,TARGET');
    expect(q.ok).toBe(true);
    expect(await Promise.all([whoAndClose(e), whoAndClose(e), whoAndClose(e)])).toEqual(['B', 'B', 'B']);
    expect(await echoOnce(kept.socket, 'still here')).toBe('still here');
    expect(d.command('NETSTAT VDPT').lines.some((l) => l.includes(`${e.sys1.padEnd(15)} 000`) && l.endsWith('RQ'))).toBe(true);
    d.command('V TCPIP,,SYSPLEX,RESUME,TARGET');
    const names = [await whoAndClose(e), await whoAndClose(e)];
    expect(names.sort()).toEqual(['A', 'B']);
    kept.socket.destroy();
  });

  it('QUIESCE by JOBNAME and PORT matches only those targets', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN', `  TARGET ${e.sys2} JOBNAME IMSCON2`));
    expect(d.command('RO SYS2,V TCPIP,,SYSPLEX,QUI,JOBNAME=IMSCON1').ok).toBe(false);
    expect(d.command(`RO SYS2,V TCPIP,,SYSPLEX,QUI,PORT=${e.port},JOBNAME=IMSCON*`).ok).toBe(true);
    expect(d.stats().vdpt.map((x) => x.quiesced)).toEqual([false, true]);
  });

  it('OPTLOCAL keeps a connection from a target host on that host', async () => {
    const e = await env();
    await started(profile(e, 'DISTMETHOD ROUNDROBIN OPTLOCAL 1'));
    const names = [];
    for (let i = 0; i < 4; i++) names.push(await whoAndClose(e, e.sys2));
    expect(names).toEqual(['B', 'B', 'B', 'B']);
    expect([await whoAndClose(e), await whoAndClose(e)]).toEqual(['A', 'B']);
  });

  it('TIMEDAFFINITY sends a client back to its target until the timer (injected clock) runs out', async () => {
    const e = await env();
    let now = 1_000_000;
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN TIMEDAFFINITY 30'), { clock: { now: () => now } });
    const first = await who(e);
    expect(first.name).toBe('A');
    // The distributor's view of a close is its connection:closed event; the client may see the
    // close first (on the native path the completion comes from the I/O thread).
    let closed = once(d, 'connection:closed');
    expect(await whoAndClose(e)).toBe('A');
    await closed;
    closed = once(d, 'connection:closed');
    first.socket.end();
    await closed;
    now += 29_000;
    closed = once(d, 'connection:closed');
    expect(await whoAndClose(e)).toBe('A');
    await closed;
    expect(d.command('NETSTAT VCRT DETAIL').lines.some((l) => l.includes('TimedAffinity: 00030  Count: 00000  TimeLeft: 00030'))).toBe(true);
    now += 30_000;
    expect(await whoAndClose(e)).toBe('B');
  });

  it('HOTSTANDBY switches to the backup when the preferred target goes down, and back', async () => {
    const e = await env();
    const text = profile(e, 'DISTMETHOD HOTSTANDBY').replace(`DESTIP ${e.sys1} ${e.sys2}`, `DESTIP ${e.sys1} PREFERRED ${e.sys2} BACKUP 10`);
    const d = await started(text);
    expect([await whoAndClose(e), await whoAndClose(e)]).toEqual(['A', 'A']);
    const port = e.a.port;
    await e.a.close();
    const sw = once(d, 'active:switch');
    expect(await whoAndClose(e)).toBe('B');
    expect(await sw).toEqual({ dvipa: e.vipa, port: e.port, from: e.sys1, to: e.sys2 });
    const a2 = await echoServer(e.sys1, 'A2', port);
    cleanups.push(() => a2.close());
    const back = once(d, 'active:switch');
    await d.probeNow();
    expect(await back).toMatchObject({ from: e.sys2, to: e.sys1 });
    expect(await whoAndClose(e)).toBe('A2');
  });

  it('SERVERWLM uses the weights and readiness targets report on their health endpoint', async () => {
    const e = await env();
    const reports: Record<string, object> = { A: { ready: true, health: 100, weight: 48 }, B: { ready: true, health: 100, weight: 16 } };
    const servers: HttpServer[] = [];
    const url = async (host: string, name: string) => {
      const h = createHttp((_req, res) => res.end(JSON.stringify(reports[name])));
      servers.push(h);
      await new Promise<void>((r) => h.listen({ host, port: 0 }, () => r()));
      return `http://${host}:${(h.address() as { port: number }).port}/health`;
    };
    cleanups.push(() => Promise.all(servers.map((h) => new Promise((r) => h.close(r)))));
    const extra = `  TARGET ${e.sys1} HEALTH ${await url(e.sys1, 'A')}\n  TARGET ${e.sys2} HEALTH ${await url(e.sys2, 'B')}`;
    const d = await started(profile(e, 'DISTMETHOD SERVERWLM', extra));
    const names: string[] = [];
    for (let i = 0; i < 8; i++) names.push(await whoAndClose(e));
    expect(names.filter((n) => n === 'A')).toHaveLength(6);
    expect(d.stats().vdpt.map((x) => x.wlm)).toEqual([3, 1]);
    reports.A = { ready: false, health: 100 };
    const down = once(d, 'target:down');
    await d.probeNow();
    expect(await down).toMatchObject({ xcf: e.sys1, reason: 'not-ready' });
    expect([await whoAndClose(e), await whoAndClose(e)]).toEqual(['B', 'B']);
  });

  it('a killed target stops receiving new connections within one probe interval (probe rounds, not wall time)', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN').replace('PROBE INTERVAL 60000', 'PROBE INTERVAL 50'));
    let lastRound = 0;
    d.on('probe', (p) => (lastRound = p.round));
    const downAt = new Promise<number>((resolve) => d.on('target:down', () => resolve(lastRound + 1)));
    const killedAfter = lastRound;
    // Kill the listener only (no connection attempt): only the probes can notice.
    await e.a.close();
    const round = await downAt;
    // The round in flight at the kill may still have seen it; the next one must not.
    expect(round).toBeLessThanOrEqual(killedAfter + 2);
    const names = await Promise.all([whoAndClose(e), whoAndClose(e), whoAndClose(e)]);
    expect(names).toEqual(['B', 'B', 'B']);
    expect(d.stats().counters.connectFailed).toBe(0);
  });

  it('TSR drops for a target whose connects are refused', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD BASEWLM'));
    d.recomputeTsr(); // start a fresh interval (the start-up probe succeeded)
    await e.a.close();
    await whoAndClose(e);
    d.recomputeTsr();
    const a = d.stats().vdpt.find((x) => x.destXcf === e.sys1)!;
    expect(a).toMatchObject({ tcsr: 0, tsr: 0, rdy: 0 });
    expect(d.stats().vdpt.find((x) => x.destXcf === e.sys2)!.tsr).toBe(100);
  });

  it('lifecycle methods are idempotent; start after close fails with SD_ERR_CLOSED; stop releases the VIPA', async () => {
    const e = await env();
    const d = new Distributor({ config: profile(e, 'DISTMETHOD ROUNDROBIN') });
    cleanups.push(() => d.destroy());
    expect(d.start()).toBe(d.start());
    await d.start();
    const released = once(d, 'vipa:released');
    expect(d.stop()).toBe(d.stop());
    await d.stop();
    expect(await released).toEqual({ dvipa: e.vipa, reason: 'stop' });
    await expect(who(e)).rejects.toThrow();
    await Promise.all([d.close(), d.close(), d.destroy()]);
    await expect(d.start()).rejects.toMatchObject({ code: 'SD_ERR_CLOSED' });
  });

  it('DEACTIVATE gives the DVIPA up and REACTIVATE takes it again', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'));
    expect(d.command(`V TCPIP,,SYSPLEX,DEACT,DVIPA=${e.vipa}`).ok).toBe(true);
    expect(d.owns(e.vipa)).toBe(false);
    expect(d.command('NETSTAT VIPADCFG').lines).toContain('  Deactivated Dynamic VIPA Information:');
    expect(d.stats().vipas[0]!.status).toBe('Deactivated');
    const acquired = once(d, 'vipa:acquired');
    expect(d.command(`V TCPIP,,SYSPLEX,REACT,DVIPA=${e.vipa}`).ok).toBe(true);
    expect(await acquired).toEqual({ dvipa: e.vipa, reason: 'reactivate' });
    expect(await whoAndClose(e)).toBe('A');
    expect(d.command(`V TCPIP,,SYSPLEX,REACT,DVIPA=${e.vipa}`).lines[0]).toContain('is not deactivated');
  });
});

describe('admin endpoint', () => {
  const get = (port: number, host: string, path: string, auth?: string, method = 'GET', body?: string) =>
    new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
      const req = request({ host, port, path, method, headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: b, type: String(res.headers['content-type']) }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('serves health and metrics openly, stats and commands only with Basic auth', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'), { admin: { host: e.sys1, port: 0, user: 'op', password: 's3cret' } });
    const { host, port } = d.adminAddress!;
    await whoAndClose(e);
    const health = await get(port, host, '/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'running', vipas: [{ dvipa: e.vipa, status: 'Active', owns: true }], readyTargets: 2 });
    const metrics = await get(port, host, '/metrics');
    expect(metrics.body).toContain(`imsplex_distributor_connections_total{dvipa="${e.vipa}",port="${e.port}",target="${e.sys1}"} 1`);
    expect(metrics.body).toContain(`imsplex_distributor_vipa_owned{dvipa="${e.vipa}"} 1`);
    // Each scrape takes a fresh snapshot.
    await whoAndClose(e);
    expect((await get(port, host, '/metrics')).body).toContain(`imsplex_distributor_connections_total{dvipa="${e.vipa}",port="${e.port}",target="${e.sys2}"} 1`);
    // /health is the projection of stats() it used to be computed from, also with a target quiesced.
    const fromStats = () => {
      const s = d.stats();
      return { status: s.state, stack: s.stack, dataPlane: s.dataPlane, splice: s.splice, vipas: s.vipas.map((v) => ({ dvipa: v.dvipa, status: v.status, owns: v.owns })), readyTargets: s.vdpt.filter((x) => x.rdy > 0).length };
    };
    expect(d.healthSummary()).toEqual(fromStats());
    expect((await get(port, host, '/stats')).status).toBe(401);
    expect((await get(port, host, '/stats', 'op:wrong')).status).toBe(401);
    const stats = await get(port, host, '/stats', 'op:s3cret');
    expect(JSON.parse(stats.body).stack).toEqual({ name: 'SYS1', xcf: e.sys1, tcpipName: 'TCPCS' });
    const cmd = await get(port, host, '/command', 'op:s3cret', 'POST', 'V TCPIP,,SYSPLEX,QUI,TARGET');
    expect(cmd.status).toBe(200);
    expect(JSON.parse(cmd.body).lines[1]).toBe('EZZ0053I COMMAND VARY QUIESCE COMPLETED SUCCESSFULLY');
    expect(JSON.parse((await get(port, host, '/health')).body)).toEqual({ ...fromStats(), readyTargets: 1 });
    expect((await get(port, host, '/command', 'op:s3cret', 'POST', 'V TCPIP,,SYSPLEX,BOGUS')).status).toBe(400);
    expect((await get(port, host, '/command', 'op:s3cret', 'POST', 'x'.repeat(5000))).status).toBe(413);
    expect((await get(port, host, '/nope')).status).toBe(404);
  });

  it('refuses commands when no password is configured', async () => {
    const e = await env();
    const d = await started(profile(e, 'DISTMETHOD ROUNDROBIN'), { admin: { host: e.sys1, port: 0 } });
    const { host, port } = d.adminAddress!;
    expect((await get(port, host, '/command', 'admin:', 'POST', 'NETSTAT VDPT')).status).toBe(403);
  });
});

describe('splice backpressure', () => {
  class FakeSocket extends EventEmitter {
    written: Buffer[] = [];
    paused = false;
    destroyed = false;
    writableEnded = false;
    full = false;
    setNoDelay() {
      return this;
    }
    pause() {
      this.paused = true;
      return this;
    }
    resume() {
      this.paused = false;
      return this;
    }
    write(b: Buffer) {
      this.written.push(b);
      return !this.full;
    }
    end() {
      this.writableEnded = true;
      return this;
    }
    destroy() {
      if (this.destroyed) return this;
      this.destroyed = true;
      this.emit('close');
      return this;
    }
  }

  it('pauses the reading side while the other side is full and resumes on drain', () => {
    const client = new FakeSocket();
    const upstream = new FakeSocket();
    let ended = false;
    splice(client as unknown as Socket, upstream as unknown as Socket, () => (ended = true));
    upstream.full = true;
    client.emit('data', Buffer.from('a'));
    expect(client.paused).toBe(true);
    client.emit('data', Buffer.from('b'));
    expect(upstream.listenerCount('drain')).toBe(1);
    upstream.full = false;
    upstream.emit('drain');
    expect(client.paused).toBe(false);
    expect(Buffer.concat(upstream.written).toString()).toBe('ab');
    client.emit('end');
    expect(upstream.writableEnded).toBe(true);
    upstream.emit('error', new Error('ECONNRESET'));
    expect(client.destroyed).toBe(true);
    upstream.destroy();
    expect(ended).toBe(true);
  });
});
