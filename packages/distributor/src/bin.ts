#!/usr/bin/env node
/**
 * imsplex-distributor --config FILE [--admin host:port] [--role primary|backup] [--stack SYS2]
 *                     [--xcf 127.0.1.2] [--rank 100] [--data-plane proxy|handoff] [--log-level info]
 *                     [--probe-events]
 *
 * Runs one stack's distributor. Operator commands are read from stdin, one per line, and their
 * output written to stdout; pino logs go to stderr. The admin user/password come from the
 * environment (IMSPLEX_ADMIN_USER, IMSPLEX_ADMIN_PASSWORD). When started with an IPC channel
 * (a supervisor's fork/spawn with 'ipc'), events are also sent to the parent as
 * `{ type: 'imsplex:event', event, data }`, and in handoff mode accepted sockets go to the parent.
 * The `probe` event (one per probe round, several a second) is sent only with --probe-events: each
 * message costs a pipe write here and a wake-up of the parent, and an idle stack should cost ~0.
 * Exit codes: 0 after SIGTERM/SIGINT, 2 for a bad command line or profile, 1 for a start failure.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Distributor, type DistributorEvents } from './distributor.js';
import { loadNativeSplice } from './dataplane/native.js';
import { ConfigError, DistributorError } from './errors.js';

const USAGE = 'usage: imsplex-distributor --config FILE [--admin host:port] [--role primary|backup] [--stack NAME] [--xcf ADDR] [--rank N] [--data-plane proxy|handoff] [--log-level LEVEL] [--probe-events]';

function die(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      config: { type: 'string' },
      admin: { type: 'string' },
      role: { type: 'string' },
      stack: { type: 'string' },
      xcf: { type: 'string' },
      rank: { type: 'string' },
      'data-plane': { type: 'string' },
      'log-level': { type: 'string' },
      'probe-events': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (e) {
  die(`${(e as Error).message}\n${USAGE}`);
}
const v = args.values;
if (v.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!v.config) die(`--config is required\n${USAGE}`);
if (v.role !== undefined && v.role !== 'primary' && v.role !== 'backup') die(`--role must be primary or backup\n${USAGE}`);
if (v['data-plane'] !== undefined && v['data-plane'] !== 'proxy' && v['data-plane'] !== 'handoff') die(`--data-plane must be proxy or handoff\n${USAGE}`);
let admin: { host: string; port: number; user?: string; password?: string } | undefined;
if (v.admin) {
  const m = /^([\d.]+):(\d{1,5})$/.exec(v.admin);
  if (!m) die(`--admin must be host:port, got ${v.admin}`);
  admin = { host: m[1]!, port: Number(m[2]), user: process.env.IMSPLEX_ADMIN_USER ?? 'admin', ...(process.env.IMSPLEX_ADMIN_PASSWORD ? { password: process.env.IMSPLEX_ADMIN_PASSWORD } : {}) };
}
let text: string;
try {
  text = readFileSync(v.config, 'utf8');
} catch (e) {
  die(`cannot read ${v.config}: ${(e as Error).message}`);
}

const logger = pino({ name: 'imsplex-distributor', level: v['log-level'] ?? 'info' }, pino.destination(2));
let d: Distributor;
try {
  d = new Distributor({
    config: text,
    configName: v.config,
    ...(v.role ? { role: v.role as 'primary' | 'backup' } : {}),
    ...(v.stack ? { stackName: v.stack } : {}),
    ...(v.xcf ? { xcf: v.xcf } : {}),
    ...(v.rank ? { rank: Number(v.rank) } : {}),
    ...(v['data-plane'] ? { dataPlane: v['data-plane'] as 'proxy' | 'handoff' } : {}),
    ...(admin ? { admin } : {}),
    logger,
  });
} catch (e) {
  if (e instanceof ConfigError) die(e.message);
  if (e instanceof DistributorError) die(`${e.code}: ${e.message}`);
  throw e;
}

const EVENTS: (keyof DistributorEvents)[] = ['target:up', 'target:down', 'target:quiesced', 'target:resumed', 'active:switch', 'connection:routed', 'connection:closed', 'connection:rejected', 'vipa:acquired', 'vipa:released', 'vipa:takeback-requested', 'warning'];
if (v['probe-events']) EVENTS.push('probe');
if (typeof process.send === 'function') {
  for (const event of EVENTS) {
    d.on(event, (data: unknown) => {
      if (process.connected) process.send!({ type: 'imsplex:event', event, data });
    });
  }
}

let signals = 0;
const shutdown = (sig: string): void => {
  signals++;
  logger.info({ signal: sig }, 'shutting down');
  const p = signals === 1 ? d.close() : d.destroy();
  void p.then(() => process.exit(0));
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('disconnect', () => undefined);

d.start().then(
  () => {
    // splice: the proxy data plane's implementation (native C I/O thread, or the JS direct/stream paths).
    const native = d.spliceMode !== null && d.spliceMode !== 'native' ? { nativeUnavailable: loadNativeSplice().reason } : {};
    logger.info({ stack: d.options.stackName, xcf: d.options.xcf, dataPlane: d.options.dataPlane, splice: d.spliceMode, ...native, admin: d.adminAddress, heartbeat: d.heartbeatPort }, 'distributor started');
    if (typeof process.send === 'function' && process.connected) process.send({ type: 'imsplex:event', event: 'started', data: { xcf: d.options.xcf, admin: d.adminAddress, heartbeat: d.heartbeatPort, splice: d.spliceMode } });
  },
  (e: Error) => {
    logger.error({ err: e }, 'start failed');
    process.exit(1);
  },
);

const rl = createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  const r = d.command(line);
  process.stdout.write(r.lines.join('\n') + '\n');
});
