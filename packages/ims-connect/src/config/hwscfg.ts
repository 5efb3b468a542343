/**
 * HWSCFGxx parser. IBM's syntax: statements `NAME (KEY=value,KEY=(sub,…),…)`, free-form across
 * lines; a line whose first column is `*` is a comment, and so is text between `/*` and `*\/`.
 * Values are atoms (`IMS1`, `Y`, `6000`), quoted strings (`'a b'`) or parenthesised lists whose items
 * are atoms or nested `KEY=value` pairs (`PORT=(ID=9999,KEEPAV=10)`). Keys are case-insensitive.
 *
 * Supported statements: HWS, TCPIP, DATASTORE, IMSPLEX (recorded), ADAPTER/ODACCESS/RMTIMSCON/
 * ISC/MSC/RMTCICS (accepted, not emulated), and the emulator's own EMULATOR statement for settings
 * IBM keeps outside HWSCFG (bind address, admin endpoint, users file, TLS files, XCF addresses).
 * Every error is a `ConfigError` with `file:line: KEY: message`.
 *
 * imsplex extension: `RECONNECT=(INIT=ms,MAX=ms,JITTER=percent)` on `DATASTORE` sets the OTMA link's
 * reconnect backoff (defaults INIT=50, MAX=1000, JITTER=20); IBM has no such keyword, its IMS Connect
 * learns through XCF when IMS is back.
 *
 * imsplex extension: `PORTID=(0)`, `PORT=(ID=0)` or `SSLPORT=(0)` (once per file) binds an ephemeral
 * port chosen by the OS, for tests; IBM requires 1–65535. The server's `boundPort(0)` and the bin's
 * `READY PORTS=` line report the port it got.
 */
import { ConfigError } from '../errors.js';
import { type DatastoreOptions, type ImsConnectOptions, type PortOptions, type ResolvedOptions, parseAddress, resolveOptions } from './options.js';

/** A parsed value: an atom (with its line) or a list. */
export type CfgValue = { kind: 'atom'; text: string; line: number } | { kind: 'list'; items: CfgItem[]; line: number };
/** A list item: a bare value or a nested `KEY=value`. */
export type CfgItem = CfgValue | CfgParam;
/** `KEY=value`. */
export interface CfgParam {
  kind: 'param';
  key: string;
  value: CfgValue;
  line: number;
}
/** One statement. */
export interface CfgStatement {
  name: string;
  params: CfgParam[];
  line: number;
}

interface Token {
  t: 'word' | 'str' | '(' | ')' | ',' | '=';
  v: string;
  line: number;
}

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  const lines = text.split(/\r?\n/);
  let inComment = false;
  let commentLine = 0;
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!;
    const lineNo = ln + 1;
    if (!inComment && line.startsWith('*')) continue;
    let i = 0;
    while (i < line.length) {
      if (inComment) {
        const end = line.indexOf('*/', i);
        if (end < 0) {
          i = line.length;
          continue;
        }
        inComment = false;
        i = end + 2;
        continue;
      }
      const c = line[i]!;
      if (c === '/' && line[i + 1] === '*') {
        inComment = true;
        commentLine = lineNo;
        i += 2;
        continue;
      }
      if (c === ' ' || c === '\t') {
        i++;
        continue;
      }
      if (c === '(' || c === ')' || c === ',' || c === '=') {
        out.push({ t: c, v: c, line: lineNo });
        i++;
        continue;
      }
      if (c === "'" || c === '"') {
        const end = line.indexOf(c, i + 1);
        if (end < 0) throw new ConfigError({ file, line: lineNo, key: 'syntax' }, 'unterminated quoted string');
        out.push({ t: 'str', v: line.slice(i + 1, end), line: lineNo });
        i = end + 1;
        continue;
      }
      let j = i;
      while (j < line.length && !" \t(),='\"".includes(line[j]!) && !(line[j] === '/' && line[j + 1] === '*')) j++;
      out.push({ t: 'word', v: line.slice(i, j), line: lineNo });
      i = j;
    }
  }
  if (inComment) throw new ConfigError({ file, line: commentLine, key: 'syntax' }, 'comment /* is never closed');
  return out;
}

/** Parse HWSCFG text into statements (syntax only). */
export function parseStatements(text: string, file = '<hwscfg>'): CfgStatement[] {
  const toks = tokenize(text, file);
  let p = 0;
  const lastLine = toks.length ? toks[toks.length - 1]!.line : 1;
  const peek = () => toks[p];
  const err = (line: number, key: string, msg: string): never => {
    throw new ConfigError({ file, line, key }, msg);
  };
  const expect = (t: Token['t'], key: string): Token => {
    const tok = toks[p];
    if (!tok) return err(lastLine, key, `expected "${t}" but the file ended`);
    if (tok.t !== t) return err(tok.line, key, `expected "${t}" but found "${tok.v}"`);
    p++;
    return tok;
  };
  const parseValue = (key: string): CfgValue => {
    const tok = peek();
    if (!tok) return err(lastLine, key, 'value missing at end of file');
    if (tok.t === 'word' || tok.t === 'str') {
      p++;
      return { kind: 'atom', text: tok.v, line: tok.line };
    }
    if (tok.t === '(') {
      p++;
      const items: CfgItem[] = [];
      if (peek()?.t === ')') {
        p++;
        return { kind: 'list', items, line: tok.line };
      }
      for (;;) {
        const first = peek();
        if (!first) return err(lastLine, key, 'list is never closed with ")"');
        if (first.t === 'word' && toks[p + 1]?.t === '=') {
          p += 2;
          items.push({ kind: 'param', key: first.v.toUpperCase(), value: parseValue(first.v.toUpperCase()), line: first.line });
        } else items.push(parseValue(key));
        const sep = peek();
        if (!sep) return err(lastLine, key, 'list is never closed with ")"');
        if (sep.t === ',') {
          p++;
          continue;
        }
        if (sep.t === ')') {
          p++;
          break;
        }
        return err(sep.line, key, `expected "," or ")" but found "${sep.v}"`);
      }
      return { kind: 'list', items, line: tok.line };
    }
    return err(tok.line, key, `expected a value but found "${tok.v}"`);
  };

  const statements: CfgStatement[] = [];
  while (p < toks.length) {
    const nameTok = expect('word', 'statement');
    const name = nameTok.v.toUpperCase();
    expect('(', name);
    const params: CfgParam[] = [];
    if (peek()?.t === ')') p++;
    else
      for (;;) {
        const k = expect('word', name);
        const key = k.v.toUpperCase();
        expect('=', key);
        params.push({ kind: 'param', key, value: parseValue(key), line: k.line });
        const sep = peek();
        if (!sep) err(lastLine, name, 'statement is never closed with ")"');
        p++;
        if (sep!.t === ',') continue;
        if (sep!.t === ')') break;
        err(sep!.line, key, `expected "," or ")" but found "${sep!.v}"`);
      }
    statements.push({ name, params, line: nameTok.line });
  }
  return statements;
}

/** Result of loading a HWSCFG member: the options, where each came from, and warnings. */
export interface HwsCfg {
  options: ImsConnectOptions;
  /** Option path → source, for error messages raised later. */
  sources: Map<string, { file: string; line: number; key: string }>;
  /** Keywords accepted but not emulated (named for the operator). */
  warnings: string[];
}

const YN = (file: string, p: CfgParam): boolean => {
  const v = atom(file, p).toUpperCase();
  if (v !== 'Y' && v !== 'N') throw new ConfigError({ file, line: p.line, key: p.key }, `must be Y or N, got "${v}"`);
  return v === 'Y';
};

function atom(file: string, p: CfgParam | { key: string; value: CfgValue; line: number }): string {
  if (p.value.kind !== 'atom') throw new ConfigError({ file, line: p.line, key: p.key }, 'must be a single value, not a list');
  return p.value.text;
}

function num(file: string, p: CfgParam, min: number, max: number): number {
  const text = atom(file, p);
  if (!/^\d+$/.test(text)) throw new ConfigError({ file, line: p.line, key: p.key }, `must be a decimal number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new ConfigError({ file, line: p.line, key: p.key }, `must be from ${min} to ${max}, got ${n}`);
  return n;
}

function listAtoms(file: string, p: CfgParam): Array<{ text: string; line: number }> {
  if (p.value.kind === 'atom') return [{ text: p.value.text, line: p.value.line }];
  return p.value.items.map((it) => {
    if (it.kind !== 'atom') throw new ConfigError({ file, line: it.line, key: p.key }, 'list items must be single values');
    return { text: it.text, line: it.line };
  });
}

function subParams(file: string, p: CfgParam): CfgParam[] {
  if (p.value.kind !== 'list') throw new ConfigError({ file, line: p.line, key: p.key }, 'must be a list (KEY=value,…)');
  return p.value.items.map((it) => {
    if (it.kind !== 'param') throw new ConfigError({ file, line: it.line, key: p.key }, 'list items must be KEY=value');
    return it;
  });
}

const NAME8 = /^[A-Za-z0-9@#$]{1,8}$/;
function name8(file: string, p: CfgParam): string {
  const v = atom(file, p).toUpperCase();
  if (!NAME8.test(v)) throw new ConfigError({ file, line: p.line, key: p.key }, `must be 1-8 characters A-Z 0-9 @ # $, got "${v}"`);
  return v;
}

const HWS_RECORDED = new Set(['RRS', 'CASCADE', 'CM0ATOQ', 'MULTIRTP', 'PSWDMC', 'RACFGENRC', 'SENDALTP', 'SMEMBER', 'TMRACFST', 'UIDAGE', 'UIDCACHE', 'WTORCMD', 'XIBAREA']);
const TCPIP_RECORDED = new Set(['HOSTNAME', 'CICSPORT', 'IPV6', 'ECB', 'NODELAY', 'PORTAFF', 'TCPIPQ', 'SSLENVAR']);
const DS_RECORDED = new Set(['CM0ATOQ', 'SMEMBER', 'CASCADE']);
const IGNORED_STATEMENTS = new Set(['IMSPLEX', 'ADAPTER', 'ODACCESS', 'RMTIMSCON', 'ISC', 'MSC', 'RMTCICS']);

/**
 * Parse a HWSCFGxx member into the typed options (not yet resolved). `file` names the source in
 * errors. Unknown statements and keys are errors; IBM keys the emulator does not act on are accepted
 * and listed in `warnings`.
 */
export function parseHwsCfg(text: string, file = '<hwscfg>'): HwsCfg {
  const statements = parseStatements(text, file);
  const sources = new Map<string, { file: string; line: number; key: string }>();
  const warnings: string[] = [];
  const at = (path: string, p: { line: number; key: string }) => sources.set(path, { file, line: p.line, key: p.key });
  let hws: CfgStatement | undefined;
  let tcpip: CfgStatement | undefined;
  const options: ImsConnectOptions = { id: '', ports: [] };
  const datastores: DatastoreOptions[] = [];
  const ports: PortOptions[] = [];
  const portLine = new Map<number, { line: number; key: string }>();

  const addPort = (port: PortOptions, src: { line: number; key: string }) => {
    const prev = portLine.get(port.id);
    if (prev && port.id === 0) throw new ConfigError({ file, line: src.line, key: src.key }, `the ephemeral port 0 may be defined once (already at line ${prev.line})`);
    if (prev) throw new ConfigError({ file, line: src.line, key: src.key }, `port ${port.id} is already defined at line ${prev.line}`);
    portLine.set(port.id, src);
    at(`ports.${ports.length}.id`, src);
    ports.push(port);
  };

  for (const st of statements) {
    const seenKeys = new Map<string, number>();
    const once = (p: CfgParam) => {
      const prev = seenKeys.get(p.key);
      if (prev !== undefined && p.key !== 'PORT' && p.key !== 'SSLPORT') throw new ConfigError({ file, line: p.line, key: p.key }, `given twice in ${st.name} (first at line ${prev})`);
      seenKeys.set(p.key, p.line);
    };
    switch (st.name) {
      case 'HWS': {
        if (hws) throw new ConfigError({ file, line: st.line, key: 'HWS' }, `only one HWS statement is allowed (first at line ${hws.line})`);
        hws = st;
        for (const p of st.params) {
          once(p);
          if (p.key === 'ID') {
            const v = atom(file, p).toUpperCase();
            if (!/^[A-Z][A-Z0-9]{0,7}$/.test(v)) throw new ConfigError({ file, line: p.line, key: p.key }, `must be 1-8 alphanumeric characters starting with a letter, got "${v}"`);
            options.id = v;
            at('id', p);
          } else if (p.key === 'RACF') {
            options.racf = YN(file, p);
            at('racf', p);
          } else if (HWS_RECORDED.has(p.key)) warnings.push(`${file}:${p.line}: HWS ${p.key} accepted but not emulated`);
          else throw new ConfigError({ file, line: p.line, key: p.key }, 'unknown HWS keyword');
        }
        if (!options.id) throw new ConfigError({ file, line: st.line, key: 'ID' }, 'HWS ID= is required');
        break;
      }
      case 'TCPIP': {
        if (tcpip) throw new ConfigError({ file, line: st.line, key: 'TCPIP' }, `only one TCPIP statement is allowed (first at line ${tcpip.line})`);
        tcpip = st;
        for (const p of st.params) {
          once(p);
          switch (p.key) {
            case 'PORTID':
              for (const a of listAtoms(file, p)) {
                if (a.text.toUpperCase() === 'LOCAL') {
                  warnings.push(`${file}:${a.line}: PORTID LOCAL (local option) accepted but not emulated`);
                  continue;
                }
                // imsplex extension: 0 = an ephemeral port chosen by the OS (tests); IBM requires 1-65535.
                if (!/^\d{1,5}$/.test(a.text) || Number(a.text) > 65535) throw new ConfigError({ file, line: a.line, key: 'PORTID' }, `port must be 1-65535 (or 0 for an ephemeral port), got "${a.text}"`);
                addPort({ id: Number(a.text) }, { line: a.line, key: 'PORTID' });
              }
              break;
            case 'SSLPORT':
              for (const a of listAtoms(file, p)) {
                if (!/^\d{1,5}$/.test(a.text) || Number(a.text) > 65535) throw new ConfigError({ file, line: a.line, key: 'SSLPORT' }, `port must be 1-65535 (or 0 for an ephemeral port), got "${a.text}"`);
                addPort({ id: Number(a.text), tls: true }, { line: a.line, key: 'SSLPORT' });
              }
              break;
            case 'PORT': {
              const port: Partial<PortOptions> = {};
              for (const s of subParams(file, p)) {
                if (s.key === 'ID') port.id = num(file, s, 0, 65535); // 0: ephemeral (imsplex extension)
                else if (s.key === 'KEEPAV') port.keepAlive = num(file, s, 0, 2_147_460);
                else if (s.key === 'EDIT') port.edit = name8(file, s);
                else if (s.key === 'IDLETO') port.idleTimeout = num(file, s, 0, 2_147_483_647) * 10;
                else if (s.key === 'PORTTMOT') warnings.push(`${file}:${s.line}: PORT PORTTMOT accepted but not emulated`);
                else throw new ConfigError({ file, line: s.line, key: s.key }, 'unknown PORT keyword (ID, KEEPAV, EDIT, IDLETO)');
              }
              if (port.id === undefined) throw new ConfigError({ file, line: p.line, key: 'PORT' }, 'ID= is required');
              addPort(port as PortOptions, { line: p.line, key: 'PORT' });
              break;
            }
            case 'EXIT':
              options.exits = listAtoms(file, p).map((a) => {
                if (!NAME8.test(a.text)) throw new ConfigError({ file, line: a.line, key: 'EXIT' }, `exit name must be 1-8 characters, got "${a.text}"`);
                return a.text.toUpperCase();
              });
              at('exits', p);
              break;
            case 'MAXSOC':
              options.maxSockets = num(file, p, 50, 65535);
              at('maxSockets', p);
              break;
            case 'WARNSOC':
              options.warnSockets = num(file, p, 1, 100);
              at('warnSockets', p);
              break;
            case 'WARNINC':
              options.warnIncrement = num(file, p, 1, 50);
              at('warnIncrement', p);
              break;
            case 'TIMEOUT':
              options.timeout = num(file, p, 0, 214_748_364) * 10; // hundredths of a second → ms
              at('timeout', p);
              break;
            case 'IDLETO':
              options.idleTimeout = num(file, p, 0, 214_748_364) * 10;
              at('idleTimeout', p);
              break;
            case 'MAXSIZE':
              options.maxSize = num(file, p, 88, 0x7fffffff);
              at('maxSize', p);
              break;
            case 'RACFID':
              options.racfId = name8(file, p);
              at('racfId', p);
              break;
            default:
              if (TCPIP_RECORDED.has(p.key)) warnings.push(`${file}:${p.line}: TCPIP ${p.key} accepted but not emulated`);
              else throw new ConfigError({ file, line: p.line, key: p.key }, 'unknown TCPIP keyword');
          }
        }
        break;
      }
      case 'DATASTORE': {
        const i = datastores.length;
        const ds: Partial<DatastoreOptions> = {};
        for (const p of st.params) {
          once(p);
          switch (p.key) {
            case 'ID':
              ds.id = name8(file, p);
              at(`datastores.${i}.id`, p);
              break;
            case 'GROUP':
              ds.group = name8(file, p);
              break;
            case 'MEMBER':
              ds.member = atom(file, p).toUpperCase();
              at(`datastores.${i}.member`, p);
              break;
            case 'TMEMBER':
              ds.tmember = atom(file, p).toUpperCase();
              at(`datastores.${i}.tmember`, p);
              break;
            case 'DRU':
              ds.dru = name8(file, p);
              break;
            case 'APPL':
              ds.appl = name8(file, p);
              break;
            case 'ACKTO':
              ds.ackTimeout = num(file, p, 0, 255);
              at(`datastores.${i}.ackTimeout`, p);
              break;
            case 'RRNAME':
              ds.rerouteName = name8(file, p);
              at(`datastores.${i}.rerouteName`, p);
              break;
            case 'XCFADDR': {
              const a = parseAddress(atom(file, p));
              if (!a) throw new ConfigError({ file, line: p.line, key: p.key }, `must be host:port, got "${atom(file, p)}"`);
              ds.address = a;
              at(`datastores.${i}.address`, p);
              break;
            }
            case 'ALTDS':
              ds.alternates = listAtoms(file, p).map((a) => a.text.toUpperCase());
              listAtoms(file, p).forEach((a, j) => sources.set(`datastores.${i}.alternates.${j}`, { file, line: a.line, key: 'ALTDS' }));
              break;
            case 'RECONNECT': {
              // imsplex extension: the OTMA link's reconnect backoff, INIT/MAX in ms, JITTER in percent.
              const r: NonNullable<DatastoreOptions['reconnect']> = {};
              for (const sp of subParams(file, p)) {
                if (sp.key === 'INIT') {
                  r.initialDelay = num(file, sp, 1, 3_600_000);
                  sources.set(`datastores.${i}.reconnect.initialDelay`, { file, line: sp.line, key: 'RECONNECT INIT' });
                } else if (sp.key === 'MAX') {
                  r.maxDelay = num(file, sp, 1, 3_600_000);
                  sources.set(`datastores.${i}.reconnect.maxDelay`, { file, line: sp.line, key: 'RECONNECT MAX' });
                } else if (sp.key === 'JITTER') r.jitter = num(file, sp, 0, 100) / 100;
                else throw new ConfigError({ file, line: sp.line, key: sp.key }, 'unknown RECONNECT keyword (INIT, MAX, JITTER)');
              }
              ds.reconnect = r;
              at(`datastores.${i}.reconnect`, p);
              break;
            }
            default:
              if (DS_RECORDED.has(p.key)) warnings.push(`${file}:${p.line}: DATASTORE ${p.key} accepted but not emulated`);
              else throw new ConfigError({ file, line: p.line, key: p.key }, 'unknown DATASTORE keyword');
          }
        }
        if (!ds.id) throw new ConfigError({ file, line: st.line, key: 'ID' }, 'DATASTORE ID= is required');
        if (!ds.tmember) throw new ConfigError({ file, line: st.line, key: 'TMEMBER' }, 'DATASTORE TMEMBER= is required');
        sources.set(`datastores.${i}`, { file, line: st.line, key: 'DATASTORE' });
        datastores.push(ds as DatastoreOptions);
        break;
      }
      case 'EMULATOR': {
        const admin: { host?: string; port?: number; token?: string } = {};
        const tls: { cert?: string; key?: string; ca?: string } = {};
        for (const p of st.params) {
          once(p);
          switch (p.key) {
            case 'BIND':
              options.host = atom(file, p);
              at('host', p);
              break;
            case 'ADMINPORT':
              admin.port = num(file, p, 0, 65535);
              at('admin.port', p);
              break;
            case 'ADMINHOST':
              admin.host = atom(file, p);
              at('admin.host', p);
              break;
            case 'ADMINTOKEN':
              admin.token = atom(file, p);
              break;
            case 'USERS':
              options.usersFile = atom(file, p);
              at('usersFile', p);
              break;
            case 'SSLCERT':
              tls.cert = atom(file, p);
              at('tls', p);
              break;
            case 'SSLKEY':
              tls.key = atom(file, p);
              break;
            case 'SSLCA':
              tls.ca = atom(file, p);
              break;
            case 'CODEPAGE':
              options.codePage = atom(file, p);
              at('codePage', p);
              break;
            case 'DRAINTO':
              options.drainTimeout = num(file, p, 1, 3_600_000);
              break;
            case 'READTO':
              options.readTimeout = num(file, p, 1, 3_600_000);
              break;
            default:
              throw new ConfigError({ file, line: p.line, key: p.key }, 'unknown EMULATOR keyword (BIND, ADMINPORT, ADMINHOST, ADMINTOKEN, USERS, SSLCERT, SSLKEY, SSLCA, CODEPAGE, DRAINTO, READTO)');
          }
        }
        if (admin.port !== undefined) options.admin = { port: admin.port, ...(admin.host ? { host: admin.host } : {}), ...(admin.token ? { token: admin.token } : {}) };
        else if (admin.host || admin.token) throw new ConfigError({ file, line: st.line, key: 'ADMINPORT' }, 'ADMINHOST/ADMINTOKEN need ADMINPORT=');
        if (tls.cert || tls.key) {
          if (!tls.cert || !tls.key) throw new ConfigError({ file, line: st.line, key: tls.cert ? 'SSLKEY' : 'SSLCERT' }, 'SSLCERT= and SSLKEY= go together');
          // File paths; the bin (or caller) reads them. Marked so resolveOptions keeps them as given.
          options.tls = { cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}) };
        }
        break;
      }
      default:
        if (IGNORED_STATEMENTS.has(st.name)) warnings.push(`${file}:${st.line}: ${st.name} statement accepted but not emulated`);
        else throw new ConfigError({ file, line: st.line, key: st.name }, 'unknown statement (HWS, TCPIP, DATASTORE, IMSPLEX, EMULATOR, …)');
    }
  }
  if (!hws) throw new ConfigError({ file, line: 1, key: 'HWS' }, 'the HWS statement is required');
  if (!tcpip) throw new ConfigError({ file, line: 1, key: 'TCPIP' }, 'the TCPIP statement is required');
  if (ports.length === 0) throw new ConfigError({ file, line: tcpip.line, key: 'PORTID' }, 'TCPIP needs at least one PORTID, PORT or SSLPORT');
  options.ports = ports;
  options.datastores = datastores;
  return { options, sources, warnings };
}

/** Parse and resolve in one step; cross-field errors also name file:line. */
export function loadHwsCfg(text: string, file = '<hwscfg>', extra: Partial<ImsConnectOptions> = {}): { options: ResolvedOptions; warnings: string[] } {
  const cfg = parseHwsCfg(text, file);
  const merged: ImsConnectOptions = { ...cfg.options, ...extra };
  return { options: resolveOptions(merged, (path) => cfg.sources.get(path) ?? nearest(cfg.sources, path)), warnings: cfg.warnings };
}

function nearest(sources: HwsCfg['sources'], path: string): { file: string; line: number; key: string } | undefined {
  const parts = path.split('.');
  while (parts.length > 1) {
    parts.pop();
    const s = sources.get(parts.join('.'));
    if (s) return { ...s, key: path.split('.').pop()!.toUpperCase() };
  }
  return undefined;
}
