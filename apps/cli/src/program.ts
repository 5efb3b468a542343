/**
 * The `imsplex` command line (commander). Every command runs in-process through {@link run} with an
 * injectable {@link Io}, so tests drive it without spawning anything.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, Option } from 'commander';
import { isImsplexError } from '@imsplex/codec';
import { formatKills, defaultVictims, runChaos } from './chaos.js';
import { decodeBytes, formatDecoded, type DecodeAs } from './decode.js';
import { runDemo } from './demo.js';
import { CliError, CliErrorCode } from './errors.js';
import { parseHex } from './hex.js';
import { formatLoadResult, imsConnectTarget, restTarget, runLoad, type LoadTarget } from './load.js';
import { isCapture, tcpStreams } from './pcap.js';
import { SEND_TYPES, sendCommand, type SendOptions } from './send.js';
import { findStack, stackApi, type StackState } from './stack.js';

/** Where the command writes, and what it reads as stdin (injectable for tests). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdin contents, read lazily (default: the process's stdin). */
  stdin?(): Promise<Uint8Array>;
  /** Stream for the progress bar (default process.stderr when it is a TTY). */
  progress?: NodeJS.WritableStream | null;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Uint8Array.from(Buffer.concat(chunks));
  },
  progress: process.stderr.isTTY ? process.stderr : null,
};

/** Parses `500ms`, `10s`, `2m` or plain milliseconds. */
export function parseDuration(v: string, label = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new CliError(CliErrorCode.BAD_OPTION, `${label} must look like 500ms, 10s or 2m; got ${v}`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n);
}

function intOption(v: string, label: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new CliError(CliErrorCode.BAD_OPTION, `${label} must be an integer from ${min} to ${max}; got ${v}`);
  return Number(v);
}

function hostPort(v: string, label: string): { host: string; port: number } {
  const m = /^([^:]+):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new CliError(CliErrorCode.BAD_OPTION, `${label} must be host:port; got ${v}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Builds the program. */
export function buildProgram(io: Io = processIo, result: { code: number } = { code: 0 }): Command {
  const program = new Command('imsplex');
  program
    .description('imsplex: send IMS transactions, decode captures, run loads and chaos drills, issue operator commands')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program
    .command('demo')
    .description("decode the spec's sample SAMPL1 message (IVTNO) and its reply — a quick smoke test")
    .action(() => {
      const r = runDemo();
      io.out(r.text);
      if (!r.ok) throw new CliError(CliErrorCode.UNDECODABLE, 'the re-encoded bytes differ from the spec');
    });

  program
    .command('decode [file]')
    .description('decode a hex dump or a pcap/pcapng capture into IRM requests, replies and OTMA messages (file or stdin)')
    .option('-x, --hex <hex>', 'the hex dump inline instead of a file')
    .addOption(new Option('--as <kind>', 'what the bytes are').choices(['auto', 'request', 'reply', 'reply0', 'xcf', 'otma']).default('auto'))
    .option('--raw', 'the file holds raw bytes, not a hex dump')
    .option('--code-page <page>', 'EBCDIC code page of the text', 'cp037')
    .option('--show-hex', 'print each structure as hex too')
    .action(async (file: string | undefined, o: { hex?: string; as: DecodeAs; raw?: boolean; codePage: string; showHex?: boolean }) => {
      let input: Uint8Array;
      if (o.hex !== undefined) input = new TextEncoder().encode(o.hex);
      else if (file) input = Uint8Array.from(readFileSync(file));
      else if (io.stdin) input = await io.stdin();
      else throw new CliError(CliErrorCode.BAD_OPTION, 'give a file, --hex or stdin');
      const fmt = { codePage: o.codePage, ...(o.showHex ? { hex: true } : {}) };
      if (o.hex === undefined && isCapture(input)) {
        const streams = tcpStreams(input);
        if (streams.length === 0) throw new CliError(CliErrorCode.UNDECODABLE, 'the capture holds no TCP payload');
        let failures = 0;
        for (const s of streams) {
          io.out(`== ${s.src}:${s.srcPort} → ${s.dst}:${s.dstPort} (${s.bytes.length} bytes)\n`);
          try {
            for (const d of decodeBytes(s.bytes, { as: o.as, codePage: o.codePage })) io.out(formatDecoded(d, fmt) + '\n');
          } catch (e) {
            if (!isImsplexError(e)) throw e;
            failures++;
            io.out(`  ${e.code}: ${e.message.split('\n').join('\n  ')}\n`);
          }
        }
        if (failures === streams.length) throw new CliError(CliErrorCode.UNDECODABLE, 'no stream of the capture could be decoded');
        return;
      }
      const bytes = o.raw ? input : parseHex(new TextDecoder().decode(input));
      for (const d of decodeBytes(bytes, { as: o.as, codePage: o.codePage })) io.out(formatDecoded(d, fmt) + '\n');
    });

  program
    .command('send')
    .description('send one transaction (or any other interaction) to an IMS Connect and print the decoded reply')
    .requiredOption('-c, --connect <host:port>', 'IMS Connect address (e.g. the VIPA 127.0.0.100:5801)')
    .addOption(new Option('--type <type>', 'interaction').choices([...SEND_TYPES]).default('send-receive'))
    .option('-t, --trancode <code>', 'transaction code')
    .option('-D, --data <text>', 'input data after the trancode')
    .option('--data-hex <hex>', 'input data as hex bytes (sent as-is)')
    .option('--datastore <id>', 'datastore ID (IRM_IMSDESTID)')
    .addOption(new Option('--exit <id>', 'user message exit').choices(['SAMPL1', 'SAMPLE']))
    .option('--code-page <page>', 'EBCDIC code page')
    .addOption(new Option('--commit-mode <n>', 'commit mode: 0 commit-then-send, 1 send-then-commit').choices(['0', '1']))
    .addOption(new Option('--sync-level <level>', 'sync level').choices(['none', 'confirm']))
    .option('--timer <t>', 'IRM timer: ms or 10s, default, nowait, forever')
    .addOption(new Option('--socket-type <type>', 'IRM_SOCT').choices(['transaction', 'persistent', 'non-persistent']))
    .option('--client-id <id>', 'client ID (IRM_CLIENTID)')
    .option('--lterm <name>', 'LTERM override')
    .option('--user <id>', 'RACF user ID')
    .option('--group <name>', 'RACF group')
    .option('--password <pw>', 'RACF password or PassTicket')
    .option('--appl-name <name>', 'RACF application name (PassTickets)')
    .option('--mod-name <name>', 'MFS MOD name to pass (IRM_MODNAME)')
    .option('--return-mod', 'ask for the MOD name (*REQMOD*)')
    .option('--return-client-id', 'ask for the client ID (*GENCID*)')
    .option('--reroute <tpipe>', 'reroute undeliverable CM0 output to this tpipe')
    .option('--purge', 'purge undeliverable CM0 output')
    .option('--cancel-client-id', 'cancel another session using this client ID')
    .option('--arch <n>', 'IRM architecture level 0-5')
    .option('--nak', 'answer output that needs an ACK with a NAK')
    .addOption(new Option('--resume-mode <mode>', 'RESUME TPIPE option').choices(['single', 'single-wait', 'no-auto', 'auto']))
    .option('--alt-client-id <id>', 'RESUME TPIPE alternate client ID')
    .option('--max-messages <n>', 'RESUME TPIPE: stop after n messages', '100')
    .option('--local-address <addr>', 'source address (e.g. 127.0.1.1 to look like SYS1 for OPTLOCAL)')
    .option('--response-timeout <t>', 'client wait for the reply (e.g. 30s)')
    .option('--tls', 'connect with TLS')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const hp = hostPort(String(o.connect), '--connect');
      const opts: SendOptions = {
        ...hp,
        type: o.type as SendOptions['type'],
        ...(o.trancode ? { trancode: String(o.trancode) } : {}),
        ...(o.data !== undefined ? { data: String(o.data) } : {}),
        ...(o.dataHex !== undefined ? { dataHex: String(o.dataHex) } : {}),
        ...(o.datastore ? { datastore: String(o.datastore) } : {}),
        ...(o.exit ? { exit: o.exit as 'SAMPL1' | 'SAMPLE' } : {}),
        ...(o.codePage ? { codePage: String(o.codePage) } : {}),
        ...(o.commitMode ? { commitMode: Number(o.commitMode) as 0 | 1 } : {}),
        ...(o.syncLevel ? { syncLevel: o.syncLevel as 'none' | 'confirm' } : {}),
        ...(o.timer ? { timer: String(o.timer) } : {}),
        ...(o.socketType ? { socketType: o.socketType as SendOptions['socketType'] & string } : {}),
        ...(o.clientId ? { clientId: String(o.clientId) } : {}),
        ...(o.lterm ? { lterm: String(o.lterm) } : {}),
        ...(o.user ? { user: String(o.user) } : {}),
        ...(o.group ? { group: String(o.group) } : {}),
        ...(o.password ? { password: String(o.password) } : {}),
        ...(o.applName ? { applName: String(o.applName) } : {}),
        ...(o.modName ? { modName: String(o.modName) } : {}),
        ...(o.returnMod ? { returnMod: true } : {}),
        ...(o.returnClientId ? { returnClientId: true } : {}),
        ...(o.reroute ? { reroute: String(o.reroute) } : {}),
        ...(o.purge ? { purge: true } : {}),
        ...(o.cancelClientId ? { cancelClientId: true } : {}),
        ...(o.arch !== undefined ? { arch: intOption(String(o.arch), '--arch', 0, 5) as 0 | 1 | 2 | 3 | 4 | 5 } : {}),
        ...(o.nak ? { nak: true } : {}),
        ...(o.resumeMode ? { resumeMode: o.resumeMode as SendOptions['resumeMode'] & string } : {}),
        ...(o.altClientId ? { altClientId: String(o.altClientId) } : {}),
        maxMessages: intOption(String(o.maxMessages), '--max-messages', 1, 100_000),
        ...(o.localAddress ? { localAddress: String(o.localAddress) } : {}),
        ...(o.responseTimeout ? { responseTimeout: parseDuration(String(o.responseTimeout), '--response-timeout') } : {}),
        ...(o.tls ? { tls: true } : {}),
      };
      const r = await sendCommand(opts);
      io.out(r.text);
      if (!r.ok) result.code = 1;
    });

  program
    .command('load')
    .description('run a bounded REST or IMS Connect load with a progress bar and a latency summary')
    .option('--rest <url>', 'REST URL ({id} is replaced by the request id)')
    .option('--ims <host:port>', 'IMS Connect address')
    .option('-n, --count <n>', 'number of requests')
    .option('-d, --duration <t>', 'run time (e.g. 10s)')
    .option('-C, --concurrency <n>', 'concurrent requests', '4')
    .option('-t, --trancode <code>', 'IMS transaction code', 'ECHO')
    .option('-D, --data <text>', 'IMS input data ({id} replaced)', '{id}')
    .option('--datastore <id>', 'IMS datastore ID', 'IMS1')
    .addOption(new Option('--commit-mode <n>', 'IMS commit mode').choices(['0', '1']).default('1'))
    .addOption(new Option('--socket-type <type>', 'IMS Connect socket type (transaction: a new connection per request)').choices(['transaction', 'persistent', 'non-persistent']).default('persistent'))
    .option('--method <m>', 'REST method')
    .option('--body <text>', 'REST body ({id} replaced)')
    .option('--local-address <addr>', 'source address')
    .option('--progress', 'show the progress bar even when stderr is not a terminal')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const target = makeTarget(o);
      const count = o.count !== undefined ? intOption(String(o.count), '--count', 1, 10_000_000) : undefined;
      const durationMs = o.duration !== undefined ? parseDuration(String(o.duration)) : undefined;
      if (count === undefined && durationMs === undefined) throw new CliError(CliErrorCode.BAD_OPTION, 'give --count or --duration (a load is always bounded)');
      const stream = io.progress ?? (o.progress ? process.stderr : null);
      const bar = stream ? new SingleBar({ stream, format: 'load [{bar}] {percentage}% | {value}/{total} | ok {ok} failed {failed} in doubt {doubt}', noTTYOutput: true, notTTYSchedule: 1000 }) : null;
      const total = count ?? Math.ceil((durationMs ?? 0) / 100);
      let ok = 0;
      let failed = 0;
      let doubt = 0;
      const t0 = Date.now();
      bar?.start(total, 0, { ok, failed, doubt });
      try {
        const r = await runLoad({
          target,
          ...(count !== undefined ? { count } : {}),
          ...(durationMs !== undefined ? { durationMs } : {}),
          concurrency: intOption(String(o.concurrency), '--concurrency', 1, 256),
          onResult: (rec) => {
            if (rec.outcome.kind === 'succeeded') ok++;
            else if (rec.outcome.kind === 'failed') failed++;
            else doubt++;
            const done = count !== undefined ? ok + failed + doubt : Math.min(total, Math.floor((Date.now() - t0) / 100));
            bar?.update(done, { ok, failed, doubt });
          },
        });
        bar?.update(total, { ok, failed, doubt });
        bar?.stop();
        io.out(formatLoadResult(r));
        if (r.succeeded === 0) result.code = 1;
      } finally {
        bar?.stop();
        await target.close();
      }
    });

  program
    .command('chaos')
    .description('kill -9 and restart boxes of a running stack under load; print sent, succeeded, failed, in doubt, lost, duplicated')
    .option('--data-dir <dir>', 'data folder of the running stack', './.data/stack')
    .option('--kill <boxes>', 'boxes to kill, in order, comma-separated (default: one IMS Connect, one z/OS Connect, the VIPA owner, one IMS)')
    .addOption(new Option('--via <what>', 'load through REST (z/OS Connect) or IMS Connect').choices(['rest', 'ims']).default('ims'))
    .option('--path <path>', 'REST path ({id} is replaced by the request id)', '/phonebook/LAST1')
    .option('-t, --trancode <code>', 'IMS transaction code', 'ECHO')
    .option('--datastore <id>', 'IMS datastore ID', 'IMS1')
    .addOption(new Option('--commit-mode <n>', 'IMS commit mode (0: in-doubt output is recovered with RESUME TPIPE)').choices(['0', '1']).default('0'))
    .option('--down <t>', 'time a killed box stays down', '2s')
    .option('--settle <t>', 'load after each restart', '3s')
    .option('--warmup <t>', 'load before the first kill', '2s')
    .option('-C, --concurrency <n>', 'concurrent requests', '4')
    .action(async (o: Record<string, string | undefined>) => {
      const stack = findStack(o.dataDir);
      const state = await stackApi<StackState>(stack, 'GET', '/api/state');
      const kill = o.kill ? o.kill.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean) : defaultVictims(state);
      const port = state.distributes.find((d) => d.targets === (o.via === 'rest' ? 'zosconnect' : 'imsconnect'))?.port;
      if (!port) throw new CliError(CliErrorCode.STACK, `the stack distributes no ${o.via === 'rest' ? 'z/OS Connect' : 'IMS Connect'} port`);
      const target =
        o.via === 'rest'
          ? restTarget({ url: `http://${state.vipa}:${port}${o.path}` })
          : imsConnectTarget({
              host: state.vipa,
              port,
              trancode: String(o.trancode),
              datastore: String(o.datastore),
              commitMode: Number(o.commitMode) as 0 | 1,
              // A new connection per request: the VIPA distributes every request.
              socketType: 'transaction',
              recoverEndpoints: state.boxes.filter((b) => b.kind === 'imsconnect' && b.protocolPort).map((b) => ({ host: b.address, port: b.protocolPort! })),
            });
      try {
        const r = await runChaos({
          stack,
          target,
          kill,
          warmupMs: parseDuration(String(o.warmup), '--warmup'),
          downMs: parseDuration(String(o.down), '--down'),
          settleMs: parseDuration(String(o.settle), '--settle'),
          concurrency: intOption(String(o.concurrency), '--concurrency', 1, 256),
          log: (l) => io.err(l + '\n'),
        });
        io.out(formatLoadResult(r.load));
        io.out(formatKills(r.kills));
      } finally {
        await target.close();
      }
    });

  program
    .command('cmd <box> <command...>')
    .description("send an operator command to a box of a running stack (or, with --url, to any box's admin endpoint)")
    .option('--data-dir <dir>', 'data folder of the running stack', './.data/stack')
    .option('--url <url>', "the box's admin endpoint (e.g. http://127.0.1.1:7300); then <box> is only a label")
    .option('--token <token>', 'Bearer token for --url')
    .option('--basic <user:password>', 'Basic credentials for --url (the distributor)')
    .action(async (box: string, words: string[], o: { dataDir: string; url?: string; token?: string; basic?: string }) => {
      const text = words.join(' ');
      if (o.url) {
        const auth = o.basic ? `Basic ${Buffer.from(o.basic).toString('base64')}` : o.token ? `Bearer ${o.token}` : undefined;
        const r = await postText(new URL('/command', o.url).toString(), text, auth);
        let lines = r.body;
        try {
          const j = JSON.parse(r.body) as { lines?: string[] };
          if (Array.isArray(j.lines)) lines = j.lines.join('\n');
        } catch {
          // text/plain answer
        }
        io.out(lines.endsWith('\n') ? lines : lines + '\n');
        if (r.status >= 400) throw new CliError(CliErrorCode.HTTP, `${box} answered HTTP ${r.status}`);
        return;
      }
      const r = await stackApi<{ lines: string[] }>(findStack(o.dataDir), 'POST', `/api/boxes/${encodeURIComponent(box)}/command`, text);
      io.out(r.lines.join('\n') + '\n');
    });
  return program;
}

function makeTarget(o: Record<string, string | boolean | undefined>): LoadTarget {
  if (!!o.rest === !!o.ims) throw new CliError(CliErrorCode.BAD_OPTION, 'give exactly one of --rest URL or --ims host:port');
  if (o.rest) return restTarget({ url: String(o.rest), ...(o.method ? { method: String(o.method) } : {}), ...(o.body ? { body: String(o.body) } : {}), ...(o.localAddress ? { localAddress: String(o.localAddress) } : {}) });
  const hp = hostPort(String(o.ims), '--ims');
  return imsConnectTarget({
    ...hp,
    trancode: String(o.trancode),
    data: String(o.data),
    datastore: String(o.datastore),
    commitMode: Number(o.commitMode) as 0 | 1,
    socketType: o.socketType as 'transaction' | 'persistent' | 'non-persistent',
    ...(o.localAddress ? { localAddress: String(o.localAddress) } : {}),
  });
}

function postText(url: string, body: string, auth: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = Buffer.from(body);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { 'content-type': 'text/plain', 'content-length': String(data.length), connection: 'close', ...(auth ? { authorization: auth } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.length < 4096 && chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('socket', (s) => s.setNoDelay(true));
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (e) => reject(new CliError(CliErrorCode.HTTP, `${url}: ${e.message}`, { cause: e })));
    req.end(data);
  });
}

/** Runs the CLI; returns the exit code (errors are printed with their code, never thrown). */
export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  const result = { code: 0 };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isImsplexError(e)) {
      io.err(`${e.code}: ${e.message}\n`);
      return e.code === CliErrorCode.BAD_OPTION ? 2 : 1;
    }
    io.err(`${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
