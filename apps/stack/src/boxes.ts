/**
 * How each kind of box is started and talked to: its package bin, its command line (from the
 * generated configuration), its health endpoint and how its admin endpoint takes operator commands.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configPaths, distributorXcf, healthUrl } from './configs.js';
import { StackError, StackErrorCode } from './errors.js';
import { hostAddress, xcfOf, type BoxDef, type BoxKind, type Topology } from './topology.js';

/** `dist`: the packages' built bins (what `up` uses). `source`: their TypeScript sources through tsx (tests). */
export type Runtime = 'dist' | 'source';

/** The package each kind comes from: npm workspace packages, and Debian's `redis-server` for the shared-queues Redis. */
export const PACKAGE_OF: Readonly<Record<BoxKind, string>> = Object.freeze({
  distributor: '@imsplex/distributor',
  ims: '@imsplex/ims',
  imsconnect: '@imsplex/ims-connect',
  zosconnect: '@imsplex/zos-connect',
  redis: 'redis-server',
});

/**
 * The administrator of the z/OS Connect sample configuration's basic registry (its server.xml says
 * "change them"): the supervisor uses it for the admin REST API (`/zosConnect/...`).
 */
export const ZOS_CONNECT_ADMIN = Object.freeze({ user: 'zcadmin', password: 'zcadmin' });

/**
 * Whether a target kind's bin takes handed-off sockets (calls `acceptHandoffs` when it has an IPC
 * channel). Read from the bin itself, so the answer follows the packages as they change.
 */
export function binAcceptsHandoffs(kind: BoxKind, runtime: Runtime): boolean {
  try {
    return /accept\w*Handoffs\(/.test(readFileSync(binPath(kind, runtime), 'utf8'));
  } catch {
    return false;
  }
}

/** How an HTTP admin endpoint authenticates operator commands. */
export type HttpAuth = { readonly scheme: 'basic'; readonly user: string; readonly password: string } | { readonly scheme: 'bearer'; readonly token: string };
/** How a box's admin endpoint authenticates: HTTP, or Redis AUTH (null password: no AUTH). */
export type AdminAuth = HttpAuth | { readonly scheme: 'redis'; readonly password: string | null };

/** Everything needed to run and reach one box. */
export interface BoxSpec {
  readonly def: BoxDef;
  /** Address the box binds (its host's). */
  readonly address: string;
  /** Its dynamic XCF address (the identity the distributor knows it by). */
  readonly xcf: string;
  /** `node` arguments: runtime flags, the bin, then the bin's own arguments. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly healthUrl: string;
  /** Base URL of the admin endpoint (`POST /command`, `GET /metrics`, …); `redis://host:port` for Redis. */
  readonly adminUrl: string;
  readonly auth: AdminAuth;
  /** Protocol port the distributor sends to (targets only). */
  readonly protocolPort: number | null;
  /** The distributed port this box serves, when it is a target. */
  readonly distributedPort: number | null;
}

/** The directory of a workspace package. */
export function packageDir(pkg: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch (e) {
    throw new StackError(StackErrorCode.NO_BIN, `package ${pkg} is not installed (run pnpm install)`, { cause: e });
  }
}

/** The bin script of a package for a runtime (for Redis: the wrapper that runs redis-server). */
export function binPath(kind: BoxKind, runtime: Runtime): string {
  if (kind === 'redis') return ownScript('redis-box', runtime);
  const pkg = PACKAGE_OF[kind];
  const dir = packageDir(pkg);
  if (runtime === 'source') return join(dir, 'src', 'bin.ts');
  const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin?: Record<string, string> | string };
  const rel = typeof json.bin === 'string' ? json.bin : Object.values(json.bin ?? {})[0];
  if (!rel) throw new StackError(StackErrorCode.NO_BIN, `${pkg} declares no bin`);
  return join(dir, rel);
}

/** `--import` URL of tsx, for the source runtime. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch (e) {
    throw new StackError(StackErrorCode.NO_BIN, 'the source runtime needs tsx (a root devDependency)', { cause: e });
  }
}

/** The guard every child preloads: it ends the box when the supervisor's IPC channel closes (no orphans). */
export function guardPath(runtime: Runtime): string {
  return ownScript('guard', runtime);
}

/** A script of this package: built `dist/<name>.js` next to dist/main.js, or `src/<name>.ts` (run through tsx). */
function ownScript(name: string, runtime: Runtime): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // The dist runtime runs built code only, even when the supervisor itself runs from source (tests,
  // benchmarks under tsx): the package's built script, so no box needs the tsx loader.
  const built = join(here, '..', 'dist', `${name}.js`);
  if (runtime === 'dist' && existsSync(built)) return built;
  const js = join(here, `${name}.js`);
  if (existsSync(js)) return js;
  const ts = join(here, `${name}.ts`);
  if (runtime === 'source' || existsSync(ts)) return ts;
  throw new StackError(StackErrorCode.NO_BIN, `${name} not found next to ${here}`);
}

/**
 * Why the redis-server executable cannot run (not installed, not executable), or null. Runs
 * `<server> --version` once.
 */
export function redisServerProblem(server: string): string | null {
  const r = spawnSync(server, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `${server} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install Debian's redis-server package (apt-get install -y redis-server) or set [sharedq] server = /path/to/redis-server`;
  if (r.status !== 0) return `${server} --version exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`;
  return null;
}

/** Checks that the bin exists and is not a placeholder; returns why not, or null when runnable. */
export function binProblem(kind: BoxKind, runtime: Runtime): string | null {
  let file: string;
  try {
    file = binPath(kind, runtime);
  } catch (e) {
    return (e as Error).message;
  }
  if (!existsSync(file)) return `${file} does not exist${runtime === 'dist' ? ' (run the build first: turbo run build)' : ''}`;
  const text = readFileSync(file, 'utf8');
  if (text.length < 400 && /not built yet/.test(text)) return `${PACKAGE_OF[kind]}'s bin is still a placeholder${runtime === 'dist' ? ' (rebuild: turbo run build)' : ''}`;
  return null;
}

/** Builds the spec of every box of a topology. */
export function boxSpecs(t: Topology, options: { runtime: Runtime; secret: string; logLevel?: string }): BoxSpec[] {
  const paths = configPaths(t.dataDir);
  const runtimeFlags = (kind: BoxKind): string[] => {
    const guard = guardPath(options.runtime);
    const flags = options.runtime === 'source' || guard.endsWith('.ts') ? ['--import', tsxLoader(), '--conditions=@imsplex/source'] : [];
    return [...flags, '--import', guard, binPath(kind, options.runtime)];
  };
  const env = {
    IMSPLEX_ADMIN_USER: 'admin',
    IMSPLEX_ADMIN_PASSWORD: options.secret,
    IMSPLEX_ADMIN_TOKEN: options.secret,
    IMSPLEX_SUPERVISED: '1',
  };
  const logLevel = options.logLevel ?? 'info';
  return t.boxes.map((b): BoxSpec => {
    const address = hostAddress(t, b.host);
    const base = { def: b, address, xcf: xcfOf(t, b.host), env, cwd: paths.dataDir, healthUrl: healthUrl(t, b), adminUrl: `http://${address}:${b.adminPort}` };
    switch (b.kind) {
      case 'distributor': {
        const xcf = distributorXcf(t, b);
        return {
          ...base,
          xcf,
          argv: [
            ...runtimeFlags(b.kind),
            '--config',
            paths.profile,
            '--admin',
            `${address}:${b.adminPort}`,
            '--role',
            b.role,
            '--stack',
            b.host,
            '--xcf',
            xcf,
            '--rank',
            String(b.rank),
            '--data-plane',
            t.dataPlane,
            '--log-level',
            logLevel,
          ],
          auth: { scheme: 'basic', user: 'admin', password: options.secret },
          protocolPort: null,
          distributedPort: null,
        };
      }
      case 'imsconnect':
        return {
          ...base,
          argv: [...runtimeFlags(b.kind), '--config', paths.hwscfg(b.name)],
          auth: { scheme: 'bearer', token: options.secret },
          protocolPort: b.port,
          distributedPort: t.distributes.find((d) => d.targets === 'imsconnect')?.port ?? null,
        };
      case 'ims':
        return {
          ...base,
          // With shared queues the queues and databases live in Redis and IMS ignores --data (it would
          // only warn); otherwise the journal lives in the IMS's own folder.
          argv: [...runtimeFlags(b.kind), '--config', paths.imsDef(b.name), ...(t.sharedQueues ? [] : ['--data', paths.imsDir(b.name)]), '--log-level', logLevel],
          auth: { scheme: 'bearer', token: options.secret },
          protocolPort: null,
          distributedPort: null,
        };
      case 'redis':
        return {
          ...base,
          // The wrapper holds the IPC channel and the guard for redis-server (see redis-box.ts).
          argv: [...runtimeFlags(b.kind), '--', b.server, paths.redisConf],
          auth: { scheme: 'redis', password: options.secret },
          protocolPort: b.port,
          distributedPort: null,
        };
      case 'zosconnect':
        return {
          ...base,
          // The shared configuration directory names the IMS connection (the VIPA); the command line
          // gives this server's own address, port and admin listener.
          argv: [
            ...runtimeFlags(b.kind),
            '--config',
            paths.zosConnectDir,
            '--name',
            b.name,
            '--host',
            address,
            '--port',
            String(b.port),
            '--admin',
            `${address}:${b.adminPort}`,
            '--log-level',
            logLevel,
          ],
          auth: { scheme: 'basic', user: ZOS_CONNECT_ADMIN.user, password: ZOS_CONNECT_ADMIN.password },
          protocolPort: b.port,
          distributedPort: t.distributes.find((d) => d.targets === 'zosconnect')?.port ?? null,
        };
    }
  });
}
