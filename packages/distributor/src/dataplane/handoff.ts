/**
 * Handoff data plane: after choosing a target, the distributor passes the accepted socket itself
 * to the target's process over a Node IPC channel, then forgets it. The target becomes the real
 * TCP endpoint — as on z/OS, where the distributor only forwards inbound segments — so established
 * connections survive the distributor's death.
 *
 * Three pieces:
 * - distributor side: a {@link HandoffSink} — {@link parentProcessSink} when the distributor is a
 *   child of a supervisor, {@link childProcessSink} when it runs inside the supervisor;
 * - supervisor side: {@link HandoffRouter}, which forwards handoffs from distributor children to
 *   target children and reports back;
 * - target side: {@link acceptHandoffs}, which feeds handed-off sockets into a `net.Server`
 *   (or `http.Server`) as if they had been accepted there, and reports each close.
 */
import type { ChildProcess } from 'node:child_process';
import { Socket as NetSocket, type Server, type Socket } from 'node:net';
import { DistributorError, DistributorErrorCode } from '../errors.js';

/** IPC message that travels with a handed-off socket. */
export interface HandoffMessage {
  readonly type: 'imsplex:handoff';
  /** Connection id, unique per distributor (`owner`). */
  readonly id: number;
  /** Identifies the sending distributor (`xcf/pid`), so reports find their way back. */
  readonly owner: string;
  readonly dvipa: string;
  readonly port: number;
  /** DestXCF of the chosen target. */
  readonly xcf: string;
  readonly clientAddress: string;
  readonly clientPort: number;
}

/** Report from a target (or the router) about a handed-off connection. */
export interface HandoffReport {
  readonly type: 'imsplex:handoff:closed' | 'imsplex:handoff:failed';
  readonly id: number;
  readonly owner: string;
  readonly dvipa: string;
  readonly port: number;
  readonly xcf: string;
  /** For `failed`: why. */
  readonly reason?: string;
}

/** True for a {@link HandoffMessage}. */
export function isHandoffMessage(m: unknown): m is HandoffMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'imsplex:handoff';
}

/** True for a {@link HandoffReport}. */
export function isHandoffReport(m: unknown): m is HandoffReport {
  const t = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  return t === 'imsplex:handoff:closed' || t === 'imsplex:handoff:failed';
}

/** Where the distributor delivers accepted sockets in handoff mode. */
export interface HandoffSink {
  /** Passes `socket` with `msg`; resolves once the socket has left this process. */
  deliver(msg: HandoffMessage, socket: Socket): Promise<void>;
  /** Subscribes to reports coming back (closed / failed). Returns an unsubscribe function. */
  onReport(listener: (r: HandoffReport) => void): () => void;
}

interface IpcEndpoint {
  send?: (message: unknown, sendHandle?: unknown, options?: unknown, callback?: (error: Error | null) => void) => boolean;
  connected?: boolean;
  on(event: 'message', listener: (m: unknown, handle?: unknown) => void): unknown;
  off(event: 'message', listener: (m: unknown, handle?: unknown) => void): unknown;
}

/**
 * Sockets travel as their native TCP handle, not as `net.Socket`: a process that receives a
 * `net.Socket` over IPC starts reading from it at once, so a supervisor that only forwards it
 * would swallow the client's first bytes. A raw handle is not read until the target wraps it.
 * This relies on Node's `_handle` (stable for many majors; checked on Node 20).
 */
interface NativeHandle {
  close(cb?: () => void): void;
}

function nativeHandleOf(socket: Socket): NativeHandle | undefined {
  return (socket as unknown as { _handle?: NativeHandle })._handle ?? undefined;
}

function isNetSocket(h: unknown): h is Socket {
  return h instanceof NetSocket;
}

/** Closes whatever was received as a handle (raw handle or net.Socket). */
function discard(h: unknown): void {
  if (isNetSocket(h)) h.destroy();
  else if (h && typeof (h as NativeHandle).close === 'function') {
    try {
      (h as NativeHandle).close();
    } catch {
      // already closed
    }
  }
}

/** Passes a socket (or raw handle) on and closes this process's copy once it has left. */
function passOn(ep: IpcEndpoint, msg: unknown, handleOrSocket: unknown): Promise<void> {
  const native = isNetSocket(handleOrSocket) ? nativeHandleOf(handleOrSocket) : handleOrSocket;
  if (!native) return Promise.reject(new DistributorError(DistributorErrorCode.HANDOFF, 'the socket has no handle to pass (already closed)'));
  return sendWithHandle(ep, msg, native).then(() => discard(handleOrSocket));
}

function sendWithHandle(ep: IpcEndpoint, msg: unknown, socket: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    if (typeof ep.send !== 'function' || ep.connected === false) {
      reject(new DistributorError(DistributorErrorCode.HANDOFF, 'no IPC channel to pass the socket on'));
      return;
    }
    try {
      ep.send(msg, socket, {}, (err) => {
        if (err) reject(new DistributorError(DistributorErrorCode.HANDOFF, `IPC send failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    } catch (e) {
      reject(new DistributorError(DistributorErrorCode.HANDOFF, `IPC send failed: ${(e as Error).message}`, { cause: e }));
    }
  });
}

/** Sink for a distributor running as a child process: sockets go to the parent over `process.send`. */
export function parentProcessSink(proc: IpcEndpoint = process as unknown as IpcEndpoint): HandoffSink {
  return {
    deliver: (msg, socket) => passOn(proc, msg, socket),
    onReport(listener) {
      const h = (m: unknown): void => {
        if (isHandoffReport(m)) listener(m);
      };
      proc.on('message', h);
      return () => proc.off('message', h);
    },
  };
}

/**
 * Sink for a distributor running inside the supervisor: sockets go straight to the target child
 * that `resolve` names (undefined → the handoff fails and the target is marked not ready).
 */
export function childProcessSink(resolve: (msg: HandoffMessage) => ChildProcess | undefined): HandoffSink {
  const listeners = new Set<(r: HandoffReport) => void>();
  const watched = new WeakSet<ChildProcess>();
  return {
    async deliver(msg, socket) {
      const child = resolve(msg);
      if (!child) throw new DistributorError(DistributorErrorCode.HANDOFF, `no process for target ${msg.xcf} port ${msg.port}`);
      if (!watched.has(child)) {
        watched.add(child);
        child.on('message', (m: unknown) => {
          if (isHandoffReport(m)) for (const l of listeners) l(m);
        });
      }
      await passOn(child as unknown as IpcEndpoint, msg, socket);
    },
    onReport(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Options of {@link acceptHandoffs}. */
export interface AcceptHandoffsOptions {
  /** Accept only handoffs for which this returns true (e.g. match the distributed port). */
  readonly filter?: (m: HandoffMessage) => boolean;
  /** The IPC endpoint; default `process`. */
  readonly channel?: IpcEndpoint;
  /**
   * Create each socket paused and not reading, as `pauseOnConnect` does for a server's own accepted
   * sockets (default false: reading starts at once, as for a `net.Server` without it). The server
   * must resume it; until then its bytes wait in the kernel, so it can still switch to Node's
   * `onread` buffer (the direct read path of IMS Connect and of the proxy).
   */
  readonly pauseOnCreate?: boolean;
}

/**
 * Target side: every handed-off socket arriving over IPC is emitted as a `connection` on `server`
 * (so a `net.Server` or `http.Server` handles it as its own), and its close is reported back.
 * Returns a function that stops accepting handoffs.
 */
export function acceptHandoffs(server: Server, options: AcceptHandoffsOptions = {}): () => void {
  const channel = options.channel ?? (process as unknown as IpcEndpoint);
  const handler = (m: unknown, handle?: unknown): void => {
    if (!isHandoffMessage(m) || !handle) return;
    if (options.filter && !options.filter(m)) {
      discard(handle);
      report(channel, { type: 'imsplex:handoff:failed', id: m.id, owner: m.owner, dvipa: m.dvipa, port: m.port, xcf: m.xcf, reason: 'refused by filter' });
      return;
    }
    const allowHalfOpen = (server as unknown as { allowHalfOpen?: boolean }).allowHalfOpen ?? false;
    const socket = isNetSocket(handle) ? handle : new NetSocket({ handle, readable: true, writable: true, allowHalfOpen, pauseOnCreate: options.pauseOnCreate === true } as ConstructorParameters<typeof NetSocket>[0]);
    socket.setNoDelay(true);
    socket.once('close', () => report(channel, { type: 'imsplex:handoff:closed', id: m.id, owner: m.owner, dvipa: m.dvipa, port: m.port, xcf: m.xcf }));
    server.emit('connection', socket);
  };
  channel.on('message', handler);
  return () => channel.off('message', handler);
}

function report(channel: IpcEndpoint, r: HandoffReport): void {
  if (typeof channel.send === 'function' && channel.connected !== false) {
    try {
      channel.send(r);
    } catch {
      // The supervisor is gone: nobody to tell.
    }
  }
}

/**
 * Supervisor side: forwards handed-off sockets from distributor children to target children, and
 * their reports back to the distributor that sent them. When no target child is known, or it is
 * gone, the socket is destroyed and a `failed` report goes back (the distributor then marks that
 * target not ready, as a refused connect would).
 */
export class HandoffRouter {
  readonly #distributors = new Map<ChildProcess, (m: unknown, h?: unknown) => void>();
  readonly #targets = new Map<string, ChildProcess>();
  readonly #targetHandlers = new Map<ChildProcess, (m: unknown) => void>();
  readonly #owners = new Map<string, ChildProcess>();

  /** Routes the handoffs of a distributor child. */
  addDistributor(child: ChildProcess): void {
    if (this.#distributors.has(child)) return;
    const h = (m: unknown, handle?: unknown): void => {
      if (!isHandoffMessage(m)) return;
      this.#owners.set(m.owner, child);
      const socket = handle;
      const target = this.#targets.get(`${m.xcf}:${m.port}`) ?? this.#targets.get(`${m.xcf}:*`);
      const fail = (reason: string): void => {
        discard(socket);
        this.#reply(child, { type: 'imsplex:handoff:failed', id: m.id, owner: m.owner, dvipa: m.dvipa, port: m.port, xcf: m.xcf, reason });
      };
      if (!socket) return fail('no socket arrived with the handoff');
      if (!target || target.exitCode !== null || target.signalCode !== null || !target.connected) return fail(`no live process for ${m.xcf}:${m.port}`);
      passOn(target as unknown as IpcEndpoint, m, socket).catch((e: Error) => fail(e.message));
    };
    child.on('message', h);
    this.#distributors.set(child, h);
  }

  /** Registers the process serving `xcf` (optionally only for `port`). */
  addTarget(xcf: string, child: ChildProcess, port?: number): void {
    this.#targets.set(`${xcf}:${port ?? '*'}`, child);
    if (!this.#targetHandlers.has(child)) {
      const h = (m: unknown): void => {
        if (!isHandoffReport(m)) return;
        const d = this.#owners.get(m.owner);
        if (d) this.#reply(d, m);
        else for (const dist of this.#distributors.keys()) this.#reply(dist, m);
      };
      child.on('message', h);
      this.#targetHandlers.set(child, h);
    }
  }

  /** Forgets a target process. */
  removeTarget(xcf: string, port?: number): void {
    this.#targets.delete(`${xcf}:${port ?? '*'}`);
  }

  /** Detaches every listener. */
  close(): void {
    for (const [c, h] of this.#distributors) c.off('message', h);
    for (const [c, h] of this.#targetHandlers) c.off('message', h);
    this.#distributors.clear();
    this.#targetHandlers.clear();
    this.#targets.clear();
    this.#owners.clear();
  }

  #reply(child: ChildProcess, r: HandoffReport): void {
    if (child.connected) {
      try {
        child.send(r);
      } catch {
        // The distributor died; its successor rebuilds its counts.
      }
    }
  }
}
