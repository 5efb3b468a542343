/**
 * RACF=Y emulation: a users file of hashed passwords (scrypt or PBKDF2 from node:crypto), and the
 * check IMS Connect's RACROUTE VERIFY would make (user, password, group; optionally transaction).
 *
 * Users file format, one user per line (`#` starts a comment):
 *
 *     USER01  scrypt$16384$8$1$<salt b64>$<hash b64>  GROUPS=GRP1,GRP2  TRANS=IVTNO,IVTCV
 *
 * Make a hash with `hashPassword('secret')` or `imsplex-ims-connect hash-password`.
 */
import { pbkdf2Sync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ImsConnectError, ImsConnectErrorCode } from './errors.js';
import type { UserRecord } from './config/options.js';

/** Hash a password for the users file. scrypt N=16384,r=8,p=1 by default. */
export function hashPassword(password: string, options: { algorithm?: 'scrypt' | 'pbkdf2-sha256'; salt?: Buffer; iterations?: number } = {}): string {
  const salt = options.salt ?? randomBytes(16);
  if ((options.algorithm ?? 'scrypt') === 'scrypt') {
    const hash = scryptSync(password.toUpperCase(), salt, 32, { N: 16384, r: 8, p: 1 });
    return `scrypt$16384$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
  }
  const iterations = options.iterations ?? 210_000;
  const hash = pbkdf2Sync(password.toUpperCase(), salt, iterations, 32, 'sha256');
  return `pbkdf2-sha256$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Verify `password` against a stored hash, in constant time for equal lengths. RACF passwords are
 * case-insensitive unless mixed-case passwords are enabled (PSWDMC); the emulator folds to upper case
 * on both sides, as RACF does by default. Malformed hashes simply fail.
 */
export function verifyPassword(password: string, stored: string): boolean {
  const parts = stored.split('$');
  try {
    if (parts[0] === 'scrypt' && parts.length === 6) {
      const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
      const expected = Buffer.from(hash, 'base64');
      const N = Number(n);
      if (!Number.isInteger(N) || N < 2 || N > 1 << 20 || expected.length < 16 || expected.length > 128) return false;
      const got = scryptSync(password.toUpperCase(), Buffer.from(salt, 'base64'), expected.length, { N, r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 });
      return timingSafeEqual(got, expected);
    }
    if ((parts[0] === 'pbkdf2-sha256' || parts[0] === 'pbkdf2-sha512') && parts.length === 4) {
      const [, iter, salt, hash] = parts as [string, string, string, string];
      const expected = Buffer.from(hash, 'base64');
      const iterations = Number(iter);
      if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000 || expected.length < 16 || expected.length > 128) return false;
      const got = pbkdf2Sync(password.toUpperCase(), Buffer.from(salt, 'base64'), iterations, expected.length, parts[0] === 'pbkdf2-sha256' ? 'sha256' : 'sha512');
      return timingSafeEqual(got, expected);
    }
  } catch {
    return false;
  }
  return false;
}

/** Parse users-file text. Errors name `file:line`. */
export function parseUsersFile(text: string, file = '<users>'): UserRecord[] {
  const users: UserRecord[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const fail = (msg: string): never => {
      throw new ImsConnectError(ImsConnectErrorCode.USERS_FILE, `${file}:${i + 1}: ${msg}`, { details: { file, line: i + 1 } });
    };
    const [user, hash, ...rest] = line.split(/\s+/);
    if (!user || !/^[A-Za-z0-9@#$]{1,8}$/.test(user)) fail(`user ID must be 1-8 characters A-Z 0-9 @ # $, got "${user}"`);
    if (!hash || !/^(scrypt\$\d+\$\d+\$\d+\$[^$]+\$[^$]+|pbkdf2-sha(256|512)\$\d+\$[^$]+\$[^$]+)$/.test(hash)) fail('second field must be a scrypt$N$r$p$salt$hash or pbkdf2-sha256$iter$salt$hash password hash');
    const rec: UserRecord = { user: user!.toUpperCase(), hash: hash! };
    for (const opt of rest) {
      const m = /^(GROUPS|TRANS)=([A-Za-z0-9@#$,]*)$/i.exec(opt);
      if (!m) fail(`unknown field "${opt}" (GROUPS=…, TRANS=…)`);
      const list = m![2]!.split(',').filter(Boolean).map((s) => s.toUpperCase());
      if (m![1]!.toUpperCase() === 'GROUPS') rec.groups = list;
      else rec.transactions = list;
    }
    const prev = seen.get(rec.user);
    if (prev) fail(`user ${rec.user} is already defined at line ${prev}`);
    seen.set(rec.user, i + 1);
    users.push(rec);
  });
  return users;
}

/** Read and parse a users file. */
export function loadUsersFile(path: string): UserRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ImsConnectError(ImsConnectErrorCode.USERS_FILE, `${path}: cannot read users file: ${(e as Error).message}`, { cause: e });
  }
  return parseUsersFile(text, path);
}

/** Outcome of a RACF check. `racfRc` is the RACROUTE VERIFY return code reported in RSM byte 3. */
export type SecurityResult = { ok: true; user: string } | { ok: false; reason: 'NO_USER' | 'NO_PASSWORD' | 'UNKNOWN_USER' | 'BAD_PASSWORD' | 'BAD_GROUP' | 'NOT_AUTHORIZED_TRAN'; racfRc: number };

/**
 * RACF check with a per-server cache of successful verifications (IMS Connect's UIDCACHE does the
 * same to avoid repeating the expensive hash). The cache key includes the password so a changed
 * password is re-verified.
 */
export class SecurityManager {
  private readonly users: Map<string, UserRecord>;
  private readonly cache = new Map<string, true>();
  private static readonly CACHE_LIMIT = 4096;

  constructor(users: readonly UserRecord[]) {
    this.users = new Map(users.map((u) => [u.user.toUpperCase(), u]));
  }

  /** Number of known users. */
  get size(): number {
    return this.users.size;
  }

  /**
   * Check `user`/`password`/`group` and, when the user lists transactions, the trancode.
   * RACROUTE VERIFY return codes used for byte 3: 4 user not defined, 8 password not authorised,
   * 12 not in group. [INF] values follow RACF's RACINIT/VERIFY SAF return-code meanings.
   */
  check(user: string, password: string, group: string, trancode: string | undefined): SecurityResult {
    if (!user) return { ok: false, reason: 'NO_USER', racfRc: 4 };
    const rec = this.users.get(user.toUpperCase());
    if (!rec) return { ok: false, reason: 'UNKNOWN_USER', racfRc: 4 };
    if (!password) return { ok: false, reason: 'NO_PASSWORD', racfRc: 8 };
    const key = `${rec.user}\0${password.toUpperCase()}`;
    if (!this.cache.has(key)) {
      if (!verifyPassword(password, rec.hash)) return { ok: false, reason: 'BAD_PASSWORD', racfRc: 8 };
      if (this.cache.size >= SecurityManager.CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, true);
    }
    if (group && !(rec.groups ?? []).includes(group.toUpperCase())) return { ok: false, reason: 'BAD_GROUP', racfRc: 12 };
    if (trancode && rec.transactions && !rec.transactions.includes(trancode.toUpperCase())) return { ok: false, reason: 'NOT_AUTHORIZED_TRAN', racfRc: 8 };
    return { ok: true, user: rec.user };
  }
}
