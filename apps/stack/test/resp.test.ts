/**
 * The supervisor's small Redis client (RESP2) and the queue-depth readers, byte by byte; then the
 * client against a scripted TCP peer (AUTH, pipelining, errors, timeout, oversize).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseInputDepths, parseTpipeDisplay } from '../src/queue-depths.js';
import { encodeCommand, formatReply, parseInfo, redisCall, redisEndpointOf, RespErrorReply, RespReader, splitCommandLine, type RespValue } from '../src/resp.js';

describe('RESP2 encoding and reading', () => {
  it('encodes a command as an array of bulk strings (UTF-8 byte lengths)', () => {
    expect(encodeCommand(['AUTH', 'pw']).toString('latin1')).toBe('*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n');
    expect([...encodeCommand(['SET', 'k', 'é'])]).toEqual([...Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n'), 0xc3, 0xa9, 0x0d, 0x0a]);
  });

  // Every reply type, nested; built by hand.
  const stream = Buffer.from('+PONG\r\n-ERR wrong\r\n:42\r\n:-7\r\n$5\r\nhe\r\nl\r\n$-1\r\n*-1\r\n*0\r\n*3\r\n$1\r\na\r\n*2\r\n:1\r\n$0\r\n\r\n+ok\r\n', 'latin1');
  const want: RespValue[] = ['PONG', new RespErrorReply('ERR wrong'), 42, -7, 'he\r\nl', null, null, [], ['a', [1, ''], 'ok']];

  it('reads every reply type, whole and split at every byte', () => {
    expect(new RespReader().push(stream)).toEqual(want);
    for (let cut = 1; cut < stream.length; cut++) {
      const r = new RespReader();
      expect([...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))], `cut at ${cut}`).toEqual(want);
    }
    const r = new RespReader();
    const got: RespValue[] = [];
    for (const b of stream) got.push(...r.push(Buffer.from([b])));
    expect(got).toEqual(want);
  });

  it('refuses malformed and oversized replies with STACK_ERR_COMMAND', () => {
    const fails = (bytes: string, max?: number) => {
      try {
        new RespReader(max).push(Buffer.from(bytes, 'latin1'));
      } catch (e) {
        return (e as { code: string; message: string }).code + ' ' + (e as Error).message;
      }
      return 'no error';
    };
    expect(fails('?x\r\n')).toBe('STACK_ERR_COMMAND malformed Redis reply: unknown reply type byte 0x3f');
    expect(fails(':12a\r\n')).toBe('STACK_ERR_COMMAND malformed Redis reply: integer "12a"');
    expect(fails('$3\r\nabcd\r\n')).toBe('STACK_ERR_COMMAND malformed Redis reply: bulk string not followed by CRLF');
    expect(fails('$-2\r\n')).toBe('STACK_ERR_COMMAND malformed Redis reply: length -2');
    expect(fails('*'.repeat(20) + '1\r\n')).toMatch(/malformed Redis reply: length/);
    expect(fails('*1\r\n'.repeat(20) + ':1\r\n')).toBe('STACK_ERR_COMMAND malformed Redis reply: arrays nested deeper than 16');
    expect(fails('$100\r\n', 50)).toBe('STACK_ERR_COMMAND Redis bulk string of 100 bytes exceeds 50');
    expect(fails('+' + 'x'.repeat(60), 50)).toBe('STACK_ERR_COMMAND Redis reply exceeds 50 bytes');
  });

  it('prints replies as redis-cli does', () => {
    expect(formatReply(['a', [1, null], new RespErrorReply('ERR x')])).toEqual(['1) a', '2) 1) (integer) 1', '   2) (nil)', '3) (error) ERR x']);
    expect(formatReply([])).toEqual(['(empty array)']);
    expect(formatReply('# Server\r\nredis_version:7.0.15\r\n')).toEqual(['# Server', 'redis_version:7.0.15']);
  });

  it('splits an operator command line like redis-cli, quotes included', () => {
    expect(splitCommandLine('  INFO   keyspace ')).toEqual(['INFO', 'keyspace']);
    expect(splitCommandLine(`SET "a b" 'c d' "q\\"x"`)).toEqual(['SET', 'a b', 'c d', 'q"x']);
    expect(() => splitCommandLine('GET "open')).toThrow(expect.objectContaining({ code: 'STACK_ERR_BAD_REQUEST' }) as Error);
  });

  it('reads INFO fields and Redis URLs', () => {
    expect(parseInfo('# Server\r\nredis_version:7.0.15\r\nprocess_id:42\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=0\r\n')).toEqual({ redis_version: '7.0.15', process_id: '42', db0: 'keys=3,expires=0' });
    expect(redisEndpointOf('redis://:p%40ss@127.0.1.1:16379/2')).toEqual({ host: '127.0.1.1', port: 16379, password: 'p@ss' });
    expect(redisEndpointOf('redis://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(() => redisEndpointOf('http://127.0.0.1')).toThrow(expect.objectContaining({ code: 'STACK_ERR_BAD_REQUEST' }) as Error);
  });
});

describe('queue depths from the IMS admin port', () => {
  it('reads ims_input_queue_depth per transaction from the Prometheus text', () => {
    const metrics = [
      '# HELP ims_input_queue_depth Messages waiting on each transaction input queue',
      '# TYPE ims_input_queue_depth gauge',
      'ims_input_queue_depth{tran="IVTNO",imsid="IMS1"} 0',
      'ims_input_queue_depth{imsid="IMS1",tran="ECHO"} 3',
      'ims_input_queue_depth{tran="WEIRD\\"X",imsid="IMS1"} 1',
      'ims_input_queue_depth{tran="BAD",imsid="IMS1"} NaN',
      'ims_output_queue_depth{imsid="IMS1"} 9',
      'ims_transactions_total{tran="ECHO",outcome="committed",imsid="IMS1"} 12',
    ].join('\n');
    expect(parseInputDepths(metrics)).toEqual([
      { tran: 'ECHO', depth: 3 },
      { tran: 'IVTNO', depth: 0 },
      { tran: 'WEIRD"X', depth: 1 },
    ]);
    expect(parseInputDepths(metrics, 1)).toEqual([{ tran: 'ECHO', depth: 3 }]);
  });

  it('reads the hold queue (QCT) of every tpipe from /DIS TPIPE, under its owner', () => {
    // The layout of packages/ims commands.ts: heading, owner lines, "-tpipe" rows, time stamp.
    const lines = [
      'MEMBER/TPIPE        ENQCT  DEQCT    QCT  STATUS',
      'HWS1',
      '-CLIENT01               3      2      1  ACKWAIT',
      '-IMSP0001               0      0      0',
      'HWS2',
      '-SQTEST01               1      0      4  RESUME(NOAUTO)',
      '-broken row',
      '*25331/101500*',
    ];
    expect(parseTpipeDisplay(lines)).toEqual([
      { owner: 'HWS1', tpipe: 'CLIENT01', depth: 1, status: 'ACKWAIT' },
      { owner: 'HWS1', tpipe: 'IMSP0001', depth: 0, status: '' },
      { owner: 'HWS2', tpipe: 'SQTEST01', depth: 4, status: 'RESUME(NOAUTO)' },
    ]);
    expect(parseTpipeDisplay(['MEMBER/TPIPE        ENQCT  DEQCT    QCT  STATUS', '*NO TPIPES*', '*25331/101500*'])).toEqual([]);
    expect(parseTpipeDisplay(['DFS2077I COMMAND VERB X INVALID', '-TP 1 1 1'])).toEqual([]);
    expect(parseTpipeDisplay(lines, 2)).toHaveLength(2);
  });
});

describe('redisCall against a scripted peer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /** A peer that records what it got and answers `answer(bytesSoFar)` once that returns a string. */
  async function peer(answer: (got: string, s: Socket) => string | null): Promise<{ port: number; got: () => string }> {
    let got = '';
    server = createServer((s) => {
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        const a = answer(got, s);
        if (a !== null) s.write(a);
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    return { port: typeof a === 'object' && a ? a.port : 0, got: () => got };
  }

  it('AUTHs first, pipelines every command in one write, and returns one reply per command', async () => {
    const p = await peer((got) => (got.endsWith('*1\r\n$4\r\nINFO\r\n') ? '+OK\r\n+PONG\r\n$11\r\nfield:value\r\n' : null));
    const replies = await redisCall({ host: '127.0.0.1', port: p.port, password: 'pw' }, [['PING'], ['INFO']]);
    expect(replies).toEqual(['PONG', 'field:value']);
    expect(p.got()).toBe('*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nINFO\r\n');
  });

  it('rejects a refused AUTH; returns other error replies as values', async () => {
    const p = await peer((got) => (got.includes('PING') ? '-WRONGPASS invalid username-password pair\r\n+PONG\r\n' : null));
    await expect(redisCall({ host: '127.0.0.1', port: p.port, password: 'bad' }, [['PING']])).rejects.toMatchObject({ code: 'STACK_ERR_COMMAND', message: expect.stringContaining('AUTH refused: WRONGPASS') as string });
    const q = await peer((got) => (got.includes('NOPE') ? '-ERR unknown command\r\n' : null));
    expect(await redisCall({ host: '127.0.0.1', port: q.port }, [['NOPE']])).toEqual([new RespErrorReply('ERR unknown command')]);
  });

  it('fails with STACK_ERR_COMMAND on silence (timeout), a closed connection, a refused connect and a malformed reply', async () => {
    const silent = await peer(() => null);
    await expect(redisCall({ host: '127.0.0.1', port: silent.port }, [['PING']], { timeoutMs: 100 })).rejects.toMatchObject({ code: 'STACK_ERR_COMMAND', message: expect.stringContaining('did not answer within 100 ms') as string });
    await new Promise<void>((r) => server!.close(() => r()));
    const closer = await peer((_g, s) => {
      s.end('+PONG\r\n');
      return null;
    });
    await expect(redisCall({ host: '127.0.0.1', port: closer.port }, [['PING'], ['PING']])).rejects.toMatchObject({ code: 'STACK_ERR_COMMAND', message: expect.stringContaining('closed the connection after 1 of 2 replies') as string });
    await new Promise<void>((r) => server!.close(() => r()));
    await expect(redisCall({ host: '127.0.0.1', port: closer.port }, [['PING']])).rejects.toMatchObject({ code: 'STACK_ERR_COMMAND' });
    const junk = await peer(() => '!junk\r\n');
    await expect(redisCall({ host: '127.0.0.1', port: junk.port }, [['PING']])).rejects.toMatchObject({ code: 'STACK_ERR_COMMAND', message: expect.stringContaining('malformed') as string });
  });
});
