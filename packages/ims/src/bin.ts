#!/usr/bin/env node
/**
 * imsplex-ims — run one IMS system.
 *
 *   imsplex-ims [--config FILE] [--data DIR] [--link-port N] [--admin-port N] [--log-level LEVEL]
 *
 * Without --config the built-in sample system is used; without --data nothing is journaled. Logs are
 * pino JSON lines on stdout; the "IMS system ready" line carries the link and admin addresses.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { isImsplexError } from '@imsplex/codec';
import { ImsSystem } from './ims-system.js';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        data: { type: 'string', short: 'd' },
        'link-port': { type: 'string' },
        'admin-port': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`imsplex-ims: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write('usage: imsplex-ims [--config FILE] [--data DIR] [--link-port N] [--admin-port N] [--log-level info]\n');
    return 0;
  }
  const port = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`--${name} must be a port number, got '${v}'`);
    return Number(v);
  };
  const logger = pino({ level: values['log-level'] ?? 'info', base: { box: 'ims' } });
  let sys: ImsSystem;
  try {
    sys = await ImsSystem.start({
      configFile: values.config,
      dataDir: values.data,
      linkPort: port(values['link-port'], 'link-port'),
      adminPort: port(values['admin-port'], 'admin-port'),
      logger,
      defaultMetrics: true,
    });
  } catch (e) {
    const msg = isImsplexError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
    process.stderr.write(`imsplex-ims: ${msg}\n`);
    return 1;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    sys.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('disconnect'));
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`imsplex-ims: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
