// CPU cost of the network's forwarding (docs/network.md "Figures"): the routers run in one process, so this is the
// whole process (every router, its data plane threads, the traffic generator) per tunnel message forwarded.

/** Process CPU per TunnelData message forwarded by our routers, in µs (0 when nothing was forwarded). */
export function cpuPerForwarded(cpu: NodeJS.CpuUsage, forwarded: number[]): number {
  const n = forwarded.reduce((a, b) => a + b, 0);
  return n === 0 ? 0 : Math.round(((cpu.user + cpu.system) / n) * 10) / 10;
}
