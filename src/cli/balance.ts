// Placeholder until its issue lands: says so plainly instead of pretending to work.
export const usage = 'usage: tunnelplane balance (not implemented yet)';
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('tunnelplane balance: not implemented yet\n');
  return 2;
}
