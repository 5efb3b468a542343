/**
 * Capture files → TCP byte streams. Reads classic pcap (both byte orders, micro- and nanosecond) and
 * pcapng (section header, interface description, enhanced and simple packet blocks), link types
 * Ethernet (with 802.1Q tags), BSD loopback/NULL, raw IP, Linux cooked (SLL, SLL2), over IPv4 or IPv6.
 * Each direction of each TCP connection is reassembled in sequence order (retransmissions dropped).
 */
import { CliError, CliErrorCode } from './errors.js';

/** Bytes kept per direction of a connection (bounded: a capture can be large). */
export const MAX_STREAM_BYTES = 64 * 1024 * 1024;
/** Packets read at most. */
export const MAX_PACKETS = 1_000_000;

/** One direction of one TCP connection, reassembled. */
export interface TcpStream {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** Index of the first packet of this direction in the capture (orders the streams). */
  readonly firstPacket: number;
  readonly bytes: Uint8Array;
}

interface Packet {
  readonly linkType: number;
  readonly data: Uint8Array;
}

const bad = (message: string): CliError => new CliError(CliErrorCode.BAD_PCAP, message);

/** True when the bytes start like a pcap or pcapng file. */
export function isCapture(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const m = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  return m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1 || m === 0x0a0d0d0a;
}

function* packets(bytes: Uint8Array): Generator<Packet> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw bad('file too short for a capture header');
  const magic = dv.getUint32(0, false);
  if (magic === 0x0a0d0d0a) {
    yield* pcapngPackets(bytes, dv);
    return;
  }
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = false;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = true;
  else throw bad('not a pcap or pcapng file (unknown magic number)');
  if (bytes.length < 24) throw bad('pcap global header truncated');
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  let off = 24;
  let n = 0;
  while (off + 16 <= bytes.length) {
    const incl = dv.getUint32(off + 8, le);
    if (off + 16 + incl > bytes.length) throw bad(`packet ${n + 1} at offset ${off} is truncated`);
    yield { linkType, data: bytes.subarray(off + 16, off + 16 + incl) };
    off += 16 + incl;
    if (++n > MAX_PACKETS) throw bad(`more than ${MAX_PACKETS} packets`);
  }
}

function* pcapngPackets(bytes: Uint8Array, dv: DataView): Generator<Packet> {
  let off = 0;
  let le = true;
  let ifaces: number[] = [];
  let n = 0;
  while (off + 12 <= bytes.length) {
    const typeBe = dv.getUint32(off, false);
    if (typeBe === 0x0a0d0d0a) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw bad(`pcapng section at offset ${off} has a bad byte-order magic`);
      ifaces = [];
    }
    const type = dv.getUint32(off, le);
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > bytes.length) throw bad(`pcapng block at offset ${off} has a bad length ${len}`);
    if (type === 1) ifaces.push(dv.getUint16(off + 8, le));
    else if (type === 6) {
      const iface = dv.getUint32(off + 8, le);
      const cap = dv.getUint32(off + 20, le);
      if (28 + cap > len) throw bad(`pcapng packet at offset ${off} is truncated`);
      yield { linkType: ifaces[iface] ?? 1, data: bytes.subarray(off + 28, off + 28 + cap) };
      if (++n > MAX_PACKETS) throw bad(`more than ${MAX_PACKETS} packets`);
    } else if (type === 3) {
      const orig = dv.getUint32(off + 8, le);
      const cap = Math.min(orig, len - 16);
      yield { linkType: ifaces[0] ?? 1, data: bytes.subarray(off + 12, off + 12 + cap) };
      if (++n > MAX_PACKETS) throw bad(`more than ${MAX_PACKETS} packets`);
    }
    off += len;
  }
}

interface Segment {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly syn: boolean;
  readonly payload: Uint8Array;
}

function ipPayload(p: Packet): { version: 4 | 6; bytes: Uint8Array } | null {
  const d = p.data;
  let off: number;
  let proto: number;
  switch (p.linkType) {
    case 1: {
      if (d.length < 14) return null;
      off = 12;
      proto = (d[off]! << 8) | d[off + 1]!;
      off += 2;
      while (proto === 0x8100 || proto === 0x88a8) {
        if (d.length < off + 4) return null;
        proto = (d[off + 2]! << 8) | d[off + 3]!;
        off += 4;
      }
      break;
    }
    case 0:
    case 108: {
      if (d.length < 4) return null;
      const fam = d[0] === 0 ? d[3]! : d[0]!;
      proto = fam === 2 ? 0x0800 : fam === 24 || fam === 28 || fam === 30 ? 0x86dd : 0;
      off = 4;
      break;
    }
    case 101:
    case 228:
    case 229:
      off = 0;
      proto = d.length > 0 && d[0]! >> 4 === 6 ? 0x86dd : 0x0800;
      break;
    case 113:
      if (d.length < 16) return null;
      proto = (d[14]! << 8) | d[15]!;
      off = 16;
      break;
    case 276:
      if (d.length < 20) return null;
      proto = (d[0]! << 8) | d[1]!;
      off = 20;
      break;
    default:
      return null;
  }
  if (proto === 0x0800) return { version: 4, bytes: d.subarray(off) };
  if (proto === 0x86dd) return { version: 6, bytes: d.subarray(off) };
  return null;
}

function tcpSegment(p: Packet): Segment | null {
  const ip = ipPayload(p);
  if (!ip) return null;
  const b = ip.bytes;
  let src: string;
  let dst: string;
  let tcp: Uint8Array;
  if (ip.version === 4) {
    if (b.length < 20 || b[9] !== 6) return null;
    const ihl = (b[0]! & 0x0f) * 4;
    const total = Math.min(b.length, (b[2]! << 8) | b[3]!);
    src = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    dst = `${b[16]}.${b[17]}.${b[18]}.${b[19]}`;
    tcp = b.subarray(ihl, total);
  } else {
    if (b.length < 40 || b[6] !== 6) return null;
    const plen = (b[4]! << 8) | b[5]!;
    const hex = (o: number) => Array.from({ length: 8 }, (_, i) => ((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!).toString(16)).join(':');
    src = hex(8);
    dst = hex(24);
    tcp = b.subarray(40, 40 + plen);
  }
  if (tcp.length < 20) return null;
  const dataOff = (tcp[12]! >> 4) * 4;
  if (dataOff < 20 || dataOff > tcp.length) return null;
  return {
    src,
    dst,
    srcPort: (tcp[0]! << 8) | tcp[1]!,
    dstPort: (tcp[2]! << 8) | tcp[3]!,
    seq: ((tcp[4]! << 24) | (tcp[5]! << 16) | (tcp[6]! << 8) | tcp[7]!) >>> 0,
    syn: (tcp[13]! & 0x02) !== 0,
    payload: tcp.subarray(dataOff),
  };
}

/** Reads a capture and returns its TCP streams (one per direction with payload), in order of appearance. */
export function tcpStreams(capture: Uint8Array): TcpStream[] {
  const flows = new Map<string, { s: Segment; first: number; isn: number | null; parts: Map<number, Uint8Array>; size: number }>();
  let i = 0;
  for (const p of packets(capture)) {
    i++;
    const seg = tcpSegment(p);
    if (!seg) continue;
    const key = `${seg.src}:${seg.srcPort}>${seg.dst}:${seg.dstPort}`;
    let f = flows.get(key);
    if (!f) {
      f = { s: seg, first: i, isn: null, parts: new Map(), size: 0 };
      flows.set(key, f);
    }
    if (seg.syn) f.isn = (seg.seq + 1) >>> 0;
    if (seg.payload.length === 0) continue;
    if (f.isn === null) f.isn = seg.seq;
    const rel = (seg.seq - f.isn) >>> 0;
    if (f.parts.has(rel)) continue; // retransmission
    f.size += seg.payload.length;
    if (f.size > MAX_STREAM_BYTES) throw bad(`a TCP stream exceeds ${MAX_STREAM_BYTES} bytes`);
    f.parts.set(rel, seg.payload);
  }
  const out: TcpStream[] = [];
  for (const f of flows.values()) {
    if (f.parts.size === 0) continue;
    const ordered = [...f.parts.entries()].sort((a, b) => a[0] - b[0]);
    const chunks: Uint8Array[] = [];
    let next = ordered[0]![0];
    for (const [rel, data] of ordered) {
      if (rel + data.length <= next) continue; // fully overlapped
      chunks.push(rel < next ? data.subarray(next - rel) : data);
      next = rel + data.length;
    }
    out.push({ src: f.s.src, srcPort: f.s.srcPort, dst: f.s.dst, dstPort: f.s.dstPort, firstPacket: f.first, bytes: Uint8Array.from(Buffer.concat(chunks)) });
  }
  return out.sort((a, b) => a.firstPacket - b.firstPacket);
}

/** Builds a classic little-endian pcap (Ethernet) from TCP payloads — for tests and for `imsplex decode --write-pcap`. */
export function buildPcap(segments: ReadonlyArray<{ src: string; dst: string; srcPort: number; dstPort: number; seq: number; payload: Uint8Array; syn?: boolean }>): Uint8Array {
  const parts: Buffer[] = [];
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(65535, 16);
  g.writeUInt32LE(1, 20);
  parts.push(g);
  for (const s of segments) {
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(s.srcPort, 0);
    tcp.writeUInt16BE(s.dstPort, 2);
    tcp.writeUInt32BE(s.seq >>> 0, 4);
    tcp[12] = 5 << 4;
    tcp[13] = s.syn ? 0x02 : 0x18;
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 20 + s.payload.length, 2);
    ip[8] = 64;
    ip[9] = 6;
    s.src.split('.').forEach((o, i) => (ip[12 + i] = Number(o)));
    s.dst.split('.').forEach((o, i) => (ip[16 + i] = Number(o)));
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([eth, ip, tcp, Buffer.from(s.payload)]);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(frame.length, 8);
    h.writeUInt32LE(frame.length, 12);
    parts.push(h, frame);
  }
  return Uint8Array.from(Buffer.concat(parts));
}
