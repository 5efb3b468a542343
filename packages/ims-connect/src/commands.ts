/**
 * Operator commands in IBM's three spellings — WTOR reply (`VIEWHWS`, `R 12,STOPPORT 9999`), z/OS
 * MODIFY (`F HWS1,QUERY MEMBER TYPE(IMSCON)`) and IMS type-2 (`QUERY IMSCON TYPE(CONFIG)`) — parsed
 * into one typed command, executed against a `CommandTarget`, and answered with HWSC-style lines.
 *
 * Message numbers: HWSC0001I (display lines) is IBM's, as shown in IBM's VIEWHWS sample. The others
 * are [INF] choices in IBM's numbering style: HWSC0000I command accepted, HWSC0011E bad command,
 * HWSC0012E object not found, HWSS0770I/HWSS0790I port stopped/started (IBM message names),
 * HWSD0260I/HWSD0290I datastore stopped/started.
 */
import { ImsConnectError, ImsConnectErrorCode } from './errors.js';

/** A parsed operator command. */
export type OperatorCommand =
  | { kind: 'VIEWHWS'; summary: boolean }
  | { kind: 'VIEWPORT'; port: number | 'ALL' }
  | { kind: 'VIEWDS'; datastore: string | 'ALL' }
  | { kind: 'STOPCLNT'; port: number; client: string }
  | { kind: 'STOPPORT'; port: number }
  | { kind: 'OPENPORT'; port: number }
  | { kind: 'STOPDS'; datastore: string }
  | { kind: 'OPENDS'; datastore: string }
  | { kind: 'SHUTDOWN'; mode: 'NORMAL' | 'QUIESCE' | 'FORCE' };

/** One client line in a display. */
export interface ClientView {
  clientId: string;
  userId: string;
  trancode: string;
  datastore: string;
  /** RECV (waiting for client input), CONN (waiting for IMS), XMIT (sending), CONV (in a conversation), ACK (waiting for ACK/NAK). */
  state: 'RECV' | 'CONN' | 'XMIT' | 'CONV' | 'ACK';
  secondsInState: number;
  remotePort: number;
  remoteAddress: string;
}

/** What a display needs to know about the server. */
export interface ServerView {
  id: string;
  racf: boolean;
  maxSockets: number;
  /** TIMEOUT in hundredths of a second, as configured. */
  timeoutHundredths: number;
  version: string;
  host: string;
  state: 'starting' | 'active' | 'quiescing' | 'closed';
  datastores: Array<{ id: string; status: 'ACTIVE' | 'NOT ACTIVE' | 'DISCONNECT' | 'STOPPED'; group: string; member: string; tmember: string; rerouteName: string; appl: string; ackTimeout: number; alternates: readonly string[] }>;
  ports: Array<{ id: number; status: 'ACTIVE' | 'NOT ACTIVE'; keepAlive: number; edit: string; idleTimeout: number; tls: boolean; clients: ClientView[] }>;
}

/** The operations commands need from the server. */
export interface CommandTarget {
  view(): ServerView;
  stopClient(port: number, client: string): boolean;
  stopPort(port: number): Promise<boolean>;
  openPort(port: number): Promise<boolean>;
  stopDatastore(id: string): boolean;
  openDatastore(id: string): boolean;
  shutdown(mode: 'NORMAL' | 'QUIESCE' | 'FORCE'): Promise<void>;
}

const bad = (text: string, why: string): never => {
  throw new ImsConnectError(ImsConnectErrorCode.COMMAND, `HWSC0011E INVALID COMMAND "${text}": ${why}`);
};

/** Parse `KEY(value)` operands of MODIFY / type-2 forms. */
function operands(text: string, words: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const w of words) {
    const mm = /^([A-Z]+)\(([^()]*)\)$/.exec(w);
    if (!mm) bad(text, `operand "${w}" is not KEY(value)`);
    m.set(mm![1]!, mm![2]!.trim());
  }
  return m;
}

function portNumber(text: string, v: string | undefined): number {
  if (!v || !/^\d{1,5}$/.test(v) || Number(v) > 65535) return bad(text, `port must be 1-65535, got "${v ?? ''}"`);
  return Number(v);
}

function name(text: string, v: string | undefined, what: string): string {
  if (!v || !/^[A-Z0-9@#$*]{1,8}$/.test(v)) return bad(text, `${what} must be 1-8 characters, got "${v ?? ''}"`);
  return v;
}

const abbrev: Record<string, string> = { QRY: 'QUERY', UPD: 'UPDATE' };

/**
 * Parse one command line. Accepts an optional WTOR `R nn,` prefix and a MODIFY `F job,` prefix,
 * any case, blanks around commas. Throws `IMS_ERR_COMMAND` with an HWSC0011E text when invalid.
 */
export function parseCommand(input: string): OperatorCommand {
  let text = input.trim().toUpperCase();
  if (!text) bad(input, 'empty command');
  const wtor = /^R\s+\d+\s*,\s*(.*)$/.exec(text);
  if (wtor) text = wtor[1]!.trim().replace(/^'(.*)'$/, '$1');
  const modify = /^(?:F|MODIFY)\s+[A-Z0-9@#$]{1,8}\s*,\s*(.*)$/.exec(text);
  if (modify) text = modify[1]!.trim();
  const words = text.split(/\s+/).filter(Boolean);
  const verb = abbrev[words[0]!] ?? words[0]!;
  const rest = words.slice(1);
  switch (verb) {
    case 'VIEWHWS':
      if (rest.length > 1 || (rest[0] && rest[0] !== 'SUMMARY')) bad(input, 'VIEWHWS takes only SUMMARY');
      return { kind: 'VIEWHWS', summary: rest[0] === 'SUMMARY' };
    case 'VIEWPORT':
      if (rest.length !== 1) bad(input, 'VIEWPORT needs a port number or ALL');
      return { kind: 'VIEWPORT', port: rest[0] === 'ALL' ? 'ALL' : portNumber(input, rest[0]) };
    case 'VIEWDS':
      if (rest.length !== 1) bad(input, 'VIEWDS needs a datastore name or ALL');
      return { kind: 'VIEWDS', datastore: rest[0] === 'ALL' ? 'ALL' : name(input, rest[0], 'datastore') };
    case 'STOPCLNT':
      if (rest.length !== 2) bad(input, 'STOPCLNT needs a port and a client ID');
      return { kind: 'STOPCLNT', port: portNumber(input, rest[0]), client: name(input, rest[1], 'client ID') };
    case 'STOPPORT':
    case 'OPENPORT':
      if (rest.length !== 1) bad(input, `${verb} needs a port number`);
      return { kind: verb, port: portNumber(input, rest[0]) };
    case 'STOPDS':
    case 'OPENDS':
      if (rest.length !== 1) bad(input, `${verb} needs a datastore name`);
      return { kind: verb, datastore: name(input, rest[0], 'datastore') };
    case 'CLOSEHWS':
    case 'SHUTDOWN': {
      // WTOR: CLOSEHWS [QUIESCE|FORCE]; MODIFY: SHUTDOWN MEMBER [QUIESCE|FORCE]; bare SHUTDOWN.
      const opts = rest.filter((w) => w !== 'MEMBER');
      if (opts.length > 1 || (opts[0] && opts[0] !== 'QUIESCE' && opts[0] !== 'FORCE')) bad(input, `${verb} takes QUIESCE or FORCE`);
      return { kind: 'SHUTDOWN', mode: (opts[0] as 'QUIESCE' | 'FORCE' | undefined) ?? 'NORMAL' };
    }
    case 'QUIESCE':
      if (rest.length) bad(input, 'QUIESCE takes no operands');
      return { kind: 'SHUTDOWN', mode: 'QUIESCE' };
    case 'QUERY':
    case 'UPDATE':
      return parseModifyOrType2(input, verb, rest);
    default:
      return bad(input, `unknown command "${words[0]}"`);
  }
}

function parseModifyOrType2(input: string, verb: 'QUERY' | 'UPDATE', rest: string[]): OperatorCommand {
  let resource = rest[0];
  let ops: Map<string, string>;
  if (resource === 'IMSCON') {
    // Type-2: QUERY|UPDATE IMSCON TYPE(x) ...
    ops = operands(input, rest.slice(1));
    resource = ops.get('TYPE');
    if (!resource) bad(input, 'IMSCON needs TYPE(...)');
    if (resource === 'CONFIG') resource = 'MEMBER';
  } else {
    ops = operands(input, rest.slice(1));
    if (resource === 'MEMBER' && ops.has('TYPE') && ops.get('TYPE') !== 'IMSCON') bad(input, 'MEMBER TYPE must be IMSCON');
  }
  const nm = ops.get('NAME');
  const stop = ops.get('STOP');
  const start = ops.get('START');
  if ((stop && stop !== 'COMM') || (start && start !== 'COMM')) bad(input, 'STOP/START take COMM');
  if (verb === 'QUERY') {
    switch (resource) {
      case 'MEMBER':
        return { kind: 'VIEWHWS', summary: ops.get('SHOW') === 'SUMMARY' };
      case 'DATASTORE':
        return { kind: 'VIEWDS', datastore: !nm || nm === '*' ? 'ALL' : name(input, nm, 'datastore') };
      case 'PORT':
        return { kind: 'VIEWPORT', port: !nm || nm === '*' ? 'ALL' : portNumber(input, nm) };
      default:
        return bad(input, `cannot QUERY ${resource}`);
    }
  }
  switch (resource) {
    case 'MEMBER': {
      const shut = ops.get('SHUTDOWN') ?? stop;
      if (!shut) bad(input, 'UPDATE MEMBER/CONFIG needs SHUTDOWN(COMM) or STOP(COMM)');
      const opt = ops.get('OPTION');
      if (opt && opt !== 'QUIESCE' && opt !== 'FORCE') bad(input, 'OPTION takes QUIESCE or FORCE');
      return { kind: 'SHUTDOWN', mode: (opt as 'QUIESCE' | 'FORCE' | undefined) ?? 'NORMAL' };
    }
    case 'CLIENT':
      if (!stop) bad(input, 'UPDATE CLIENT needs STOP(COMM)');
      return { kind: 'STOPCLNT', port: portNumber(input, ops.get('PORT')), client: name(input, nm, 'client ID') };
    case 'PORT':
      if (!stop === !start) bad(input, 'UPDATE PORT needs STOP(COMM) or START(COMM)');
      return { kind: stop ? 'STOPPORT' : 'OPENPORT', port: portNumber(input, nm) };
    case 'DATASTORE':
      if (!stop === !start) bad(input, 'UPDATE DATASTORE needs STOP(COMM) or START(COMM)');
      return { kind: stop ? 'STOPDS' : 'OPENDS', datastore: name(input, nm, 'datastore') };
    default:
      return bad(input, `cannot UPDATE ${resource}`);
  }
}

const L = (s: string) => `HWSC0001I ${s}`;

function datastoreLines(d: ServerView['datastores'][number]): string[] {
  return [
    L(`DATASTORE=${d.id} STATUS=${d.status}`),
    L(`GROUP=${d.group} MEMBER=${d.member}`),
    L(`TARGET MEMBER=${d.tmember}`),
    L(`DEFAULT REROUTE NAME=${d.rerouteName}`),
    L(`RACF APPL NAME=${d.appl}`),
    L(`OTMA ACK TIMEOUT VALUE=${d.ackTimeout}`),
    ...(d.alternates.length ? [L(`ALTERNATE DATASTORES=${d.alternates.join(',')}`)] : []),
  ];
}

function portLines(p: ServerView['ports'][number], withClients: boolean): string[] {
  const out = [L(`PORT=${p.id}${p.tls ? 'S' : ''} STATUS=${p.status}`), L(`KEEPAV=${p.keepAlive} NUMSOC=${p.clients.length + (p.status === 'ACTIVE' ? 1 : 0)} EDIT=${p.edit} IDLETO=${Math.round(p.idleTimeout / 10)}`)];
  if (withClients) {
    if (p.clients.length === 0) out.push(L('NO ACTIVE CLIENTS'));
    else {
      out.push(L('CLIENTID USERID TRANCODE DATASTORE STATUS SECOND CLNTPORT IP-ADDRESS'));
      for (const c of p.clients) out.push(L(`${c.clientId.padEnd(8)} ${(c.userId || '').padEnd(8)} ${(c.trancode || '').padEnd(8)} ${(c.datastore || '').padEnd(8)} ${c.state.padEnd(4)} ${String(c.secondsInState).padStart(6)} ${String(c.remotePort).padStart(8)} ${c.remoteAddress}`));
    }
    const count = (s: ClientView['state']) => p.clients.filter((c) => c.state === s).length;
    const other = p.clients.length - count('RECV') - count('CONN') - count('XMIT');
    out.push(L(`TOTAL CLIENTS=${p.clients.length} RECV=${count('RECV')} CONN=${count('CONN')} XMIT=${count('XMIT')} OTHER=${other}`));
  }
  return out;
}

/** Format the display of a VIEW* / QUERY command (HWSC0001I lines). */
export function formatView(view: ServerView, cmd: Extract<OperatorCommand, { kind: 'VIEWHWS' | 'VIEWPORT' | 'VIEWDS' }>): string[] {
  if (cmd.kind === 'VIEWHWS') {
    return [
      L(`HWS ID=${view.id} RACF=${view.racf ? 'Y' : 'N'} PSWDMC=N`),
      L(`MAXSOC=${view.maxSockets} TIMEOUT=${view.timeoutHundredths}`),
      L(`RRS=N STATUS=${view.state === 'quiescing' ? 'QUIESCING' : 'REGISTERED'}`),
      L(`VERSION=${view.version} IP-ADDRESS=${view.host}`),
      L('SUPER MEMBER NAME='),
      L('ADAPTER=N'),
      ...view.datastores.flatMap(datastoreLines),
      L('NO ACTIVE IMSPLEX'),
      ...view.ports.flatMap((p) => portLines(p, !cmd.summary)),
    ];
  }
  if (cmd.kind === 'VIEWDS') {
    const list = cmd.datastore === 'ALL' ? view.datastores : view.datastores.filter((d) => d.id === cmd.datastore);
    if (list.length === 0) return [`HWSC0012E DATASTORE=${cmd.datastore} NOT FOUND`];
    return list.flatMap(datastoreLines);
  }
  const list = cmd.port === 'ALL' ? view.ports : view.ports.filter((p) => p.id === cmd.port);
  if (list.length === 0) return [`HWSC0012E PORT=${cmd.port} NOT FOUND`];
  return list.flatMap((p) => portLines(p, true));
}

/**
 * Parse and execute one command line against `target`, returning the response lines. Invalid
 * commands answer with an HWSC0011E line instead of throwing.
 */
export async function executeCommand(target: CommandTarget, line: string): Promise<string[]> {
  let cmd: OperatorCommand;
  try {
    cmd = parseCommand(line);
  } catch (e) {
    if (e instanceof ImsConnectError) return [e.message];
    throw e;
  }
  switch (cmd.kind) {
    case 'VIEWHWS':
    case 'VIEWPORT':
    case 'VIEWDS':
      return formatView(target.view(), cmd);
    case 'STOPCLNT':
      return target.stopClient(cmd.port, cmd.client) ? [`HWSC0000I STOPCLNT PORT=${cmd.port} CLIENT=${cmd.client} COMPLETE`] : [`HWSC0012E CLIENT=${cmd.client} NOT FOUND ON PORT=${cmd.port}`];
    case 'STOPPORT':
      return (await target.stopPort(cmd.port)) ? [`HWSS0770I LISTENING ON PORT=${cmd.port} TERMINATED`] : [`HWSC0012E PORT=${cmd.port} NOT FOUND OR NOT ACTIVE`];
    case 'OPENPORT':
      return (await target.openPort(cmd.port)) ? [`HWSS0790I LISTENING ON PORT=${cmd.port} STARTED`] : [`HWSC0012E PORT=${cmd.port} NOT FOUND OR ALREADY ACTIVE`];
    case 'STOPDS':
      return target.stopDatastore(cmd.datastore) ? [`HWSD0260I DS=${cmd.datastore} STOPPED BY COMMAND`] : [`HWSC0012E DATASTORE=${cmd.datastore} NOT FOUND`];
    case 'OPENDS':
      return target.openDatastore(cmd.datastore) ? [`HWSD0290I DS=${cmd.datastore} START REQUESTED`] : [`HWSC0012E DATASTORE=${cmd.datastore} NOT FOUND`];
    case 'SHUTDOWN':
      await target.shutdown(cmd.mode);
      return [cmd.mode === 'QUIESCE' ? 'HWSC0020I IMS CONNECT QUIESCED; IN-FLIGHT WORK COMPLETE' : 'HWSC0020I IMS CONNECT IN TERMINATION'];
  }
}
