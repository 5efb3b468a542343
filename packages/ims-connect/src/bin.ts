#!/usr/bin/env node
/**
 * `imsplex-ims-connect --config HWSCFG [--users FILE]` — run one IMS Connect.
 * `imsplex-ims-connect hash-password [PASSWORD]` — print a users-file hash (reads stdin if omitted).
 *
 * Operator commands are read from stdin, one per line (WTOR, MODIFY or type-2 spelling), and
 * answered on stdout. SIGTERM/SIGINT run CLOSEHWS QUIESCE; a second signal forces. Run as a child
 * with an IPC channel, it also serves connections handed off by the VIPA distributor (handoff.ts).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadHwsCfg } from './config/hwscfg.js';
import { acceptImsConnectHandoffs } from './handoff.js';
import { ImsConnectError } from './errors.js';
import { hashPassword, loadUsersFile } from './security.js';
import { ImsConnectServer } from './server.js';
import { startAdmin } from './admin.js';
import { VERSION } from './version.js';

function usage(): never {
  process.stderr.write('usage: imsplex-ims-connect --config HWSCFG [--users FILE]\n       imsplex-ims-connect hash-password [PASSWORD]\n');
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'hash-password') {
    const pw = argv[1] ?? readFileSync(0, 'utf8').trim();
    if (!pw) usage();
    process.stdout.write(hashPassword(pw) + '\n');
    return;
  }
  if (argv[0] === '--version') {
    process.stdout.write(VERSION + '\n');
    return;
  }
  let config: string | undefined;
  let users: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') config = argv[++i];
    else if (a.startsWith('--config=')) config = a.slice(9);
    else if (a === '--users') users = argv[++i];
    else usage();
  }
  if (!config) usage();
  const text = readFileSync(config, 'utf8');
  const pre = loadHwsCfg(text, config);
  const usersFile = users ?? pre.options.usersFile;
  const tls = pre.options.tls;
  const { options, warnings } = loadHwsCfg(text, config, {
    ...(usersFile ? { users: loadUsersFile(usersFile), usersFile } : {}),
    ...(tls ? { tls: { cert: readFileSync(String(tls.cert)), key: readFileSync(String(tls.key)), ...(tls.ca ? { ca: readFileSync(String(tls.ca)) } : {}) } } : {}),
    ...(pre.options.admin && !pre.options.admin.token && process.env.IMSPLEX_ADMIN_TOKEN ? { admin: { ...pre.options.admin, token: process.env.IMSPLEX_ADMIN_TOKEN } } : {}),
  });
  const server = new ImsConnectServer(options);
  for (const w of warnings) server.log.warn(w);
  await server.start();
  const admin = options.admin ? await startAdmin(server, options.admin) : undefined;
  if (admin) {
    const a = admin.address();
    server.log.info(`admin endpoint listening on ${options.admin!.host}:${typeof a === 'object' && a ? a.port : options.admin!.port}`);
  }
  const ports = options.ports.map((p) => server.boundPort(p.id));
  // Run as a child with an IPC channel (the stack supervisor): serve the connections the VIPA
  // distributor hands off (its HANDOFF data plane) like ones accepted here. Armed before 'ready'.
  const stopHandoffs = process.send ? acceptImsConnectHandoffs(server) : undefined;
  process.stdout.write(`HWSC0010I IMS CONNECT ${options.id} READY PORTS=${ports.join(',')}\n`);
  process.send?.({ type: 'ready', id: options.id, ports });

  let stopping = false;
  const stop = async (mode: 'QUIESCE' | 'FORCE') => {
    if (stopping && mode !== 'FORCE') return;
    stopping = true;
    stopHandoffs?.();
    await server.shutdown(mode);
    admin?.close();
    admin?.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop(stopping ? 'FORCE' : 'QUIESCE'));
  process.on('SIGINT', () => void stop(stopping ? 'FORCE' : 'QUIESCE'));

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    void server.command(line).then((lines) => {
      process.stdout.write(lines.join('\n') + '\n');
      if (server.health().state === 'closed') void stop('FORCE');
    });
  });
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`imsplex-ims-connect: ${e instanceof ImsConnectError ? e.message : (e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
