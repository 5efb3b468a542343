/** Registry of distribution methods by DISTMETHOD name. */
import type { DistMethodName } from '../config/types.js';
import { baseWlm } from './basewlm.js';
import { hotStandby } from './hotstandby.js';
import type { DistributionMethod } from './method.js';
import { roundRobin } from './roundrobin.js';
import { serverWlm } from './serverwlm.js';
import { weightedActive } from './weightedactive.js';

export const METHODS: Readonly<Record<DistMethodName, DistributionMethod>> = Object.freeze({
  BASEWLM: baseWlm,
  SERVERWLM: serverWlm,
  ROUNDROBIN: roundRobin,
  WEIGHTEDACTIVE: weightedActive,
  HOTSTANDBY: hotStandby,
});

export type { DistributionMethod, MethodChoice, MethodContext } from './method.js';
export { hotStandbyActive, hotStandbyUsable } from './hotstandby.js';
