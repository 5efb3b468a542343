#!/usr/bin/env node
/**
 * imsplex-zos-connect --config DIR [--host H] [--port P] [--admin HOST:PORT] [--name NAME] [--log-level LEVEL]
 *                     [--request-log all|errors|off]
 *
 * Starts a z/OS Connect server from a configuration directory. SIGTERM / SIGINT stop it gracefully
 * (new requests get 503, in-flight ones finish). With an IPC channel (started by the stack
 * supervisor) it reports `{ type: 'imsplex:event', event: 'started' | 'stopped', data }` and accepts
 * handed-off connections from the VIPA distributor's handoff data plane.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { acceptHandoffs } from './handoff.js';
import { createZosConnectServer, type RequestLogMode } from './server.js';

const USAGE = 'usage: imsplex-zos-connect --config DIR [--host H] [--port P] [--admin HOST:PORT] [--name NAME] [--log-level LEVEL] [--request-log all|errors|off]';

function die(message: string): never {
  process.stderr.write(`imsplex-zos-connect: ${message}\n`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  values = parseArgs({
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      admin: { type: 'string' },
      name: { type: 'string' },
      'log-level': { type: 'string' },
      'request-log': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  }).values;
} catch (e) {
  die(`${(e as Error).message}\n${USAGE}`);
}
if (values['help']) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const configDir = values['config'] as string | undefined;
if (!configDir) die(`--config is required\n${USAGE}`);
const portText = values['port'] as string | undefined;
if (portText !== undefined && !/^\d{1,5}$/.test(portText)) die(`--port must be a number from 0 to 65535\n${USAGE}`);
let admin: { host: string; port: number } | undefined;
if (values['admin'] !== undefined) {
  const m = /^(.+):(\d{1,5})$/.exec(values['admin'] as string);
  if (!m || Number(m[2]) > 65535) die(`--admin must be HOST:PORT\n${USAGE}`);
  admin = { host: m[1]!, port: Number(m[2]) };
}
const level = (values['log-level'] as string | undefined) ?? 'info';
if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) die(`--log-level must be fatal, error, warn, info, debug, trace or silent`);
const requestLog = (values['request-log'] as string | undefined) ?? 'errors';
if (!['all', 'errors', 'off'].includes(requestLog)) die(`--request-log must be all, errors or off\n${USAGE}`);
const name = values['name'] as string | undefined;
// Asynchronous stdout: log lines written in the same tick go out in one write, and a busy server does
// not wait on the pipe. Flushed before exiting.
const destination = pino.destination({ dest: 1, sync: false });
const logger = pino({ level, base: { pid: process.pid, ...(name ? { server: name } : {}) } }, destination);
const exit = (code: number): never => {
  try {
    destination.flushSync();
  } catch {
    // nothing left to write, or stdout is gone
  }
  process.exit(code);
};

const send = (event: string, data: unknown): void => {
  if (typeof process.send === 'function' && process.connected) process.send({ type: 'imsplex:event', event, data });
};

let server: ReturnType<typeof createZosConnectServer>;
try {
  server = createZosConnectServer({
    config: configDir,
    logger,
    requestLog: requestLog as RequestLogMode,
    ...(values['host'] !== undefined ? { host: values['host'] as string } : {}),
    ...(portText !== undefined ? { port: Number(portText) } : {}),
    ...(admin ? { admin } : {}),
    ...(name ? { name } : {}),
  });
} catch (e) {
  // Configuration problems: one `file:line: key: what` per line.
  die((e as Error).message);
}

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  server
    .stop()
    .then(() => {
      send('stopped', {});
      exit(0);
    })
    .catch((e: unknown) => {
      logger.error({ err: e }, 'stop failed');
      exit(1);
    });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('disconnect', () => stop('disconnect'));

server
  .start()
  .then((info) => {
    if (typeof process.send === 'function') acceptHandoffs(server.app.server);
    send('started', { url: info.url, admin: info.adminUrl });
    process.stdout.write(`imsplex-zos-connect listening on ${info.url}${info.adminUrl ? ` (admin ${info.adminUrl})` : ''}\n`);
  })
  .catch((e: unknown) => {
    logger.fatal({ err: e }, 'start failed');
    process.stderr.write(`imsplex-zos-connect: ${(e as Error).message}\n`);
    exit(1);
  });
