/**
 * A real TCP proxy (127.0.0.1, port 0) in front of a server, to cut connections the way a network
 * does. `armBlackhole()` makes the NEXT WebSocket connection stop delivering server → client data
 * right after the graphql-ws `connection_ack` (what the server sends afterwards is kept in
 * `dropped`, never delivered); `cut()` then destroys every WebSocket connection.
 */
import * as net from 'node:net';

/** One proxied connection. */
interface Pipe {
  client: net.Socket;
  upstream: net.Socket;
  websocket: boolean;
  blackholed: boolean;
  /** Server → client bytes held back (as text). */
  dropped: string;
}

/** The proxy. */
export interface Proxy {
  url: string;
  /** Every connection made through the proxy, in order. */
  pipes: Pipe[];
  armBlackhole(): void;
  /** Destroys every WebSocket connection (both sides). */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `127.0.0.1:port`. */
export async function startProxy(port: number): Promise<Proxy> {
  const pipes: Pipe[] = [];
  let armed = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const p: Pipe = { client, upstream, websocket: false, blackholed: false, dropped: '' };
    let acked = false;
    pipes.push(p);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      const text = d.toString('latin1');
      if (!p.websocket && text.startsWith('HTTP/1.1 101')) {
        p.websocket = true;
        if (armed) {
          armed = false;
          p.blackholed = true;
        }
      }
      if (p.blackholed && acked) {
        p.dropped += text;
        return;
      }
      if (p.blackholed && text.includes('connection_ack')) acked = true;
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    pipes,
    armBlackhole: () => {
      armed = true;
    },
    cut() {
      for (const p of pipes) {
        if (p.websocket) {
          p.client.destroy();
          p.upstream.destroy();
        }
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const p of pipes) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close(() => r());
      }),
  };
}
