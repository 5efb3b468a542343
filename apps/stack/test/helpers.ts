/** Helpers of the stack tests: a small real topology on its own loopback addresses, event waits. */
import type { Supervisor, TimelineEntry } from '../src/supervisor.js';

/**
 * Two LPARs with one IMS Connect each behind a VIPA, a primary and a backup distributor. No IMS and no
 * z/OS Connect, so it runs with the boxes that exist today. Addresses 127.0.9.x keep it apart from other
 * packages' tests.
 */
export function miniTopology(dataDir: string, port = 15801): string {
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
`;
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
