/**
 * Opens the TCP or TLS connection a session runs on, with a connect timeout. Resolves once
 * the socket is connected (and, for TLS, the handshake is done); rejects with SmppConnectError
 * and leaves no socket behind.
 */
import net from 'node:net';
import tls from 'node:tls';
import { SmppConnectError } from './errors.js';

export interface ConnectOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  tls?: {
    enabled: boolean;
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    servername?: string;
    rejectUnauthorized?: boolean;
  };
}

export function connectSocket(options: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const useTls = options.tls?.enabled === true;
    const socket: net.Socket = useTls
      ? tls.connect({
          host: options.host,
          port: options.port,
          ca: options.tls?.ca,
          cert: options.tls?.cert,
          key: options.tls?.key,
          servername: options.tls?.servername ?? (net.isIP(options.host) ? undefined : options.host),
          rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
        })
      : net.connect({ host: options.host, port: options.port });
    const where = `${options.host}:${options.port}${useTls ? ' (TLS)' : ''}`;
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off(useTls ? 'secureConnect' : 'connect', onConnect);
      if (error) {
        socket.destroy();
        reject(error);
      } else resolve(socket);
    };
    const onError = (error: Error): void => {
      const code = (error as NodeJS.ErrnoException).code;
      finish(new SmppConnectError(`cannot connect to ${where}: ${code ?? error.message}`, error));
    };
    const onConnect = (): void => finish();
    const timer = setTimeout(
      () =>
        finish(
          new SmppConnectError(`cannot connect to ${where}: no answer within ${options.connectTimeoutMs} ms`),
        ),
      options.connectTimeoutMs,
    );
    timer.unref();
    socket.once('error', onError);
    socket.once(useTls ? 'secureConnect' : 'connect', onConnect);
  });
}
