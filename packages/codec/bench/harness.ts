/**
 * Shared benchmark harness: warm-up, then paired rounds (ours and the baseline timed back to back,
 * order alternating), reporting medians. The ratio is the median of the per-round ratios, so load from
 * other processes on a shared machine cancels out of each pair. Never run inside tests.
 */

/** Operations per second of `fn` over a time box of `ms`. */
export function opsPerSecond(fn: () => void, ms: number, batch = 2000): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    t = performance.now();
  }
  return (n / (t - t0)) * 1000;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Comparison {
  readonly ours: number;
  readonly base: number;
  readonly ratio: number;
}

/** Time `ours` against `baseline`: `warmup` calls of each, then `rounds` paired rounds of `ms` each. */
export function compare(ours: () => void, baseline: () => void, o: { rounds?: number; ms?: number; warmup?: number; batch?: number } = {}): Comparison {
  const rounds = o.rounds ?? 15;
  const ms = o.ms ?? 120;
  const warmup = o.warmup ?? 50_000;
  const batch = o.batch ?? 2000;
  for (let i = 0; i < warmup; i++) {
    ours();
    baseline();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      b.push(opsPerSecond(baseline, ms, batch));
      a.push(opsPerSecond(ours, ms, batch));
    } else {
      a.push(opsPerSecond(ours, ms, batch));
      b.push(opsPerSecond(baseline, ms, batch));
    }
  }
  return { ours: median(a), base: median(b), ratio: median(a.map((v, i) => v / b[i]!)) };
}

/** One table row and its `@@bench` line. */
export interface BenchRow extends Comparison {
  readonly case: string;
}

/** Print a markdown table and one `@@bench {json}` line per row (collected by the root `pnpm bench`). */
export function report(o: { title: string; suite: string; unit: string; baseline: string; goal?: number; rows: readonly BenchRow[] }): void {
  console.log(o.title);
  console.log(`| case | @imsplex/codec | ${o.baseline} | ratio |${o.goal === undefined ? '' : ' goal |'}`);
  console.log(`|---|---|---|---|${o.goal === undefined ? '' : '---|'}`);
  for (const r of o.rows) {
    const goal = o.goal === undefined ? '' : ` ≥ ${o.goal}x ${r.ratio >= o.goal ? 'ok' : 'MISSED'} |`;
    console.log(`| ${r.case} | ${Math.round(r.ours).toLocaleString('en-US')} ${o.unit} | ${Math.round(r.base).toLocaleString('en-US')} ${o.unit} | ${r.ratio.toFixed(2)}x |${goal}`);
  }
  for (const r of o.rows) {
    const line: Record<string, unknown> = { suite: o.suite, case: r.case, value: Math.round(r.ours), unit: o.unit, baseline: o.baseline, baselineValue: Math.round(r.base), ratio: Number(r.ratio.toFixed(3)) };
    if (o.goal !== undefined) line.goal = o.goal;
    console.log(`@@bench ${JSON.stringify(line)}`);
  }
}
