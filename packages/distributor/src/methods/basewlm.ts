/** BASEWLM (default): weighted round robin on normalized WLM system weights × TSR (spec §4.1). */
import { smoothWeighted, type DistributionMethod } from './method.js';

export const baseWlm: DistributionMethod = {
  name: 'BASEWLM',
  flagWord: 'BaseWLM',
  flagLetter: 'B',
  choose: smoothWeighted,
};
