/**
 * Shared queues on Redis: the `QueueStore` of an IMS system that belongs to a shared-queues group.
 * Every IMS system of the group (on this machine or another) opens a `RedisQueueStore` with the same
 * group name and Redis URL; they then share the transaction input queues, the tpipe hold queues and
 * LTERM queues, and the keyed databases of the sample programs — the role the Coupling Facility list
 * structures play for IMS shared queues in a sysplex.
 *
 * ## Hand-off, exactly once
 * - Every Redis change is one Lua script, so each `apply` batch is atomic on the server.
 * - An input message is claimed by an atomic move from its queue to the claiming member's in-flight
 *   hash (`claimInput`). A member is one incarnation of an IMS system (`IMS1.<random>`); it holds a
 *   lease key (PX `leaseMs`) that its heartbeat renews every `leaseMs / 3`.
 * - Every heartbeat also recovers the in-flight messages of members whose lease has expired: they go
 *   back to the head of their queues (oldest first) and another member processes them.
 * - The commit (`apply` with `in-`) is fenced: it succeeds only while the message is still in this
 *   member's in-flight hash (or back on its queue, unclaimed). A member whose lease expired while it
 *   processed a message gets `IMS_ERR_SQ_FENCED` and nothing of its unit of work is applied; the member
 *   that recovered the message commits it instead. So a message is never applied twice nor lost.
 * - Retried commands are idempotent: each batch carries a per-member sequence number recorded in a
 *   sorted set (a resent batch is a no-op), and each claim carries a token (a resent claim returns the
 *   message it already claimed). Input message ids are unique; adding an id twice is refused.
 *
 * ## The local mirror (consistency model)
 * The interface's read methods are synchronous, so every member keeps a mirror of the queued input
 * messages and of the output queues. Each script that changes them increments a group sequence number
 * and publishes the change on the group's pub/sub channel as `<seq> <json ops>`. Mirrors apply events in
 * sequence order; a gap (a lost pub/sub message, a reconnect) or a stall noticed by the heartbeat makes
 * the member reload a snapshot taken atomically by a script, then continue from its sequence number.
 * Guarantees:
 * - Read-your-writes: `apply`, `claimInput` resolve only after the mirror has applied their own change.
 * - Monotonic, eventually consistent reads: a member sees the group's changes in the order Redis made
 *   them, typically within one network round trip; during a reconnect it sees an older state.
 * - The mirror is advisory (depths, peeks, displays): every decision that matters — claim, commit,
 *   output deletion — is checked again by a script on Redis.
 * The keyed databases are not mirrored: `dbGet` / `dbKeys` read Redis.
 *
 * ## What stays local
 * - Non-recoverable input (commit mode 1, conversations): the sender waits on this member's link, so
 *   only this member can process it; it lives in a local queue and dies with the process, as with the
 *   embedded store.
 * - Transaction command status (`tst`): per IMS system, kept in Redis under the IMS id.
 *
 * ## Output ownership
 * Direct CM0 output (the reply of a send-receive) is sent only by the member that received the input
 * (the "front end"; recorded with the message and inherited through program switches). Other members
 * deliver it only to a RESUME TPIPE, which is how the output reaches a client that reconnects through
 * another IMS after its front end died. Two members delivering the same tpipe to two RESUME TPIPEs at the
 * same time can each send a message before the first ACK deletes it: output delivery is at-least-once,
 * as OTMA's is.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ImsplexError } from '@imsplex/codec';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { checkRedisUrl } from '../config.js';
import type { Logger } from '../engine.js';
import { AbendError } from '../program.js';
import type { InputMessage, MessageOrigin, OutputMessage } from '../messages.js';
import { Deque } from './deque.js';
import type { QueueStore, RecoveryReport, StoreOp } from './store.js';

/** Stable codes of the shared-queue errors. Match on `code`, never on the message. */
export const SharedQueueErrorCode = {
  /** Redis cannot be reached, or a command failed because the connection did. */
  UNAVAILABLE: 'IMS_ERR_SQ_UNAVAILABLE',
  /**
   * A commit named an input message this member no longer holds: its lease expired and the group
   * recovered the message. Nothing of the batch was applied.
   */
  FENCED: 'IMS_ERR_SQ_FENCED',
  /** An input message id is already on the shared queues. */
  DUPLICATE: 'IMS_ERR_SQ_DUPLICATE',
  /** A record in Redis is not one this version writes. */
  BAD_DATA: 'IMS_ERR_SQ_BAD_DATA',
  /** The store is closed (or not opened yet). */
  CLOSED: 'IMS_ERR_SQ_CLOSED',
  /** An option is not valid. */
  BAD_OPTION: 'IMS_ERR_SQ_BAD_OPTION',
  /** This member's lease had expired when it tried to claim (it renews the lease and retries once). */
  LEASE_LOST: 'IMS_ERR_SQ_LEASE_LOST',
} as const;
export type SharedQueueErrorCode = (typeof SharedQueueErrorCode)[keyof typeof SharedQueueErrorCode];

/** An error of the Redis shared-queue store. */
export class SharedQueueError extends ImsplexError {
  declare readonly code: SharedQueueErrorCode;
  constructor(code: SharedQueueErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/**
 * A commit (or backout) for an input message this member no longer holds: its lease expired and the
 * group recovered the message, which another member processes. Nothing of the batch was applied.
 *
 * It is a pseudo-abend for the engine — `U0777`, the code IMS gives a unit of work it backs out so the
 * message can be processed again (there: after a deadlock) — so it neither counts towards `ABENDLIM`
 * nor stops the transaction. It is also an imsplex error with the stable code `IMS_ERR_SQ_FENCED`
 * (`isImsplexError` is true for it).
 */
export class SharedQueueFencedError extends AbendError {
  readonly code = SharedQueueErrorCode.FENCED;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('U0777', message, { pseudo: true, cause: options.cause, reason: 'SHARED QUEUE LEASE LOST' });
    this.details = Object.freeze({ ...(options.details ?? {}) });
    Object.defineProperty(this, Symbol.for('imsplex.error'), { value: true });
  }

  override get name(): string {
    return 'SharedQueueFencedError';
  }
}

export interface RedisQueueStoreOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** Shared-queues group name: every IMS system with the same group (and Redis) shares its queues. */
  readonly group: string;
  /** IMS id of this system (member incarnations are `<imsId>.<random>`). */
  readonly imsId: string;
  /**
   * Lease of a member, ms (default 10 000). A member that misses its heartbeats this long is dead to the
   * group: its in-flight messages go back to their queues. [INF] IMS recovers a failed member's
   * messages through CQS and ARM; the time is ours to choose, and configurable (`SHAREDQ LEASE=`).
   */
  readonly leaseMs?: number;
  /** How long an operation waits for its own change to reach the mirror before a resync (default 2000). */
  readonly syncTimeoutMs?: number;
  /**
   * How long an event may wait for a missing predecessor before the mirror reloads (default 250 ms).
   * Events reach a member on two connections (its script replies and the channel), so a short
   * reordering is normal; a longer gap means a lost pub/sub message.
   */
  readonly gapTimeoutMs?: number;
  /** How long `open()` waits for Redis (default 5000). */
  readonly connectTimeoutMs?: number;
  /** Key prefix before `{group}:` (default `imsplex:sq:`). */
  readonly keyPrefix?: string;
  /** Most events buffered while a snapshot loads before the mirror gives up and reloads again. */
  readonly maxBufferedEvents?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** One member of the group as `members()` reports it. */
export interface SharedQueueMember {
  /** `<imsId>.<random>`. */
  readonly member: string;
  readonly imsId: string;
  /** Remaining lease, ms (0 when expired and not yet recovered). */
  readonly leaseMs: number;
  /** Input messages it has in flight. */
  readonly inFlight: number;
}

// ---------------------------------------------------------------------------------------------------
// Lua scripts. KEYS[1] is the key prefix `imsplex:sq:{GROUP}:` (the hash tag keeps a group in one
// cluster slot). Key layout under it:
//   seq              group event sequence number          ch             pub/sub channel of events
//   init             set once by the first member          mem            set of member incarnations
//   l:<member>       lease (PX), value = IMS id           f:<member>     hash in-flight id -> tran\ntoken
//   ft:<member>      hash claim token -> id               d:<member>     zset of applied batch numbers
//   m                hash input id -> payload             q:<tran>       list of queued input ids
//   qt               set of transaction names used        om             hash output id -> payload
//   o:<key>          list of output ids of a queue        ok             set of non-empty output keys
//   held             set of output ids no longer direct   db:<name>      hash key -> value
//   dbs              set of database names                tst:<imsId>    hash tran -> command status
// ---------------------------------------------------------------------------------------------------

/** Shared Lua: move a dead member's in-flight messages back to the head of their queues (oldest first). */
const LUA_RECOVER = `
local function recover(P, m, parts)
  local fl = redis.call('HGETALL', P .. 'f:' .. m)
  local items = {}
  for i = 1, #fl, 2 do
    local id = fl[i]
    local v = fl[i + 1]
    local nl = string.find(v, '\\n', 1, true)
    local tran = nl and string.sub(v, 1, nl - 1) or v
    local payload = redis.call('HGET', P .. 'm', id)
    if payload then
      local ok, doc = pcall(cjson.decode, payload)
      local at = 0
      if ok and type(doc) == 'table' and type(doc.at) == 'number' then at = doc.at end
      items[#items + 1] = { id = id, tran = tran, payload = payload, at = at }
    end
  end
  table.sort(items, function(a, b) if a.at == b.at then return a.id > b.id end return a.at > b.at end)
  for _, it in ipairs(items) do
    redis.call('LPUSH', P .. 'q:' .. it.tran, it.id)
    redis.call('SADD', P .. 'qt', it.tran)
    parts[#parts + 1] = '["r",' .. cjson.encode(it.tran) .. ',' .. cjson.encode(it.id) .. ',' .. it.payload .. ']'
  end
  redis.call('DEL', P .. 'f:' .. m, P .. 'ft:' .. m, P .. 'd:' .. m)
  redis.call('SREM', P .. 'mem', m)
  return #items
end
local function publish(P, parts)
  if #parts == 0 then return tonumber(redis.call('GET', P .. 'seq') or '0') end
  local s = redis.call('INCR', P .. 'seq')
  redis.call('PUBLISH', P .. 'ch', s .. ' [' .. table.concat(parts, ',') .. ']')
  return s
end
`;

/**
 * apply: ARGV = member, batch number, lowest unanswered batch number, event JSON ('' = none), op count,
 * then 5 values per op: kind, a1, a2, a3, a4. Returns {duplicate (0|1), event seq (0 = none)}.
 */
const LUA_APPLY = `
local P = KEYS[1]
local me = ARGV[1]
local bseq = tonumber(ARGV[2])
local floor = tonumber(ARGV[3])
local ev = ARGV[4]
local n = tonumber(ARGV[5])
local dk = P .. 'd:' .. me
if redis.call('ZSCORE', dk, bseq) then
  return { 1, tonumber(redis.call('GET', P .. 'seq') or '0') }
end
local fk = P .. 'f:' .. me
for i = 0, n - 1 do
  local b = 6 + i * 5
  local k = ARGV[b]
  if k == 'i-' then
    if redis.call('HEXISTS', fk, ARGV[b + 2]) == 0 and not redis.call('LPOS', P .. 'q:' .. ARGV[b + 1], ARGV[b + 2]) then
      return redis.error_reply('FENCED input message ' .. ARGV[b + 2] .. ' of ' .. ARGV[b + 1] .. ' is not held by ' .. me)
    end
  elseif k == 'i+' then
    if redis.call('HEXISTS', P .. 'm', ARGV[b + 2]) == 1 then
      return redis.error_reply('DUPLICATE input message ' .. ARGV[b + 2])
    end
  end
end
for i = 0, n - 1 do
  local b = 6 + i * 5
  local k, a1, a2, a3, a4 = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  if k == 'i+' then
    redis.call('HSET', P .. 'm', a2, a3)
    redis.call('RPUSH', P .. 'q:' .. a1, a2)
    redis.call('SADD', P .. 'qt', a1)
  elseif k == 'i-' then
    local v = redis.call('HGET', fk, a2)
    if v then
      redis.call('HDEL', fk, a2)
      local nl = string.find(v, '\\n', 1, true)
      if nl then redis.call('HDEL', P .. 'ft:' .. me, string.sub(v, nl + 1)) end
    else
      redis.call('LREM', P .. 'q:' .. a1, 1, a2)
    end
    redis.call('HDEL', P .. 'm', a2)
  elseif k == 'o+' then
    redis.call('HSET', P .. 'om', a2, a3)
    redis.call('RPUSH', P .. 'o:' .. a1, a2)
    redis.call('SADD', P .. 'ok', a1)
  elseif k == 'o-' then
    redis.call('LREM', P .. 'o:' .. a1, 1, a2)
    redis.call('HDEL', P .. 'om', a2)
    redis.call('SREM', P .. 'held', a2)
    if redis.call('LLEN', P .. 'o:' .. a1) == 0 then redis.call('SREM', P .. 'ok', a1) end
  elseif k == 'oh' then
    if redis.call('HEXISTS', P .. 'om', a2) == 1 then redis.call('SADD', P .. 'held', a2) end
  elseif k == 'db' then
    if a4 == 'd' then
      redis.call('HDEL', P .. 'db:' .. a1, a2)
    else
      redis.call('HSET', P .. 'db:' .. a1, a2, a3)
      redis.call('SADD', P .. 'dbs', a1)
    end
  elseif k == 'ts' then
    redis.call('HSET', P .. 'tst:' .. a1, a2, a3)
  else
    return redis.error_reply('BADOP unknown operation ' .. tostring(k))
  end
end
redis.call('ZADD', dk, bseq, bseq)
if floor > 1 then redis.call('ZREMRANGEBYSCORE', dk, '-inf', '(' .. floor) end
if ev ~= '' then
  local s = redis.call('INCR', P .. 'seq')
  redis.call('PUBLISH', P .. 'ch', s .. ' ' .. ev)
  return { 0, s }
end
return { 0, 0 }
`;

/**
 * claim: ARGV = member, tran, token. Returns nil or {seq, id, payload, fresh}: fresh = 1 when this call
 * claimed the message and published `[["c",tran,id]]` as event seq; 0 for a resent claim (seq is then
 * the current sequence number).
 */
const LUA_CLAIM = `
local P, me, tran, token = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local ftk = P .. 'ft:' .. me
local prev = redis.call('HGET', ftk, token)
if prev then
  return { tonumber(redis.call('GET', P .. 'seq') or '0'), prev, redis.call('HGET', P .. 'm', prev) or '', 0 }
end
if redis.call('EXISTS', P .. 'l:' .. me) == 0 then
  return redis.error_reply('LEASE member ' .. me .. ' holds no lease')
end
local qk = P .. 'q:' .. tran
for _ = 1, 1000 do
  local id = redis.call('LPOP', qk)
  if not id then return false end
  local payload = redis.call('HGET', P .. 'm', id)
  if payload then
    redis.call('HSET', P .. 'f:' .. me, id, tran .. '\\n' .. token)
    redis.call('HSET', ftk, token, id)
    local s = redis.call('INCR', P .. 'seq')
    redis.call('PUBLISH', P .. 'ch', s .. ' [["c",' .. cjson.encode(tran) .. ',' .. cjson.encode(id) .. ']]')
    return { s, id, payload, 1 }
  end
end
return false
`;

/** release: ARGV = member, tran, id. Returns the event seq (0 when the message was not in flight here). */
const LUA_RELEASE = `
local P, me, tran, id = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local fk = P .. 'f:' .. me
local v = redis.call('HGET', fk, id)
if not v then return 0 end
redis.call('HDEL', fk, id)
local nl = string.find(v, '\\n', 1, true)
if nl then redis.call('HDEL', P .. 'ft:' .. me, string.sub(v, nl + 1)) end
local payload = redis.call('HGET', P .. 'm', id)
if not payload then return 0 end
redis.call('LPUSH', P .. 'q:' .. tran, id)
local s = redis.call('INCR', P .. 'seq')
redis.call('PUBLISH', P .. 'ch', s .. ' [["r",' .. cjson.encode(tran) .. ',' .. cjson.encode(id) .. ',' .. payload .. ']]')
return s
`;

/** heartbeat: ARGV = member, lease ms, IMS id. Renews the lease, recovers dead members. Returns {seq, recovered}. */
const LUA_HEARTBEAT = `${LUA_RECOVER}
local P, me, lease, ims = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', P .. 'l:' .. me, ims, 'PX', lease)
redis.call('SADD', P .. 'mem', me)
local parts = {}
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', P .. 'mem')) do
  if m ~= me and redis.call('EXISTS', P .. 'l:' .. m) == 0 then n = n + recover(P, m, parts) end
end
return { publish(P, parts), n }
`;

/** leave: ARGV = member. Gives the member's in-flight messages back and leaves the group. Returns {seq, n}. */
const LUA_LEAVE = `${LUA_RECOVER}
local P, me = KEYS[1], ARGV[1]
local parts = {}
local n = recover(P, me, parts)
redis.call('DEL', P .. 'l:' .. me)
return { publish(P, parts), n }
`;

/** snapshot: {seq, {{tran, id, payload, ...}, ...}, {{key, id, payload, held, ...}, ...}}. */
const LUA_SNAPSHOT = `
local P = KEYS[1]
local seq = tonumber(redis.call('GET', P .. 'seq') or '0')
local qs = {}
for _, tran in ipairs(redis.call('SMEMBERS', P .. 'qt')) do
  local ids = redis.call('LRANGE', P .. 'q:' .. tran, 0, -1)
  if #ids > 0 then
    local row = { tran }
    for _, id in ipairs(ids) do
      local p = redis.call('HGET', P .. 'm', id)
      if p then row[#row + 1] = id; row[#row + 1] = p end
    end
    qs[#qs + 1] = row
  end
end
local os = {}
for _, key in ipairs(redis.call('SMEMBERS', P .. 'ok')) do
  local ids = redis.call('LRANGE', P .. 'o:' .. key, 0, -1)
  local row = { key }
  for _, id in ipairs(ids) do
    local p = redis.call('HGET', P .. 'om', id)
    if p then
      row[#row + 1] = id; row[#row + 1] = p; row[#row + 1] = redis.call('SISMEMBER', P .. 'held', id)
    end
  end
  os[#os + 1] = row
end
return { seq, qs, os }
`;

const SCRIPTS = {
  sqApply: LUA_APPLY,
  sqClaim: LUA_CLAIM,
  sqRelease: LUA_RELEASE,
  sqHeartbeat: LUA_HEARTBEAT,
  sqLeave: LUA_LEAVE,
  sqSnapshot: LUA_SNAPSHOT,
} as const;
type ScriptName = keyof typeof SCRIPTS;
type ScriptArg = string | number | Buffer;

// ---------------------------------------------------------------------------------------------------
// Message payloads (JSON; segments and context as base64). `fe` is the front end: the IMS id whose
// link received the input, the only member that sends its direct output without a RESUME TPIPE.
// ---------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

const b64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');

function bad(what: string): never {
  throw new SharedQueueError(SharedQueueErrorCode.BAD_DATA, `shared queue record: ${what}`);
}
function str(j: Json, k: string): string {
  const v = j[k];
  if (typeof v !== 'string') bad(`${k} is not a string`);
  return v;
}
function optStr(j: Json, k: string): string | undefined {
  const v = j[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(`${k} is not a string`);
  return v;
}
function num(j: Json, k: string): number {
  const v = j[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${k} is not a number`);
  return v;
}
function bytes(v: unknown, k: string): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) bad(`${k} is not base64`);
  return new Uint8Array(Buffer.from(v, 'base64'));
}
function segs(j: Json): Uint8Array[] {
  const v = j.seg;
  if (!Array.isArray(v)) bad('seg is not a list');
  return v.map((s) => bytes(s, 'seg'));
}
function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} is not an object`);
  return v as Json;
}

/** Serialise an input message for the shared queue. */
export function encodeSharedInput(m: InputMessage, fe: string): string {
  const o = m.origin;
  const origin: Json =
    o.kind === 'lterm'
      ? { kind: 'lterm', lterm: o.lterm, userId: o.userId }
      : {
          kind: 'otma',
          member: o.member,
          queueOwner: o.queueOwner,
          tpipe: o.tpipe,
          commitMode: o.commitMode,
          syncLevel: o.syncLevel,
          userId: o.userId,
          sendOnly: o.sendOnly,
          wantDfs2082: o.wantDfs2082,
          rerouteTpipe: o.rerouteTpipe,
          purgeUndeliverable: o.purgeUndeliverable,
          // replyId is process-local: never shared.
          context: o.context ? b64(o.context) : undefined,
        };
  return JSON.stringify({ id: m.id, tran: m.tran, seg: m.segments.map(b64), origin, at: m.enqueuedAt, fe });
}

/** Parse a shared input message (throws `IMS_ERR_SQ_BAD_DATA`). */
export function decodeSharedInput(text: string | Json): { msg: InputMessage; fe: string } {
  const j = typeof text === 'string' ? obj(parseJson(text), 'input message') : text;
  const o = obj(j.origin, 'origin');
  let origin: MessageOrigin;
  if (o.kind === 'lterm') origin = { kind: 'lterm', lterm: str(o, 'lterm'), userId: str(o, 'userId') };
  else if (o.kind === 'otma') {
    origin = {
      kind: 'otma',
      member: str(o, 'member'),
      queueOwner: str(o, 'queueOwner'),
      tpipe: str(o, 'tpipe'),
      commitMode: o.commitMode === 1 ? 1 : 0,
      syncLevel: o.syncLevel === 0 ? 0 : 1,
      userId: str(o, 'userId'),
      sendOnly: o.sendOnly === true,
      wantDfs2082: o.wantDfs2082 === true,
      rerouteTpipe: optStr(o, 'rerouteTpipe'),
      purgeUndeliverable: o.purgeUndeliverable === true,
      replyId: undefined,
      context: o.context === undefined ? undefined : bytes(o.context, 'context'),
    };
  } else bad('origin.kind is not otma or lterm');
  const msg: InputMessage = { id: str(j, 'id'), tran: str(j, 'tran'), segments: segs(j), origin, enqueuedAt: num(j, 'at'), recoverable: true, conversationId: undefined };
  return { msg, fe: str(j, 'fe') };
}

/** Serialise an output message for a shared hold queue / LTERM queue. */
export function encodeSharedOutput(m: OutputMessage, fe: string): string {
  return JSON.stringify({
    id: m.id,
    seg: m.segments.map(b64),
    tran: m.tran,
    at: m.enqueuedAt,
    direct: m.direct,
    rerouted: m.rerouted,
    member: m.member,
    context: m.context ? b64(m.context) : undefined,
    rerouteTpipe: m.rerouteTpipe,
    purge: m.purgeUndeliverable,
    fe,
  });
}

/** Parse a shared output message (throws `IMS_ERR_SQ_BAD_DATA`). */
export function decodeSharedOutput(text: string | Json, held = false): { msg: OutputMessage; fe: string } {
  const j = typeof text === 'string' ? obj(parseJson(text), 'output message') : text;
  const msg: OutputMessage = {
    id: str(j, 'id'),
    segments: segs(j),
    tran: str(j, 'tran'),
    enqueuedAt: num(j, 'at'),
    direct: j.direct === true && !held,
    rerouted: j.rerouted === true,
    member: optStr(j, 'member'),
    context: j.context === undefined ? undefined : bytes(j.context, 'context'),
    rerouteTpipe: optStr(j, 'rerouteTpipe'),
    purgeUndeliverable: j.purge === true,
  };
  return { msg, fe: str(j, 'fe') };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SharedQueueError(SharedQueueErrorCode.BAD_DATA, `shared queue record is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------------

interface InEntry {
  readonly msg: InputMessage;
  readonly fe: string;
}
interface OutEntry {
  readonly msg: OutputMessage;
  readonly fe: string;
}
interface FlightEntry {
  readonly msg: InputMessage;
  readonly fe: string;
  readonly shared: boolean;
}
interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const NAME = /^[A-Za-z0-9@#$_.-]{1,64}$/;
const MAX_FENCED = 10_000;
/** Watchdog periods without mirror progress before waiting operations give up on the mirror. */
const MAX_STALLS = 5;

/** The Redis-backed shared-queue store (see the module comment for the model). */
export class RedisQueueStore implements QueueStore {
  /** This member: `<imsId>.<random>`, unique per process start. */
  readonly memberId: string;
  readonly group: string;
  readonly imsId: string;
  readonly leaseMs: number;
  private readonly url: string;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly syncTimeoutMs: number;
  private readonly gapTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxBuffered: number;
  private redis: Redis | undefined;
  private sub: Redis | undefined;
  private state: 'new' | 'open' | 'closed' = 'new';

  // mirror of the group
  private mirrorSeq = 0;
  private readonly inputs = new Map<string, Map<string, InEntry>>();
  private mirrorTotal = 0;
  private readonly outputs = new Map<string, Map<string, OutEntry>>();
  private resyncing = false;
  private resyncAgain = false;
  private buffered: Array<{ seq: number; body: string }> = [];
  /** Events that arrived before their predecessors, by sequence number. */
  private readonly early = new Map<number, string>();
  private gapTimer: TimerHandle | undefined;
  private waiters: Waiter[] = [];
  private watchdog: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private lastHeartbeatSeq = 0;

  // this member
  private readonly local = new Map<string, Deque<InputMessage>>();
  private localTotal = 0;
  private readonly inFlight = new Map<string, FlightEntry>();
  private readonly claiming = new Map<string, number>();
  private claimingTotal = 0;
  private readonly fenced = new Set<string>();
  private readonly status = new Map<string, { stopped: boolean; ustopped: boolean }>();
  private batchSeq = 0;
  private readonly pendingBatches = new Set<number>();
  private claimSeq = 0;

  private readonly inputListeners: Array<(tran: string) => void> = [];
  private readonly outputListeners: Array<(key: string) => void> = [];
  private readonly queueListeners: Array<(tran: string) => void> = [];

  constructor(private readonly options: RedisQueueStoreOptions) {
    const url = parseRedisUrl(options.url);
    if (!NAME.test(options.group)) throw new SharedQueueError(SharedQueueErrorCode.BAD_OPTION, `group '${options.group}' must be 1-64 characters A-Z a-z 0-9 @ # $ _ . -`);
    if (!NAME.test(options.imsId)) throw new SharedQueueError(SharedQueueErrorCode.BAD_OPTION, `imsId '${options.imsId}' is not a valid name`);
    const lease = options.leaseMs ?? 10_000;
    if (!Number.isInteger(lease) || lease < 100 || lease > 3_600_000) throw new SharedQueueError(SharedQueueErrorCode.BAD_OPTION, `leaseMs must be an integer 100..3600000, got ${lease}`);
    this.leaseMs = lease;
    this.group = options.group;
    this.imsId = options.imsId;
    this.memberId = `${options.imsId}.${randomBytes(6).toString('hex')}`;
    this.prefix = `${options.keyPrefix ?? 'imsplex:sq:'}{${options.group}}:`;
    this.channel = `${this.prefix}ch`;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silent;
    this.syncTimeoutMs = options.syncTimeoutMs ?? 2000;
    this.gapTimeoutMs = options.gapTimeoutMs ?? 250;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.maxBuffered = options.maxBufferedEvents ?? 100_000;
    this.url = url;
  }

  /** Writes survive the crash of this process (they live in Redis; Redis's own persistence decides the rest). */
  get durable(): boolean {
    return true;
  }

  /** The key prefix of the group in Redis (`imsplex:sq:{GROUP}:`). */
  get keyPrefix(): string {
    return this.prefix;
  }

  // ------------------------------------------------------------------------------------------------
  // Life cycle
  // ------------------------------------------------------------------------------------------------

  async open(): Promise<RecoveryReport> {
    if (this.state !== 'new') throw new SharedQueueError(SharedQueueErrorCode.CLOSED, 'a RedisQueueStore opens once');
    const common = {
      lazyConnect: true,
      connectTimeout: this.connectTimeoutMs,
      maxRetriesPerRequest: 5,
      // Reconnect quickly, bounded; commands issued meanwhile wait in ioredis's queue (bounded by the
      // per-request retry count) and are resent, which the scripts make idempotent.
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
    };
    const redis = new Redis(this.url, { ...common, enableAutoPipelining: false });
    const sub = new Redis(this.url, common);
    this.redis = redis;
    this.sub = sub;
    let lastError: unknown;
    for (const c of [redis, sub]) c.on('error', (e: unknown) => (lastError = e));
    try {
      await Promise.all([this.connect(redis), this.connect(sub)]);
    } catch (e) {
      redis.disconnect();
      sub.disconnect();
      this.state = 'closed';
      const why = lastError instanceof Error ? lastError.message : (e as Error).message;
      throw new SharedQueueError(SharedQueueErrorCode.UNAVAILABLE, `shared queues: cannot reach Redis at ${redactUrl(this.url)}: ${why}`, { cause: lastError ?? e });
    }
    redis.on('error', (e: unknown) => this.log.warn({ err: e, group: this.group }, 'shared queues: Redis connection error'));
    sub.on('error', (e: unknown) => this.log.warn({ err: e, group: this.group }, 'shared queues: Redis subscriber error'));
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua });
    try {
      const fresh = (await redis.set(`${this.prefix}init`, String(this.clock.now()), 'NX')) === 'OK';
      const st = await redis.hgetall(`${this.prefix}tst:${this.imsId}`);
      for (const [tran, v] of Object.entries(st)) this.status.set(tran, { stopped: v[0] === '1', ustopped: v[1] === '1' });
      await this.heartbeat();
      // Subscribe before the snapshot so no event falls between them.
      sub.on('message', (ch: string, text: string) => {
        if (ch === this.channel) this.onEvent(text);
      });
      // 'ready' already fired for the first connection: any later one is a reconnect (ioredis has
      // re-subscribed by then), after which events may be missing.
      sub.on('ready', () => {
        if (this.state === 'open') this.resync('subscriber reconnected');
      });
      await sub.subscribe(this.channel);
      this.state = 'open';
      this.resyncing = true;
      await this.loadSnapshot();
      this.scheduleHeartbeat();
      let dbRecords = 0;
      for (const db of await redis.smembers(`${this.prefix}dbs`)) dbRecords += await redis.hlen(`${this.prefix}db:${db}`);
      let outs = 0;
      for (const q of this.outputs.values()) outs += q.size;
      this.log.info({ group: this.group, member: this.memberId, seq: this.mirrorSeq, fresh }, 'shared queues joined');
      return { inputMessages: this.mirrorTotal, outputMessages: outs, dbRecords, records: this.mirrorSeq, truncatedBytes: 0, fresh };
    } catch (e) {
      await this.shutdown(false);
      throw toSqError(e, 'open');
    }
  }

  private connect(c: Redis): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = this.clock.setTimer(this.connectTimeoutMs, () => {
        c.off('ready', onReady);
        reject(new Error(`no connection within ${this.connectTimeoutMs} ms`));
      });
      const onReady = () => {
        t.cancel();
        resolve();
      };
      c.once('ready', onReady);
      // connect() rejects on the first failed attempt while ioredis keeps retrying: wait for 'ready'.
      c.connect().catch(() => undefined);
    });
  }

  /** Leave the group: in-flight messages go back to their queues, the lease is dropped. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    await this.shutdown(true);
  }

  private async shutdown(leave: boolean): Promise<void> {
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.heartbeatTimer?.cancel();
    this.watchdog?.cancel();
    this.gapTimer?.cancel();
    const err = new SharedQueueError(SharedQueueErrorCode.CLOSED, 'shared queue store closed');
    for (const w of this.waiters.splice(0)) w.reject(err);
    if (leave && wasOpen && this.redis) {
      try {
        const [, n] = (await this.script('sqLeave', this.memberId)) as [number, number];
        if (n > 0) this.log.info({ member: this.memberId, requeued: n }, 'shared queues: in-flight messages given back');
      } catch (e) {
        this.log.warn({ err: e }, 'shared queues: leaving the group failed; the lease will expire');
      }
    }
    await Promise.all([quit(this.sub), quit(this.redis)]);
  }

  // ------------------------------------------------------------------------------------------------
  // Writes
  // ------------------------------------------------------------------------------------------------

  async apply(ops: readonly StoreOp[], _durable: boolean): Promise<void> {
    this.assertOpen();
    // Output and switched input of a unit of work inherit the front end of the input it commits.
    let fe: string | undefined;
    for (const op of ops) {
      if (op.op !== 'in-') continue;
      if (this.fenced.has(op.id)) {
        throw new SharedQueueFencedError(`input message ${op.id} of ${op.tran} was recovered by the group after this member's lease expired`, { details: { id: op.id, tran: op.tran } });
      }
      fe ??= this.inFlight.get(op.id)?.fe;
    }
    fe ??= this.imsId;
    const args: ScriptArg[] = [];
    const events: string[] = [];
    const local: StoreOp[] = [];
    const committed: string[] = [];
    let n = 0;
    const push = (kind: string, a1: string, a2: string, a3: ScriptArg = '', a4 = '') => {
      args.push(kind, a1, a2, a3, a4);
      n++;
    };
    for (const op of ops) {
      switch (op.op) {
        case 'in+': {
          if (!isShared(op.msg)) {
            local.push(op);
            break;
          }
          const payload = encodeSharedInput(op.msg, fe);
          push('i+', op.msg.tran, op.msg.id, payload);
          events.push(`["i+",${JSON.stringify(op.msg.tran)},${JSON.stringify(op.msg.id)},${payload}]`);
          break;
        }
        case 'in-': {
          const f = this.inFlight.get(op.id);
          if ((f && !f.shared) || (!f && this.localHas(op.tran, op.id))) {
            local.push(op);
            break;
          }
          push('i-', op.tran, op.id);
          events.push(`["i-",${JSON.stringify(op.tran)},${JSON.stringify(op.id)}]`);
          committed.push(op.id);
          break;
        }
        case 'out+': {
          const payload = encodeSharedOutput(op.msg, op.msg.direct ? fe : this.imsId);
          push('o+', op.key, op.msg.id, payload);
          events.push(`["o+",${JSON.stringify(op.key)},${JSON.stringify(op.msg.id)},${payload}]`);
          break;
        }
        case 'out-':
          push('o-', op.key, op.id);
          events.push(`["o-",${JSON.stringify(op.key)},${JSON.stringify(op.id)}]`);
          break;
        case 'outh':
          push('oh', op.key, op.id);
          events.push(`["oh",${JSON.stringify(op.key)},${JSON.stringify(op.id)}]`);
          break;
        case 'db':
          if (op.value === null) push('db', op.db, op.key, '', 'd');
          else push('db', op.db, op.key, Buffer.from(op.value.buffer, op.value.byteOffset, op.value.byteLength), 's');
          break;
        case 'tst':
          push('ts', this.imsId, op.tran, `${op.stopped ? 1 : 0}${op.ustopped ? 1 : 0}`);
          local.push(op);
          break;
      }
    }
    if (n > 0) {
      const batch = ++this.batchSeq;
      this.pendingBatches.add(batch);
      let floor = batch;
      for (const b of this.pendingBatches) if (b < floor) floor = b;
      let seq: number;
      const ev = events.length ? `[${events.join(',')}]` : '';
      try {
        const r = (await this.script('sqApply', this.memberId, batch, floor, ev, n, ...args)) as [number, number];
        seq = Number(r[1]);
        // A fresh batch published exactly `ev` under `seq`: apply it now rather than wait for the channel.
        if (Number(r[0]) === 0 && seq > 0 && this.state === 'open') this.offer(seq, ev);
      } catch (e) {
        const err = toSqError(e, 'apply');
        if (err instanceof SharedQueueFencedError) {
          for (const id of committed) this.markFenced(id);
        }
        throw err;
      } finally {
        this.pendingBatches.delete(batch);
      }
      for (const id of committed) this.inFlight.delete(id);
      if (seq > 0) await this.waitSeq(seq);
    }
    this.applyLocal(local);
  }

  private markFenced(id: string): void {
    this.inFlight.delete(id);
    this.fenced.add(id);
    if (this.fenced.size > MAX_FENCED) this.fenced.delete(this.fenced.values().next().value!);
  }

  private applyLocal(ops: readonly StoreOp[]): void {
    const touched = new Set<string>();
    for (const op of ops) {
      if (op.op === 'in+') {
        let q = this.local.get(op.msg.tran);
        if (!q) this.local.set(op.msg.tran, (q = new Deque()));
        q.push(op.msg);
        this.localTotal++;
        touched.add(op.msg.tran);
      } else if (op.op === 'in-') {
        if (this.inFlight.delete(op.id)) continue;
        if (this.local.get(op.tran)?.remove((m) => m.id === op.id)) this.localTotal--;
      } else if (op.op === 'tst') {
        this.status.set(op.tran, { stopped: op.stopped, ustopped: op.ustopped });
      }
    }
    for (const t of touched) {
      this.emitQueue(t);
      this.emitInput(t);
    }
  }

  private localHas(tran: string, id: string): boolean {
    const q = this.local.get(tran);
    if (!q) return false;
    for (const m of q) if (m.id === id) return true;
    return false;
  }

  async claimInput(tran: string): Promise<InputMessage | undefined> {
    if (this.state !== 'open') return undefined;
    const q = this.local.get(tran);
    const m = q?.shift();
    if (m) {
      this.localTotal--;
      this.inFlight.set(m.id, { msg: m, fe: this.imsId, shared: false });
      return m;
    }
    this.claiming.set(tran, (this.claiming.get(tran) ?? 0) + 1);
    this.claimingTotal++;
    try {
      const token = `${this.memberId}.${++this.claimSeq}`;
      return await this.claimShared(tran, token);
    } finally {
      const c = (this.claiming.get(tran) ?? 1) - 1;
      if (c <= 0) this.claiming.delete(tran);
      else this.claiming.set(tran, c);
      this.claimingTotal--;
    }
  }

  /** One claim with its token; a retry with the same token returns the same message. */
  private async claimShared(tran: string, token: string): Promise<InputMessage | undefined> {
    let r: [number, string, string, number] | null;
    try {
      r = (await this.script('sqClaim', this.memberId, tran, token)) as [number, string, string, number] | null;
    } catch (e) {
      const err = toSqError(e, 'claim');
      if (err.code !== SharedQueueErrorCode.LEASE_LOST || this.state !== 'open') throw err;
      // The lease lapsed (a long pause): renew it, then claim once more.
      this.log.warn({ member: this.memberId }, 'shared queues: lease had expired; renewing');
      await this.heartbeat();
      r = (await this.script('sqClaim', this.memberId, tran, token).catch((e2: unknown) => {
        throw toSqError(e2, 'claim');
      })) as [number, string, string, number] | null;
    }
    if (!r) return undefined;
    const [seq, id, payload, fresh] = r;
    let entry: { msg: InputMessage; fe: string };
    try {
      entry = decodeSharedInput(payload);
    } catch (e) {
      // Unreadable: leave it in flight here (it is recovered if a newer member can read it) and go on.
      this.log.error({ err: e, id, tran }, 'shared queues: claimed message is unreadable');
      return undefined;
    }
    this.inFlight.set(id, { ...entry, shared: true });
    if (Number(seq) > 0) {
      // The script published exactly this event (a resent claim returns the current sequence instead,
      // which the mirror reaches through the channel).
      if (this.state === 'open' && Number(fresh) === 1) this.offer(Number(seq), `[["c",${JSON.stringify(tran)},${JSON.stringify(id)}]]`);
      await this.waitSeq(Number(seq));
    }
    return entry.msg;
  }

  releaseInput(msg: InputMessage): void {
    const f = this.inFlight.get(msg.id);
    if (!f) return;
    this.inFlight.delete(msg.id);
    if (!f.shared) {
      let q = this.local.get(msg.tran);
      if (!q) this.local.set(msg.tran, (q = new Deque()));
      q.unshift(msg);
      this.localTotal++;
      this.emitQueue(msg.tran);
      this.emitInput(msg.tran);
      return;
    }
    if (this.state !== 'open') return;
    this.script('sqRelease', this.memberId, msg.tran, msg.id).catch((e: unknown) =>
      this.log.error({ err: e, id: msg.id }, 'shared queues: release failed; the message is recovered when this member leaves'),
    );
  }

  dropInFlight(msg: InputMessage): void {
    // A shared message stays in this member's in-flight hash until the member leaves or dies, then it
    // is recovered — as the journal replays a dropped recoverable message at restart.
    this.inFlight.delete(msg.id);
  }

  // ------------------------------------------------------------------------------------------------
  // Reads (mirror)
  // ------------------------------------------------------------------------------------------------

  inputDepth(tran: string): number {
    const shared = Math.max(0, (this.inputs.get(tran)?.size ?? 0) - (this.claiming.get(tran) ?? 0));
    return shared + (this.local.get(tran)?.length ?? 0);
  }

  totalInputDepth(): number {
    return Math.max(0, this.mirrorTotal - this.claimingTotal) + this.localTotal;
  }

  outputDepth(key: string): number {
    return this.outputs.get(key)?.size ?? 0;
  }

  outputKeys(): string[] {
    return [...this.outputs.keys()].sort();
  }

  peekOutput(key: string, skip: ReadonlySet<string>, directOnly: boolean): OutputMessage | undefined {
    const q = this.outputs.get(key);
    if (!q) return undefined;
    for (const e of q.values()) {
      if (skip.has(e.msg.id)) continue;
      // Without a RESUME TPIPE only the front end sends its direct output.
      if (directOnly && (!e.msg.direct || e.fe !== this.imsId)) continue;
      return e.msg;
    }
    return undefined;
  }

  listOutput(key: string): readonly OutputMessage[] {
    return [...(this.outputs.get(key)?.values() ?? [])].map((e) => e.msg);
  }

  listInput(tran: string): readonly InputMessage[] {
    return [...(this.local.get(tran) ?? []), ...[...(this.inputs.get(tran)?.values() ?? [])].map((e) => e.msg)];
  }

  async dbGet(db: string, key: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    try {
      const v = await this.redis!.hgetBuffer(`${this.prefix}db:${db}`, key);
      return v === null ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    } catch (e) {
      throw toSqError(e, 'dbGet');
    }
  }

  async dbKeys(db: string): Promise<string[]> {
    this.assertOpen();
    try {
      return (await this.redis!.hkeys(`${this.prefix}db:${db}`)).sort();
    } catch (e) {
      throw toSqError(e, 'dbKeys');
    }
  }

  tranStatus(tran: string): { stopped: boolean; ustopped: boolean } | undefined {
    return this.status.get(tran);
  }

  onInput(listener: (tran: string) => void): void {
    this.inputListeners.push(listener);
  }

  onOutput(listener: (key: string) => void): void {
    this.outputListeners.push(listener);
  }

  /**
   * Called whenever the number of messages waiting on `tran` may have changed because of any member
   * (queued, claimed, committed, recovered). The IMS system uses it to keep its scheduler's counts equal
   * to the shared depth (see `ImsSystem`).
   */
  onQueueChange(listener: (tran: string) => void): void {
    this.queueListeners.push(listener);
  }

  /** Transactions with a queue in the mirror or locally. */
  queuedTransactions(): string[] {
    return [...new Set([...this.inputs.keys(), ...this.local.keys()])].sort();
  }

  /** The members of the group, from Redis. */
  async members(): Promise<SharedQueueMember[]> {
    this.assertOpen();
    const r = this.redis!;
    const out: SharedQueueMember[] = [];
    for (const m of (await r.smembers(`${this.prefix}mem`)).sort()) {
      const [pttl, imsId, inFlight] = await Promise.all([r.pttl(`${this.prefix}l:${m}`), r.get(`${this.prefix}l:${m}`), r.hlen(`${this.prefix}f:${m}`)]);
      out.push({ member: m, imsId: imsId ?? m.slice(0, m.lastIndexOf('.')), leaseMs: Math.max(0, pttl), inFlight });
    }
    return out;
  }

  /** Group sequence number the mirror has applied (for displays and tests). */
  get appliedSequence(): number {
    return this.mirrorSeq;
  }

  /**
   * Renew the lease now and recover the in-flight messages of members whose lease expired. Runs on a
   * timer every `leaseMs / 3`; exposed for operators and tests.
   */
  async heartbeat(): Promise<number> {
    if (this.state === 'closed') return 0;
    const [seq, n] = (await this.script('sqHeartbeat', this.memberId, this.leaseMs, this.imsId).catch((e: unknown) => {
      throw toSqError(e, 'heartbeat');
    })) as [number, number];
    if (n > 0) this.log.info({ member: this.memberId, recovered: n }, 'shared queues: recovered in-flight messages of a failed member');
    // A mirror that has not reached the previous beat's sequence missed events: reload it.
    if (this.state === 'open' && !this.resyncing && this.mirrorSeq < this.lastHeartbeatSeq) this.resync('mirror behind the group');
    this.lastHeartbeatSeq = Number(seq);
    return Number(n);
  }

  private scheduleHeartbeat(): void {
    if (this.state !== 'open') return;
    this.heartbeatTimer = this.clock.setTimer(Math.max(30, Math.floor(this.leaseMs / 3)), () => {
      this.heartbeat()
        .catch((e: unknown) => this.log.warn({ err: e }, 'shared queues: heartbeat failed'))
        .finally(() => this.scheduleHeartbeat());
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Mirror maintenance
  // ------------------------------------------------------------------------------------------------

  private onEvent(text: string): void {
    const sp = text.indexOf(' ');
    const seq = Number(text.slice(0, sp));
    if (sp < 0 || !Number.isSafeInteger(seq)) {
      this.log.error({ text: text.slice(0, 80) }, 'shared queues: malformed event');
      this.resync('malformed event');
      return;
    }
    this.offer(seq, text.slice(sp + 1));
  }

  private bufferEvent(seq: number, body: string): void {
    if (this.buffered.length >= this.maxBuffered) {
      this.buffered = [];
      this.resyncAgain = true;
      return;
    }
    this.buffered.push({ seq, body });
  }

  /**
   * An event, from the channel or from the reply to this member's own script (whichever comes first;
   * the other copy is ignored). Events apply in sequence order; one that arrives early waits for its
   * predecessors, and a gap that lasts `gapTimeoutMs` (a lost message) reloads the mirror.
   */
  private offer(seq: number, body: string): void {
    if (this.resyncing) {
      this.bufferEvent(seq, body);
      return;
    }
    if (seq <= this.mirrorSeq) return;
    if (seq !== this.mirrorSeq + 1) {
      if (this.early.size >= this.maxBuffered) {
        this.early.clear();
        this.resync('too many events out of order');
        return;
      }
      this.early.set(seq, body);
      this.armGapTimer();
      return;
    }
    this.applyAt(seq, body);
    for (let next = this.early.get(this.mirrorSeq + 1); next !== undefined && !this.resyncing; next = this.early.get(this.mirrorSeq + 1)) {
      this.early.delete(this.mirrorSeq + 1);
      this.applyAt(this.mirrorSeq + 1, next);
    }
    if (this.early.size === 0 && this.gapTimer) {
      this.gapTimer.cancel();
      this.gapTimer = undefined;
    }
    this.resolveWaiters();
  }

  private applyAt(seq: number, body: string): void {
    try {
      this.applyEvent(body);
    } catch (e) {
      this.log.error({ err: e, seq }, 'shared queues: event not applied');
      this.mirrorSeq = seq;
      this.resync('bad event');
      return;
    }
    this.mirrorSeq = seq;
  }

  private armGapTimer(): void {
    if (this.gapTimer) return;
    const at = this.mirrorSeq;
    this.gapTimer = this.clock.setTimer(this.gapTimeoutMs, () => {
      this.gapTimer = undefined;
      if (this.early.size === 0) return;
      if (this.mirrorSeq === at) this.resync(`event gap after ${at}`);
      else this.armGapTimer();
    });
  }

  private applyEvent(body: string): void {
    const ops = JSON.parse(body) as unknown;
    if (!Array.isArray(ops)) bad('event is not a list');
    const queueTouched = new Set<string>();
    const inputTouched = new Set<string>();
    const outputTouched = new Set<string>();
    const returned = new Map<string, InEntry[]>();
    for (const raw of ops) {
      if (!Array.isArray(raw) || typeof raw[0] !== 'string' || typeof raw[1] !== 'string' || typeof raw[2] !== 'string') bad('event operation is not [kind, name, id, ...]');
      const [kind, name, id, payload] = raw as [string, string, string, unknown];
      switch (kind) {
        case 'i+': {
          let q = this.inputs.get(name);
          if (!q) this.inputs.set(name, (q = new Map()));
          if (!q.has(id)) {
            q.set(id, decodeSharedInput(obj(payload, 'payload')));
            this.mirrorTotal++;
          }
          queueTouched.add(name);
          inputTouched.add(name);
          break;
        }
        case 'i-':
        case 'c':
          this.removeInput(name, id);
          queueTouched.add(name);
          break;
        case 'r': {
          const e = decodeSharedInput(obj(payload, 'payload'));
          this.removeInput(name, id);
          let list = returned.get(name);
          if (!list) returned.set(name, (list = []));
          list.push(e);
          queueTouched.add(name);
          inputTouched.add(name);
          break;
        }
        case 'o+': {
          let q = this.outputs.get(name);
          if (!q) this.outputs.set(name, (q = new Map()));
          if (!q.has(id)) q.set(id, decodeSharedOutput(obj(payload, 'payload')));
          outputTouched.add(name);
          break;
        }
        case 'o-': {
          const q = this.outputs.get(name);
          if (q?.delete(id) && q.size === 0) this.outputs.delete(name);
          break;
        }
        case 'oh': {
          const q = this.outputs.get(name);
          const e = q?.get(id);
          if (q && e) q.set(id, { fe: e.fe, msg: { ...e.msg, direct: false } });
          break;
        }
        default:
          bad(`unknown event operation ${kind}`);
      }
    }
    // Returned messages were pushed to the head one by one: the last pushed is first.
    for (const [tran, list] of returned) {
      const q = this.inputs.get(tran) ?? new Map<string, InEntry>();
      const head: Array<[string, InEntry]> = list.reverse().map((e) => [e.msg.id, e]);
      this.inputs.set(tran, new Map([...head, ...q]));
      this.mirrorTotal += list.length;
    }
    for (const t of queueTouched) this.emitQueue(t);
    for (const t of inputTouched) this.emitInput(t);
    for (const k of outputTouched) this.emitOutput(k);
  }

  private removeInput(tran: string, id: string): void {
    const q = this.inputs.get(tran);
    if (q?.delete(id)) {
      this.mirrorTotal--;
      if (q.size === 0) this.inputs.delete(tran);
    }
  }

  /** Reload the mirror from a snapshot (events arriving meanwhile are buffered, then applied). */
  private resync(why: string): void {
    if (this.state !== 'open') return;
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.log.info({ why, seq: this.mirrorSeq }, 'shared queues: reloading the mirror');
    this.resyncing = true;
    this.loadSnapshot().catch((e: unknown) => {
      this.log.warn({ err: e }, 'shared queues: snapshot failed; retrying');
      this.resyncing = false;
      this.clock.setTimer(200, () => this.resync('retry after a failed snapshot'));
    });
  }

  private async loadSnapshot(): Promise<void> {
    const [seqRaw, qs, os] = (await this.script('sqSnapshot')) as [number, string[][], Array<Array<string | number>>];
    const before = new Set([...this.inputs.keys()]);
    const beforeOut = new Set([...this.outputs.keys()]);
    this.inputs.clear();
    this.outputs.clear();
    this.mirrorTotal = 0;
    for (const row of qs) {
      const tran = row[0]!;
      const q = new Map<string, InEntry>();
      for (let i = 1; i + 1 < row.length; i += 2) {
        try {
          q.set(row[i]!, decodeSharedInput(row[i + 1]!));
        } catch (e) {
          this.log.error({ err: e, id: row[i] }, 'shared queues: unreadable input message skipped');
        }
      }
      if (q.size > 0) {
        this.inputs.set(tran, q);
        this.mirrorTotal += q.size;
      }
    }
    for (const row of os) {
      const key = String(row[0]);
      const q = new Map<string, OutEntry>();
      for (let i = 1; i + 2 < row.length; i += 3) {
        try {
          q.set(String(row[i]), decodeSharedOutput(String(row[i + 1]), Number(row[i + 2]) === 1));
        } catch (e) {
          this.log.error({ err: e, id: row[i] }, 'shared queues: unreadable output message skipped');
        }
      }
      if (q.size > 0) this.outputs.set(key, q);
    }
    this.mirrorSeq = Math.max(this.mirrorSeq, Number(seqRaw));
    const pending = [...this.buffered, ...[...this.early].map(([seq, body]) => ({ seq, body }))].sort((a, b) => a.seq - b.seq);
    this.buffered = [];
    this.early.clear();
    this.gapTimer?.cancel();
    this.gapTimer = undefined;
    this.resyncing = false;
    for (const t of new Set([...before, ...this.inputs.keys()])) this.emitQueue(t);
    for (const t of this.inputs.keys()) this.emitInput(t);
    for (const k of new Set([...beforeOut, ...this.outputs.keys()])) if (this.outputs.has(k)) this.emitOutput(k);
    this.resolveWaiters();
    for (const e of pending) this.offer(e.seq, e.body);
    if (this.resyncAgain && !this.resyncing) {
      this.resyncAgain = false;
      this.resync('events lost while reloading');
    }
  }

  /** Resolve when the mirror has applied event `seq`; a stall past `syncTimeoutMs` reloads the mirror. */
  private waitSeq(seq: number): Promise<void> {
    if (this.mirrorSeq >= seq) return Promise.resolve();
    if (this.state !== 'open') return Promise.reject(new SharedQueueError(SharedQueueErrorCode.CLOSED, 'shared queue store closed'));
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.armWatchdog();
    });
  }

  /**
   * While operations wait for the mirror: every `syncTimeoutMs` without progress reloads it; after
   * `MAX_STALLS` such periods (Redis unreachable for the reload too) the waits end anyway — their
   * changes are in Redis, only this member's view lags — with a warning.
   */
  private armWatchdog(stalls = 0): void {
    if (this.watchdog) return;
    const target = this.mirrorSeq;
    this.watchdog = this.clock.setTimer(this.syncTimeoutMs, () => {
      this.watchdog = undefined;
      if (this.waiters.length === 0) return;
      const stalled = this.mirrorSeq === target ? stalls + 1 : 0;
      if (stalled >= MAX_STALLS) {
        this.log.warn({ waiting: this.waiters.length, seq: this.mirrorSeq }, 'shared queues: mirror still behind; operations continue without it');
        for (const w of this.waiters.splice(0)) w.resolve();
        return;
      }
      if (stalled > 0) this.resync('waiting for own change timed out');
      this.armWatchdog(stalled);
    });
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= this.mirrorSeq) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
    if (still.length === 0 && this.watchdog) {
      this.watchdog.cancel();
      this.watchdog = undefined;
    }
  }

  private emitInput(tran: string): void {
    for (const l of this.inputListeners) this.safe(l, tran);
  }
  private emitOutput(key: string): void {
    for (const l of this.outputListeners) this.safe(l, key);
  }
  private emitQueue(tran: string): void {
    for (const l of this.queueListeners) this.safe(l, tran);
  }
  private safe(l: (s: string) => void, arg: string): void {
    try {
      l(arg);
    } catch (e) {
      this.log.error({ err: e }, 'shared queues: listener failed');
    }
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new SharedQueueError(SharedQueueErrorCode.CLOSED, `shared queue store is ${this.state === 'new' ? 'not open' : 'closed'}`);
  }

  private script(name: ScriptName, ...args: ScriptArg[]): Promise<unknown> {
    const r = this.redis;
    if (!r) return Promise.reject(new SharedQueueError(SharedQueueErrorCode.CLOSED, 'shared queue store is not open'));
    const fn = (r as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[name]!;
    return fn.call(r, this.prefix, ...args);
  }
}

/** Shared messages: recoverable input outside a conversation. Everything else stays with this member. */
function isShared(m: InputMessage): boolean {
  return m.recoverable && m.conversationId === undefined;
}

function toSqError(e: unknown, what: string): SharedQueueError | SharedQueueFencedError {
  if (e instanceof SharedQueueError || e instanceof SharedQueueFencedError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (msg.startsWith('FENCED')) return new SharedQueueFencedError(msg.slice(7), { cause: e });
  if (msg.startsWith('DUPLICATE')) return new SharedQueueError(SharedQueueErrorCode.DUPLICATE, msg.slice(10), { cause: e });
  if (msg.startsWith('LEASE')) return new SharedQueueError(SharedQueueErrorCode.LEASE_LOST, msg.slice(6), { cause: e });
  if (msg.startsWith('BADOP')) return new SharedQueueError(SharedQueueErrorCode.BAD_DATA, msg.slice(6), { cause: e });
  return new SharedQueueError(SharedQueueErrorCode.UNAVAILABLE, `shared queues: ${what} failed: ${msg}`, { cause: e });
}

async function quit(c: Redis | undefined): Promise<void> {
  if (!c) return;
  try {
    if (c.status === 'ready') await c.quit();
    else c.disconnect();
  } catch {
    c.disconnect();
  }
}

/** Validate a Redis URL (see `checkRedisUrl`); returns it normalised or throws `IMS_ERR_SQ_BAD_OPTION`. */
export function parseRedisUrl(url: string): string {
  const r = checkRedisUrl(url);
  if ('error' in r) throw new SharedQueueError(SharedQueueErrorCode.BAD_OPTION, `Redis URL ${r.error}`);
  return r.url;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
