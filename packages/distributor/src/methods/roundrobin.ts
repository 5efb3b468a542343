/** ROUNDROBIN: one connection per ready target stack per turn; weights and TSR ignored (spec §4.3). */
import { rotate, type DistributionMethod } from './method.js';

export const roundRobin: DistributionMethod = {
  name: 'ROUNDROBIN',
  flagWord: 'RoundRobin',
  flagLetter: 'R',
  choose: rotate,
};
