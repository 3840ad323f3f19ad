/** What several baseline probes need from a host: its processes and its listening sockets. */
import { type Host, listOptional, readOptional } from '../host.js';
import { type Listener, parseProcNet } from './parse.js';

export interface HostProcess {
  pid: number;
  comm: string;
}

/** Processes from /proc/<pid>/comm; a process that ended while we looked is skipped. */
export async function listProcesses(host: Host): Promise<HostProcess[]> {
  const pids = (await listOptional(host, '/proc')).filter((n) => /^\d+$/.test(n));
  const out: HostProcess[] = [];
  const batch = 16;
  for (let i = 0; i < pids.length; i += batch) {
    const slice = pids.slice(i, i + batch);
    const comms = await Promise.all(
      slice.map((pid) => readOptional(host, `/proc/${pid}/comm`).catch(() => undefined)),
    );
    slice.forEach((pid, j) => {
      const comm = comms[j]?.trim();
      if (comm) out.push({ pid: Number(pid), comm });
    });
  }
  return out;
}

export async function listListeners(host: Host): Promise<{ listeners: Listener[]; read: string[] }> {
  const listeners: Listener[] = [];
  const read: string[] = [];
  for (const [file, protocol, v6] of [
    ['/proc/net/tcp', 'tcp', false],
    ['/proc/net/tcp6', 'tcp', true],
    ['/proc/net/udp', 'udp', false],
    ['/proc/net/udp6', 'udp', true],
  ] as const) {
    const text = await readOptional(host, file);
    if (text === undefined) continue;
    read.push(file);
    listeners.push(...parseProcNet(text, protocol, v6));
  }
  return { listeners, read };
}
