/**
 * IMS message texts the engine sends to clients as data (spec §7.7, §9.3). Only the message number and
 * its fixed words come from IBM; the exact spacing and the time-stamp layout are our choice [UNV]: a
 * blank, then `HH:MM:SS` in UTC at the end, as IMS appends its time stamp.
 */

function stamp(now: number): string {
  return new Date(now).toISOString().slice(11, 19);
}

/** DFS064: unknown transaction code / destination. */
export function dfs064(dest: string, now: number): string {
  return `DFS064 ${stamp(now)} DESTINATION CAN NOT BE FOUND OR CREATED, DEST=${dest}`;
}

/** DFS065: transaction (or LTERM) stopped for queuing. */
export function dfs065(dest: string, now: number): string {
  return `DFS065 ${stamp(now)} TRAN/LTERM STOPPED, DEST=${dest}`;
}

/** DFS2082: a response-mode / send-then-commit transaction ended without a reply. */
export function dfs2082(now: number): string {
  return `DFS2082 ${stamp(now)} RESPONSE MODE TRANSACTION TERMINATED WITHOUT REPLY`;
}

/**
 * DFS555I: the program abended; up to 78 bytes of the input message follow (IBM's layout:
 * `DFS555I TRAN tttttttt ABEND Sxxx,Uyyyy; [REASON=r;] MSG IN PROCESS: data time-stamp`).
 */
export function dfs555i(tran: string, abendCode: string, input: string, now: number, reason?: string): string {
  const code = abendCode.startsWith('S') ? `${abendCode},U0000` : `S000,${abendCode}`;
  const why = reason ? ` REASON=${reason};` : '';
  const data = [...input].map((ch) => (ch.charCodeAt(0) < 0x20 ? ' ' : ch)).join('').slice(0, 78);
  return `DFS555I TRAN ${tran.padEnd(8)} ABEND ${code};${why} MSG IN PROCESS: ${data} ${stamp(now)}`;
}

/** DFS1292E: security violation (logged; the client gets a NAK with a sense code). */
export function dfs1292e(user: string, tran: string, now: number): string {
  return `DFS1292E ${stamp(now)} SECURITY VIOLATION, USER=${user}, TRAN=${tran}`;
}
