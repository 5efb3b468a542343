/**
 * Client IDs in use, per port (IMS Connect allows one session per client ID per port; the same ID on
 * two ports is fine), and the generator of `HWS…` IDs for clients that send a blank one.
 */

/** What the registry needs from a connection. */
export interface RegisteredClient {
  /** Stop the connection (duplicate cancel / STOPCLNT). */
  stop(why: 'duplicate' | 'operator' | 'shutdown'): void;
  /** Deliver CANCEL TIMER; false when the connection is not waiting on a timer. */
  cancelTimer(): boolean;
}

/** Client IDs per port. */
export class ClientRegistry {
  private readonly ports = new Map<number, Map<string, RegisteredClient>>();
  private counter: number;

  constructor(
    private readonly log: (level: 'info' | 'warn', msg: string) => void = () => undefined,
    seed = 0,
  ) {
    this.counter = seed;
  }

  private port(port: number): Map<string, RegisteredClient> {
    let m = this.ports.get(port);
    if (!m) this.ports.set(port, (m = new Map()));
    return m;
  }

  /** Claim `id` on `port` for `client`. With `cancelDuplicate` the holder is stopped first (HWSS0743I). */
  claim(port: number, id: string, client: RegisteredClient, cancelDuplicate: boolean): 'ok' | 'duplicate' {
    const m = this.port(port);
    const holder = m.get(id);
    if (holder && holder !== client) {
      if (!cancelDuplicate) return 'duplicate';
      // [IBM] HWSS0743I: IMS Connect cancels the session holding the duplicate client ID.
      this.log('info', `HWSS0743I DUPLICATE CLIENT ID ${id} ON PORT=${port}; PREVIOUS SESSION CANCELLED`);
      m.delete(id);
      holder.stop('duplicate');
    }
    m.set(id, client);
    return 'ok';
  }

  /** Release `id` on `port` if `client` holds it. */
  release(port: number, id: string, client: RegisteredClient): void {
    const m = this.ports.get(port);
    if (m?.get(id) === client) m.delete(id);
  }

  /** The holder of `id` on `port`. */
  get(port: number, id: string): RegisteredClient | undefined {
    return this.ports.get(port)?.get(id);
  }

  /** Number of IDs held on `port`. */
  count(port: number): number {
    return this.ports.get(port)?.size ?? 0;
  }

  /**
   * A new client ID: `HWS` + 5 letters, unique for this IMS Connect until the counter wraps
   * (26^5 = 11,881,376 IDs). [INF] IBM's generated IDs look like `HWSEHYMO` (VIEWHWS sample); the
   * exact scheme is IBM-internal. IDs still in use on any port are skipped.
   */
  generate(): string {
    for (let tries = 0; tries < 1000; tries++) {
      let n = this.counter++ % 11_881_376;
      let s = '';
      for (let i = 0; i < 5; i++) {
        s = String.fromCharCode(65 + (n % 26)) + s;
        n = Math.floor(n / 26);
      }
      const id = `HWS${s}`;
      let used = false;
      for (const m of this.ports.values()) if (m.has(id)) used = true;
      if (!used) return id;
    }
    throw new Error('client ID generator exhausted');
  }
}
