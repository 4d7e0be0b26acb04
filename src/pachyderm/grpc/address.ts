/**
 * pachd addresses as `pachctl connect` accepts them (pachyderm `src/internal/grpcutil/addr.go`
 * `ParsePachdAddress`; shared/pachyderm-api.md §3.2): `host`, `host:port`, `grpc://host:port`,
 * `grpcs://host:port`, `http://host:port`, `https://host:port`, `unix:///path`. `grpcs` and `https`
 * mean TLS; a missing port is 30650 for every scheme (`DefaultPachdNodePort`); a path, query,
 * fragment or user info is refused.
 */
import { invalidArgument } from '../errors';

/** The port a pachd address without one gets (pachyderm `grpcutil.DefaultPachdNodePort`). */
export const DEFAULT_PACHD_NODE_PORT = 30650;

/** A parsed pachd address. */
export interface PachdAddress {
  /** The scheme as given (`grpc` when none was). */
  scheme: 'grpc' | 'grpcs' | 'http' | 'https' | 'unix';
  /** Host name or IP (IPv6 without brackets); the socket path for `unix`. */
  host: string;
  /** TCP port (0 for `unix`). */
  port: number;
  /** TLS (`grpcs`, `https`). */
  secure: boolean;
  /** The target to dial with grpc-js: `host:port` (`[v6]:port`), or `unix:///path`. */
  target: string;
  /** pachctl's qualified form, e.g. `grpc://localhost:80` (`PachdAddress.Qualified()`). */
  qualified: string;
}

/**
 * Parses a pachd address (see the module documentation).
 * @throws PachError INVALID_ARGUMENT naming the address and what is wrong
 */
export function parsePachdAddress(address: string): PachdAddress {
  const raw = (address ?? '').trim();
  const bad = (why: string) => invalidArgument(`pachd address ${JSON.stringify(address)} ${why}`);
  if (!raw) throw bad('is empty');
  if (raw.startsWith('unix://')) {
    const p = raw.slice('unix://'.length);
    if (!p.startsWith('/')) throw bad('is invalid: expected unix:///absolute/path');
    if (/[?#]/.test(p)) throw bad('is invalid: no query or fragment allowed');
    return { scheme: 'unix', host: p, port: 0, secure: false, target: raw, qualified: raw };
  }
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(raw);
  let scheme: PachdAddress['scheme'] = 'grpc';
  let rest = raw;
  if (m) {
    const s = m[1].toLowerCase();
    if (s !== 'grpc' && s !== 'grpcs' && s !== 'http' && s !== 'https') {
      throw bad(`has an unknown scheme "${m[1]}": expected grpc, grpcs, http, https or unix`);
    }
    scheme = s;
    rest = m[2];
  }
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (rest.includes('@')) throw bad('is invalid: user info is not allowed');
  if (/[/?#]/.test(rest)) throw bad('is invalid: no path, query or fragment allowed');
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw bad('is invalid: unclosed "[" in an IPv6 host');
    host = rest.slice(1, end);
    const after = rest.slice(end + 1);
    if (after && !after.startsWith(':')) throw bad('is invalid: expected ":port" after "]"');
    portText = after ? after.slice(1) : undefined;
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) throw bad('is invalid: put an IPv6 host in brackets, e.g. [::1]:30650');
    host = parts[0];
    portText = parts[1];
  }
  if (!host) throw bad('has no host');
  let port = DEFAULT_PACHD_NODE_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw bad(`has an invalid port "${portText}": expected 1-65535`);
    }
    port = Number(portText);
  }
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    scheme,
    host,
    port,
    secure: scheme === 'grpcs' || scheme === 'https',
    target: hostPort,
    qualified: `${scheme}://${hostPort}`,
  };
}
