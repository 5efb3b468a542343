/**
 * `imsplex-stack` commands:
 *
 *   up [--topology FILE] [--single-host] [--data-dir DIR] [--dashboard HOST:PORT] [--runtime dist|source]
 *   status | kill BOX [--signal SIG] | restart BOX | drain BOX | resume BOX | cmd BOX COMMAND… [--data-dir DIR]
 *   topology [FILE]          validate a topology (default: print the built-in one)
 *   generate [--topology FILE] [--data-dir DIR] [--single-host]   write every box's configuration only
 *
 * The commands other than `up` talk to a running supervisor through `<data-dir>/supervisor.json`.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isImsplexError } from '@imsplex/codec';
import { writeConfigs, configPaths } from './configs.js';
import { startDashboard, type Dashboard } from './dashboard.js';
import { StackError, StackErrorCode } from './errors.js';
import { aliasCommands, unbindableAddresses } from './hosts.js';
import { authHeader, httpCall } from './http.js';
import { endpoints, Supervisor, type StackSnapshot } from './supervisor.js';
import { DEFAULT_TOPOLOGY, parseTopology, toSingleHost, type Topology } from './topology.js';

/** Where the commands write (injectable for tests). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Path of the sample REST call printed by `up` (the IVTNO phone-book API of @imsplex/zos-connect). */
export const SAMPLE_REST_PATH = '/phonebook/LAST1';

const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

interface TopologyFlags {
  topology?: string;
  dataDir?: string;
  dashboard?: string;
  singleHost?: boolean;
}

/** Loads the topology (file or built-in) and applies the command-line overrides. */
export function loadTopology(flags: TopologyFlags): { topology: Topology; notes: string[] } {
  const text = flags.topology ? readFileSync(flags.topology, 'utf8') : DEFAULT_TOPOLOGY;
  let t = parseTopology(text, flags.topology ?? '<default topology>');
  if (flags.dataDir) t = { ...t, dataDir: flags.dataDir };
  if (flags.dashboard) {
    const m = /^([\d.]+):(\d{1,5})$/.exec(flags.dashboard);
    if (!m) throw new StackError(StackErrorCode.BAD_REQUEST, `--dashboard must be host:port, got ${flags.dashboard}`);
    t = { ...t, dashboard: { host: m[1]!, port: Number(m[2]) } };
  }
  if (flags.singleHost) {
    const mapped = toSingleHost(t);
    return { topology: mapped.topology, notes: [...mapped.notes] };
  }
  return { topology: t, notes: [] };
}

function readSupervisorFile(dataDir: string): { dashboard: string; token: string } {
  const file = configPaths(dataDir).supervisorFile;
  let j: { dashboard?: unknown; token?: unknown };
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as typeof j;
  } catch (e) {
    throw new StackError(StackErrorCode.BAD_STATE, `no running stack found (${file}: ${(e as Error).message}); start one with "imsplex-stack up"`, { cause: e });
  }
  if (typeof j.dashboard !== 'string' || typeof j.token !== 'string') throw new StackError(StackErrorCode.BAD_STATE, `${file} does not name a dashboard and token`);
  return { dashboard: j.dashboard, token: j.token };
}

async function api(dataDir: string, method: 'GET' | 'POST', path: string, body?: string): Promise<unknown> {
  const s = readSupervisorFile(dataDir);
  const r = await httpCall(s.dashboard + path, { method, headers: { authorization: authHeader({ scheme: 'bearer', token: s.token }) }, ...(body !== undefined ? { body } : {}), timeoutMs: 60_000 });
  const j = JSON.parse(r.body) as { error?: string; code?: string };
  if (r.status >= 400) throw new StackError((j.code as StackErrorCode) ?? StackErrorCode.COMMAND, j.error ?? `HTTP ${r.status}`);
  return j;
}

/** Renders the box table of a snapshot. */
export function formatStatus(s: StackSnapshot): string {
  const rows = [['BOX', 'KIND', 'HOST', 'STATE', 'PID', 'REQ/S', 'RESTARTS']];
  for (const b of s.boxes) rows.push([b.name, b.kind, `${b.host} ${b.address}`, b.state + (b.quiesced ? ' (quiesced)' : ''), String(b.pid ?? ''), b.rps.toFixed(1), String(b.restarts)]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd());
  const sq = s.sharedQueues ? `shared queues: group ${s.sharedQueues.group} on ${s.sharedQueues.box ? `${s.sharedQueues.box} (${s.sharedQueues.url})` : s.sharedQueues.url}\n` : '';
  return `stack ${s.state} · VIPA ${s.vipa} owned by ${s.vipaOwner ?? 'nobody'} · ${s.dataPlane} data plane\n${sq}${lines.join('\n')}\n`;
}

/** Builds the program. `onUp` receives the running stack (tests stop it themselves). */
export function buildProgram(io: Io = processIo, hooks: { onUp?: (s: Supervisor, d: Dashboard) => void; handleSignals?: boolean } = {}): Command {
  const program = new Command('imsplex-stack');
  program
    .description('Run the imsplex high-availability stack: every box its own process, a live dashboard, drills')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program
    .command('up')
    .description('start the whole topology, wait for every health endpoint, serve the dashboard; Ctrl-C stops everything')
    .option('-t, --topology <file>', 'topology file (default: the built-in seed topology)')
    .option('--single-host', 'map every host and the VIPA onto 127.0.0.1 with distinct ports')
    .option('-d, --data-dir <dir>', 'data folder (journals, generated configs, logs)')
    .option('--dashboard <host:port>', 'where the dashboard listens')
    .option('--runtime <runtime>', 'dist (built bins) or source (TypeScript through tsx)', 'dist')
    .option('--log-level <level>', 'log level of the boxes', 'info')
    .action(async (o: TopologyFlags & { runtime: string; logLevel: string }) => {
      const { topology, notes } = loadTopology(o);
      if (!topology.singleHost) {
        const missing = await unbindableAddresses(topology);
        if (missing.length > 0) {
          io.err(`These loopback addresses cannot be bound on this machine: ${missing.join(', ')}\n`);
          io.err(`Add them (then run again):\n  ${aliasCommands(missing).join('\n  ')}\n`);
          io.err('or run every box on 127.0.0.1 with distinct ports: imsplex-stack up --single-host\n');
          throw new StackError(StackErrorCode.HOSTS_UNAVAILABLE, `cannot bind ${missing.join(', ')}`);
        }
      }
      for (const n of notes) io.out(`single-host: ${n}\n`);
      if (o.runtime !== 'dist' && o.runtime !== 'source') throw new StackError(StackErrorCode.BAD_REQUEST, '--runtime must be dist or source');
      const sup = new Supervisor({ topology, runtime: o.runtime, log: (l) => io.out(l + '\n'), logLevel: o.logLevel });
      const dash = await startDashboard(sup, { host: topology.dashboard.host, port: topology.dashboard.port, token: sup.secret });
      sup.setDashboardUrl(dash.url);
      let stopping: Promise<void> | null = null;
      const stop = (): Promise<void> =>
        (stopping ??= (async () => {
          io.out('stopping every box…\n');
          await dash.close();
          await sup.stop();
        })());
      if (hooks.handleSignals !== false) {
        const onSignal = (): void => {
          void stop().then(() => process.exit(0));
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      }
      try {
        await sup.start();
      } catch (e) {
        await stop();
        throw e;
      }
      const rest = topology.distributes.find((d) => d.targets === 'zosconnect');
      io.out('\nThe stack is up.\n');
      io.out(`  dashboard      ${dash.url}\n`);
      for (const e of endpoints(topology)) io.out(`  ${e.name.padEnd(28)} ${e.url}\n`);
      io.out(`  data folder    ${configPaths(topology.dataDir).dataDir}\n`);
      if (rest) io.out(`\nTry:\n  curl http://${topology.vipa}:${rest.port}${SAMPLE_REST_PATH}\n`);
      io.out('\nCtrl-C stops every box.\n');
      hooks.onUp?.(sup, dash);
    });

  program
    .command('topology [file]')
    .description('validate a topology file (without a file: print the built-in seed topology)')
    .action((file?: string) => {
      if (!file) {
        io.out(DEFAULT_TOPOLOGY);
        return;
      }
      const t = parseTopology(readFileSync(file, 'utf8'), file);
      io.out(`${file}: OK — ${t.hosts.length} hosts, ${t.boxes.length} boxes, VIPA ${t.vipa} ports ${t.distributes.map((d) => d.port).join(', ')}\n`);
    });

  program
    .command('generate')
    .description("write every box's configuration into the data folder, without starting anything")
    .option('-t, --topology <file>', 'topology file')
    .option('--single-host', 'map every host onto 127.0.0.1')
    .option('-d, --data-dir <dir>', 'data folder')
    .action((o: TopologyFlags) => {
      const { topology } = loadTopology(o);
      const w = writeConfigs(topology);
      for (const f of w.files) io.out(`wrote ${f}\n`);
      for (const x of w.warnings) io.err(`warning: ${x}\n`);
    });

  const dataDirOption = (c: Command): Command => c.option('-d, --data-dir <dir>', 'data folder of the running stack', './.data/stack');
  dataDirOption(program.command('status').description('show the state of every box of the running stack')).action(async (o: { dataDir: string }) => {
    io.out(formatStatus((await api(o.dataDir, 'GET', '/api/state')) as StackSnapshot));
  });
  dataDirOption(program.command('kill <box>').description('kill a box (default SIGKILL, i.e. kill -9)').option('-s, --signal <signal>', 'signal', 'SIGKILL')).action(async (box: string, o: { dataDir: string; signal: string }) => {
    await api(o.dataDir, 'POST', `/api/boxes/${encodeURIComponent(box)}/kill?signal=${encodeURIComponent(o.signal)}`);
    io.out(`${box} killed (${o.signal})\n`);
  });
  for (const [name, action, what] of [
    ['restart', 'restart', 'restart a box and wait for its health endpoint'],
    ['drain', 'quiesce', 'quiesce a box for maintenance (VARY TCPIP,,SYSPLEX,QUIESCE / STOPDS / DEACTIVATE)'],
    ['resume', 'resume', 'undo drain'],
  ] as const) {
    dataDirOption(program.command(`${name} <box>`).description(what)).action(async (box: string, o: { dataDir: string }) => {
      const r = (await api(o.dataDir, 'POST', `/api/boxes/${encodeURIComponent(box)}/${action}`)) as { lines?: string[] };
      for (const l of r.lines ?? []) io.out(l + '\n');
      io.out(`${box}: ${name} done\n`);
    });
  }
  dataDirOption(program.command('cmd <box> <command...>').description("send an operator command to a box's admin endpoint")).action(async (box: string, words: string[], o: { dataDir: string }) => {
    const r = (await api(o.dataDir, 'POST', `/api/boxes/${encodeURIComponent(box)}/command`, words.join(' '))) as { lines: string[] };
    io.out(r.lines.join('\n') + '\n');
  });
  return program;
}

/** Runs the CLI; returns the exit code (errors are printed, never thrown). */
export async function run(argv: readonly string[], io: Io = processIo, hooks: Parameters<typeof buildProgram>[1] = {}): Promise<number> {
  const program = buildProgram(io, hooks);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isImsplexError(e)) {
      if (e.code !== StackErrorCode.HOSTS_UNAVAILABLE) io.err(`${e.code}: ${e.message}\n`);
      return e.code === StackErrorCode.TOPOLOGY || e.code === StackErrorCode.HOSTS_UNAVAILABLE ? 2 : 1;
    }
    io.err(`${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
