import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY, parseTopology, toSingleHost, xcfOf } from '../src/topology.js';
import { TopologyError } from '../src/errors.js';

function problems(text: string): string[] {
  try {
    parseTopology(text, 'stack.topology');
  } catch (e) {
    expect(e).toBeInstanceOf(TopologyError);
    expect((e as TopologyError).code).toBe('STACK_ERR_TOPOLOGY');
    return (e as TopologyError).message.split('\n');
  }
  throw new Error('expected a TopologyError');
}

const MIN = `[host SYS1]
address = 127.0.1.1
[vipa]
address = 127.0.0.100
[distribute 5801]
targets = imsconnect
[distributor SD1]
host = SYS1
[imsconnect HWS1]
host = SYS1
`;

describe('the default topology', () => {
  const t = parseTopology(DEFAULT_TOPOLOGY, 'default');
  it("is the seed's: VIPA 127.0.0.100:5595/5801, SYS1-SYS3, 3 z/OS Connect, 2 IMS Connect, 2 IMS, SD1 + backup SD2", () => {
    expect(t.vipa).toBe('127.0.0.100');
    expect(t.hosts.map((h) => [h.name, h.address])).toEqual([
      ['SYS1', '127.0.1.1'],
      ['SYS2', '127.0.1.2'],
      ['SYS3', '127.0.1.3'],
    ]);
    expect(t.distributes.map((d) => [d.port, d.targets, d.method, d.optLocal])).toEqual([
      [5595, 'zosconnect', 'ROUNDROBIN', null],
      [5801, 'imsconnect', 'SERVERWLM', 1],
    ]);
    const names = (kind: string) => t.boxes.filter((b) => b.kind === kind).map((b) => `${b.name}@${b.host}`);
    expect(names('zosconnect')).toEqual(['ZCON1@SYS1', 'ZCON2@SYS2', 'ZCON3@SYS3']);
    expect(names('imsconnect')).toEqual(['HWS1@SYS1', 'HWS2@SYS2']);
    expect(names('ims')).toEqual(['IMS1@SYS1', 'IMS2@SYS2']);
    expect(t.boxes.filter((b) => b.kind === 'distributor').map((b) => b.kind === 'distributor' && [b.name, b.host, b.role])).toEqual([
      ['SD1', 'SYS1', 'primary'],
      ['SD2', 'SYS2', 'backup'],
    ]);
    expect(t.boxes.find((b) => b.name === 'HWS1')).toMatchObject({ port: 5801, datastores: ['IMS1', 'IMS2'] });
    expect(t.boxes.find((b) => b.name === 'ZCON3')).toMatchObject({ port: 5595, datastore: 'IMS1' });
    expect(t.dataDir).toBe('./.data/stack');
    expect(t.dataPlane).toBe('handoff');
  });
  it('starts IMS first and the distributors last', () => {
    expect(t.boxes.map((b) => b.kind)).toEqual(['ims', 'ims', 'imsconnect', 'imsconnect', 'zosconnect', 'zosconnect', 'zosconnect', 'distributor', 'distributor']);
  });
});

describe('topology validation', () => {
  it('reports every problem at once as file:line: key: message', () => {
    const lines = problems(`[stack]
data-plane = carrier-pigeon
[host SYS1]
address = 10.0.0.1
[vipa]
address = 127.0.0.100
[distribute 5801]
targets = imsconnect
method = FASTEST
optlocal = 17
[distributor SD1]
host = SYS9
colour = blue
[imsconnect HWS1]
host = SYS1
datastores = IMS7
`);
    // Sorted by line; with no usable host, the boxes' host keys are not reported again.
    expect(lines).toEqual([
      'stack.topology:1: [host]: at least one [host NAME] section is required',
      'stack.topology:2: data-plane: must be proxy or handoff, got "carrier-pigeon"',
      'stack.topology:4: address: must be a loopback address (127.0.0.0/8), got "10.0.0.1"',
      'stack.topology:9: method: must be one of BASEWLM, SERVERWLM, ROUNDROBIN, WEIGHTEDACTIVE, HOTSTANDBY, got "FASTEST"',
      'stack.topology:10: optlocal: must be 0-16 or no, got "17"',
      'stack.topology:13: colour: unknown key in [distributor] (known: host, role, rank, admin-port, heartbeat-port)',
      'stack.topology:16: datastores: names unknown IMS "IMS7" (defined: none)',
    ]);
  });
  it('catches syntax, duplicates, names and port clashes', () => {
    expect(problems(`${MIN}oops\n`)).toEqual(['stack.topology:11: syntax: expected "[section]" or "key = value", got "oops"']);
    expect(problems(`${MIN}[imsconnect HWS1]\nhost = SYS1\n`)).toContain('stack.topology:11: [imsconnect HWS1]: defined twice (first at line 9)');
    expect(problems(MIN.replace('[imsconnect HWS1]', '[imsconnect 1HWS]'))).toContain('stack.topology:9: [imsconnect 1HWS]: name must be 1-8 characters of A-Z, 0-9, @, #, $ (not starting with a digit)');
    expect(problems(MIN.replace('host = SYS1\n[imsconnect', 'host = SYS1\nadmin-port = 7300\n[imsconnect'))).toContain(
      'stack.topology:7: admin-port: 127.0.1.1:7300 is already used by imsconnect HWS1 (admin-port)',
    );
    expect(problems(MIN.replace('address = 127.0.0.100', 'address = 127.0.1.1'))).toContain('stack.topology:4: address: 127.0.1.1 is also a host address; the VIPA must be an address of its own');
    expect(problems(`${MIN}[distributor SD2]\nhost = SYS1\nadmin-port = 7101\nheartbeat-port = 7151\n`)).toContain('stack.topology:11: role: exactly one distributor must be primary, found 2');
  });
  it('accepts a minimal topology and defaults the ports and the datastores', () => {
    const t = parseTopology(`${MIN}[ims IMSA]\nhost = SYS1\n`, 'min');
    expect(t.boxes.find((b) => b.name === 'HWS1')).toMatchObject({ port: 5801, adminPort: 7300, datastores: ['IMSA'], maxsoc: 200 });
    expect(t.boxes.find((b) => b.name === 'SD1')).toMatchObject({ adminPort: 7100, heartbeatPort: 7150, role: 'primary', rank: 100 });
  });
});

describe('--single-host', () => {
  it('maps every host and the VIPA to 127.0.0.1 with distinct ports, one distributor, and says so', () => {
    const t = parseTopology(DEFAULT_TOPOLOGY, 'default');
    const { topology: s, notes } = toSingleHost(t);
    expect(s.singleHost).toBe(true);
    expect(s.vipa).toBe('127.0.0.1');
    expect(new Set(s.hosts.map((h) => h.address))).toEqual(new Set(['127.0.0.1']));
    expect(s.boxes.filter((b) => b.kind === 'zosconnect').map((b) => b.kind === 'zosconnect' && b.port)).toEqual([5605, 5615, 5625]);
    expect(s.boxes.filter((b) => b.kind === 'distributor').map((b) => b.name)).toEqual(['SD1']);
    expect(notes).toContain('distributor SD2 (backup) is not started: takeover needs one XCF address per stack');
    expect(notes).toContain('OPTLOCAL has no effect: every connection comes from 127.0.0.1');
    // The distributor still tells the targets apart by their logical XCF address.
    expect([xcfOf(s, 'SYS1'), xcfOf(s, 'SYS3')]).toEqual(['127.0.1.1', '127.0.1.3']);
  });
});
