// Validates docker-compose.yml without a Docker engine: the services exist, nothing is published
// beyond loopback, every bind mount refers to a file in the repository, and each configuration is
// mounted where its relative paths (../rules, ../data/…) still resolve.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  ports?: (string | { host_ip?: string; published?: string | number; target: number })[];
  network_mode?: string;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  cap_add?: string[];
  privileged?: boolean;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

/** Splits a short-syntax volume `source:target[:mode]`. */
function volume(spec: string): { source: string; target: string; readOnly: boolean } {
  const [source = '', target = '', mode = ''] = spec.split(':');
  return { source, target, readOnly: mode.split(',').includes('ro') };
}

const isBind = (source: string) => source.startsWith('.') || source.startsWith('/');

function bindMounts(service: Service) {
  return (service.volumes ?? []).map(volume).filter((v) => isBind(v.source));
}

function mountOf(service: Service, repoPath: string) {
  return bindMounts(service).find((v) => posix.normalize(v.source) === repoPath);
}

function flag(service: Service, name: string): string | undefined {
  const args = Array.isArray(service.command) ? service.command : [];
  return args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

describe('docker-compose.yml', () => {
  it('has the suite’s services', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['collector', 'agent', 'prometheus', 'alertmanager', 'grafana']),
    );
  });

  it('publishes ports on 127.0.0.1 only', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        if (typeof port === 'string') expect(port, `${name}: ${port}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        else expect(port.host_ip, `${name}: ${JSON.stringify(port)}`).toBe('127.0.0.1');
      }
    }
  });

  it('reaches every service through a published port or a shared namespace', () => {
    const published = (name: string) =>
      (services[name]?.ports ?? []).map((p) =>
        typeof p === 'string' ? Number(p.split(':')[1]) : Number(p.published),
      );
    const owner = 'prometheus';
    // collector 9470, alertmanager 9093, grafana 3000 live in prometheus' network namespace.
    expect(published(owner)).toEqual(expect.arrayContaining([9090, 9093, 9470, 3000]));
    for (const name of ['collector', 'alertmanager', 'grafana']) {
      expect(services[name]?.network_mode, name).toBe(`service:${owner}`);
      expect(services[name]?.depends_on, name).toHaveProperty(owner);
    }
    expect(services.agent?.network_mode).toBe('host');
    expect(services.agent?.ports ?? []).toEqual([]);
  });

  it('mounts only files and folders that exist in the repository', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const v of bindMounts(service)) {
        if (v.source.startsWith('/')) {
          // Host paths: only the agent looks at the host, and read-only.
          expect(name, `${name} mounts ${v.source}`).toBe('agent');
          expect(v.readOnly, `${name}: ${v.source} must be read-only`).toBe(true);
          continue;
        }
        expect(existsSync(join(root, v.source)), `${name}: ${v.source} does not exist`).toBe(true);
        expect(v.readOnly, `${name}: ${v.source} should be mounted read-only`).toBe(true);
      }
      for (const v of (service.volumes ?? []).map(volume).filter((v) => !isBind(v.source))) {
        expect(compose.volumes, `${name}: named volume ${v.source} is not declared`).toHaveProperty(v.source);
      }
    }
  });

  it('gives the agent the host’s /proc, /sys and / read-only, without full privileges', () => {
    const agent = services.agent!;
    const targets = Object.fromEntries(bindMounts(agent).map((v) => [v.source, v.target]));
    expect(targets).toMatchObject({ '/proc': '/host/proc', '/sys': '/host/sys', '/': '/host/root' });
    expect(agent.privileged ?? false).toBe(false);
    expect(agent.cap_add ?? []).not.toContain('SYS_ADMIN');
    const config = parse(readFileSync(join(root, 'deploy/compose/agent.yaml'), 'utf8'));
    expect(config.agent).toMatchObject({
      procRoot: '/host/proc',
      sysRoot: '/host/sys',
      rootfs: '/host/root',
    });
  });

  it('pins every image and builds creditops from a Dockerfile in the repository', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, name).toMatch(/^[^:]+:(?!latest$)[\w.-]+$/);
      if (service.build)
        expect(existsSync(join(root, service.build.context, service.build.dockerfile)), name).toBe(true);
    }
  });

  it('mounts deploy/prometheus.yml beside the rules it reads (../rules)', () => {
    const prometheus = services.prometheus!;
    const config = mountOf(prometheus, 'deploy/prometheus.yml');
    const rules = mountOf(prometheus, 'rules');
    expect(config?.target).toBe(flag(prometheus, 'config.file'));
    expect(rules?.target).toBe(posix.join(posix.dirname(config!.target), '..', 'rules'));
  });

  it('mounts deploy/alertmanager.yml beside the data volume holding the webhook token', () => {
    const alertmanager = services.alertmanager!;
    const config = mountOf(alertmanager, 'deploy/alertmanager.yml');
    expect(config?.target).toBe(flag(alertmanager, 'config.file'));
    const amConfig = parse(readFileSync(join(root, 'deploy/alertmanager.yml'), 'utf8'));
    const tokenPath = posix.join(
      posix.dirname(config!.target),
      amConfig.receivers[0].webhook_configs[0].http_config.authorization.credentials_file,
    );
    const dataMount = (alertmanager.volumes ?? [])
      .map(volume)
      .find((v) => tokenPath.startsWith(`${v.target}/`));
    expect(dataMount?.source, `nothing mounted at ${posix.dirname(tokenPath)}`).toBe('creditops-data');
    // …the volume the setup service writes the token into.
    expect(
      (services.setup?.volumes ?? []).map(volume).find((v) => v.source === 'creditops-data')?.target,
    ).toBe('/var/lib/creditops/data');
  });

  it('provisions Grafana with the datasource, the dashboard provider and the dashboards at its path', () => {
    const grafana = services.grafana!;
    expect(mountOf(grafana, 'dashboards/provisioning/datasources')?.target).toBe(
      '/etc/grafana/provisioning/datasources',
    );
    expect(mountOf(grafana, 'dashboards/provisioning/dashboards')?.target).toBe(
      '/etc/grafana/provisioning/dashboards',
    );
    const provider = parse(
      readFileSync(join(root, 'dashboards/provisioning/dashboards/creditops.yml'), 'utf8'),
    );
    expect(mountOf(grafana, 'dashboards/json')?.target).toBe(provider.providers[0].options.path);
  });

  it('runs the collector and agent with configurations creditops accepts', async () => {
    for (const file of ['deploy/compose/collector.yaml', 'deploy/compose/agent.yaml']) {
      const output = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          [join(root, 'bin/creditops.js'), 'check-config', join(root, file)],
          (error, stdout, stderr) => {
            if (error) reject(new Error(`${file}: ${stdout}${stderr}`, { cause: error }));
            else resolve(stdout);
          },
        );
      });
      expect(output).toContain('configuration OK');
    }
  });
});
