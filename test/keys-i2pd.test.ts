// Key files interchangeable with i2pd 2.45.1: a .dat i2pd creates for a server tunnel loads here with the same
// .b32.i2p address its console shows (and a SessionConfig signed with its key verifies in i2pd), and a file from
// `keygen` loads in i2pd as the same address.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { I2cpClient } from '../src/i2cp/client.js';
import { b32Address, generatePrivateKeys, loadKeyFile, saveKeyFile } from '../src/keys/index.js';
import { consolePage, i2pdAvailable, localRouter, readLog, startRouter, stopRouter } from './helpers/i2pd.js';

const avail = i2pdAvailable();
if (!avail.ok && process.env.CI) throw new Error(`i2pd key file tests cannot run under CI: ${avail.why}`);
if (!avail.ok) console.warn(`skipping i2pd key file tests: ${avail.why}`);

describe.skipIf(!avail.ok)('i2pd key files', () => {
  const router = localRouter('/tmp/tunnelplane-test-keys-i2pd', 0, { i2cp: 19854, http: 19270, transport: 39300 });
  // i2pd-local keeps DIR/r0/tunnels.d across --keep starts: put two server tunnels there
  const dd = `${router.dir}/r0`;
  const ours = generatePrivateKeys();
  afterAll(() => stopRouter(router), 30_000);

  it('loads what i2pd writes and i2pd loads what keygen writes (same .b32.i2p addresses)', async () => {
    rmSync(router.dir, { recursive: true, force: true });
    mkdirSync(`${dd}/tunnels.d`, { recursive: true });
    saveKeyFile(`${dd}/ours.dat`, ours);
    writeFileSync(
      `${dd}/tunnels.d/tunnelplane-test.conf`,
      [
        '[tp-existing]',
        'type = server',
        'host = 127.0.0.1',
        'port = 1',
        'keys = existing.dat',
        'signaturetype = 7',
        'inbound.length = 0',
        'outbound.length = 0',
        '',
        '[tp-ours]',
        'type = server',
        'host = 127.0.0.1',
        'port = 2',
        'keys = ours.dat',
        'inbound.length = 0',
        'outbound.length = 0',
        '',
      ].join('\n'),
    );
    await startRouter(router, true);
    for (let i = 0; i < 100 && !existsSync(`${dd}/existing.dat`); i++) await new Promise((r) => setTimeout(r, 100));
    const existing = loadKeyFile(`${dd}/existing.dat`);
    expect(existing.ok, existing.ok ? '' : existing.error).toBe(true);
    if (!existing.ok) return;
    // i2pd's default for new destinations: Ed25519 signing with an ElGamal (type 0, 256-byte) crypto key
    expect([
      existing.value.destination.sigType,
      existing.value.destination.cryptoType,
      existing.value.cryptoPrivateKey.length,
    ]).toEqual([7, 0, 256]);
    let page = '';
    for (let i = 0; i < 50; i++) {
      page = await consolePage(router, 'page=local_destinations');
      if (page.includes(b32Address(ours.destination).slice(0, 52))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(page).toContain(`b32=${b32Address(existing.value.destination).slice(0, 52)}`);
    expect(page).toContain(`b32=${b32Address(ours.destination).slice(0, 52)}`);

    // a SessionConfig signed with the signing key read from i2pd's file verifies in i2pd (status Created)
    const c = await I2cpClient.connect({ host: '127.0.0.1', port: router.i2cpPort });
    expect(
      await c.createSession(existing.value, { 'inbound.length': '0', 'outbound.length': '0' }),
    ).toBeGreaterThanOrEqual(0);
    await c.destroySession();
    expect(readLog(router)).not.toMatch(/Identity: .*(failed|error)|Can't (load|read) .*\.dat/i);
  }, 60_000);
});
