/**
 * The resolved configuration of a z/OS Connect server: what `loadConfig` returns after reading and
 * validating a configuration directory. Every object is frozen; the rest of the package never
 * re-checks a value.
 */
import { type Copybook } from '@imsplex/copybook';
import { type IrmTimerSetting } from '@imsplex/client';

/** HTTP status profile (spec §5.3): `ibm` answers IMS-side failures with 500, `semantic` with 502/503/504/4xx. */
export type ErrorProfile = 'ibm' | 'semantic';

/** The four z/OS Connect authorization roles (spec §2.2). */
export type Role = 'Admin' | 'Operations' | 'Invoke' | 'Reader';

/** `zosconnect_zosConnectManager` plus the emulator's own limits. */
export interface ManagerConfig {
  /** ms before a request is answered 503 BAQR0433W (IMS work is not cancelled). 0 = no limit. */
  readonly asyncRequestTimeout: number;
  readonly errorProfile: ErrorProfile;
  /** API and service calls need the Invoke role (basic auth). Default false. */
  readonly requireAuth: boolean;
  /** Group name granting each role. */
  readonly roleGroups: Readonly<Record<Role, string>>;
  /** Requests in flight at once before new ones get 503. */
  readonly maxInFlight: number;
  /** Largest request body, bytes. */
  readonly maxRequestBodySize: number;
  /** Idle time after which an open IMS conversation is ended, ms. */
  readonly conversationTimeout: number;
  /** Open conversations at once. */
  readonly maxConversations: number;
  /** How long a graceful stop waits for in-flight requests, ms. */
  readonly stopTimeout: number;
  /** Job name reported in the health body (distributor `QUIESCE JOBNAME=`). */
  readonly jobname: string | undefined;
}

/** `httpEndpoint`: where the server listens unless the command line says otherwise. */
export interface EndpointConfig {
  readonly host: string;
  readonly port: number;
}

/** A user of the basic registry. */
export interface UserConfig {
  readonly name: string;
  /** Plain text, or `{sha256}<hex>`. */
  readonly password: string;
  readonly groups: readonly string[];
}

/** IMS connection profile (`imsmobile_imsConnection` → `connectionFactory` → `properties.gmoa`, `authData`, `connectionManager`). */
export interface ConnectionProfile {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Source address to bind (prefer-local routing); undefined = the server's own host when it is a specific address. */
  readonly localAddress: string | undefined;
  readonly datastore: string | undefined;
  /** TLS: false, or the CA file (PEM) to trust and whether to check the certificate. */
  readonly tls: false | { readonly caFile: string | undefined; readonly rejectUnauthorized: boolean; readonly servername: string | undefined };
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly group: string | undefined;
  readonly clientIdPrefix: string;
  readonly minConnections: number;
  readonly maxConnections: number;
  /** Liberty `connectionTimeout`: longest wait for a pooled connection, ms. */
  readonly acquireTimeout: number;
  readonly maxIdleTime: number;
  readonly connectTimeout: number;
  /** `pingIMSConnectOnInvoke`. */
  readonly pingOnInvoke: boolean;
  readonly file: string;
  readonly line: number;
}

/** IMS interaction profile (`imsmobile_interaction`). */
export interface InteractionProfile {
  readonly id: string;
  readonly commitMode: 0 | 1;
  readonly syncLevel: 'none' | 'confirm';
  readonly datastore: string | undefined;
  readonly interactionTimeout: IrmTimerSetting;
  /** Client-side socket wait for the reply, ms; 0 = none (then only `asyncRequestTimeout` applies). */
  readonly imsConnectTimeout: number;
  readonly lterm: string | undefined;
  readonly codePage: string;
  readonly purgeAsyncOutput: boolean;
  readonly rerouteName: string | undefined;
  readonly file: string;
  readonly line: number;
}

/** How one IMS message segment maps to JSON. */
export type SegmentMap =
  | {
      readonly kind: 'copybook';
      /** Property holding this segment's object; undefined = merged into the top level. */
      readonly name: string | undefined;
      readonly copybook: Copybook;
      /** The record starts with LL and ZZ halfwords (filled by the runtime, hidden from JSON). */
      readonly llzz: boolean;
      /** Byte offset of the transaction-code field (request side), or undefined. */
      readonly trancodeField: { readonly offset: number; readonly size: number } | undefined;
      /** Default values (request side): JSON path of the field and its value. */
      readonly defaults: readonly { readonly path: readonly string[]; readonly value: string }[];
      /** Response: collect this and every following output segment into an array. */
      readonly repeat: boolean;
      /** Response: accept output longer than the layout. */
      readonly allowTrailingBytes: boolean;
    }
  | {
      readonly kind: 'text';
      readonly name: string | undefined;
      /** JSON property that holds the text. */
      readonly property: string;
      readonly repeat: boolean;
    };

/** A service: an IMS transaction with its request and response mappings. */
export interface ServiceConfig {
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly connectionRef: string;
  readonly interactionRef: string;
  readonly trancode: string;
  readonly conversational: boolean;
  /** Per-service overrides of the interaction profile. */
  readonly overrides: { readonly datastore?: string; readonly lterm?: string; readonly interactionTimeout?: IrmTimerSetting };
  readonly request: readonly SegmentMap[];
  readonly response: readonly SegmentMap[];
  /** Recognise DFS messages in place of the output (default true). */
  readonly detectDfsMessages: boolean;
  readonly initialStatus: 'started' | 'stopped';
  readonly requestSchema: Record<string, unknown>;
  readonly responseSchema: Record<string, unknown>;
  readonly file: string;
}

/** Where a request value comes from. */
export type Source = 'path' | 'query' | 'header' | 'body';

/** A request/response template (see README "Mapping expressions"). */
export type Template =
  | { readonly kind: 'const'; readonly value: unknown }
  | { readonly kind: 'ref'; readonly root: string; readonly path: readonly string[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, Template])[] }
  | { readonly kind: 'array'; readonly items: readonly Template[] };

/** A response condition: the first that matches picks the status (and body). */
export interface ResponseCondition {
  readonly field: Template;
  readonly test: { readonly op: 'equals'; readonly value: unknown } | { readonly op: 'in'; readonly values: readonly unknown[] } | { readonly op: 'matches'; readonly regex: RegExp } | { readonly op: 'startsWith'; readonly value: string } | { readonly op: 'present' };
  readonly status: number;
  readonly body: Template | undefined;
}

/** An OpenAPI parameter the runtime reads. */
export interface ParameterConfig {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly type: 'string' | 'integer' | 'number' | 'boolean';
}

/** One operation of an API. */
export interface OperationConfig {
  readonly method: string;
  /** Path template relative to the API base path (`/{lastName}`). */
  readonly path: string;
  readonly operationId: string;
  readonly service: string;
  readonly conversation: 'start' | 'continue' | 'end' | undefined;
  /** Path parameter holding the conversation ID (continue / end). */
  readonly conversationParam: string | undefined;
  readonly parameters: readonly ParameterConfig[];
  readonly bodyRequired: boolean;
  readonly request: Template | undefined;
  readonly conditions: readonly ResponseCondition[];
  readonly status: number;
  readonly body: Template | undefined;
  readonly line: number;
}

/** An API: an OpenAPI 3 document whose operations map to services. */
export interface ApiConfig {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Base path (`servers[0].url`), e.g. `/phonebook`. */
  readonly basePath: string;
  /** The OpenAPI document without the `x-zosconnect-*` mapping extensions. */
  readonly document: Record<string, unknown>;
  readonly operations: readonly OperationConfig[];
  readonly initialStatus: 'started' | 'stopped';
  readonly file: string;
}

/** Everything `loadConfig` read. */
export interface ZosConnectConfig {
  readonly dir: string;
  readonly manager: ManagerConfig;
  readonly endpoint: EndpointConfig | undefined;
  readonly users: readonly UserConfig[];
  readonly connections: ReadonlyMap<string, ConnectionProfile>;
  readonly interactions: ReadonlyMap<string, InteractionProfile>;
  readonly services: ReadonlyMap<string, ServiceConfig>;
  readonly apis: ReadonlyMap<string, ApiConfig>;
}
