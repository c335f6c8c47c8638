/**
 * A real OpenStack Swift (Debian's swift packages, installed by scripts/system-packages.sh) on
 * loopback: account, container and object servers on a one-replica ring over a temporary
 * directory, a proxy with tempauth, container quotas and the s3api middleware, and a memcached
 * for tempauth's tokens. Every port is free-picked. Start it once per test file.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { freePort } from './ports';

export const SWIFT_ACCOUNT = 'test';
export const SWIFT_USER = 'test:tester';
export const SWIFT_KEY = 'testing';

const SERVERS = ['account', 'container', 'object'] as const;
type ProcessName = 'storage' | 'proxy' | 'memcached';

export interface RunningSwift {
  /** tempauth's v1 auth URL. */
  authUrl: string;
  /** The proxy's root, also the s3api endpoint (access key `test:tester`, secret `testing`). */
  endpoint: string;
  /** The test account's storage URL, `…/v1/AUTH_test`. */
  storageUrl: string;
  user: string;
  key: string;
  /** Stops the proxy only (the storage servers keep their data). */
  stopProxy(): Promise<void>;
  /** Starts the proxy again on the same port. */
  startProxy(): Promise<void>;
  /** A token for the test account (tempauth), for direct requests. */
  token(): Promise<string>;
  /**
   * Records object rows straight into a container's database with Swift's own ContainerBroker, as
   * the object servers' container updates do: listings show them, the objects have no bytes. Ten
   * thousand real PUTs take minutes on a CI machine; this takes a second.
   */
  seedListing(container: string, names: string[]): void;
  output(): string;
  stop(): Promise<void>;
}

const SEED_LISTING_SCRIPT = `
import glob, json, sys
from swift.common.utils import hash_path, Timestamp
from swift.container.backend import ContainerBroker
devices, account, container = sys.argv[1], sys.argv[2], sys.argv[3]
names = json.load(sys.stdin)
digest = hash_path(account, container)
path = glob.glob('%s/d1/containers/*/*/%s/%s.db' % (devices, digest, digest))[0]
broker = ContainerBroker(path, account=account, container=container)
created = Timestamp.now().internal
broker.merge_items([{'name': name, 'created_at': created, 'size': 0, 'content_type': 'application/octet-stream',
                     'etag': 'd41d8cd98f00b204e9800998ecf8427e', 'deleted': 0, 'storage_policy_index': 0} for name in names])
`;

function writeConfig(file: string, sections: Record<string, Record<string, string | number>>): void {
  const text = Object.entries(sections)
    .map(
      ([name, values]) =>
        `[${name}]\n${Object.entries(values)
          .map(([key, value]) => `${key} = ${value}`)
          .join('\n')}\n`,
    )
    .join('\n');
  fs.writeFileSync(file, text);
}

/**
 * The three rings, written directly in Swift's ring format v1 (gzip of `R1NG`, version, JSON
 * header, then each replica's partition-to-device table): one device each, one replica, four
 * partitions. Building them with swift-ring-builder costs a Python start per call.
 */
function writeRings(directory: string, ports: Record<(typeof SERVERS)[number], number>): void {
  const partPower = 2;
  for (const name of SERVERS) {
    const device = {
      id: 0,
      region: 1,
      zone: 1,
      ip: '127.0.0.1',
      port: ports[name],
      replication_ip: '127.0.0.1',
      replication_port: ports[name],
      device: 'd1',
      weight: 100,
      meta: '',
    };
    const header = Buffer.from(
      JSON.stringify({ byteorder: 'little', devs: [device], part_shift: 32 - partPower, replica_count: 1 }),
      'ascii',
    );
    const fixed = Buffer.alloc(10);
    fixed.write('R1NG', 0, 'ascii');
    fixed.writeUInt16BE(1, 4);
    fixed.writeUInt32BE(header.length, 6);
    const partitions = Buffer.alloc(2 * (1 << partPower));
    fs.writeFileSync(path.join(directory, `${name}.ring.gz`), zlib.gzipSync(Buffer.concat([fixed, header, partitions])));
  }
}

/**
 * Swift's account, container and object applications served from one Python process, each on its
 * own port with Swift's own WSGI protocol, as `swift-*-server` would with `workers = 0`: one
 * interpreter start instead of three.
 */
const STORAGE_SERVERS_SCRIPT = `
import json, os, sys, time
from swift.common import utils, wsgi
utils.eventlet_monkey_patch()
import eventlet, eventlet.wsgi
os.environ['TZ'] = 'UTC+0'
time.tzset()
utils.validate_configuration()
utils.FALLOCATE_RESERVE, utils.FALLOCATE_IS_PERCENT = utils.config_fallocate_value('1%')
root, ports = sys.argv[1], json.loads(sys.argv[2])
for name, port in ports.items():
    app = wsgi.loadapp('%s/%s-server.conf' % (root, name), global_conf={'log_name': name})
    sock = eventlet.listen(('127.0.0.1', port))
    eventlet.spawn(eventlet.wsgi.server, sock, app, utils.NullLogger(), custom_pool=wsgi.RestrictedGreenPool(size=1024),
                   protocol=wsgi.SwiftHttpProtocol, socket_timeout=60, capitalize_response_headers=False)
print('serving', flush=True)
while True:
    eventlet.sleep(3600)
`;

function waitForPort(port: number, child: ChildProcess, name: string, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`swift ${name} exited (${child.exitCode}) before listening:\n${output()}`));
        return;
      }
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`swift ${name} did not listen on ${port} within ${timeoutMs} ms:\n${output()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function swiftInstalled(): boolean {
  return fs.existsSync('/usr/bin/swift-proxy-server') && fs.existsSync('/usr/bin/memcached');
}

export async function startSwift(): Promise<RunningSwift> {
  if (!swiftInstalled()) throw new Error('OpenStack Swift is not installed: run scripts/system-packages.sh as root');
  // Swift fsyncs every object and container row: on tmpfs (/dev/shm) that costs nothing.
  const parent = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const root = fs.mkdtempSync(path.join(parent, 'cinderblock-swift-'));
  const devices = path.join(root, 'devices');
  fs.mkdirSync(path.join(devices, 'd1'), { recursive: true });
  const [account, container, object, proxy, memcache] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const ports = { account, container, object };
  let log = '';
  const output = () => log;
  const children = new Map<ProcessName, ChildProcess>();
  // A test process that dies without stop() must not leave Swift running.
  const killAll = () => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const start = (name: ProcessName, command: string, args: string[]) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.length > 200_000) log = log.slice(-100_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    children.set(name, child);
    return child;
  };

  const user = os.userInfo().username;
  const common = {
    bind_ip: '127.0.0.1',
    user,
    workers: 0,
    swift_dir: root,
    devices,
    mount_check: 'false',
    log_level: 'WARNING',
    log_name: 'swift',
  };
  for (const name of SERVERS) {
    writeConfig(path.join(root, `${name}-server.conf`), {
      DEFAULT: { ...common, bind_port: ports[name] },
      'pipeline:main': { pipeline: `${name}-server` },
      [`app:${name}-server`]: { use: `egg:swift#${name}` },
      ...(name === 'object' ? {} : { [`${name}-replicator`]: {} }),
    });
  }
  writeConfig(path.join(root, 'proxy-server.conf'), {
    DEFAULT: { bind_ip: '127.0.0.1', bind_port: proxy, user, workers: 0, swift_dir: root, log_level: 'WARNING', log_name: 'swift-proxy' },
    'pipeline:main': {
      pipeline:
        'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth container-quotas copy slo dlo proxy-logging proxy-server',
    },
    'app:proxy-server': { use: 'egg:swift#proxy', account_autocreate: 'true', conn_timeout: 2, node_timeout: 20 },
    'filter:tempauth': { use: 'egg:swift#tempauth', [`user_${SWIFT_ACCOUNT}_tester`]: `${SWIFT_KEY} .admin`, token_life: 86_400 },
    'filter:s3api': { use: 'egg:swift#s3api', location: 'us-east-1' },
    'filter:cache': { use: 'egg:swift#memcache', memcache_servers: `127.0.0.1:${memcache}` },
    'filter:catch_errors': { use: 'egg:swift#catch_errors' },
    'filter:gatekeeper': { use: 'egg:swift#gatekeeper' },
    'filter:healthcheck': { use: 'egg:swift#healthcheck' },
    'filter:proxy-logging': { use: 'egg:swift#proxy_logging' },
    'filter:listing_formats': { use: 'egg:swift#listing_formats' },
    'filter:bulk': { use: 'egg:swift#bulk', max_containers_per_extraction: 100, max_failed_extractions: 1000 },
    'filter:container-quotas': { use: 'egg:swift#container_quotas' },
    'filter:copy': { use: 'egg:swift#copy' },
    'filter:slo': { use: 'egg:swift#slo' },
    'filter:dlo': { use: 'egg:swift#dlo' },
  });
  writeRings(root, ports);

  const startProxy = async () => {
    const child = start('proxy', '/usr/bin/swift-proxy-server', [path.join(root, 'proxy-server.conf')]);
    await waitForPort(proxy, child, 'proxy', output);
  };
  try {
    const memcached = start('memcached', '/usr/bin/memcached', [
      '-l',
      '127.0.0.1',
      '-p',
      String(memcache),
      '-U',
      '0',
      '-m',
      '16',
      ...(process.getuid?.() === 0 ? ['-u', 'root'] : []),
    ]);
    const storage = start('storage', '/usr/bin/python3', ['-c', STORAGE_SERVERS_SCRIPT, root, JSON.stringify(ports)]);
    await Promise.all([
      waitForPort(memcache, memcached, 'memcached', output),
      ...SERVERS.map((name) => waitForPort(ports[name], storage, `${name} server`, output)),
      startProxy(),
    ]);
  } catch (error) {
    await Promise.all([...children.values()].map(stopChild));
    fs.rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const endpoint = `http://127.0.0.1:${proxy}`;
  const authUrl = `${endpoint}/auth/v1.0`;
  const token = async () => {
    const response = await fetch(authUrl, { headers: { 'X-Auth-User': SWIFT_USER, 'X-Auth-Key': SWIFT_KEY } });
    if (!response.ok) throw new Error(`tempauth answered ${response.status}:\n${log}`);
    return response.headers.get('x-auth-token')!;
  };
  await token();
  return {
    authUrl,
    endpoint,
    storageUrl: `${endpoint}/v1/AUTH_${SWIFT_ACCOUNT}`,
    user: SWIFT_USER,
    key: SWIFT_KEY,
    async stopProxy() {
      await stopChild(children.get('proxy'));
    },
    startProxy,
    token,
    seedListing(container, names) {
      execFileSync('/usr/bin/python3', ['-c', SEED_LISTING_SCRIPT, devices, `AUTH_${SWIFT_ACCOUNT}`, container], {
        input: JSON.stringify(names),
      });
    },
    output,
    async stop() {
      process.removeListener('exit', killAll);
      await Promise.all([...children.values()].map(stopChild));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
