// docker-compose.yml cannot run here (no Docker engine), so this reads it: every setting the app
// services pass is one the service reads and validates (src/config.ts), and the scaled profile's
// topology holds together — the API processes write to the primary, read from a streaming standby
// of it, share one media volume, and sit behind a load balancer that knows each of them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';

interface Service {
  image?: string;
  build?: string;
  profiles?: string[];
  environment?: Record<string, string>;
  command?: string[] | string;
  volumes?: string[];
  configs?: { source: string; target: string }[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: { test: string[] };
  ports?: string[];
}
interface Compose {
  services: Record<string, Service>;
  configs: Record<string, { content: string }>;
  volumes: Record<string, unknown>;
}

const compose = parse(readFileSync(path.resolve(import.meta.dirname, '../docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
const { services } = compose;

/** What Compose makes of a value: ${NAME:-default} → default (no .env here), $$ → $. */
const interpolate = (s: string) => s.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\$/g, '$');
const envOf = (s: Service) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
const hostOf = (url: string) => new URL(url).hostname;
const dependsOn = (s: Service) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));
const apiServices = Object.entries(services).filter(([, s]) => s.build);
const scaledApis = apiServices.filter(([, s]) => s.profiles?.includes('scaled'));

describe('docker-compose.yml', () => {
  it('gives every API service only settings the service reads, with values it accepts', () => {
    expect(apiServices.map(([name]) => name)).toEqual(['app', 'api-1', 'api-2']);
    for (const [name, s] of apiServices) {
      const env = envOf(s);
      expect(Object.keys(env).filter((k) => !(CONFIG_VARIABLES as string[]).includes(k)), name).toEqual([]);
      const config = loadConfig(env);
      // The container's health check asks the port the service listens on.
      expect(s.healthcheck?.test.join(' '), name).toContain(`:${config.PORT}/healthz`);
    }
  });

  describe('the scaled profile', () => {
    const replicas = Object.entries(services).filter(([, s]) => s.profiles?.includes('scaled') && /pg_basebackup/.test(String(s.command)));

    it('has a primary, one streaming standby of it, two API processes and a load balancer', () => {
      expect(scaledApis.map(([n]) => n)).toEqual(['api-1', 'api-2']);
      expect(replicas.map(([n]) => n)).toEqual(['db-replica']);
      expect(services.lb?.profiles).toEqual(['scaled']);
    });

    it('API processes write to the primary and read from the standby, which copies that primary', () => {
      for (const [name, s] of scaledApis) {
        const config = loadConfig(envOf(s));
        const primary = services[hostOf(config.DATABASE_URL!)];
        expect(primary?.image, name).toMatch(/pgvector/);
        expect(primary?.profiles, `${name}: the primary runs in every profile`).toBeUndefined();
        expect(config.DATABASE_REPLICA_URLS.length, name).toBeGreaterThan(0);
        for (const url of config.DATABASE_REPLICA_URLS) {
          const replicaName = hostOf(url);
          const replica = services[replicaName];
          expect(replica?.image, name).toBe(primary?.image);
          const command = interpolate(String(replica?.command));
          // A hot standby of exactly this primary (-R writes its primary_conninfo).
          expect(command).toMatch(new RegExp(`pg_basebackup -h ${hostOf(config.DATABASE_URL!)} .*-R`));
          expect(command).toContain('hot_standby=on');
          expect(dependsOn(s)).toEqual(expect.arrayContaining([hostOf(config.DATABASE_URL!), replicaName]));
        }
      }
    });

    it('the standby logs in with the role and password the primary creates for it', () => {
      const [, replica] = replicas[0]!;
      const user = /pg_basebackup .*-U (\S+)/.exec(String(replica.command))?.[1];
      const setup = services.db?.configs?.find((c) => c.target.startsWith('/docker-entrypoint-initdb.d/'));
      const script = interpolate(compose.configs[setup!.source]!.content);
      expect(script).toContain(`CREATE ROLE ${user} WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD'`);
      expect(script).toMatch(new RegExp(`host replication ${user} all`));
      expect(envOf(replica).PGPASSWORD).toBe(envOf(services.db!).REPLICATION_PASSWORD);
    });

    it('API processes share one media volume at DATA_DIR', () => {
      const mounts = scaledApis.map(([, s]) => s.volumes?.find((v) => v.endsWith(`:${loadConfig(envOf(s)).DATA_DIR}`)));
      expect(mounts[0]).toBeDefined();
      expect(new Set(mounts).size).toBe(1);
      expect(Object.keys(compose.volumes)).toContain(mounts[0]!.split(':')[0]);
    });

    it('the load balancer sends requests to each API process on the port it listens on', () => {
      const lb = services.lb!;
      const conf = interpolate(compose.configs[lb.configs![0]!.source]!.content);
      const upstream = [...conf.matchAll(/server\s+([\w-]+):(\d+)/g)].map(([, host, port]) => `${host}:${port}`);
      expect(upstream.sort()).toEqual(scaledApis.map(([n, s]) => `${n}:${loadConfig(envOf(s)).PORT}`).sort());
      expect(dependsOn(lb).sort()).toEqual(scaledApis.map(([n]) => n).sort());
      // Uploads as large as the API accepts pass the proxy.
      const maxMb = Number(/client_max_body_size (\d+)m/.exec(conf)?.[1]);
      expect(maxMb * 2 ** 20).toBeGreaterThanOrEqual(loadConfig(envOf(scaledApis[0]![1])).UPLOAD_MAX_BYTES);
      expect(scaledApis.every(([, s]) => (s.ports ?? []).length === 0)).toBe(true);
      // nginx forwards the client's address, and the API trusts exactly that one hop for it (rate limits).
      expect(conf).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for/);
      expect(scaledApis.every(([, s]) => loadConfig(envOf(s)).TRUST_PROXY === 1)).toBe(true);
    });
  });
});
