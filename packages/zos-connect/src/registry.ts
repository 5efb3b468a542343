/**
 * Runtime state of services and APIs (started/stopped, statistics) and the router from request
 * paths to API operations (OpenAPI path templates under each API's base path).
 */
import { type ApiConfig, type OperationConfig, type ServiceConfig, type ZosConnectConfig } from './config/model.js';

/** Invocation statistics of a service (`?action=getStatistics`). */
export interface ServiceStats {
  invocations: number;
  errors: number;
  inFlight: number;
  totalMs: number;
  maxMs: number;
  /** When the service was last invoked (epoch ms; the REST statistics show it as an ISO date). */
  lastInvokedAt: number | undefined;
}

/** A service with its status. */
export interface ServiceState {
  config: ServiceConfig;
  status: 'started' | 'stopped';
  readonly stats: ServiceStats;
}

/** An API with its status. */
export interface ApiState {
  config: ApiConfig;
  status: 'started' | 'stopped';
  inFlight: number;
}

/** A matched operation. */
export interface RouteMatch {
  readonly api: ApiState;
  readonly operation: OperationConfig;
  readonly params: Readonly<Record<string, string>>;
}

interface Route {
  readonly api: ApiState;
  readonly operation: OperationConfig;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly rank: readonly [number, number];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(api: ApiState, op: OperationConfig): Route {
  const names: string[] = [];
  const full = api.config.basePath + (op.path === '/' ? '' : op.path);
  let re = '';
  let last = 0;
  for (const m of full.matchAll(/\{([^}/]+)\}/g)) {
    re += escapeRe(full.slice(last, m.index));
    re += '([^/]+)';
    names.push(m[1]!);
    last = m.index! + m[0].length;
  }
  re += escapeRe(full.slice(last));
  // Static segments win over templated ones; longer literal text wins among equals.
  return { api, operation: op, regex: new RegExp(`^${re}/?$`), names, rank: [names.length, -full.replace(/\{[^}]+\}/g, '').length] };
}

/** Path parameters of a regex match (percent-decoded), or undefined when one does not decode. */
function paramsOf(names: readonly string[], m: RegExpExecArray): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) {
    const raw = m[i + 1]!;
    if (raw.indexOf('%') < 0) params[names[i]!] = raw;
    else {
      try {
        params[names[i]!] = decodeURIComponent(raw);
      } catch {
        return undefined;
      }
    }
  }
  return params;
}

/** Services, APIs and routes of one configuration, with their runtime status. */
export class Registry {
  readonly services = new Map<string, ServiceState>();
  readonly apis = new Map<string, ApiState>();
  private routes: Route[] = [];

  constructor(config: ZosConnectConfig) {
    this.apply(config);
  }

  /** Apply a (re)loaded configuration, keeping the status and statistics of what already existed. */
  apply(config: ZosConnectConfig): void {
    const services = new Map<string, ServiceState>();
    for (const [name, c] of config.services) {
      const prev = this.services.get(name);
      services.set(name, prev ? Object.assign(prev, { config: c }) : { config: c, status: c.initialStatus, stats: { invocations: 0, errors: 0, inFlight: 0, totalMs: 0, maxMs: 0, lastInvokedAt: undefined } });
    }
    const apis = new Map<string, ApiState>();
    for (const [name, c] of config.apis) {
      const prev = this.apis.get(name);
      apis.set(name, prev ? Object.assign(prev, { config: c }) : { config: c, status: c.initialStatus, inFlight: 0 });
    }
    this.services.clear();
    for (const [k, v] of services) this.services.set(k, v);
    this.apis.clear();
    for (const [k, v] of apis) this.apis.set(k, v);
    this.rebuild();
  }

  /** Remove an API (admin DELETE). */
  deleteApi(name: string): void {
    this.apis.delete(name);
    this.rebuild();
  }

  /** Remove a service (admin DELETE). */
  deleteService(name: string): void {
    this.services.delete(name);
  }

  private rebuild(): void {
    const routes: Route[] = [];
    for (const api of this.apis.values()) for (const op of api.config.operations) routes.push(compile(api, op));
    routes.sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1]);
    this.routes = routes;
  }

  /**
   * Find the operation for `method path`. Returns the match, or `{ allow }` when the path exists with
   * other methods, or undefined when no API path matches.
   */
  match(method: string, path: string): RouteMatch | { readonly allow: readonly string[] } | undefined {
    let allow: Set<string> | undefined;
    const routes = this.routes;
    for (let ri = 0; ri < routes.length; ri++) {
      const r = routes[ri]!;
      const m = r.regex.exec(path);
      if (!m) continue;
      if (r.operation.method !== method && !(method === 'HEAD' && r.operation.method === 'GET')) {
        (allow ??= new Set()).add(r.operation.method);
        continue;
      }
      const params = paramsOf(r.names, m);
      if (params === undefined) continue;
      return { api: r.api, operation: r.operation, params };
    }
    return allow !== undefined ? { allow: [...allow].sort() } : undefined;
  }

  /** The API whose base path is `basePath` (for `/<basePath>/api-docs`). */
  apiByBasePath(basePath: string): ApiState | undefined {
    for (const a of this.apis.values()) if (a.config.basePath === basePath) return a;
    return undefined;
  }
}
