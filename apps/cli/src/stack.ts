/**
 * Talking to a running `imsplex-stack` supervisor: its admin API (the dashboard's `/api/…` routes)
 * found through `<data-dir>/supervisor.json`, or an explicit URL and token.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import { CliError, CliErrorCode } from './errors.js';

/** Where a supervisor is. */
export interface StackEndpoint {
  readonly url: string;
  readonly token: string;
}

/** Finds the supervisor of a data folder (default ./.data/stack). */
export function findStack(dataDir = './.data/stack'): StackEndpoint {
  const file = join(resolve(dataDir), 'supervisor.json');
  let j: { dashboard?: unknown; token?: unknown };
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as typeof j;
  } catch (e) {
    throw new CliError(CliErrorCode.STACK, `no running stack: cannot read ${file} (${(e as Error).message}); start one with "imsplex-stack up"`, { cause: e });
  }
  if (typeof j.dashboard !== 'string' || typeof j.token !== 'string') throw new CliError(CliErrorCode.STACK, `${file} names no dashboard URL and token`);
  return { url: j.dashboard, token: j.token };
}

/** Calls the supervisor API; resolves with the JSON body. @throws {CliError} `CLI_ERR_STACK`. */
export function stackApi<T = unknown>(ep: StackEndpoint, method: 'GET' | 'POST', path: string, body?: string, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const u = new URL(path, ep.url);
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: false, headers: { authorization: `Bearer ${ep.token}`, connection: 'close', ...(data ? { 'content-type': 'text/plain', 'content-length': String(data.length) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 8 << 20) req.destroy(new Error('response too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          let j: { error?: string; code?: string };
          try {
            j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof j;
          } catch {
            reject(new CliError(CliErrorCode.STACK, `${method} ${path}: answer is not JSON (HTTP ${res.statusCode})`));
            return;
          }
          if ((res.statusCode ?? 500) >= 400) reject(new CliError(CliErrorCode.STACK, `${method} ${path}: ${j.code ?? res.statusCode}: ${j.error ?? ''}`, { details: { status: res.statusCode, code: j.code } }));
          else resolvePromise(j as T);
        });
      },
    );
    req.on('socket', (s) => s.setNoDelay(true));
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof CliError ? e : new CliError(CliErrorCode.STACK, `${method} ${ep.url}${path}: ${e.message}`, { cause: e })));
    req.end(data);
  });
}

/** The parts of the supervisor's snapshot the CLI uses. */
export interface StackState {
  readonly vipa: string;
  readonly vipaOwner: string | null;
  readonly distributes: ReadonlyArray<{ port: number; targets: string }>;
  readonly hosts: ReadonlyArray<{ name: string; address: string }>;
  readonly boxes: ReadonlyArray<{ name: string; kind: string; state: string; host: string; address: string; protocolPort?: number | null }>;
}
