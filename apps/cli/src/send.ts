/**
 * `imsplex send`: one interaction with any IMS Connect, every IRM option on the command line, the
 * decoded reply printed. Built on @imsplex/client.
 */
import { createClient, ImsConnectRsmError, ImsInDoubtError, type ClientOptions, type ImsResponse, type IrmTimerSetting, type SendOnlyMode } from '@imsplex/client';
import { isImsplexError } from '@imsplex/codec';
import { CliError, CliErrorCode } from './errors.js';

/** Interaction kinds `send` offers. */
export const SEND_TYPES = ['send-receive', 'send-only', 'send-only-ordered', 'send-only-ack', 'send-only-errors', 'resume-tpipe', 'ping'] as const;
export type SendType = (typeof SEND_TYPES)[number];

/** Options of {@link sendCommand} (the CLI flags, already parsed). */
export interface SendOptions {
  readonly host: string;
  readonly port: number;
  readonly type: SendType;
  readonly trancode?: string;
  readonly data?: string;
  readonly dataHex?: string;
  readonly exit?: 'SAMPL1' | 'SAMPLE';
  readonly codePage?: string;
  readonly datastore?: string;
  readonly commitMode?: 0 | 1;
  readonly syncLevel?: 'none' | 'confirm';
  readonly timer?: string;
  readonly socketType?: 'transaction' | 'persistent' | 'non-persistent';
  readonly clientId?: string;
  readonly lterm?: string;
  readonly user?: string;
  readonly group?: string;
  readonly password?: string;
  readonly applName?: string;
  readonly modName?: string;
  readonly returnMod?: boolean;
  readonly returnClientId?: boolean;
  readonly reroute?: string;
  readonly purge?: boolean;
  readonly cancelClientId?: boolean;
  readonly arch?: 0 | 1 | 2 | 3 | 4 | 5;
  readonly nak?: boolean;
  readonly resumeMode?: 'single' | 'single-wait' | 'no-auto' | 'auto';
  readonly altClientId?: string;
  readonly maxMessages?: number;
  readonly localAddress?: string;
  readonly responseTimeout?: number;
  readonly tls?: boolean;
}

/** Parses a timer option: ms, `default`, `nowait`, `forever`. */
export function parseTimer(v: string | undefined): IrmTimerSetting | undefined {
  if (v === undefined) return undefined;
  if (v === 'default' || v === 'nowait' || v === 'forever') return v;
  const m = /^(\d+)(ms|s)?$/.exec(v);
  if (!m) throw new CliError(CliErrorCode.BAD_OPTION, `--timer must be milliseconds (e.g. 10000 or 10s), default, nowait or forever; got ${v}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

function formatResponse(r: ImsResponse): string {
  const out = [`reply from ${r.endpoint} (client ID ${r.clientId})`];
  r.segments.forEach((_, i) => out.push(`  segment ${i + 1}: "${segmentString(r, i)}"`));
  const f = r.flags;
  out.push(`  CSM flags X'${f.toString(16).toUpperCase().padStart(2, '0')}'${r.ackRequired ? ' ACK/NAK required' : ''}${r.conversational ? ' conversation continues' : ''}${r.asyncOutputAvailable ? ' async output queued' : ''}`);
  if (r.acknowledged) out.push(`  answered with ${r.acknowledged.toUpperCase()}${r.committed === undefined ? '' : r.committed ? ' — IMS committed (DEAL_CTD)' : ' — IMS backed out (DEAL_ABT)'}`);
  if (r.modname) out.push(`  MOD name ${r.modname}`);
  if (r.generatedClientId) out.push(`  generated client ID ${r.generatedClientId}`);
  for (const m of r.additionalOutput) out.push(`  further output: "${m.text}"`);
  return out.join('\n');
}

function segmentString(r: ImsResponse, i: number): string {
  // `text` joins every segment; show per segment when there are several.
  if (r.segments.length === 1) return r.text;
  const lens = r.segments.map((s) => s.length);
  const start = lens.slice(0, i).reduce((a, b) => a + b, 0);
  return r.text.slice(start, start + lens[i]!);
}

/** Runs one interaction; returns the text to print (the decoded reply, or the coded error). */
export async function sendCommand(o: SendOptions): Promise<{ text: string; ok: boolean }> {
  const clientOptions: ClientOptions = {
    host: o.host,
    port: o.port,
    maxConnections: 1,
    maxConnectAttempts: 1,
    ...(o.clientId ? { clientId: o.clientId } : {}),
    ...(o.socketType ? { socketType: o.socketType } : {}),
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    ...(o.responseTimeout ? { responseTimeout: o.responseTimeout } : {}),
    ...(o.tls ? { tls: true } : {}),
    ...(o.exit ? { exitId: o.exit === 'SAMPLE' ? '*SAMPLE*' : '*SAMPL1*' } : {}),
    ...(o.codePage ? { codePage: o.codePage } : {}),
    ...(o.datastore ? { datastore: o.datastore } : {}),
    ...(o.commitMode !== undefined ? { commitMode: o.commitMode } : {}),
    ...(o.syncLevel ? { syncLevel: o.syncLevel } : {}),
    ...(o.timer ? { interactionTimeout: parseTimer(o.timer)! } : {}),
    ...(o.lterm ? { ltermName: o.lterm } : {}),
    ...(o.user ? { racfUserId: o.user } : {}),
    ...(o.group ? { racfGroupName: o.group } : {}),
    ...(o.password ? { racfPassword: o.password } : {}),
    ...(o.applName ? { racfApplName: o.applName } : {}),
    ...(o.modName ? { mfsModname: o.modName } : {}),
    ...(o.returnMod ? { returnMfsModname: true } : {}),
    ...(o.returnClientId ? { returnClientId: true } : {}),
    ...(o.reroute ? { rerouteName: o.reroute } : {}),
    ...(o.purge ? { purgeUndeliverableOutput: true } : {}),
    ...(o.cancelClientId ? { cancelClientId: true } : {}),
    ...(o.arch !== undefined ? { irmArchitecture: o.arch } : {}),
  } as ClientOptions;
  let client;
  try {
    client = createClient(clientOptions);
  } catch (e) {
    if (isImsplexError(e)) throw new CliError(CliErrorCode.BAD_OPTION, e.message, { cause: e });
    throw e;
  }
  const data = o.dataHex !== undefined ? Uint8Array.from(Buffer.from(o.dataHex.replace(/\s+/g, ''), 'hex')) : o.data;
  const needTran = (): string => {
    if (!o.trancode) throw new CliError(CliErrorCode.BAD_OPTION, `--trancode is required for ${o.type}`);
    return o.trancode;
  };
  try {
    switch (o.type) {
      case 'send-receive': {
        const r = await client.sendReceive({ trancode: needTran(), ...(data !== undefined ? { data } : {}), ...(o.nak ? { onOutput: () => 'nak' as const } : {}) });
        return { text: formatResponse(r) + '\n', ok: true };
      }
      case 'send-only':
      case 'send-only-ordered':
      case 'send-only-ack':
      case 'send-only-errors': {
        const mode: SendOnlyMode = o.type === 'send-only' ? 'plain' : o.type === 'send-only-ordered' ? 'ordered' : o.type === 'send-only-ack' ? 'ack' : 'errors';
        const r = await client.sendOnly({ trancode: needTran(), mode, ...(data !== undefined ? { data } : {}) });
        return { text: `sent (${mode}) to ${r.endpoint} with client ID ${r.clientId}; output goes to the tpipe hold queue\n`, ok: true };
      }
      case 'resume-tpipe': {
        const lines: string[] = [];
        const max = o.maxMessages ?? 100;
        let n = 0;
        for await (const m of client.resumeTpipe({ mode: o.resumeMode ?? 'no-auto', ...(o.altClientId ? { alternateClientId: o.altClientId } : {}), ...(o.timer ? { timer: parseTimer(o.timer)! } : {}) })) {
          n++;
          if (o.nak) m.nak();
          lines.push(`message ${n} (tpipe ${m.clientId}): "${m.text}"${o.nak ? ' — NAKed back to the queue' : ''}`);
          if (n >= max) break;
        }
        if (n === 0) lines.push('no message was queued');
        return { text: lines.join('\n') + '\n', ok: true };
      }
      case 'ping':
        await client.ping();
        return { text: `PING ${o.host}:${o.port}: HWSC0030I *PING RESPONSE*\n`, ok: true };
    }
  } catch (e) {
    if (e instanceof ImsConnectRsmError) return { text: `RSM from IMS Connect: return code ${e.returnCode} (${e.returnCodeName}), reason ${e.reasonCode} (${e.reasonName})${e.socketClosed ? ', socket closed' : ''}\n  ${e.message}\n`, ok: false };
    if (e instanceof ImsInDoubtError) return { text: `${e.code}: ${e.message}\n`, ok: false };
    if (isImsplexError(e)) return { text: `${e.code}: ${e.message}\n`, ok: false };
    throw e;
  } finally {
    await client.close().catch(() => undefined);
  }
}
