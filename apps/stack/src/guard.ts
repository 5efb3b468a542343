/**
 * Preloaded into every box the supervisor starts (`node --import …/guard.js <bin>`): when the
 * supervisor's IPC channel closes — the supervisor ended, even by SIGKILL — the box shuts itself down
 * (SIGTERM to itself, forced exit after 5 s), so no box outlives its supervisor.
 */
const FORCE_EXIT_MS = 5000;

if (typeof process.send === 'function') {
  process.once('disconnect', () => {
    setTimeout(() => process.exit(1), FORCE_EXIT_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}

export {};
