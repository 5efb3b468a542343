/**
 * The load engine behind `imsplex load` and `imsplex chaos`: a bounded number of workers send
 * requests (REST or IMS Connect) until a count or a duration is reached, and every request ends in
 * exactly one bucket — succeeded, failed (definitely not done, or answered with an error) or in doubt
 * (written, then the connection failed: the outcome is unknown). Each request carries a unique id so
 * duplicate or crossed answers are caught. For IMS Connect commit mode 0, in-doubt requests are
 * recovered afterwards with RESUME TPIPE on their client ID (spec ims-connect-protocol.md §6.2–6.3):
 * output found there is "recovered"; what stays missing is reported as lost.
 */
import { request as httpRequest } from 'node:http';
import { createClient, ImsConnectRsmError, ImsInDoubtError, type ClientOptions, type ImsConnectClient } from '@imsplex/client';
import { isImsplexError } from '@imsplex/codec';
import { CliError, CliErrorCode } from './errors.js';

/** Hard bounds of a load run. */
export const LOAD_LIMITS = Object.freeze({ maxConcurrency: 256, maxCount: 10_000_000, maxDurationMs: 24 * 3600_000, maxSamples: 1_000_000 });

/** How one request ended. */
export type OutcomeKind = 'succeeded' | 'failed' | 'in-doubt';

/** The outcome of one request. */
export interface Outcome {
  readonly kind: OutcomeKind;
  /** Error code (e.g. `IMS_CLIENT_ERR_IN_DOUBT`, `HTTP_503`) for failed / in-doubt. */
  readonly code?: string;
  /** The request id found in the answer, when the answer carries one. */
  readonly echoedId?: string;
  /** IMS Connect: the client ID (tpipe) the request used, for RESUME TPIPE recovery. */
  readonly clientId?: string;
}

/** Something that can send one request with an id. */
export interface LoadTarget {
  readonly describe: string;
  send(id: string): Promise<Outcome>;
  /** After the run: try to recover the output of in-doubt requests; returns the ids found, per client ID. */
  recover?(inDoubt: ReadonlyArray<{ id: string; clientId: string }>): Promise<string[]>;
  close(): Promise<void>;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  readonly target: LoadTarget;
  /** Stop after this many requests (default: only the duration bounds the run). */
  readonly count?: number;
  /** Stop after this many ms. One of `count` / `durationMs` is required. */
  readonly durationMs?: number;
  readonly concurrency?: number;
  /** Pause per worker between requests, ms (default 0). */
  readonly thinkMs?: number;
  /** Clock (default Date.now) — the drills share it with the supervisor. */
  readonly now?: () => number;
  /** Called after every request. */
  readonly onResult?: (r: RequestRecord) => void;
  /** Stops the run early. */
  readonly signal?: AbortSignal;
  /** Prefix of the request ids (default `R`). */
  readonly idPrefix?: string;
}

/** One request as recorded. */
export interface RequestRecord {
  readonly id: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: Outcome;
}

/** Summary of a run. */
export interface LoadResult {
  readonly target: string;
  readonly sent: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly inDoubt: number;
  /** In-doubt requests whose output was found afterwards (RESUME TPIPE). */
  readonly recovered: number;
  /** In-doubt requests whose output was never found (commit mode 0: lost output, or never run). */
  readonly lost: number;
  /** Ids answered more than once (duplicate execution or crossed replies). */
  readonly duplicated: number;
  /** Answers carrying another request's id. */
  readonly mismatched: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly rps: number;
  readonly latencyMs: { readonly min: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number };
  readonly records: readonly RequestRecord[];
}

/** Records kept per run for the drills' timelines (the rest is summarised). */
export const MAX_RECORDS = 200_000;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Runs the load. Never throws for request failures: they are counted. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const now = o.now ?? Date.now;
  const concurrency = o.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > LOAD_LIMITS.maxConcurrency) throw new CliError(CliErrorCode.BAD_OPTION, `concurrency must be 1-${LOAD_LIMITS.maxConcurrency}`);
  if (o.count === undefined && o.durationMs === undefined) throw new CliError(CliErrorCode.BAD_OPTION, 'give a count or a duration (a load run is always bounded)');
  if (o.count !== undefined && (!Number.isInteger(o.count) || o.count < 1 || o.count > LOAD_LIMITS.maxCount)) throw new CliError(CliErrorCode.BAD_OPTION, `count must be 1-${LOAD_LIMITS.maxCount}`);
  if (o.durationMs !== undefined && (!(o.durationMs > 0) || o.durationMs > LOAD_LIMITS.maxDurationMs)) throw new CliError(CliErrorCode.BAD_OPTION, `duration must be positive and at most ${LOAD_LIMITS.maxDurationMs} ms`);
  const start = now();
  const deadline = o.durationMs === undefined ? Infinity : start + o.durationMs;
  const prefix = o.idPrefix ?? 'R';
  let issued = 0;
  const records: RequestRecord[] = [];
  const latencies: number[] = [];
  let samplesSeen = 0;
  const counts = { succeeded: 0, failed: 0, inDoubt: 0, mismatched: 0 };
  const errors: Record<string, number> = {};
  const answered = new Map<string, number>();
  const inDoubt: Array<{ id: string; clientId: string }> = [];

  const worker = async (): Promise<void> => {
    while (!o.signal?.aborted && now() < deadline && (o.count === undefined || issued < o.count)) {
      const id = `${prefix}${String(++issued).padStart(7, '0')}`;
      const t0 = now();
      let outcome: Outcome;
      try {
        outcome = await o.target.send(id);
      } catch (e) {
        outcome = { kind: 'failed', code: isImsplexError(e) ? e.code : (e as Error).name || 'ERROR' };
      }
      const t1 = now();
      if (outcome.kind === 'succeeded') {
        counts.succeeded++;
        samplesSeen++;
        if (latencies.length < LOAD_LIMITS.maxSamples) latencies.push(t1 - t0);
        else {
          const j = Math.floor(Math.random() * samplesSeen);
          if (j < LOAD_LIMITS.maxSamples) latencies[j] = t1 - t0;
        }
      } else {
        if (outcome.kind === 'failed') counts.failed++;
        else {
          counts.inDoubt++;
          if (outcome.clientId) inDoubt.push({ id, clientId: outcome.clientId });
        }
        const c = outcome.code ?? 'UNKNOWN';
        errors[c] = (errors[c] ?? 0) + 1;
      }
      if (outcome.echoedId !== undefined) {
        answered.set(outcome.echoedId, (answered.get(outcome.echoedId) ?? 0) + 1);
        if (outcome.echoedId !== id) counts.mismatched++;
      }
      const rec = { id, startedAt: t0, endedAt: t1, outcome };
      if (records.length < MAX_RECORDS) records.push(rec);
      o.onResult?.(rec);
      if (o.thinkMs) await new Promise((r) => setTimeout(r, o.thinkMs));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  const elapsedMs = Math.max(1, now() - start);
  let recovered = 0;
  if (inDoubt.length > 0 && o.target.recover) {
    const found = await o.target.recover(inDoubt);
    for (const id of found) answered.set(id, (answered.get(id) ?? 0) + 1);
    const want = new Set(inDoubt.map((x) => x.id));
    recovered = new Set(found.filter((id) => want.has(id))).size;
  }
  const sorted = Float64Array.from(latencies).sort();
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0;
  return {
    target: o.target.describe,
    sent: issued,
    succeeded: counts.succeeded,
    failed: counts.failed,
    inDoubt: counts.inDoubt,
    recovered,
    lost: o.target.recover ? inDoubt.length - recovered : counts.inDoubt,
    duplicated: [...answered.values()].filter((n) => n > 1).length,
    mismatched: counts.mismatched,
    errors,
    elapsedMs,
    rps: (counts.succeeded * 1000) / elapsedMs,
    latencyMs: { min: sorted[0] ?? 0, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0, mean },
    records,
  };
}

/** Renders a summary table. */
export function formatLoadResult(r: LoadResult): string {
  const l = r.latencyMs;
  const rows = [
    ['target', r.target],
    ['sent', String(r.sent)],
    ['succeeded', String(r.succeeded)],
    ['failed', String(r.failed)],
    ['in doubt', String(r.inDoubt)],
    ['  recovered', String(r.recovered)],
    ['lost', String(r.lost)],
    ['duplicated', String(r.duplicated)],
    ['mismatched', String(r.mismatched)],
    ['elapsed', `${(r.elapsedMs / 1000).toFixed(2)} s`],
    ['throughput', `${r.rps.toFixed(1)} req/s`],
    ['latency ms', `min ${l.min.toFixed(1)}  p50 ${l.p50.toFixed(1)}  p90 ${l.p90.toFixed(1)}  p99 ${l.p99.toFixed(1)}  max ${l.max.toFixed(1)}  mean ${l.mean.toFixed(1)}`],
  ];
  for (const [code, n] of Object.entries(r.errors).sort((a, b) => b[1] - a[1])) rows.push([`  ${code}`, String(n)]);
  const w = Math.max(...rows.map((x) => x[0]!.length));
  return rows.map(([k, v]) => `${k!.padEnd(w)}  ${v}`).join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------------

/** Options of {@link imsConnectTarget}. */
export interface ImsTargetOptions extends Omit<ClientOptions, 'host' | 'port' | 'endpoints'> {
  readonly host: string;
  readonly port: number;
  readonly trancode: string;
  /** Data after the trancode; `{id}` is replaced by the request id (default `{id}`, for ECHO). */
  readonly data?: string;
  /**
   * Where to look for queued commit-mode-0 output of in-doubt requests (default: host/port). Give every
   * IMS Connect of the group: an OTMA tpipe belongs to the IMS Connect (member) that created it, so its
   * hold queue is reached through that IMS Connect only (without a super-member group, ICON §6.2).
   */
  readonly recoverEndpoints?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
}

/**
 * Load through IMS Connect with @imsplex/client. The answer's text is searched for the request id.
 * With commit mode 0, in-doubt requests are recovered by RESUME TPIPE on their client IDs.
 */
export function imsConnectTarget(o: ImsTargetOptions): LoadTarget {
  const { host, port, trancode, data, recoverEndpoints, ...rest } = o;
  const client: ImsConnectClient = createClient({ maxConnections: 8, responseTimeout: 15_000, ...rest, host, port });
  const template = data ?? '{id}';
  const idRe = /R\w*\d{7}/;
  return {
    describe: `IMS Connect ${host}:${port} ${trancode} (commit mode ${o.commitMode ?? 1})`,
    async send(id) {
      try {
        const r = await client.sendReceive({ trancode, data: template.replace('{id}', id) });
        const m = idRe.exec(r.text);
        return { kind: 'succeeded', ...(m ? { echoedId: m[0] } : {}), clientId: r.clientId };
      } catch (e) {
        if (e instanceof ImsInDoubtError) return { kind: 'in-doubt', code: e.code, clientId: e.clientId };
        if (e instanceof ImsConnectRsmError) return { kind: 'failed', code: `RSM_${e.returnCode}_${e.reasonName}` };
        return { kind: 'failed', code: isImsplexError(e) ? e.code : (e as Error).name };
      }
    },
    async recover(inDoubt) {
      if ((o.commitMode ?? 1) !== 0) return [];
      const found: string[] = [];
      const ids = [...new Set(inDoubt.map((x) => x.clientId))];
      for (const ep of recoverEndpoints ?? [{ host, port }]) {
        const r = createClient({ ...rest, host: ep.host, port: ep.port, maxConnections: 1, socketType: 'persistent', maxConnectAttempts: 1 });
        try {
          for (const clientId of ids) {
            try {
              for await (const m of r.resumeTpipe({ clientId, mode: 'no-auto', timer: 1000 })) {
                const hit = idRe.exec(m.text);
                if (hit) found.push(hit[0]);
              }
            } catch {
              // Nothing queued here, or this IMS Connect is not reachable: not recovered here.
            }
          }
        } finally {
          await r.close().catch(() => undefined);
        }
      }
      return found;
    },
    close: () => client.close(),
  };
}

/** Options of {@link restTarget}. */
export interface RestTargetOptions {
  /** URL; `{id}` is replaced by the request id. */
  readonly url: string;
  readonly method?: string;
  /** Body; `{id}` replaced. JSON content type when it parses as JSON. */
  readonly body?: string;
  readonly timeoutMs?: number;
  /** Source address (e.g. a host of the topology). */
  readonly localAddress?: string;
}

/**
 * Load over HTTP (one connection per request: every request is a new connection for the VIPA to
 * distribute, as with IBM's clients without keep-alive). A reset after the request was written is
 * in doubt; an HTTP status ≥ 400 is failed (code `HTTP_<status>`).
 */
export function restTarget(o: RestTargetOptions): LoadTarget {
  const method = o.method ?? (o.body ? 'POST' : 'GET');
  return {
    describe: `REST ${method} ${o.url}`,
    send(id) {
      const url = new URL(o.url.replaceAll('{id}', encodeURIComponent(id)));
      const body = o.body?.replaceAll('{id}', id);
      return new Promise<Outcome>((resolve) => {
        let written = false;
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port || 80,
            path: url.pathname + url.search,
            method,
            agent: false,
            ...(o.localAddress ? { localAddress: o.localAddress } : {}),
            headers: { connection: 'close', ...(body !== undefined ? { 'content-type': isJson(body) ? 'application/json' : 'text/plain', 'content-length': String(Buffer.byteLength(body)) } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size <= 1 << 20) chunks.push(c);
            });
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              const status = res.statusCode ?? 0;
              const hit = new RegExp(escapeRe(id)).test(text) ? id : undefined;
              if (status >= 200 && status < 400) resolve({ kind: 'succeeded', ...(hit ? { echoedId: hit } : {}) });
              else resolve({ kind: 'failed', code: `HTTP_${status}` });
            });
            res.on('error', () => resolve({ kind: 'in-doubt', code: 'HTTP_RESPONSE_ABORTED' }));
          },
        );
        req.on('socket', (s) => {
          s.setNoDelay(true);
        });
        req.on('finish', () => (written = true));
        req.setTimeout(o.timeoutMs ?? 15_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'HTTP_TIMEOUT' })));
        req.on('error', (e: NodeJS.ErrnoException) => {
          const code = e.code ?? 'HTTP_ERROR';
          // Refused / unreachable: nothing reached a server. After the request was written: unknown.
          resolve(written && code !== 'ECONNREFUSED' ? { kind: 'in-doubt', code } : { kind: 'failed', code });
        });
        req.end(body);
      });
    },
    close: async () => undefined,
  };
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
