/**
 * VIPABACKUP: ownership of each DVIPA among the distributors of the sysplex (spec §2.2, §7).
 *
 * - {@link decideOwnership} is the pure rule: from this stack's state and what its peers last said,
 *   claim the DVIPA, release it, ask its holder to give it back, or wait.
 * - {@link Heartbeat} is the edge: each distributor listens on its own XCF address and dials every
 *   peer, sending newline-delimited JSON hellos every interval (and at once on any change). A peer
 *   is live while its link is open and its last hello is younger than the timeout; a peer whose
 *   process dies closes its link, so loss is seen at once, and a hung peer by the timeout.
 *
 * On one machine the VIPA's listening socket is itself an exclusive lock: two stacks can never
 * both bind 127.0.0.100:port, so a lost race ends in EADDRINUSE and a retry, never two owners.
 */
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Moveable } from './config/types.js';
import { DistributorError, DistributorErrorCode } from './errors.js';
import type { Clock } from './pick.js';

/** Priority of the VIPADEFINE owner: above every VIPABACKUP rank (1–254). */
export const DEFINE_PRIORITY = 255;
/** Largest heartbeat line accepted. */
export const MAX_HEARTBEAT_LINE = 64 * 1024;

/** This stack's view of one DVIPA. */
export interface OwnershipSelf {
  readonly xcf: string;
  /** 255 for VIPADEFINE, the rank for VIPABACKUP. */
  readonly priority: number;
  /** Takeback mode this stack asks for when it returns (its MOVEABLE). */
  readonly moveable: Moveable;
  /** May activate the DVIPA with no prior owner (VIPADEFINE, or VIPABACKUP with MOVEABLE). */
  readonly createAtStart: boolean;
  readonly owns: boolean;
  /** False after DEACTIVATE or LEAVEGROUP. */
  readonly wants: boolean;
  /** Connections this stack still holds for the DVIPA (proxy mode) — WHENIDLE waits for 0. */
  readonly activeConns: number;
  /** Every peer has been heard from or found absent, or the discovery grace is over. */
  readonly discovered: boolean;
  /** An owner has been seen since start (a plain VIPABACKUP takes over only then). */
  readonly sawOwner: boolean;
  /** A live peer asked for the DVIPA back. */
  readonly takeback: { readonly from: string; readonly mode: Moveable } | null;
}

/** What a peer last said about one DVIPA. */
export interface PeerView {
  readonly xcf: string;
  readonly live: boolean;
  readonly priority: number;
  readonly owns: boolean;
  /** Would claim the DVIPA if it were free (wants it and may create it). */
  readonly eligible: boolean;
}

/** Decision for one DVIPA. */
export type OwnershipAction =
  | { readonly type: 'none' }
  | { readonly type: 'claim' }
  | { readonly type: 'release'; readonly reason: 'takeback' | 'deactivate' }
  | { readonly type: 'requestTakeback'; readonly to: string; readonly mode: Moveable };

const NONE: OwnershipAction = { type: 'none' };

/** True when this stack would claim the DVIPA if nobody held it. */
export function isEligible(self: OwnershipSelf): boolean {
  return self.wants && (self.createAtStart || self.sawOwner);
}

/** The pure ownership rule. */
export function decideOwnership(self: OwnershipSelf, peers: readonly PeerView[]): OwnershipAction {
  if (self.owns) {
    if (!self.wants) return { type: 'release', reason: 'deactivate' };
    const t = self.takeback;
    if (t && peers.some((p) => p.xcf === t.from && p.live) && (t.mode === 'IMMEDIATE' || self.activeConns === 0)) return { type: 'release', reason: 'takeback' };
    return NONE;
  }
  if (!self.wants) return NONE;
  const owner = peers.find((p) => p.live && p.owns);
  if (owner) {
    // MOVEABLE takeback: a returning higher-priority stack asks the holder to give the DVIPA back.
    return self.priority > owner.priority ? { type: 'requestTakeback', to: owner.xcf, mode: self.moveable } : NONE;
  }
  if (!self.discovered || !isEligible(self)) return NONE;
  const outranked = peers.some((p) => p.live && p.eligible && !p.owns && (p.priority > self.priority || (p.priority === self.priority && p.xcf < self.xcf)));
  return outranked ? NONE : { type: 'claim' };
}

/** What a stack says about each DVIPA in a hello. */
export interface HelloDvipa {
  readonly priority: number;
  readonly owns: boolean;
  readonly eligible: boolean;
}

interface HelloFrame {
  readonly t: 'hello';
  readonly xcf: string;
  readonly pid: number;
  readonly dvipas: Readonly<Record<string, HelloDvipa>>;
}
interface TakebackFrame {
  readonly t: 'takeback';
  readonly xcf: string;
  readonly dvipa: string;
  readonly mode: Moveable;
}
type Frame = HelloFrame | TakebackFrame;

function parseFrame(line: string): Frame {
  const bad = (): never => {
    throw new DistributorError(DistributorErrorCode.BAD_HEARTBEAT, 'heartbeat frame is not valid');
  };
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return bad();
  }
  if (typeof o !== 'object' || o === null) return bad();
  const f = o as Record<string, unknown>;
  if (typeof f.xcf !== 'string') return bad();
  if (f.t === 'hello' && typeof f.dvipas === 'object' && f.dvipas !== null && typeof f.pid === 'number') {
    for (const v of Object.values(f.dvipas as Record<string, unknown>)) {
      const d = v as Record<string, unknown>;
      if (typeof d !== 'object' || d === null || typeof d.priority !== 'number' || typeof d.owns !== 'boolean' || typeof d.eligible !== 'boolean') return bad();
    }
    return f as unknown as HelloFrame;
  }
  if (f.t === 'takeback' && typeof f.dvipa === 'string' && (f.mode === 'IMMEDIATE' || f.mode === 'WHENIDLE')) return f as unknown as TakebackFrame;
  return bad();
}

/**
 * Reads newline-delimited frames from a socket, bounded by {@link MAX_HEARTBEAT_LINE}. A peer
 * repeats the same hello every interval, so a line equal to the previous one yields the previous
 * (already validated) frame object without parsing it again.
 */
function lineReader(socket: Socket, onFrame: (f: Frame) => void): void {
  let buf = '';
  let lastLine: string | null = null;
  let lastFrame: Frame | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf = buf === '' ? chunk : buf + chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let f: Frame;
      if (line === lastLine && lastFrame !== null) f = lastFrame;
      else {
        try {
          f = parseFrame(line);
        } catch {
          socket.destroy();
          return;
        }
        lastLine = line;
        lastFrame = f;
      }
      onFrame(f);
    }
    if (buf.length > MAX_HEARTBEAT_LINE) socket.destroy();
  });
}

/** Heartbeat settings. */
export interface HeartbeatOptions {
  readonly xcf: string;
  /** Port this stack listens on (on its XCF address); null = do not listen. */
  readonly port: number | null;
  readonly peers: readonly { readonly xcf: string; readonly port: number }[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
}

interface PeerRecord {
  xcf: string;
  /** Inbound link (peer → us) open. */
  inbound: Socket | null;
  lastSeen: number;
  hello: HelloFrame | null;
  /** Outbound dial state. */
  out: Socket | null;
  outReady: boolean;
  absent: boolean;
}

/** Events: `change` (a peer's view changed), `takeback` ({from, dvipa, mode}), `tick`. */
export class Heartbeat extends EventEmitter {
  readonly #o: HeartbeatOptions;
  readonly #peers = new Map<string, PeerRecord>();
  #server: Server | null = null;
  #timer: NodeJS.Timeout | null = null;
  #local: Record<string, HelloDvipa> = {};
  /** JSON of #local, to see whether a setLocal changes anything. */
  #localJson = '{}';
  /** This stack's hello line, built once per change of #local (sent every interval). */
  #helloLine: Buffer | null = null;
  #startedAt = 0;
  #closed = false;
  readonly #inboundAnon = new Set<Socket>();

  constructor(options: HeartbeatOptions) {
    super();
    this.#o = options;
    for (const p of options.peers) this.#peers.set(p.xcf, { xcf: p.xcf, inbound: null, lastSeen: -Infinity, hello: null, out: null, outReady: false, absent: false });
  }

  /** Starts listening and dialing. */
  async start(): Promise<void> {
    this.#startedAt = this.#o.clock.now();
    if (this.#o.port !== null) {
      const server = createServer({ noDelay: true }, (s) => this.#onInbound(s));
      this.#server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.#o.xcf, port: this.#o.port ?? 0, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (e) => this.emit('error', e));
    }
    for (const p of this.#peers.values()) this.#dial(p);
    this.#timer = setInterval(() => this.#tick(), this.#o.intervalMs);
    this.#timer.unref();
  }

  /** The port actually bound (useful with port 0). */
  get port(): number | null {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  /** Sets what this stack says about its DVIPAs; sends at once when it changed. */
  setLocal(dvipas: Record<string, HelloDvipa>): void {
    const json = JSON.stringify(dvipas);
    this.#local = dvipas;
    if (json === this.#localJson) return;
    this.#localJson = json;
    this.#helloLine = null;
    this.#broadcastHello();
  }

  /** Asks `to` to give `dvipa` back. */
  requestTakeback(to: string, dvipa: string, mode: Moveable): void {
    const p = this.#peers.get(to);
    if (p?.out && p.outReady) this.#write(p.out, JSON.stringify({ t: 'takeback', xcf: this.#o.xcf, dvipa, mode } satisfies TakebackFrame) + '\n');
  }

  /** Every peer has been heard from or found absent, or the discovery grace (one timeout) is over. */
  get discovered(): boolean {
    if (this.#o.clock.now() - this.#startedAt >= this.#o.timeoutMs) return true;
    for (const p of this.#peers.values()) if (p.hello === null && !p.absent) return false;
    return true;
  }

  /** Resolves once {@link discovered} is true (at the latest after one timeout). */
  whenDiscovered(): Promise<void> {
    if (this.discovered) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.discovered && !this.#closed) return;
        this.off('change', check);
        this.off('tick', check);
        resolve();
      };
      this.on('change', check);
      this.on('tick', check);
    });
  }

  /** Peers' views of `dvipa`. */
  peerViews(dvipa: string): PeerView[] {
    const now = this.#o.clock.now();
    const out: PeerView[] = [];
    for (const p of this.#peers.values()) {
      const live = this.#isLive(p, now);
      const d = p.hello?.dvipas[dvipa];
      if (d) out.push({ xcf: p.xcf, live, priority: d.priority, owns: live && d.owns, eligible: d.eligible });
      else out.push({ xcf: p.xcf, live: false, priority: 0, owns: false, eligible: false });
    }
    return out;
  }

  /** Snapshot for displays. */
  peerStatus(): { xcf: string; live: boolean; pid: number | null; lastSeen: number | null }[] {
    const now = this.#o.clock.now();
    return [...this.#peers.values()].map((p) => ({ xcf: p.xcf, live: this.#isLive(p, now), pid: p.hello?.pid ?? null, lastSeen: Number.isFinite(p.lastSeen) ? p.lastSeen : null }));
  }

  /** Closes the server, every link and the timer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const p of this.#peers.values()) {
      p.out?.destroy();
      p.inbound?.destroy();
    }
    for (const s of this.#inboundAnon) s.destroy();
    const server = this.#server;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  #isLive(p: PeerRecord, now: number): boolean {
    const linked = (p.inbound !== null && !p.inbound.destroyed) || (p.out !== null && p.outReady && !p.out.destroyed);
    return linked && now - p.lastSeen <= this.#o.timeoutMs;
  }

  #onFrame(f: Frame, s: Socket, inbound: boolean): PeerRecord | null {
    let p = this.#peers.get(f.xcf);
    if (!p) {
      // A peer not in our PEER list (e.g. a second backup): track it from its hellos.
      if (this.#peers.size >= 64 || !inbound) return null;
      p = { xcf: f.xcf, inbound: null, lastSeen: -Infinity, hello: null, out: null, outReady: false, absent: false };
      this.#peers.set(f.xcf, p);
    }
    if (inbound && p.inbound !== s) {
      if (p.inbound) p.inbound.destroy();
      p.inbound = s;
    }
    p.lastSeen = this.#o.clock.now();
    if (f.t === 'hello') {
      // The same frame object means the same line as last time (see lineReader): nothing changed.
      const changed = p.hello !== f && (p.hello === null || JSON.stringify(p.hello.dvipas) !== JSON.stringify(f.dvipas));
      p.hello = f;
      p.absent = false;
      if (changed) this.emit('change', p.xcf);
    } else this.emit('takeback', { from: f.xcf, dvipa: f.dvipa, mode: f.mode });
    return p;
  }

  #onInbound(s: Socket): void {
    s.setNoDelay(true);
    this.#inboundAnon.add(s);
    // Answer at once, so a stack that dials us learns our state without waiting for our own dial.
    this.#write(s, this.#hello());
    let peer: PeerRecord | null = null;
    lineReader(s, (f) => {
      const p = this.#onFrame(f, s, true);
      if (p) peer = p;
    });
    s.on('error', () => s.destroy());
    s.once('close', () => {
      this.#inboundAnon.delete(s);
      if (peer && peer.inbound === s) {
        peer.inbound = null;
        this.emit('change', peer.xcf);
      }
    });
  }

  #dial(p: PeerRecord): void {
    if (this.#closed) return;
    const peerPort = this.#o.peers.find((x) => x.xcf === p.xcf)?.port;
    if (peerPort === undefined) return;
    const s = connect({ host: p.xcf, port: peerPort, localAddress: this.#o.xcf, noDelay: true });
    p.out = s;
    p.outReady = false;
    s.once('connect', () => {
      p.outReady = true;
      this.#write(s, this.#hello());
    });
    lineReader(s, (f) => {
      if (f.xcf === p.xcf) this.#onFrame(f, s, false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') {
        const wasAbsent = p.absent;
        p.absent = true;
        if (!wasAbsent) this.emit('change', p.xcf);
      }
    });
    s.once('close', () => {
      if (p.out === s) {
        p.out = null;
        p.outReady = false;
        this.emit('change', p.xcf);
      }
      if (!this.#closed) setTimeout(() => this.#dial(p), this.#o.intervalMs).unref();
    });
  }

  #hello(): Buffer {
    this.#helloLine ??= Buffer.from(JSON.stringify({ t: 'hello', xcf: this.#o.xcf, pid: process.pid, dvipas: this.#local } satisfies HelloFrame) + '\n');
    return this.#helloLine;
  }

  #broadcastHello(): void {
    const h = this.#hello();
    for (const p of this.#peers.values()) if (p.out && p.outReady) this.#write(p.out, h);
    for (const s of this.#inboundAnon) this.#write(s, h);
  }

  #write(s: Socket, line: string | Buffer): void {
    // One frame per write; a peer that does not read is cut off rather than buffered without bound.
    if (s.writableLength > MAX_HEARTBEAT_LINE * 4) {
      s.destroy();
      return;
    }
    s.write(line);
  }

  #tick(): void {
    this.#broadcastHello();
    this.emit('tick');
  }
}
