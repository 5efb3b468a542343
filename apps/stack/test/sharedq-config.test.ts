/**
 * `[sharedq]` in the topology file: validation with file:line: key errors, the generated SHAREDQ
 * statement (parsed back by the IMS engine's own parser), the redis-server configuration, the Redis
 * box's place in the start order, its binds and --single-host mapping.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSystemConfig } from '@imsplex/ims';
import { boxSpecs } from '../src/boxes.js';
import { configPaths, imsDefinition, redactRedisUrl, redisConf, sharedQueuesUrl, writeConfigs } from '../src/configs.js';
import { TopologyError } from '../src/errors.js';
import { endpoints, Supervisor } from '../src/supervisor.js';
import { DEFAULT_TOPOLOGY, parseTopology, toSingleHost, type ImsDef, type RedisDef } from '../src/topology.js';
import { freePort } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'imsplex-sqcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(text: string): string[] {
  try {
    parseTopology(text, 'sq.topology');
  } catch (e) {
    expect(e).toBeInstanceOf(TopologyError);
    return (e as TopologyError).message.split('\n');
  }
  throw new Error('expected a TopologyError');
}

const ims = (t: ReturnType<typeof parseTopology>, name: string) => t.boxes.find((b) => b.name === name) as ImsDef;
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.startsWith(needle)) + 1;

describe('[sharedq] with the stack’s own redis-server', () => {
  const text = `${DEFAULT_TOPOLOGY}
[sharedq]
group = sqgrp9
lease = 2000
host  = SYS2
port  = 16379
fsync = always
`;
  const t = parseTopology(text, 'sq.topology');
  it('adds a Redis box on its host, started before the IMS systems', () => {
    expect(t.sharedQueues).toEqual({ group: 'SQGRP9', leaseMs: 2000, url: null, box: 'REDIS', line: lineOf(text, '[sharedq]') });
    expect(t.boxes[0]).toEqual({ kind: 'redis', name: 'REDIS', host: 'SYS2', port: 16379, adminPort: 16379, fsync: 'always', server: 'redis-server', line: lineOf(text, '[sharedq]') });
    expect(t.boxes.map((b) => b.kind).slice(0, 3)).toEqual(['redis', 'ims', 'ims']);
  });

  it('generates SHAREDQ in every IMS definition, with the stack secret as the Redis password; the IMS parser reads it back', () => {
    for (const name of ['IMS1', 'IMS2']) {
      const def = imsDefinition(t, ims(t, name), 'S3cr-t_x');
      expect(def).toContain('SHAREDQ  GROUP=SQGRP9,URL=redis://:S3cr-t_x@127.0.1.2:16379,LEASE=2000\n');
      const parsed = parseSystemConfig(def, `${name}.DEF`);
      expect(parsed.imsId).toBe(name);
      expect(parsed.sharedQueues).toMatchObject({ group: 'SQGRP9', url: 'redis://:S3cr-t_x@127.0.1.2:16379', leaseMs: 2000 });
    }
    // Without a secret (imsplex-stack generate) the URL carries no password.
    expect(sharedQueuesUrl(t)).toBe('redis://127.0.1.2:16379');
    expect(redactRedisUrl(sharedQueuesUrl(t, 'S3cr-t_x')!)).toBe('redis://***@127.0.1.2:16379');
    // Embedded queues: no SHAREDQ.
    const plain = parseTopology(DEFAULT_TOPOLOGY, 'default');
    expect(imsDefinition(plain, ims(plain, 'IMS1'), 'x')).not.toContain('SHAREDQ');
    expect(plain.sharedQueues).toBeNull();
  });

  it('writes redis.conf in the data folder (AOF beside it, bound to its host, password, mode 0600)', () => {
    const tt = { ...t, dataDir: join(dir, 'managed') };
    const w = writeConfigs(tt, { secret: 'pw"\\x' });
    const paths = configPaths(tt.dataDir);
    expect(w.files).toContain(paths.redisConf);
    const conf = readFileSync(paths.redisConf, 'utf8');
    expect(conf).toBe(redisConf(tt, tt.boxes[0] as RedisDef, 'pw"\\x'));
    expect(conf.split('\n').slice(1)).toEqual([
      'bind 127.0.1.2',
      'port 16379',
      'protected-mode no',
      'daemonize no',
      `dir "${paths.redisDir}"`,
      'appendonly yes',
      'appendfsync always',
      'save ""',
      'logfile ""',
      'requirepass "pw\\"\\\\x"',
      '',
    ]);
    expect(statSync(paths.redisConf).mode & 0o777).toBe(0o600);
    // IMS with shared queues: no --data (the queues live in Redis).
    const specs = boxSpecs(tt, { runtime: 'source', secret: 'pw' });
    const imsArgv = specs.find((s) => s.def.name === 'IMS1')!.argv;
    expect(imsArgv).not.toContain('--data');
    const redis = specs.find((s) => s.def.kind === 'redis')!;
    expect(redis.argv.slice(-3)).toEqual(['--', 'redis-server', paths.redisConf]);
    expect(redis.argv.some((a) => a.endsWith('redis-box.ts'))).toBe(true);
    expect(redis).toMatchObject({ address: '127.0.1.2', protocolPort: 16379, healthUrl: 'redis://127.0.1.2:16379', auth: { scheme: 'redis', password: 'pw' } });
    expect(endpoints(tt)).toContainEqual({ name: 'redis REDIS (shared queues)', url: 'redis://127.0.1.2:16379' });
  });

  it('--single-host moves the Redis port with its host', () => {
    const { topology: s, notes } = toSingleHost(t);
    expect(s.boxes.find((b) => b.kind === 'redis')).toMatchObject({ port: 16399, adminPort: 16399 });
    expect(sharedQueuesUrl(s)).toBe('redis://127.0.0.1:16399');
    expect(notes).toContain('redis REDIS (shared queues) listens on 127.0.0.1:16399 instead of 127.0.1.2:16379');
  });

  it('defaults: group SQGRP1, box REDIS on the first host, port 6379, everysec, lease 10000', () => {
    const d = parseTopology(`${DEFAULT_TOPOLOGY}[sharedq]\n`, 'd');
    expect(d.sharedQueues).toMatchObject({ group: 'SQGRP1', leaseMs: 10_000, url: null, box: 'REDIS' });
    expect(d.boxes[0]).toMatchObject({ kind: 'redis', name: 'REDIS', host: 'SYS1', port: 6379, fsync: 'everysec', server: 'redis-server' });
  });
});

describe('[sharedq] with a Redis of your own', () => {
  it('the supervisor checks that Redis answers before it starts any box', async () => {
    const port = await freePort(); // nothing listens there
    const t = { ...parseTopology(`${DEFAULT_TOPOLOGY}[sharedq]\nurl = redis://:pw@127.0.0.1:${port}\n`, 'ext'), dataDir: join(dir, 'ext') };
    const sup = new Supervisor({ topology: t, runtime: 'source' });
    await expect(sup.start()).rejects.toMatchObject({ code: 'STACK_ERR_START_FAILED', message: expect.stringContaining(`shared queues: the Redis at redis://***@127.0.0.1:${port} does not answer`) as string });
    expect(sup.snapshot().state).toBe('stopped');
    expect(sup.snapshot().boxes.every((b) => b.state === 'stopped' && b.pid === null)).toBe(true);
    expect(sup.snapshot().sharedQueues).toEqual({ group: 'SQGRP1', url: `redis://***@127.0.0.1:${port}`, box: null, leaseMs: 10_000 });
  });

  it('uses the URL as given (normalised), and starts no Redis box', () => {
    const t = parseTopology(`${DEFAULT_TOPOLOGY}[sharedq]\nurl = redis://127.0.0.1:6380/3\n`, 'ext');
    expect(t.sharedQueues).toMatchObject({ group: 'SQGRP1', url: 'redis://127.0.0.1:6380/3', box: null });
    expect(t.boxes.some((b) => b.kind === 'redis')).toBe(false);
    expect(imsDefinition(t, ims(t, 'IMS2'), 'secret')).toContain('SHAREDQ  GROUP=SQGRP1,URL=redis://127.0.0.1:6380/3,LEASE=10000\n');
  });
});

describe('[sharedq] validation', () => {
  it('reports every problem as file:line: key: message', () => {
    const base = DEFAULT_TOPOLOGY.split('\n').length;
    const lines = problems(`${DEFAULT_TOPOLOGY}[sharedq]
group = 9GROUP
lease = 50
url = redis://10.0.0.5:6379
port = 1234
fsync = sometimes
colour = red
`);
    expect(lines).toEqual([
      `sq.topology:${base + 1}: group: must be 1-8 characters of A-Z, 0-9, @, #, $ (not starting with a digit), got "9GROUP"`,
      `sq.topology:${base + 2}: lease: must be an integer from 100 to 3600000, got "50"`,
      `sq.topology:${base + 3}: url: host must be a loopback address (127.0.0.0/8 or localhost), got '10.0.0.5'`,
      `sq.topology:${base + 4}: port: applies only to the stack's own redis-server; remove it, or remove url to have the stack run one`,
      `sq.topology:${base + 5}: fsync: applies only to the stack's own redis-server; remove it, or remove url to have the stack run one`,
      `sq.topology:${base + 6}: colour: unknown key in [sharedq] (known: group, lease, url, name, host, port, fsync, server)`,
    ]);
  });

  it('checks the managed box: name, host, fsync, server, port clashes, box names; and needs IMS systems', () => {
    const base = DEFAULT_TOPOLOGY.split('\n').length;
    expect(problems(`${DEFAULT_TOPOLOGY}[sharedq]\nname = 1CF\nhost = SYS9\nfsync = sometimes\nserver = /usr/bin/redis server\n`)).toEqual([
      `sq.topology:${base + 1}: name: must be 1-8 characters of A-Z, 0-9, @, #, $ (not starting with a digit), got "1CF"`,
      `sq.topology:${base + 2}: host: unknown host "SYS9" (defined: SYS1, SYS2, SYS3)`,
      `sq.topology:${base + 3}: fsync: must be one of always, everysec, no, got "sometimes"`,
      `sq.topology:${base + 4}: server: must be one executable path or name, got "/usr/bin/redis server"`,
    ]);
    expect(problems(`${DEFAULT_TOPOLOGY}[sharedq]\nport = 7250\n`)).toContain(`sq.topology:${base}: port: 127.0.1.1:7250 is already used by ims IMS1 (admin-port)`);
    expect(problems(`${DEFAULT_TOPOLOGY}[sharedq]\nname = IMS2\n`)).toContain(`sq.topology:${lineOf(DEFAULT_TOPOLOGY, '[ims IMS2]')}: [ims IMS2]: box name IMS2 is already used by [redis] at line ${base}`);
    const noIms = DEFAULT_TOPOLOGY.replace(/\[ims IMS1\]\nhost = SYS1\n\[ims IMS2\]\nhost = SYS2\n/, '').replace(/\[zosconnect[^]*$/, '').replaceAll('datastores = IMS1 IMS2', '');
    const noImsText = `${noIms}[sharedq]\n`;
    expect(problems(noImsText)).toContain(`sq.topology:${lineOf(noImsText, '[sharedq]')}: [sharedq]: no [ims] box is defined: shared queues are shared by IMS systems`);
  });
});
