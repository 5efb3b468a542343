/** Helpers of the stack tests: a small real topology on its own loopback addresses, event waits. */
import { spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { createServer } from 'node:net';
import type { StackSnapshot, Supervisor, TimelineEntry } from '../src/supervisor.js';

/**
 * Two LPARs with one IMS Connect each behind a VIPA, a primary and a backup distributor. No IMS and no
 * z/OS Connect, so it runs with the boxes that exist today. Addresses 127.0.9.x keep it apart from other
 * packages' tests.
 */
export function miniTopology(dataDir: string, port = 15801, options: { ims?: boolean } = {}): string {
  return `[stack]
data-dir  = ${dataDir}
dashboard = 127.0.0.1:0
start-timeout = 60000
[host SYS1]
address = 127.0.9.1
[host SYS2]
address = 127.0.9.2
[vipa]
address = 127.0.9.100
[distribute ${port}]
targets  = imsconnect
method   = ROUNDROBIN
[distributor SD1]
host = SYS1
[distributor SD2]
host = SYS2
role = backup
[imsconnect HWS1]
host = SYS1
[imsconnect HWS2]
host = SYS2
${options.ims ? '[ims IMS1]\nhost = SYS1\n' : ''}`;
}

/**
 * Reads the dashboard's SSE stream (`GET /api/events`) until a `snapshot` event matches `pred`;
 * resolves with it, rejects after `ms`. The stream is closed either way.
 */
export function sseSnapshot(dashboardUrl: string, pred: (s: StackSnapshot) => boolean, ms = 20_000): Promise<StackSnapshot> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let last: StackSnapshot | null = null;
    const req = get(`${dashboardUrl}/api/events`, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event !== 'snapshot' || data === undefined) continue;
          last = JSON.parse(data) as StackSnapshot;
          if (pred(last)) return done(null, last);
        }
      });
    });
    const timer = setTimeout(() => done(new Error(`no matching snapshot on the SSE stream within ${ms} ms; last queues: ${JSON.stringify(last?.queues ?? null)}`)), ms);
    const done = (err: Error | null, snap?: StackSnapshot): void => {
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve(snap!);
    };
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', (e) => done(e));
  });
}

/** Resolves with the first timeline entry (past or future) matching `pred`; rejects after `ms`. */
export function waitTimeline(sup: Supervisor, pred: (e: TimelineEntry) => boolean, ms = 20_000, afterSeq = 0): Promise<TimelineEntry> {
  const past = sup.timelineSince(afterSeq).find(pred);
  if (past) return Promise.resolve(past);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sup.off('timeline', on);
      reject(new Error(`no matching timeline entry within ${ms} ms; last entries:\n${sup.timelineSince(0).slice(-15).map((e) => e.text).join('\n')}`));
    }, ms);
    const on = (e: TimelineEntry): void => {
      if (e.seq > afterSeq && pred(e)) {
        clearTimeout(timer);
        sup.off('timeline', on);
        resolve(e);
      }
    };
    sup.on('timeline', on);
  });
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves true once no process has this pid (re-checked every 50 ms), false after `ms`. A process
 * killed with its parent is reparented and reaped by init, which takes a moment.
 */
export async function untilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

/** Why the shared-queue tests skip (no redis-server on this machine), or undefined. */
export const redisMissing: string | undefined = (() => {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'redis-server is not installed (apt-get install -y redis-server): shared-queue tests skipped';
})();

/** A port free on 127.0.0.1 right now (redis-server cannot listen on port 0). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}
