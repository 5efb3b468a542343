/** TLS with a self-signed certificate generated at test time by the openssl CLI. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index.js';
import { createTestImsConnect } from '../src/testing/index.js';

let dir: string;
let key: Buffer;
let cert: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'imsplex-client-tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS', () => {
  it('runs a transaction over TLS with the server certificate verified', async () => {
    const ims = createTestImsConnect({ handlers: { IVTNO: (tx) => `SECURE ${tx.text}` } });
    const ep = await ims.listen({ tls: { key, cert } });
    const client = createClient({ endpoints: [ep], tls: { ca: cert }, datastore: 'IMS1' });
    try {
      const res = await client.sendReceive({ trancode: 'IVTNO', data: 'HELLO' });
      expect(res.text).toBe('SECURE HELLO');
    } finally {
      await client.destroy();
      await ims.close();
    }
  });

  it('refuses a server whose certificate is not trusted', async () => {
    const ims = createTestImsConnect({});
    const ep = await ims.listen({ tls: { key, cert } });
    const client = createClient({ endpoints: [ep], tls: true, datastore: 'IMS1', maxConnectAttempts: 1 });
    try {
      await expect(client.ping()).rejects.toMatchObject({ code: 'IMS_ERR_CONNECT_FAILED' });
    } finally {
      await client.destroy();
      await ims.close();
    }
  });
});
