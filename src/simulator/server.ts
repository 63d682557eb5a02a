/**
 * The simulator's listening side: a TCP server on which TLS, when configured, is layered per
 * accepted socket (not a tls.Server, so that the drop fault can still reset the TCP connection
 * underneath), the TLS handshake bounded by the session-init timeout, and every accepted socket
 * tracked until its 'close' so that closing the simulator ends them all.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../logger.js';
import { SimErrorCode, SimulatorError } from './errors.js';
import type { TimerSet } from './timer-set.js';
import type { SimulatorTlsOptions } from './types.js';

export interface SimServerOptions {
  host: string;
  port: number;
  tls: SimulatorTlsOptions | undefined;
  maxConnections: number;
  /** A TLS handshake that takes longer is abandoned. */
  handshakeTimeoutMs: number;
  timers: TimerSet;
  log: Logger;
  /** A connection is ready for SMPP: `socket` is what to read and write, `tcp` what lies beneath. */
  onConnection(socket: net.Socket, tcp: net.Socket): void;
}

export class SimServer {
  private readonly server: net.Server;
  private readonly secureContext: tls.SecureContext | undefined;
  /** Every accepted socket until its 'close' (a closed session's socket may still be lingering). */
  private readonly sockets = new Set<net.Socket>();
  private listening: Promise<{ host: string; port: number }> | null = null;
  private stopped = false;
  address: { host: string; port: number } | null = null;

  constructor(private readonly opts: SimServerOptions) {
    const t = opts.tls;
    this.secureContext = t
      ? tls.createSecureContext({ key: t.key, cert: t.cert, ...(t.ca ? { ca: t.ca } : {}) })
      : undefined;
    this.server = net.createServer((tcp) => {
      if (!this.track(tcp)) return;
      if (this.secureContext) this.handshake(tcp, this.secureContext);
      else opts.onConnection(tcp, tcp);
    });
    this.server.maxConnections = opts.maxConnections;
  }

  /** Starts listening; resolves with the address (the real port when port was 0). Idempotent. */
  listen(): Promise<{ host: string; port: number }> {
    if (this.listening) return this.listening;
    const { host, port } = this.opts;
    const server = this.server;
    this.listening = new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(
          new SimulatorError(
            SimErrorCode.Listen,
            `cannot listen on ${host}:${port}: ${error.message}`,
            [],
            error,
          ),
        );
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (error) => this.opts.log.error({ err: error.message }, 'simulator server error'));
        const address = server.address() as net.AddressInfo;
        this.address = { host, port: address.port };
        this.opts.log.debug({ host, port: address.port, tls: Boolean(this.opts.tls) }, 'simulator listening');
        resolve(this.address);
      });
    });
    return this.listening;
  }

  /** Stops accepting; resolves when the server is closed (which waits for open sockets). */
  stopListening(): Promise<void> {
    this.stopped = true;
    const server = this.server;
    return new Promise<void>((resolve) => {
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
  }

  /** Destroys every socket still open; resolves once each has closed. */
  async destroySockets(): Promise<void> {
    await Promise.all(
      [...this.sockets].map(
        (socket) =>
          new Promise<void>((resolve) => {
            socket.once('close', () => resolve());
            socket.destroy();
          }),
      ),
    );
  }

  /** Tracks a TCP socket until its 'close', so close() can end it. */
  private track(tcp: net.Socket): boolean {
    if (this.stopped) {
      tcp.destroy();
      return false;
    }
    this.sockets.add(tcp);
    tcp.once('close', () => this.sockets.delete(tcp));
    return true;
  }

  /** TLS server handshake on an accepted TCP socket, bounded by the handshake timeout. */
  private handshake(tcp: net.Socket, secureContext: tls.SecureContext): void {
    const requestCert = this.opts.tls?.requestCert ?? false;
    const socket = new tls.TLSSocket(tcp, {
      isServer: true,
      secureContext,
      requestCert,
      rejectUnauthorized: requestCert,
    });
    const onError = (error: Error): void => {
      this.opts.log.debug({ err: error.message, remote: tcp.remoteAddress }, 'TLS handshake failed');
      socket.destroy();
      tcp.destroy();
    };
    socket.on('error', onError);
    // Errors of the TCP socket reach the TLS socket (and the session); never leave them unheard.
    tcp.on('error', () => {});
    const timer = this.opts.timers.set(
      () => onError(new Error('no TLS handshake in time')),
      this.opts.handshakeTimeoutMs,
    );
    tcp.once('close', () => timer.clear());
    socket.once('secure', () => {
      timer.clear();
      // The session's own error listener takes over from here.
      socket.off('error', onError);
      if (this.stopped) {
        socket.destroy();
        return;
      }
      this.opts.onConnection(socket, tcp);
    });
  }
}
