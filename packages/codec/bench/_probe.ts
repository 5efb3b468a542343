import { buildRequest, encodeRequest } from '../src/request.js';
import { IRM_FIXED_LAYOUT, SAMPLE_USER_LAYOUT, irmInternals } from '../src/irm.js';
import { CP037 } from '../src/ebcdic.js';
import { writeSegments, segmentsSize } from '../src/segments.js';
const R = buildRequest({ clientId: 'CLIENT01', datastore: 'IMS1', racfUserId: 'USER01', racfPassword: 'SECRET', timer: { code: 0x31 }, trancode: 'IVTNO', data: 'DISPLAY LAST1' });
const out = new Uint8Array(200);
function t(name: string, fn: () => void) {
  for (let i = 0; i < 200000; i++) fn();
  const n = 1_000_000; const t0 = performance.now(); for (let i = 0; i < n; i++) fn(); const dt = performance.now() - t0;
  console.log(name, ((dt / n) * 1e6).toFixed(0), 'ns');
}
const plan = irmInternals.planIrm(R.irm, R.exit);
t('encodeRequest', () => encodeRequest(R));
t('alloc113', () => new Uint8Array(113));
t('planIrm', () => irmInternals.planIrm(R.irm, R.exit));
t('writePlanned', () => irmInternals.writePlanned(R.irm, plan, out, 4, { codeSet: 'ebcdic' }));
t('fixed.write', () => IRM_FIXED_LAYOUT.write(R.irm, out, 4, CP037));
t('encodeInto8', () => CP037.encodeInto('CLIENT01', out, 0, 8));
t('segments', () => { segmentsSize(R.segments); writeSegments(R.segments, out, 84); });
function enc2() {
  const exit = R.exit;
  const plan = irmInternals.planIrm(R.irm, exit);
  const total = 4 + plan.size + segmentsSize(R.segments, 'llzz');
  const o = new Uint8Array(total);
  o[0] = total >>> 24; o[1] = (total >>> 16) & 0xff; o[2] = (total >>> 8) & 0xff; o[3] = total & 0xff;
  const at = irmInternals.writePlanned(R.irm, plan, o, 4, { codeSet: R.codeSet, ebcdicPage: undefined });
  writeSegments(R.segments, o, at, 'llzz', undefined);
  return o;
}
t('enc2', enc2);
t('encodeRequest again', () => encodeRequest(R));
t('alloc113 again', () => new Uint8Array(113));
