import { describe, expect, it } from 'vitest';
import { parseSystemConfig } from '../src/config.js';
import { Scheduler } from '../src/scheduler.js';

const cfg = parseSystemConfig(
  `APPLCTN PSB=P1,IMPL=ECHO
TRANSACT CODE=LOW,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(2,9,3),SCHDTYP=PARALLEL,MAXRGN=2
TRANSACT CODE=HIGH,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(5,5)
TRANSACT CODE=C2,MSGTYPE=(SNGLSEG,RESPONSE,2),PRTY=(7)
TRANSACT CODE=IDLE,MSGTYPE=(SNGLSEG,RESPONSE,1),PRTY=(0)
REGION NAME=R1,CLASS=(1),COUNT=2
REGION NAME=R2,CLASS=(2,1),COUNT=1`,
  's.cfg',
);

describe('Scheduler', () => {
  it('picks the highest priority in the region class order, and the limit priority past the limit count', () => {
    const s = new Scheduler(cfg.regions, cfg.transactions.values());
    s.enqueued('LOW', 2);
    s.enqueued('HIGH', 1);
    s.enqueued('C2', 1);
    const a = s.assign();
    // R1.1 → HIGH (5 > 2), R1.2 → LOW, R2 → C2 (class 2 first)
    expect(a.map((x) => `${x.regionName}:${x.tran}`)).toEqual(['R1.1:HIGH', 'R1.2:LOW', 'R2:C2']);
    expect(s.assign()).toEqual([]);
    s.release(1);
    s.enqueued('LOW', 3); // queue 4 ≥ lct 3 → priority 9
    expect(s.priority('LOW')).toBe(9);
    s.enqueued('HIGH', 1);
    expect(s.assign().map((x) => x.tran)).toEqual(['LOW']);
  });

  it('respects the parallel limit and serial scheduling', () => {
    const s = new Scheduler(cfg.regions, cfg.transactions.values());
    s.enqueued('HIGH', 5); // SERIAL → one region at most
    const a = s.assign();
    expect(a.filter((x) => x.tran === 'HIGH')).toHaveLength(1);
    expect(s.active('HIGH')).toBe(1);
    expect(s.queued('HIGH')).toBe(4);
    const s2 = new Scheduler(cfg.regions, cfg.transactions.values());
    s2.enqueued('LOW', 10); // MAXRGN=2
    expect(s2.assign().filter((x) => x.tran === 'LOW')).toHaveLength(2);
  });

  it('does not schedule stopped transactions, and priority 0 only when nothing else is queued', () => {
    const s = new Scheduler(cfg.regions, cfg.transactions.values());
    s.enqueued('IDLE', 1);
    s.enqueued('HIGH', 1);
    s.setSchedulingStopped('HIGH', true);
    const a = s.assign();
    expect(a.map((x) => x.tran)).toEqual(['IDLE']);
    s.setSchedulingStopped('HIGH', false);
    expect(s.assign().map((x) => x.tran)).toEqual(['HIGH']);
  });

  it('spreads equal priorities by least recently scheduled', () => {
    const two = parseSystemConfig(
      `APPLCTN PSB=P1,IMPL=ECHO
TRANSACT CODE=A,PRTY=(3)
TRANSACT CODE=B,PRTY=(3)
REGION NAME=R,COUNT=1`,
      'x.cfg',
    );
    const s = new Scheduler(two.regions, two.transactions.values());
    s.enqueued('A', 3);
    s.enqueued('B', 3);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [a] = s.assign();
      order.push(a!.tran);
      s.release(a!.regionId);
    }
    expect(order).toEqual(['A', 'B', 'A', 'B']);
  });
});
