/**
 * `imsplex chaos`: under steady load, kill boxes of a running stack one after another (SIGKILL via the
 * supervisor), restart each after a pause, and report sent / succeeded / failed / in doubt / lost /
 * duplicated, plus how long after each kill the service answered again.
 */
import { CliError, CliErrorCode } from './errors.js';
import { runLoad, type LoadResult, type LoadTarget, type RequestRecord } from './load.js';
import { stackApi, type StackEndpoint, type StackState } from './stack.js';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  readonly stack: StackEndpoint;
  readonly target: LoadTarget;
  /** Boxes to kill, in order. */
  readonly kill: readonly string[];
  /** Load before the first kill, ms (default 2000). */
  readonly warmupMs?: number;
  /** How long a killed box stays down before its restart, ms (default 2000). */
  readonly downMs?: number;
  /** Load after each restart before the next kill, ms (default 3000). */
  readonly settleMs?: number;
  readonly concurrency?: number;
  readonly now?: () => number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** One kill and what followed. */
export interface KillReport {
  readonly box: string;
  readonly killedAt: number;
  readonly restartedAt: number | null;
  /** ms from the kill to the first request started after it that succeeded (null: none did). */
  readonly serviceBackMs: number | null;
  /** Requests started after the kill (until the next kill) that did not succeed. */
  readonly failedAfter: number;
}

/** Result of a chaos run. */
export interface ChaosResult {
  readonly load: LoadResult;
  readonly kills: readonly KillReport[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Picks one box per kind in the drill order of issue 8: IMS Connect, z/OS Connect, primary distributor, IMS. */
export function defaultVictims(state: StackState): string[] {
  const pick = (kind: string, prefer?: string | null): string | undefined => {
    const up = state.boxes.filter((b) => b.kind === kind && b.state === 'up');
    return (prefer && up.find((b) => b.name === prefer)?.name) ?? up[0]?.name;
  };
  return [pick('imsconnect'), pick('zosconnect'), pick('distributor', state.vipaOwner), pick('ims')].filter((x): x is string => x !== undefined);
}

/** Per kill: when the service answered again. */
export function killReports(records: readonly RequestRecord[], kills: ReadonlyArray<{ box: string; at: number; restartedAt: number | null }>): KillReport[] {
  return kills.map((k, i) => {
    const until = kills[i + 1]?.at ?? Infinity;
    const after = records.filter((r) => r.startedAt >= k.at && r.startedAt < until);
    const firstOk = after.filter((r) => r.outcome.kind === 'succeeded').sort((a, b) => a.endedAt - b.endedAt)[0];
    return { box: k.box, killedAt: k.at, restartedAt: k.restartedAt, serviceBackMs: firstOk ? firstOk.endedAt - k.at : null, failedAfter: after.filter((r) => r.outcome.kind !== 'succeeded').length };
  });
}

/** Runs the chaos drill against a running stack. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  if (o.kill.length === 0) throw new CliError(CliErrorCode.BAD_OPTION, 'nothing to kill');
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => undefined);
  const warmup = o.warmupMs ?? 2000;
  const down = o.downMs ?? 2000;
  const settle = o.settleMs ?? 3000;
  const abort = new AbortController();
  const loadP = runLoad({ target: o.target, durationMs: warmup + o.kill.length * (down + settle) + 60_000, concurrency: o.concurrency ?? 4, now, signal: abort.signal });
  const kills: Array<{ box: string; at: number; restartedAt: number | null }> = [];
  try {
    await sleep(warmup);
    for (const box of o.kill) {
      const at = now();
      log(`kill -9 ${box}`);
      await stackApi(o.stack, 'POST', `/api/boxes/${encodeURIComponent(box)}/kill?signal=SIGKILL`);
      const entry = { box, at, restartedAt: null as number | null };
      kills.push(entry);
      await sleep(down);
      log(`restart ${box}`);
      await stackApi(o.stack, 'POST', `/api/boxes/${encodeURIComponent(box)}/restart`, undefined, 120_000);
      entry.restartedAt = now();
      await sleep(settle);
    }
  } finally {
    abort.abort();
  }
  const load = await loadP;
  return { load, kills: killReports(load.records, kills) };
}

/** Renders the kill table. */
export function formatKills(kills: readonly KillReport[]): string {
  const rows = [['killed', 'service back after', 'failed/in doubt after the kill']];
  for (const k of kills) rows.push([k.box, k.serviceBackMs === null ? 'never' : `${k.serviceBackMs} ms`, String(k.failedAfter)]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
