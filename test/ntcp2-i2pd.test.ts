// Our NTCP2 responder against real i2pd 2.45.1 on 127.0.0.1 (ntcp2-routerinfo.md §6): i2pd learns our RouterInfo
// from its netDb (../shared/tools/i2pd-local --peer), dials us, the handshake completes, its RouterInfo in msg3
// parses with a valid signature and the NTCP2 key it announced, I2NP messages arrive, our DeliveryStatus for its
// DatabaseStore is taken ("Publishing confirmed": our frames decrypt on its side), and its console lists us.
// Skips without i2pd, except under CI. The transport alone, with the real RouterInfo codec (src/router/) injected;
// the router object on top of it has its own i2pd test (router-i2pd-wire.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Ntcp2Transport } from '../src/transport/ntcp2/transport.js';
import type { CloseInfo, Session } from '../src/transport/ntcp2/session.js';
import { i2pBase64 } from '../src/keys/encoding.js';
import { consolePage, i2pdGate, localRouter, readLog, startI2pdOnOurs, stopRouter } from './helpers/i2pd.js';
import { x25519FromPrivate } from '../src/transport/ntcp2/noise.js';
import type { LocalRouter, ParsePeerRouterInfo } from '../src/transport/ntcp2/peer-info.js';
import { buildLocalRouterInfo, identHash, loadOrCreateRouterSecrets, readPeerRouterInfo } from '../src/router/index.js';

/** The real codec behind the transport's interface (as src/router/router.ts injects it). */
const parseRouterInfo: ParsePeerRouterInfo = (b) => {
  const r = readPeerRouterInfo(b);
  return r.ok
    ? {
        ok: true,
        value: {
          identHash: r.value.identHash,
          staticKey: r.value.ntcp2?.staticKey,
          published: r.value.routerInfo.published,
        },
      }
    : { ok: false, error: r.error };
};

/** Our router for this test: keys in `dir`, a floodfill RouterInfo for 127.0.0.1:port. */
function ourRouter(dir: string, port: number): { local: LocalRouter; ri: Uint8Array } {
  const sec = loadOrCreateRouterSecrets(dir);
  if (!sec.ok) throw new Error(sec.error);
  const ri = buildLocalRouterInfo(sec.value.keys, sec.value.ntcp2, {
    host: '127.0.0.1',
    port,
    caps: { bandwidth: ['X'], floodfill: true, reachable: true },
  });
  return {
    ri,
    local: {
      identHash: identHash(sec.value.keys.identity),
      staticKey: x25519FromPrivate(sec.value.ntcp2.staticPrivateKey),
      iv: sec.value.ntcp2.iv,
      routerInfo: () => ri,
    },
  };
}
import { until } from './helpers/ntcp2-peer.js';

const runs = i2pdGate('[ntcp2-i2pd]');

const DIR = '/tmp/i2pd-h17-ntcp2';
const OUR_PORT = 30790;
const ports = { i2cp: 11354, http: 10770, transport: 30700 };

describe.skipIf(!runs)('NTCP2 against i2pd 2.45.1', () => {
  const r = localRouter(DIR, 0, ports);
  let t: Ntcp2Transport | undefined;
  afterAll(async () => {
    await stopRouter(r);
    await t?.close(1000);
  });

  it('i2pd dials us, the handshake completes, I2NP flows both ways', async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    const me = ourRouter(`${DIR}/ours`, OUR_PORT);
    const i2npTypes: number[] = [];
    const closes: CloseInfo[] = [];
    let session: Session | undefined;
    t = new Ntcp2Transport({
      local: me.local,
      parseRouterInfo,
      limits: { handshakeTimeoutMs: 10_000 },
      events: {
        onSession: (s) => {
          session = s;
        },
        onClose: (_s, i) => closes.push(i),
        onI2np: (s, type, msgId, _exp, body) => {
          i2npTypes.push(type);
          // DatabaseStore with a reply token (i2np.md §4.6): acknowledge with DeliveryStatus(token) over this session.
          if (type === 1 && body.length >= 37) {
            const token = new DataView(body.buffer, body.byteOffset).getUint32(33);
            if (token !== 0) {
              const ds = new Uint8Array(12);
              const dv = new DataView(ds.buffer);
              dv.setUint32(0, token);
              dv.setBigUint64(4, BigInt(Date.now()));
              s.sendI2np(10, (Math.random() * 2 ** 32) >>> 0, Math.floor(Date.now() / 1000) + 60, ds);
            }
          }
          void msgId;
        },
      },
    });
    await t.listen(OUR_PORT, '127.0.0.1');
    const riFile = `${DIR}/our.ri`;
    writeFileSync(riFile, me.ri);
    await startI2pdOnOurs(r, { peers: [riFile] });
    expect(await until(() => session !== undefined, 45_000), `no session; closes: ${JSON.stringify(closes)}`).toBe(
      true,
    );
    const s = session!;
    expect(s.direction).toBe('in');
    // Its RouterInfo from msg3 is i2pd's own: same ident hash as its router.info.
    const theirs = readFileSync(`${r.dir}/r0/router.info`);
    const theirHash = createHash('sha256').update(theirs.subarray(0, 391)).digest();
    expect(Buffer.from(s.peerHash!).equals(theirHash)).toBe(true);
    const parsed = parseRouterInfo(s.peerRouterInfo!);
    expect(parsed.ok).toBe(true);
    expect(await until(() => i2npTypes.length > 0, 30_000)).toBe(true);
    // A DatabaseStore arrives (we are a floodfill) and our DeliveryStatus answer is taken by i2pd.
    expect(await until(() => i2npTypes.includes(1), 30_000)).toBe(true);
    expect(await until(() => /Publishing confirmed/.test(readLog(r)), 15_000)).toBe(true);
    const page = await consolePage(r, 'page=transports');
    expect(page).toContain(i2pBase64(me.local.identHash).slice(0, 4));
    console.log(
      `[ntcp2-i2pd] I2NP types received: ${JSON.stringify(i2npTypes)}; frames in ${s.framesIn}, out ${s.framesOut}; dropped ${JSON.stringify(t.stats.dropped)}`,
    );
    expect(s.state).toBe('established');
  }, 120_000);
});
