/**
 * A TCP proxy on a loopback port that forwards to an SMSC and counts the connections it accepts:
 * how many in all, how many are open now, and the most that were ever open at once — what an
 * SMSC would see of a client. `refuse` makes it accept and close at once (a flapping peer).
 */
import net from 'node:net';

export interface CountingProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Client connections open now. */
  readonly live: number;
  /** The most client connections open at once. */
  readonly maxLive: number;
  /** performance.now() of each accept. */
  readonly acceptedAt: readonly number[];
  close(): Promise<void>;
}

export function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  let accepted = 0;
  let live = 0;
  let maxLive = 0;
  const acceptedAt: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    accepted++;
    acceptedAt.push(performance.now());
    live++;
    maxLive = Math.max(maxLive, live);
    sockets.add(client);
    const upstream = net.connect(target.port, target.host);
    sockets.add(upstream);
    client.on('close', () => {
      live--;
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        get accepted() {
          return accepted;
        },
        get live() {
          return live;
        },
        get maxLive() {
          return maxLive;
        },
        acceptedAt,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A loopback port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
