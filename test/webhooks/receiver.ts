/**
 * A real HTTP receiver for the webhook tests (node:http on 127.0.0.1, port 0). Each request is
 * recorded, then answered as `answer(request)` says: a status (with headers, after `delayMs`, with a body of
 * `bodyBytes`), a hang (no answer
 * until the receiver closes), or a reset connection.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed body. */
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

export type Answer =
  | { status: number; headers?: Record<string, string>; delayMs?: number; bodyBytes?: number }
  | 'hang'
  | 'reset';

export interface Receiver {
  url: string;
  received: Received[];
  /** Decides each answer (default 200). */
  answer: (request: Received, index: number) => Answer;
  close(): Promise<void>;
}

export async function startReceiver(answer: Receiver['answer'] = () => ({ status: 200 })): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const receiver: Receiver = {
    url: '',
    received: [],
    answer,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request: Received = { path: req.url ?? '', headers: req.headers, body, json: JSON.parse(body) };
      const index = receiver.received.push(request) - 1;
      const a = receiver.answer(request, index);
      if (a === 'hang') return;
      if (a === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      const answerBody = a.bodyBytes === undefined ? 'ok' : Buffer.alloc(a.bodyBytes, 'x');
      if (a.delayMs === undefined) res.writeHead(a.status, a.headers).end(answerBody);
      else setTimeout(() => res.writeHead(a.status, a.headers).end(answerBody), a.delayMs);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
