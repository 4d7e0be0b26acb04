/**
 * The server's answers while the process is still starting (opening the engine, the first-start
 * bootstrap of MovieLens 100K and the first model, loading the serving model): the HTTP port is
 * bound at once, so that probes and clients get an answer instead of "connection refused".
 *
 * - `GET /healthz` → 200 `{"status": "ok", "phase": "starting"}` (liveness: the process is alive);
 * - `GET /readyz` → 503 `{"status": "starting", "step": "<what it is doing>"}` (readiness);
 * - anything else → 503 `{"error": "starting: <step>"}` with `Retry-After: 5`;
 * - WebSocket upgrades → 503 and the socket is closed.
 *
 * When the services are ready, {@link StartingServer.handOver} detaches these handlers and returns
 * the still-listening `http.Server` for createServer (app.ts) to serve on (it attaches its own in
 * the same tick, and answers the same way until its GraphQL server has started); the URL does not
 * change.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** The early listener of {@link listenWhileStarting}. */
export interface StartingServer {
  /** The bound port (the real one when 0 was asked). */
  port: number;
  /** Sets the step reported by /readyz and in 503 answers (e.g. "training the first model"). */
  setStep(step: string): void;
  /** Detaches the starting handlers and returns the listening server (call once). */
  handOver(): http.Server;
  /** Closes the server (a failed start). */
  close(): Promise<void>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...(status === 503 ? { 'Retry-After': '5' } : {}),
  });
  res.end(text);
}

/**
 * Answers one HTTP request of a process that is still starting (see the module documentation).
 * @param step what the process is doing, for /readyz and the 503 message
 */
export function answerWhileStarting(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  step: string,
): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/healthz') {
    sendJson(res, 200, { status: 'ok', phase: 'starting' });
  } else if (req.method === 'GET' && path === '/readyz') {
    sendJson(res, 503, { status: 'starting', step });
  } else {
    sendJson(res, 503, { error: `starting: ${step}` });
  }
  req.resume();
}

/**
 * Binds `host:port` and answers as described in the module documentation until handed over.
 * @param host interface to bind (e.g. 127.0.0.1)
 * @param port TCP port, 0 for any free port
 * @throws the listen error (EADDRINUSE, EACCES…), with nothing left open
 */
export async function listenWhileStarting(host: string, port: number): Promise<StartingServer> {
  let step = 'opening the engine';
  const server = http.createServer();
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) =>
    answerWhileStarting(req, res, step);
  const onUpgrade = (_req: http.IncomingMessage, socket: Duplex) => {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n');
  };
  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let handedOver = false;
  return {
    port: (server.address() as AddressInfo).port,
    setStep(s) {
      step = s;
    },
    handOver() {
      if (handedOver) throw new Error('the starting server was already handed over');
      handedOver = true;
      server.off('request', onRequest);
      server.off('upgrade', onUpgrade);
      return server;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
