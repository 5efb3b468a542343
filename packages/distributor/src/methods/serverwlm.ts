/**
 * SERVERWLM: weighted round robin on the server-specific weights the targets report, lowered by
 * their health and abnormal-completion rate, then by TSR (spec §4.2).
 */
import { smoothWeighted, type DistributionMethod } from './method.js';

export const serverWlm: DistributionMethod = {
  name: 'SERVERWLM',
  flagWord: 'ServerWLM',
  flagLetter: 'S',
  choose: smoothWeighted,
};
