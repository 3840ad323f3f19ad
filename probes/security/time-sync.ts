/** Time synchronisation (GB/T 22239-2019 8.1.4.3 b): audit records need a trustworthy time. */
import { Type } from '@sinclair/typebox';
import { readOptional } from '../host.js';
import type { ProbeDescriptor } from '../types.js';
import { listProcesses } from './system.js';

const DAEMONS = /^(chronyd|ntpd|systemd-timesyn|openntpd|timesyncd)$/;

export const timeSync: ProbeDescriptor = {
  id: 'security.time.sync',
  category: 'security',
  title: '系统时间与时间源同步',
  remediation:
    '启用时间同步服务（chrony：systemctl enable --now chronyd；或 systemd-timesyncd），并指向单位内部或国家授时中心 NTP 服务器。',
  clause: 'GB/T 22239-2019 8.1.4.3 b)',
  crossRef: ['Lynis TIME-3104', 'CIS 2.1.1'],
  options: Type.Object({}),
  async run({ host }) {
    const processes = await listProcesses(host);
    const daemon = processes.find((p) => DAEMONS.test(p.comm));
    // systemd-timesyncd touches this file once it has synchronised.
    const synchronized =
      (await readOptional(host, '/run/systemd/timesync/synchronized').catch(() => undefined)) !== undefined;
    if (daemon) {
      return [
        {
          status: 'OK',
          summary: `时间同步服务 ${daemon.comm} 正在运行`,
          details: { daemon: daemon.comm, pid: daemon.pid, synchronized },
        },
      ];
    }
    if (synchronized)
      return [{ status: 'OK', summary: 'systemd-timesyncd 已完成同步', details: { synchronized } }];
    return [
      {
        status: 'WARN',
        summary: '未发现运行中的时间同步服务（chronyd、ntpd、systemd-timesyncd）',
        details: { processes: processes.length },
      },
    ];
  },
};
