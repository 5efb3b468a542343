/**
 * The shared-queues Redis as a supervised box:
 *
 *   node --import guard.js redis-box.js -- <redis-server> <redis.conf>
 *
 * redis-server is not a Node process, so it cannot preload the guard that ends every other box when
 * the supervisor's IPC channel closes. This small wrapper holds that channel (and the guard) for it:
 * it runs redis-server as its child on the same stdout/stderr (the box's log file), passes SIGTERM,
 * SIGINT and SIGHUP on to it (redis-server then writes its append-only file and exits), exits with
 * redis-server's status, and kills redis-server with SIGKILL if it has to exit first (the guard's
 * forced exit). The supervisor starts it in a process group of its own and sends SIGKILL, SIGSTOP and
 * SIGCONT to the whole group, so `kill -9 REDIS` stops redis-server at once, as a crashed Coupling
 * Facility would.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const argv = process.argv.slice(2);
const args = argv[0] === '--' ? argv.slice(1) : argv;
const [server, ...serverArgs] = args;

if (!server) {
  process.stderr.write('usage: redis-box -- <redis-server> <redis.conf> [options]\n');
  process.exit(2);
}

const child = spawn(server, serverArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
let exiting = false;

child.once('error', (e) => {
  process.stderr.write(`redis-box: cannot run ${server}: ${e.message}\n`);
  exiting = true;
  process.exit(127);
});
child.once('exit', (code, signal) => {
  exiting = true;
  // The shell's convention for "ended by a signal".
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
});
// Whatever ends this process (the guard's forced exit, an uncaught error), redis-server goes too.
process.on('exit', () => {
  if (!exiting && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
}

export {};
