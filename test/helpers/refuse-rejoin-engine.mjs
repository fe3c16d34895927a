// Engine module for data-plane workers in tests (src/testing withEngineModule; plain JS). The real LayerEngine from
// dist/, except that a tunnel id listed in the module URL's `ids` query can be joined once per process: a second
// join of it (in any thread, e.g. a replacement worker's reset after a crash) throws. Threads do not share modules,
// so the "already joined once" mark is a file named by the `marker` query.
import { closeSync, openSync } from 'node:fs';
import { LayerEngine } from '../../dist/src/tunnel/engine.js';

const query = new URL(import.meta.url).searchParams;
const ids = new Set((query.get('ids') ?? '').split(',').filter(Boolean).map(Number));
const marker = query.get('marker');

export function createEngine(options) {
  const engine = new LayerEngine(options);
  const join = engine.join.bind(engine);
  engine.join = (config) => {
    const id = config.role === 'obgw' ? config.gatewayTunnelId : config.receiveTunnelId;
    if (ids.has(id)) {
      try {
        closeSync(openSync(`${marker}.${id}`, 'wx')); // first join of this id in the process
      } catch {
        throw new RangeError(`test engine: tunnel ${id} may be joined only once`);
      }
    }
    join(config);
  };
  return engine;
}
