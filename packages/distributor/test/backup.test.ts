import { describe, expect, it } from 'vitest';
import { decideOwnership, isEligible, type OwnershipSelf, type PeerView } from '../src/backup.js';

const self = (p: Partial<OwnershipSelf> = {}): OwnershipSelf => ({
  xcf: '127.0.1.2',
  priority: 100,
  moveable: 'IMMEDIATE',
  createAtStart: false,
  owns: false,
  wants: true,
  activeConns: 0,
  discovered: true,
  sawOwner: true,
  takeback: null,
  ...p,
});
const peer = (p: Partial<PeerView> = {}): PeerView => ({ xcf: '127.0.1.1', live: true, priority: 255, owns: false, eligible: true, ...p });

describe('decideOwnership', () => {
  it('the VIPADEFINE stack claims a free DVIPA at start once discovery is done', () => {
    const define = self({ xcf: '127.0.1.1', priority: 255, createAtStart: true, sawOwner: false });
    expect(decideOwnership(define, [peer({ xcf: '127.0.1.2', priority: 100, eligible: false })])).toEqual({ type: 'claim' });
    expect(decideOwnership({ ...define, discovered: false }, [])).toEqual({ type: 'none' });
  });
  it('a backup stays backup while the owner is live', () => {
    expect(decideOwnership(self(), [peer({ owns: true })])).toEqual({ type: 'none' });
  });
  it('takeover: the owner is gone → the highest-ranked live backup claims, the others wait', () => {
    const dead = peer({ live: false, owns: false });
    expect(decideOwnership(self(), [dead])).toEqual({ type: 'claim' });
    const rank50 = self({ xcf: '127.0.1.3', priority: 50 });
    expect(decideOwnership(rank50, [dead, peer({ xcf: '127.0.1.2', priority: 100 })])).toEqual({ type: 'none' });
    // Equal ranks: the lower XCF address wins.
    expect(decideOwnership(self({ xcf: '127.0.1.3' }), [dead, peer({ xcf: '127.0.1.2', priority: 100 })])).toEqual({ type: 'none' });
  });
  it('a plain VIPABACKUP never creates a DVIPA that nobody has owned', () => {
    expect(isEligible(self({ sawOwner: false }))).toBe(false);
    expect(decideOwnership(self({ sawOwner: false }), [])).toEqual({ type: 'none' });
    expect(decideOwnership(self({ sawOwner: false, createAtStart: true }), [])).toEqual({ type: 'claim' });
  });
  it('takeback: the returning owner asks the holder with its MOVEABLE mode', () => {
    const define = self({ xcf: '127.0.1.1', priority: 255, createAtStart: true, moveable: 'WHENIDLE' });
    expect(decideOwnership(define, [peer({ xcf: '127.0.1.2', priority: 100, owns: true })])).toEqual({ type: 'requestTakeback', to: '127.0.1.2', mode: 'WHENIDLE' });
  });
  it('MOVEABLE IMMEDIATE: the holder releases at once, even with connections', () => {
    const holder = self({ owns: true, activeConns: 5, takeback: { from: '127.0.1.1', mode: 'IMMEDIATE' } });
    expect(decideOwnership(holder, [peer()])).toEqual({ type: 'release', reason: 'takeback' });
  });
  it('MOVEABLE WHENIDLE: the holder releases only with no connections left', () => {
    const holder = self({ owns: true, activeConns: 1, takeback: { from: '127.0.1.1', mode: 'WHENIDLE' } });
    expect(decideOwnership(holder, [peer()])).toEqual({ type: 'none' });
    expect(decideOwnership({ ...holder, activeConns: 0 }, [peer()])).toEqual({ type: 'release', reason: 'takeback' });
  });
  it('ignores a takeback request from a peer that is no longer live', () => {
    const holder = self({ owns: true, takeback: { from: '127.0.1.1', mode: 'IMMEDIATE' } });
    expect(decideOwnership(holder, [peer({ live: false })])).toEqual({ type: 'none' });
  });
  it('DEACTIVATE: an owner that no longer wants the DVIPA releases it, and does not claim it again', () => {
    expect(decideOwnership(self({ owns: true, wants: false }), [])).toEqual({ type: 'release', reason: 'deactivate' });
    expect(decideOwnership(self({ wants: false }), [])).toEqual({ type: 'none' });
  });
  it('a backup takes over from a live owner that gave the DVIPA up (deactivated)', () => {
    expect(decideOwnership(self(), [peer({ owns: false, eligible: false })])).toEqual({ type: 'claim' });
  });
  it('a live higher-priority contender keeps a lower one from claiming', () => {
    expect(decideOwnership(self(), [peer({ owns: false, eligible: true })])).toEqual({ type: 'none' });
  });
});
