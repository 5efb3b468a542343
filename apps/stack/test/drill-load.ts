/**
 * Steady load for the reliability drill: REST reads through z/OS Connect, and IMS Connect commit-mode-0
 * IVTNO ADDs with a unique key per request (so every execution leaves a record that can be counted
 * afterwards). Every request ends in exactly one bucket: succeeded, failed (definitely refused) or in
 * doubt (written, then the connection failed).
 */
import { request } from 'node:http';
import { createClient, ImsConnectRsmError, ImsInDoubtError, type ImsConnectClient } from '@imsplex/client';
import { isImsplexError } from '@imsplex/codec';

export type Kind = 'succeeded' | 'failed' | 'in-doubt';

export interface Rec {
  readonly stream: 'rest' | 'ims';
  readonly id: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly kind: Kind;
  readonly code?: string;
  /** IMS: the client ID (tpipe) the request used. */
  readonly clientId?: string;
  /** IMS: the reply text. */
  readonly text?: string;
}

export interface SteadyLoad {
  readonly records: Rec[];
  stop(): Promise<void>;
}

/** Bounded: at most `maxRequests` per stream; each worker pauses `thinkMs` between requests. */
export function steadyLoad(o: { vipa: string; restPort: number; imsPort: number; now: () => number; workers?: number; thinkMs?: number; maxRequests?: number }): SteadyLoad {
  const records: Rec[] = [];
  let stopped = false;
  const think = o.thinkMs ?? 25;
  const max = o.maxRequests ?? 5000;
  let imsSeq = 0;
  let restSeq = 0;
  // CM0 on transaction sockets: every request is a new connection the VIPA distributes, and the
  // socket ends with the interaction.
  const client: ImsConnectClient = createClient({
    host: o.vipa,
    port: o.imsPort,
    datastore: 'IMS1',
    commitMode: 0,
    socketType: 'transaction',
    maxConnections: 8,
    maxConnectAttempts: 2,
    connectTimeout: 2000,
    responseTimeout: 8000,
    interactionTimeout: 5000,
  });
  const imsWorker = async (): Promise<void> => {
    while (!stopped && imsSeq < max) {
      const id = `D${String(++imsSeq).padStart(7, '0')}`;
      const startedAt = o.now();
      try {
        // IVTNO input after the 8-byte trancode: the rest of IBM's IN-TRANCDE X(10) (2 blanks), command
        // X(8), last name X(10), first X(10), extension X(10), zip X(7).
        const r = await client.sendReceive({ trancode: 'IVTNO', data: `  ${'ADD'.padEnd(8)}${id.padEnd(10)}${'DRILL'.padEnd(10)}${'1'.padEnd(10)}${'Z1'.padEnd(7)}` });
        records.push({ stream: 'ims', id, startedAt, endedAt: o.now(), kind: 'succeeded', clientId: r.clientId, text: r.text });
      } catch (e) {
        if (e instanceof ImsInDoubtError) records.push({ stream: 'ims', id, startedAt, endedAt: o.now(), kind: 'in-doubt', code: e.code, clientId: e.clientId });
        else if (e instanceof ImsConnectRsmError) {
          // An RSM after the request reached IMS Connect (e.g. the OTMA link dropped): for commit mode 0
          // the output may still be on the tpipe's hold queue, so the tpipe is kept for recovery.
          records.push({ stream: 'ims', id, startedAt, endedAt: o.now(), kind: 'failed', code: `${e.code}_${e.returnCode}_${e.reasonName}`, ...(e.clientId ? { clientId: e.clientId } : {}) });
        } else records.push({ stream: 'ims', id, startedAt, endedAt: o.now(), kind: 'failed', code: isImsplexError(e) ? e.code : String(e) });
      }
      await new Promise((r) => setTimeout(r, think));
    }
  };
  const restWorker = async (): Promise<void> => {
    while (!stopped && restSeq < max) {
      const id = `G${String(++restSeq).padStart(7, '0')}`;
      const startedAt = o.now();
      const r = await restGet(o.vipa, o.restPort, '/phonebook/LAST1');
      records.push({ stream: 'rest', id, startedAt, endedAt: o.now(), ...r });
      await new Promise((res) => setTimeout(res, think));
    }
  };
  const workers = o.workers ?? 2;
  const all = [...Array.from({ length: workers }, imsWorker), ...Array.from({ length: workers }, restWorker)];
  return {
    records,
    async stop() {
      stopped = true;
      await Promise.all(all);
      await client.close();
    },
  };
}

function restGet(host: string, port: number, path: string): Promise<{ kind: Kind; code?: string }> {
  return new Promise((resolve) => {
    let written = false;
    const req = request({ host, port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? { kind: 'succeeded' } : { kind: 'failed', code: `HTTP_${res.statusCode}` }));
      res.on('error', () => resolve({ kind: 'in-doubt', code: 'RESPONSE_ABORTED' }));
    });
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('finish', () => (written = true));
    req.setTimeout(8000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(written && e.code !== 'ECONNREFUSED' ? { kind: 'in-doubt', code: e.code ?? 'ERROR' } : { kind: 'failed', code: e.code ?? 'ERROR' }));
    req.end();
  });
}

/**
 * RESUME TPIPE (no-auto) on each client ID through each IMS Connect and each datastore; returns the
 * texts found. Each IMS Connect is asked directly, not through the VIPA: an OTMA tpipe belongs to the
 * member (IMS Connect) that created it, so output queued for HWS1's tpipe is delivered through HWS1
 * only (a super-member group, SMEMBER=, would share it — not configured here; spec ICON §6.2).
 */
export async function recoverOutputs(o: { endpoints: ReadonlyArray<{ host: string; port: number }>; clientIds: readonly string[]; datastores: readonly string[] }): Promise<string[]> {
  const texts: string[] = [];
  for (const ep of o.endpoints) {
    for (const datastore of o.datastores) {
      const client = createClient({ host: ep.host, port: ep.port, datastore, maxConnections: 1, connectTimeout: 2000, responseTimeout: 8000 });
      try {
        for (const clientId of o.clientIds) {
          try {
            for await (const m of client.resumeTpipe({ clientId, mode: 'no-auto', timer: 500 })) texts.push(m.text);
          } catch {
            // nothing queued under this name on this datastore
          }
        }
      } finally {
        await client.close();
      }
    }
  }
  return texts;
}

/** IVTNO DISPLAY of each key on one datastore: the keys found there. */
export async function keysOn(o: { vipa: string; imsPort: number; datastore: string; keys: readonly string[] }): Promise<Set<string>> {
  const found = new Set<string>();
  const client = createClient({ host: o.vipa, port: o.imsPort, datastore: o.datastore, maxConnections: 4, responseTimeout: 8000 });
  try {
    const queue = [...o.keys];
    const worker = async (): Promise<void> => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const r = await client.sendReceive({ trancode: 'IVTNO', data: `  ${'DISPLAY'.padEnd(8)}${k.padEnd(10)}` });
        if (r.text.startsWith('ENTRY WAS DISPLAYED')) found.add(k);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  } finally {
    await client.close();
  }
  return found;
}
