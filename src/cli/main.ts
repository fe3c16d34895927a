// The `tunnelplane` command: a dispatcher over subcommands, each in its own module under src/cli/ and loaded only
// when used, so `tunnelplane --help` stays fast and a broken subcommand cannot break the others.
import { readFileSync } from 'node:fs';
import { UsageError } from './args.js';

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number>; usage: string }>;
}

const COMMANDS: Record<string, Command> = {
  bench: { summary: 'benchmark tunnel crypto and framing against baselines', load: () => import('./bench.js') },
  vectors: {
    summary: 'run a tunnelplane-vectors/1 conformance file (vectors run FILE)',
    load: () => import('./vectors.js'),
  },
  keygen: { summary: 'create a Destination key file (Ed25519 + X25519)', load: () => import('./keygen.js') },
  balance: { summary: 'host one Destination on several routers (Proposal 140)', load: () => import('./balance.js') },
  doctor: {
    summary: 'what this machine runs and why: native layer, backends, cores, i2pd',
    load: () => import('./doctor.js'),
  },
  router: {
    summary: 'run an I2P router on NTCP2 (identity and RouterInfo in --data DIR)',
    load: () => import('./router.js'),
  },
  network: {
    summary: 'a private I2P network here: our routers (and i2pd), live view, checked traffic',
    load: () => import('./network.js'),
  },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function help(): string {
  const lines = [
    'usage: tunnelplane <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    'tunnelplane <command> --help shows the options of a command.',
    'tunnelplane --version prints the version.',
  ];
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`tunnelplane: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  const mod = await cmd.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(mod.usage.endsWith('\n') ? mod.usage : mod.usage + '\n');
    return 0;
  }
  try {
    return await mod.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tunnelplane ${name}: ${err.message}\n\n${mod.usage}\n`);
      return 2;
    }
    throw err;
  }
}
