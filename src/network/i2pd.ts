// The network with i2pd routers (netdb-floodfill.md §8, docs/network.md "With i2pd"): placeholder until our routers
// answer i2pd's netDb (floodfill stores and lookups); without that i2pd cannot find the other's LeaseSet.
import { I2pdUnavailableError, type NetworkOptions, type NetworkSummary } from './types.js';

export function runI2pdNetwork(_o: NetworkOptions): Promise<NetworkSummary> {
  return Promise.reject(new I2pdUnavailableError('the i2pd mode needs the floodfill netDb, not in this build yet'));
}
