/**
 * Debian nginx as the test's load balancer: a config written to a temp dir (round robin over the
 * instances, retry on connect failure, every path nginx writes inside that dir), run as a child with
 * `daemon off`. The access log records which upstream answered each request, and every response
 * carries it in `X-Sekisho-Upstream`, so tests can tell instances apart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NGINX_PATH = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export interface NginxProxy {
  readonly url: string;
  readonly port: number;
  /** Access-log lines so far: method, path, status, upstream address(es), upstream status. */
  accessLog(): { method: string; path: string; status: number; upstream: string }[];
  stop(): Promise<void>;
}

/** The config an operator would write, with the test's ports and paths (docs/deployment.md shows it). */
export function nginxConfig(opts: { dir: string; port: number; upstreams: readonly number[] }): string {
  const { dir } = opts;
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  log_format upstreams '$request_method $uri $status $upstream_addr $upstream_status';
  access_log ${dir}/access.log upstreams;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  upstream sekisho {
${opts.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${opts.port};
    location / {
      proxy_pass http://sekisho;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      # A connect failure (instance down) moves the request to the next instance; a request an
      # instance already received is never replayed elsewhere.
      proxy_next_upstream error;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
      proxy_buffering off;
      add_header X-Sekisho-Upstream $upstream_addr always;
    }
  }
}
`;
}

/** Why nginx tests cannot run here, or undefined. Throws under CI. */
export function nginxUnavailable(): string | undefined {
  if (existsSync(NGINX_PATH)) return undefined;
  const reason = `nginx not found at ${NGINX_PATH} (apt-get install -y nginx)`;
  if (process.env.CI === 'true') throw new Error(`${reason} — required in CI`);
  console.warn(`SKIPPING multi-instance tests: ${reason}`);
  return reason;
}

export async function startNginx(opts: {
  dir: string;
  port: number;
  upstreams: readonly number[];
}): Promise<NginxProxy> {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    mkdirSync(join(opts.dir, sub), { recursive: true });
  const conf = join(opts.dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(opts));
  const child: ChildProcess = spawn(
    NGINX_PATH,
    ['-p', opts.dir, '-e', join(opts.dir, 'error.log'), '-c', conf],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = `http://127.0.0.1:${opts.port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`nginx exited: ${stderr}${readLog(join(opts.dir, 'error.log'))}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (i > 100) throw new Error(`nginx did not listen: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    port: opts.port,
    accessLog() {
      return readLog(join(opts.dir, 'access.log'))
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [method = '', path = '', status = '0', upstream = ''] = line.split(' ');
          return { method, path, status: Number(status), upstream };
        });
    },
    stop() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      });
    },
  };
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
