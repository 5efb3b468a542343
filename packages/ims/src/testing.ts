/**
 * Test utility for other packages (ims-connect tests): an in-process IMS system on port 0.
 *
 * ```ts
 * const ims = await startTestImsSystem();
 * // connect IMS Connect's datastore to ims.link.host:ims.link.port
 * await ims.stop();
 * ```
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from './clock.js';
import type { SystemConfig } from './config.js';
import type { Logger } from './engine.js';
import { type Endpoint, ImsSystem } from './ims-system.js';
import type { Program } from './program.js';

export interface TestImsSystemOptions {
  /** System definition text; default the built-in sample system (all sample transactions). */
  readonly configText?: string;
  readonly config?: SystemConfig;
  /** Journal to a fresh temporary directory (removed by `stop`). Default false (memory only). */
  readonly durable?: boolean;
  /** Host to bind (default 127.0.0.1; any 127.0.0.0/8 address). */
  readonly host?: string;
  readonly admin?: boolean;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly programs?: ReadonlyMap<string, Program>;
}

export interface TestImsSystem {
  readonly system: ImsSystem;
  /** The XCF link address (port chosen by the OS). */
  readonly link: Endpoint;
  readonly admin: Endpoint | undefined;
  /** XCF group and IMS member name, for IMS Connect's DATASTORE statement. */
  readonly group: string;
  readonly member: string;
  stop(): Promise<void>;
}

/** Start an in-process IMS system with its XCF link on port 0. Always `await stop()` in afterAll. */
export async function startTestImsSystem(options: TestImsSystemOptions = {}): Promise<TestImsSystem> {
  const dir = options.durable ? await mkdtemp(join(tmpdir(), 'imsplex-ims-')) : undefined;
  try {
    const system = await ImsSystem.start({
      config: options.config,
      configText: options.configText,
      dataDir: dir,
      linkPort: 0,
      linkHost: options.host ?? '127.0.0.1',
      adminPort: options.admin ? 0 : undefined,
      clock: options.clock,
      logger: options.logger,
      programs: options.programs,
    });
    return {
      system,
      link: system.linkAddress,
      admin: system.adminAddress,
      group: system.config.otma.group,
      member: system.config.otma.member,
      async stop() {
        await system.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (dir) await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
