/**
 * Basic authentication against the server's basic registry and the four z/OS Connect roles
 * (spec §2.2): Admin (everything), Operations (read, start/stop), Invoke (call services and APIs),
 * Reader (read). Passwords are plain text or `{sha256}<hex>`; comparison is constant-time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ZosConnectError, ZosConnectErrorCode } from './errors.js';
import { type ManagerConfig, type Role, type UserConfig } from './config/model.js';

/** Roles that satisfy a required role. */
const SATISFIES: Readonly<Record<Role, readonly Role[]>> = {
  Admin: ['Admin'],
  Operations: ['Admin', 'Operations'],
  Invoke: ['Admin', 'Invoke'],
  Reader: ['Admin', 'Operations', 'Reader'],
};

/** Longest Authorization header accepted. */
const MAX_AUTH_HEADER = 4096;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** True when `given` matches the stored password (plain or `{sha256}hex`). */
export function passwordMatches(stored: string, given: string): boolean {
  const m = /^\{sha256\}([0-9a-fA-F]{64})$/.exec(stored);
  const want = m ? Buffer.from(m[1]!, 'hex') : digest(stored);
  return timingSafeEqual(want, digest(given));
}

/** Roles of a user from its groups. */
export function rolesOf(user: UserConfig, manager: ManagerConfig): Role[] {
  return (Object.keys(manager.roleGroups) as Role[]).filter((r) => user.groups.includes(manager.roleGroups[r]));
}

/**
 * Check the Authorization header for `role`. Returns the user name; throws `ZCON_ERR_UNAUTHORIZED`
 * (no or bad credentials) or `ZCON_ERR_FORBIDDEN` (no such role).
 */
export function authorize(header: string | undefined, role: Role, users: readonly UserConfig[], manager: ManagerConfig): string {
  if (!header || header.length > MAX_AUTH_HEADER || !/^Basic\s+/i.test(header)) {
    throw new ZosConnectError(ZosConnectErrorCode.UNAUTHORIZED, 'Authentication is required (HTTP basic).');
  }
  const decoded = Buffer.from(header.replace(/^Basic\s+/i, '').trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const name = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  const user = users.find((u) => u.name === name);
  // Compare against something even for an unknown user, so timing does not reveal user names.
  const ok = passwordMatches(user?.password ?? '\u0000', password) && user !== undefined;
  if (!ok) throw new ZosConnectError(ZosConnectErrorCode.UNAUTHORIZED, 'The user name or password is not valid.');
  const roles = rolesOf(user, manager);
  if (!SATISFIES[role].some((r) => roles.includes(r))) {
    throw new ZosConnectError(ZosConnectErrorCode.FORBIDDEN, `User ${name} is not authorized: the ${role} role is required.`, { details: { user: name, role } });
  }
  return name;
}
