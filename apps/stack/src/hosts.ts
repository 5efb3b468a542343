/**
 * Can this machine bind the topology's loopback addresses? Linux routes all of 127.0.0.0/8 to the
 * loopback interface; macOS configures only 127.0.0.1 unless aliases are added to lo0, and some
 * containers do the same. We find out by binding each address (port 0) once.
 */
import { createServer } from 'node:net';
import type { Topology } from './topology.js';

/** Resolves true when `address` can be bound on this machine. */
export function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: address, port: 0, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Addresses of the topology (hosts and VIPA) this machine cannot bind. */
export async function unbindableAddresses(t: Topology): Promise<string[]> {
  const all = [...new Set([...t.hosts.map((h) => h.address), t.vipa])];
  const ok = await Promise.all(all.map((a) => canBind(a)));
  return all.filter((_, i) => !ok[i]);
}

/** The commands that add the missing loopback aliases, for the console. */
export function aliasCommands(addresses: readonly string[], platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'darwin') return addresses.map((a) => `sudo ifconfig lo0 alias ${a} up`);
  if (platform === 'win32') return addresses.map((a) => `netsh interface ipv4 add address "Loopback Pseudo-Interface 1" ${a} 255.0.0.0`);
  return addresses.map((a) => `sudo ip addr add ${a}/8 dev lo`);
}
