/**
 * Transport: open one TCP (or TLS) connection to one of several IMS Connect endpoints, with a connect
 * timeout, TCP_NODELAY, an optional local (source) address, endpoint health memory and exponential
 * back-off between rounds. Nothing protocol-specific lives here.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { type Duplex } from 'node:stream';
import { backoffDelay, type ResolvedBackoff } from './backoff.js';
import { ClientErrorCode, ImsClientError } from './errors.js';
import { sleep, type Clock, type Timers } from './timers.js';

/** One IMS Connect address. */
export interface Endpoint {
  /** Host name or IP address (IBM `hostName`). */
  readonly host: string;
  /** TCP port (IBM `portNumber`). */
  readonly port: number;
  /**
   * Local address to bind as the connection's source. A VIPA distributor that prefers the local
   * target (Sysplex Distributor `OPTLOCAL`) recognises the client's LPAR by it.
   */
  readonly localAddress?: string;
  /** TLS for this endpoint only (overrides the client-wide `tls`). */
  readonly tls?: boolean | tls.ConnectionOptions;
}

/** A custom way to open a byte stream to an endpoint (e.g. an in-memory IMS Connect for tests). */
export type Connector = (endpoint: Endpoint, signal: AbortSignal) => Promise<Duplex> | Duplex;

/** Settings the transport needs (resolved by `resolveConnectionOptions`). */
export interface TransportSettings {
  readonly endpoints: readonly Endpoint[];
  readonly tls: boolean | tls.ConnectionOptions;
  readonly connectTimeout: number;
  readonly maxConnectAttempts: number;
  readonly endpointCooldown: number;
  readonly backoff: ResolvedBackoff;
  readonly rng: () => number;
  readonly timers: Timers;
  readonly clock: Clock;
  readonly connector: Connector | undefined;
}

/** A connected stream and where it goes. */
export interface Connected {
  readonly stream: Duplex;
  readonly endpoint: Endpoint;
}

/** `host:port` of an endpoint. */
export function endpointKey(e: Endpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

/**
 * Open one connection to one endpoint. Rejects with `IMS_ERR_CONNECT_TIMEOUT` when the TCP (and TLS)
 * handshake does not finish in `connectTimeout`, else with the socket error.
 */
export function connectEndpoint(endpoint: Endpoint, s: TransportSettings, signal?: AbortSignal): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    const controller = new AbortController();
    let settled = false;
    const opened: { stream?: Duplex } = {};
    const finish = (err: unknown, value?: Duplex) => {
      if (settled) return;
      settled = true;
      s.timers.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) {
        controller.abort(err);
        opened.stream?.destroy();
        reject(err);
      } else resolve(value!);
    };
    const onAbort = () => finish(signal?.reason ?? new ImsClientError(ClientErrorCode.ABORTED, 'connect aborted'));
    const timer = s.timers.setTimeout(
      () =>
        finish(
          new ImsClientError(ClientErrorCode.CONNECT_TIMEOUT, `connect to ${endpointKey(endpoint)} timed out after ${s.connectTimeout} ms`, {
            details: { endpoint: endpointKey(endpoint), timeout: s.connectTimeout },
          }),
        ),
      s.connectTimeout,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });

    if (s.connector) {
      Promise.resolve()
        .then(() => s.connector!(endpoint, controller.signal))
        .then(
          (d) => {
            if (settled) d.destroy();
            else finish(undefined, d);
          },
          (e: unknown) => finish(e),
        );
      return;
    }

    const useTls = endpoint.tls ?? s.tls;
    const base: net.TcpNetConnectOpts = { host: endpoint.host, port: endpoint.port, noDelay: true };
    if (endpoint.localAddress !== undefined) base.localAddress = endpoint.localAddress;
    let socket: net.Socket;
    if (useTls) {
      const tlsOpts: tls.ConnectionOptions = { ...(typeof useTls === 'object' ? useTls : {}), ...base };
      if (tlsOpts.servername === undefined && !net.isIP(endpoint.host)) tlsOpts.servername = endpoint.host;
      socket = tls.connect(tlsOpts);
      socket.once('secureConnect', () => finish(undefined, socket));
    } else {
      socket = net.connect(base);
      socket.once('connect', () => finish(undefined, socket));
    }
    opened.stream = socket;
    socket.setNoDelay(true);
    socket.once('error', (e) => finish(e));
  });
}

/** Per-endpoint health: consecutive failures and until when to avoid it. */
interface EndpointHealth {
  failures: number;
  downUntil: number;
}

/**
 * Chooses endpoints and connects with failover. Each round tries every endpoint once, healthy ones
 * first (in the configured order), skipping nothing: an endpoint that failed recently is tried last,
 * not never. Between rounds it sleeps with exponential back-off and jitter. Only connection setup is
 * retried here; nothing has been written to a stream the caller has not received.
 */
export class EndpointSet {
  private readonly health: EndpointHealth[];
  constructor(private readonly s: TransportSettings) {
    this.health = s.endpoints.map(() => ({ failures: 0, downUntil: 0 }));
  }

  /** Endpoint indexes in the order to try now: healthy first, then by earliest recovery. */
  order(): number[] {
    const now = this.s.clock();
    const idx = this.s.endpoints.map((_, i) => i);
    return idx.sort((a, b) => {
      const ha = this.health[a]!;
      const hb = this.health[b]!;
      const da = ha.downUntil > now ? ha.downUntil : 0;
      const db = hb.downUntil > now ? hb.downUntil : 0;
      return da - db || a - b;
    });
  }

  /** Record a failure (cool-down grows with consecutive failures) or a success. */
  mark(index: number, ok: boolean): void {
    const h = this.health[index]!;
    if (ok) {
      h.failures = 0;
      h.downUntil = 0;
    } else {
      h.failures++;
      h.downUntil = this.s.clock() + this.s.endpointCooldown * Math.min(8, h.failures);
    }
  }

  /** Snapshot for stats. */
  snapshot(): { endpoint: string; failures: number; down: boolean }[] {
    const now = this.s.clock();
    return this.s.endpoints.map((e, i) => ({ endpoint: endpointKey(e), failures: this.health[i]!.failures, down: this.health[i]!.downUntil > now }));
  }

  /**
   * Connect to the first endpoint that accepts, for up to `maxConnectAttempts` rounds. Rejects with
   * `IMS_ERR_CONNECT_FAILED` (cause: the last error, details: every attempt) when none did.
   */
  async connect(signal?: AbortSignal, onAttempt?: (endpoint: Endpoint, error: unknown) => void): Promise<Connected> {
    const attempts: { endpoint: string; code: string; message: string }[] = [];
    let last: unknown;
    for (let round = 0; round < this.s.maxConnectAttempts; round++) {
      if (round > 0) await sleep(this.s.timers, backoffDelay(this.s.backoff, round - 1, this.s.rng), signal);
      for (const i of this.order()) {
        const endpoint = this.s.endpoints[i]!;
        try {
          const stream = await connectEndpoint(endpoint, this.s, signal);
          this.mark(i, true);
          return { stream, endpoint };
        } catch (e) {
          if (signal?.aborted) throw e;
          this.mark(i, false);
          last = e;
          attempts.push({ endpoint: endpointKey(endpoint), code: String((e as { code?: unknown }).code ?? 'ERROR'), message: (e as Error)?.message ?? String(e) });
          onAttempt?.(endpoint, e);
        }
      }
    }
    // Every attempt timed out: say so with the timeout's own code.
    if (attempts.every((a) => a.code === ClientErrorCode.CONNECT_TIMEOUT)) {
      throw new ImsClientError(ClientErrorCode.CONNECT_TIMEOUT, `connect to IMS Connect timed out: ${attempts.length} attempt(s) of ${this.s.connectTimeout} ms over ${this.s.endpoints.map(endpointKey).join(', ')}`, {
        cause: last,
        details: { attempts, timeout: this.s.connectTimeout },
      });
    }
    throw new ImsClientError(
      ClientErrorCode.CONNECT_FAILED,
      `could not connect to IMS Connect: ${attempts.length} attempt(s) over ${this.s.endpoints.map(endpointKey).join(', ')} failed; last: ${(last as Error)?.message ?? String(last)}`,
      { cause: last, details: { attempts } },
    );
  }
}
