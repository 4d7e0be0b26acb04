/**
 * A gRPC round trip for tests: an embedded engine in a temporary directory, served by the pachd
 * stand-in on 127.0.0.1 (port 0), and reelgraph's gRPC client connected to it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPachyderm, type EmbeddedOptions } from '../../../src/pachyderm/embedded';
import {
  connectPachd,
  type ConnectOptions,
  type GrpcPachyderm,
} from '../../../src/pachyderm/grpc/client';
import { startPachdServer, type PachdServer } from '../../../src/pachyderm/grpc/server';
import type { StandInAuth } from '../../../src/pachyderm/grpc/auth';

const dirs: string[] = [];

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix = 'reelgraph-grpc-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Removes every directory made by {@link tempDir} (call in `afterAll`). */
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A client → server → engine stack. */
export interface GrpcStack {
  engine: EmbeddedPachyderm;
  server: PachdServer;
  client: GrpcPachyderm;
  dir: string;
  /** Closes the client, the server and the engine, in that order. */
  close(): Promise<void>;
}

/**
 * The finishing window of the stand-in's engine in these suites, in ms: like a real pachd, a
 * finished commit stays FINISHING (writes refused) this long before it is FINISHED.
 */
export const STAND_IN_FINISHING_WINDOW_MS = 30;

/**
 * Opens an engine on `dir` (default: a new temp dir; finishing window
 * {@link STAND_IN_FINISHING_WINDOW_MS} unless `engine.finishingWindowMs` says otherwise), serves
 * it, connects a client.
 */
export async function grpcStack(
  opts: {
    dir?: string;
    engine?: EmbeddedOptions;
    token?: string;
    /** Pachyderm auth on the stand-in (auth.ts); the client then sends `client.token`. */
    auth?: StandInAuth;
    client?: ConnectOptions;
  } = {},
): Promise<GrpcStack> {
  const dir = opts.dir ?? tempDir();
  const engine = await EmbeddedPachyderm.open(dir, {
    finishingWindowMs: STAND_IN_FINISHING_WINDOW_MS,
    ...opts.engine,
  });
  const server = await startPachdServer(engine, { port: 0, token: opts.token, auth: opts.auth });
  const client = connectPachd(`grpc://127.0.0.1:${server.port}`, {
    token: opts.token,
    watchPollMs: 50,
    ...opts.client,
  });
  return {
    engine,
    server,
    client,
    dir,
    async close() {
      await client.close();
      await server.close(1000);
      await engine.close();
    },
  };
}
