/**
 * The collector killed with SIGKILL (no shutdown hook runs) around a ticket's mail, with real
 * processes: `creditops collector -c`, a real SMTP server (implicit TLS, generated CA) and, for
 * the redelivery case, Debian's Alertmanager. After the restart each mail is sent exactly once
 * and each alert has exactly one ticket.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addUser,
  addViewer,
  collectorSetup,
  decodeMail,
  getTicket,
  listTickets,
  mailPolicy,
  silentListener,
  startAlertmanager,
  type TestSmtp,
  testSmtp,
  waitHealthy,
} from './helpers/alerting.js';
import { type Daemon, httpText, tempDir, waitFor } from './helpers/processes.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function scene(prefix: string) {
  const dir = tempDir(prefix);
  const daemons: Daemon[] = [];
  cleanups.push(() => dir.remove());
  cleanups.push(async () => {
    await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
  });
  return { dir: dir.path, daemons };
}

function alert(startsAt: string) {
  return {
    version: '4',
    status: 'firing',
    receiver: 'creditops-collector',
    groupLabels: { alertname: 'HostDown', host: 'db-07' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    groupKey: '{}:{alertname="HostDown", host="db-07"}',
    truncatedAlerts: 0,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'HostDown', host: 'db-07', severity: 'P1', kind: 'fault' },
        annotations: { summary: '主机 db-07 无法访问' },
        startsAt,
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus/graph',
        fingerprint: 'c0ffee0000000007',
      },
    ],
  };
}

async function post(url: string, token: string, body: unknown) {
  return httpText(`${url}/api/v1/alertmanager/webhook`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function smtpServer(dir: string, port?: number): Promise<TestSmtp> {
  const smtp = await testSmtp(dir, 'implicit-tls', port);
  cleanups.push(() => smtp.close());
  return smtp;
}

describe('collector killed with SIGKILL (real processes)', () => {
  it('between writing the ticket and sending its mail: after the restart the mail is sent once', async () => {
    const { dir, daemons } = scene('crash-pending');
    // The mail server is not listening yet: the message stays in the outbox, pending.
    const smtp = await smtpServer(dir);
    const collector = await collectorSetup(
      dir,
      mailPolicy(smtp, 'implicit-tls', '{ initialBackoffSeconds: 1, maxBackoffSeconds: 1 }'),
    );
    const viewer = addViewer(collector.configFile, join(dir, 'viewer.token'));
    const first = collector.start();
    daemons.push(first);
    await waitHealthy(collector.url, daemons);
    const payload = alert(new Date().toISOString());
    expect((await post(collector.url, collector.webhookToken, payload)).status).toBe(200);
    const [ticket] = await listTickets(collector.url, viewer);
    const pending = await waitFor(
      'a failed first attempt',
      async () => {
        const n = (await getTicket(collector.url, viewer, ticket!.number)).notifications;
        return n.length === 1 && n[0]!.state === 'pending' && (n[0] as { attempts?: number }).attempts! >= 1
          ? n
          : undefined;
      },
      20_000,
      daemons,
    );
    expect(pending[0]!.reason).toBe('opened');
    await first.stop('SIGKILL');
    expect(first.process.signalCode).toBe('SIGKILL');

    await smtp.listen();
    const second = collector.start();
    daemons.push(second);
    await waitHealthy(collector.url, daemons);
    // Alertmanager would deliver again after the restart: still one ticket.
    expect((await post(collector.url, collector.webhookToken, payload)).status).toBe(200);
    await waitFor('the mail', async () => smtp.mails[0], 20_000, daemons);
    await new Promise((r) => setTimeout(r, 2500)); // a retry round or two more
    expect(smtp.mails).toHaveLength(1);
    const mail = await decodeMail(smtp.mails[0]!.raw);
    expect(mail.subject).toBe(`【新工单】[P1] ${ticket!.number} 主机 db-07 无法访问`);
    expect(await listTickets(collector.url, viewer)).toHaveLength(1);
    const t = await getTicket(collector.url, viewer, ticket!.number);
    expect(t.notifications.map((n) => [n.reason, n.state])).toEqual([['opened', 'sent']]);
  });

  it('while the mail server hangs mid-send: the lease expires and the mail goes out once (resendAfterCrash)', async () => {
    const { dir, daemons } = scene('crash-sending');
    const smtp = await smtpServer(dir);
    // Accepts the connection and never greets: the message is claimed (`sending`) when killed.
    const hung = await silentListener(smtp.port);
    cleanups.push(() => hung.close());
    const collector = await collectorSetup(
      dir,
      mailPolicy(smtp, 'implicit-tls', '{ leaseSeconds: 5, resendAfterCrash: [ops-mail] }'),
    );
    const viewer = addViewer(collector.configFile, join(dir, 'viewer.token'));
    const first = collector.start();
    daemons.push(first);
    await waitHealthy(collector.url, daemons);
    expect((await post(collector.url, collector.webhookToken, alert(new Date().toISOString()))).status).toBe(
      200,
    );
    await waitFor(
      'the collector to connect to the mail server',
      async () => hung.sockets[0],
      10_000,
      daemons,
    );
    await first.stop('SIGKILL');
    await hung.close();
    await smtp.listen();

    const second = collector.start();
    daemons.push(second);
    await waitHealthy(collector.url, daemons);
    const [ticket] = await listTickets(collector.url, viewer);
    await waitFor('the mail after the lease expired', async () => smtp.mails[0], 20_000, daemons);
    await new Promise((r) => setTimeout(r, 2500));
    expect(smtp.mails).toHaveLength(1);
    const t = await getTicket(collector.url, viewer, ticket!.number);
    expect(t.notifications.map((n) => [n.reason, n.state])).toEqual([['opened', 'sent']]);
    const events = (t as unknown as { events: { type: string; message: string }[] }).events;
    expect(
      events.some((e) => e.type === 'notification_queued' && /发送中断，已重新排队/.test(e.message)),
    ).toBe(true);
  });

  it('while the mail server hangs mid-send, by default: unknown after the lease, not resent; an admin requeues it once', async () => {
    const { dir, daemons } = scene('crash-unknown');
    const smtp = await smtpServer(dir);
    const hung = await silentListener(smtp.port);
    cleanups.push(() => hung.close());
    const collector = await collectorSetup(dir, mailPolicy(smtp, 'implicit-tls', '{ leaseSeconds: 5 }'));
    const viewer = addViewer(collector.configFile, join(dir, 'viewer.token'));
    const admin = addUser(collector.configFile, join(dir, 'admin.token'), 'admin', 'admin');
    const first = collector.start();
    daemons.push(first);
    await waitHealthy(collector.url, daemons);
    expect((await post(collector.url, collector.webhookToken, alert(new Date().toISOString()))).status).toBe(
      200,
    );
    await waitFor(
      'the collector to connect to the mail server',
      async () => hung.sockets[0],
      10_000,
      daemons,
    );
    await first.stop('SIGKILL');
    await hung.close();
    await smtp.listen();

    const second = collector.start();
    daemons.push(second);
    await waitHealthy(collector.url, daemons);
    const [ticket] = await listTickets(collector.url, viewer);
    // The mail may have left before the kill: nobody can tell, so it is not sent again by itself.
    const unknown = await waitFor(
      'the interrupted mail to be marked unknown',
      async () => {
        const n = (await getTicket(collector.url, viewer, ticket!.number)).notifications;
        return n[0]?.state === 'unknown' ? n[0] : undefined;
      },
      20_000,
      daemons,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(smtp.mails).toHaveLength(0);
    const requeue = await httpText(
      `${collector.url}/api/v1/notifications/${(unknown as unknown as { id: string }).id}/requeue`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: '{}',
      },
    );
    expect(requeue.status, requeue.text).toBe(200);
    await waitFor('the requeued mail', async () => smtp.mails[0], 20_000, daemons);
    await new Promise((r) => setTimeout(r, 1500));
    expect(smtp.mails).toHaveLength(1);
  });

  it('Alertmanager delivers while the collector restarts: one ticket, one mail', async () => {
    const { dir, daemons } = scene('crash-am');
    const smtp = await smtpServer(dir);
    await smtp.listen();
    const collector = await collectorSetup(dir, mailPolicy(smtp, 'implicit-tls'));
    const viewer = addViewer(collector.configFile, join(dir, 'viewer.token'));
    const first = collector.start();
    daemons.push(first);
    await waitHealthy(collector.url, daemons);
    // repeat_interval 2s: Alertmanager delivers the same alert again and again.
    const am = await startAlertmanager(dir, collector, {
      groupWait: '1s',
      groupInterval: '1s',
      repeatInterval: '2s',
    });
    daemons.push(am.daemon);
    await first.stop('SIGKILL');
    const startsAt = new Date().toISOString();
    const sent = await httpText(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          labels: { alertname: 'HostDown', host: 'db-08', severity: 'P1', kind: 'fault' },
          annotations: { summary: '主机 db-08 无法访问' },
          startsAt,
        },
      ]),
    });
    expect(sent.status).toBe(200);
    // Alertmanager's first attempts meet a closed port.
    await new Promise((r) => setTimeout(r, 2500));
    const second = collector.start();
    daemons.push(second);
    await waitHealthy(collector.url, daemons);
    await waitFor('the mail', async () => smtp.mails[0], 30_000, daemons);
    // Alertmanager's own counters: it met the dead collector, then delivered, then repeated.
    const counter = (text: string, name: string) =>
      [...text.matchAll(new RegExp(`^${name}\\{[^}]*integration="webhook"[^}]*\\} (\\S+)$`, 'gm'))].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    let seen = { refused: 0, delivered: 0 };
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const { text } = await httpText(`${am.url}/metrics`);
      seen = {
        // Attempts that met the closed port; then notifications that succeeded (first and repeats).
        refused: counter(text, 'alertmanager_notification_requests_failed_total'),
        delivered:
          counter(text, 'alertmanager_notifications_total') -
          counter(text, 'alertmanager_notifications_failed_total'),
      };
      if (seen.refused >= 1 && seen.delivered >= 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(seen.refused).toBeGreaterThanOrEqual(1);
    expect(seen.delivered).toBeGreaterThanOrEqual(2);
    const tickets = await listTickets(collector.url, viewer);
    expect(tickets.map((t) => t.title)).toEqual(['主机 db-08 无法访问']);
    expect(smtp.mails).toHaveLength(1);
    const t = await getTicket(collector.url, viewer, tickets[0]!.number);
    const events = (t as unknown as { events: { type: string }[] }).events;
    expect(events.filter((e) => e.type === 'opened')).toHaveLength(1);
  });
});
