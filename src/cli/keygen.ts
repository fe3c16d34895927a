// `tunnelplane keygen FILE`: a new Destination (Ed25519 signing, X25519 encryption) in i2pd's private key format.
import { parse, UsageError } from './args.js';
import { b32Address, generatePrivateKeys, loadKeyFile, saveKeyFile } from '../keys/index.js';

export const usage = `usage: tunnelplane keygen FILE [--force]
       tunnelplane keygen --address FILE

Creates a Destination with Ed25519 signing (type 7) and X25519 encryption (type 4) keys and writes its private
keys to FILE in the format i2pd uses for its .dat key files, then prints the .b32.i2p address.
  --force     overwrite FILE if it exists
  --address   only print the .b32.i2p address of an existing key file (ours or an i2pd .dat file)`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { force: { type: 'boolean' }, address: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new UsageError('expected exactly one FILE');
  const file = positionals[0]!;
  if (values.address) {
    const res = loadKeyFile(file);
    if (!res.ok) {
      process.stderr.write(`tunnelplane keygen: ${res.error}\n`);
      return 1;
    }
    process.stdout.write(`${b32Address(res.value.destination)}\n`);
    return 0;
  }
  const keys = generatePrivateKeys();
  try {
    saveKeyFile(file, keys, values.force === true);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'file exists (use --force to overwrite)' : (code ?? (err as Error).message);
    process.stderr.write(`tunnelplane keygen: cannot write ${file}: ${why}\n`);
    return 1;
  }
  process.stdout.write(`${b32Address(keys.destination)}\n`);
  return 0;
}
