/**
 * Queue depths of an IMS system, as the dashboard shows them, read from what each IMS box already
 * exposes on its admin port (packages/ims admin.ts, metrics.ts, commands.ts):
 *
 * - input queues per transaction: the `ims_input_queue_depth{tran="…"}` gauge of `GET /metrics`
 *   (one sample per defined transaction, zero included);
 * - hold queues per tpipe: the QCT column of the type-1 command `/DIS TPIPE` (`POST /command`), one
 *   row per tpipe under its owner (the OTMA member, i.e. the IMS Connect), e.g.
 *
 * ```
 * MEMBER/TPIPE        ENQCT  DEQCT    QCT  STATUS
 * HWS1
 * -CLIENT01               3      2      1  ACKWAIT
 * *25331/101500*
 * ```
 *
 * With shared queues every IMS of the group mirrors the same queues, so each shows the group's depths.
 */

/** Depth of one transaction input queue. */
export interface InputQueueDepth {
  readonly tran: string;
  readonly depth: number;
}

/** Depth of one tpipe hold queue (output waiting for RESUME TPIPE or an ACK). */
export interface HoldQueueDepth {
  /** The OTMA member that owns the tpipe (the IMS Connect's HWS ID). */
  readonly owner: string;
  readonly tpipe: string;
  readonly depth: number;
  /** `/DIS TPIPE` status words (e.g. `ACKWAIT`, `RESUME(NOAUTO)`), or ''. */
  readonly status: string;
}

/** Rows kept per IMS system and kind (a runaway number of tpipes must not bloat every snapshot). */
export const MAX_QUEUE_ROWS = 200;

const SAMPLE = /^ims_input_queue_depth\{([^}]*)\}\s+([-+0-9.eE]+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The `ims_input_queue_depth` samples of a Prometheus text exposition, sorted by transaction code.
 * Lines of other metrics, comments and malformed samples are skipped.
 */
export function parseInputDepths(metrics: string, max = MAX_QUEUE_ROWS): InputQueueDepth[] {
  const out: InputQueueDepth[] = [];
  for (const raw of metrics.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('ims_input_queue_depth{')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    let tran: string | undefined;
    for (const l of m[1]!.matchAll(LABEL)) if (l[1] === 'tran') tran = l[2]!.replace(/\\(.)/g, '$1');
    const depth = Number(m[2]);
    if (tran === undefined || !Number.isFinite(depth) || depth < 0) continue;
    out.push({ tran, depth });
  }
  out.sort((a, b) => a.tran.localeCompare(b.tran));
  return out.slice(0, max);
}

const TPIPE_ROW = /^-(\S+)\s+(\d+)\s+(\d+)\s+(\d+)(?:\s+(.*))?$/;
const STAMP = /^\*\d{5}\/\d{6}\*$/;

/**
 * The hold queues of a `/DIS TPIPE` answer: one entry per `-TPIPE` row, under the last owner line.
 * The heading, `*NO TPIPES*`, the time stamp and anything unrecognised are skipped.
 */
export function parseTpipeDisplay(lines: readonly string[], max = MAX_QUEUE_ROWS): HoldQueueDepth[] {
  const out: HoldQueueDepth[] = [];
  let owner = '';
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('MEMBER/TPIPE') || line === '*NO TPIPES*' || STAMP.test(line)) continue;
    if (line.startsWith('-')) {
      const m = TPIPE_ROW.exec(line);
      if (!m || owner === '') continue;
      out.push({ owner, tpipe: m[1]!, depth: Number(m[4]), status: (m[5] ?? '').trim() });
      if (out.length >= max) break;
    } else if (/^\S+$/.test(line) && !line.startsWith('DFS')) owner = line;
  }
  return out;
}
