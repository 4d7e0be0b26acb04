/**
 * `/metrics`: the process's metrics in the Prometheus text format (prom-client 15), for operators.
 * One registry per server (two servers in one process do not mix their counts). Label values are
 * all from bounded sets: routes are the server's own paths (anything else is `other`), methods
 * the standard ones, protocols and operation types fixed, pipelines and repos the engine's.
 *
 * | metric | type | labels | what |
 * |---|---|---|---|
 * | `reelgraph_http_requests_total` | counter | method, route, status | HTTP requests answered |
 * | `reelgraph_http_request_duration_seconds` | histogram | method, route | request start → response finished |
 * | `reelgraph_ws_connections_total` | counter | protocol | WebSocket connections accepted |
 * | `reelgraph_ws_connections_open` | gauge | | WebSocket connections open now |
 * | `reelgraph_ws_operations_total` | counter | protocol, operation | GraphQL operations over WebSocket |
 * | `reelgraph_ws_operation_duration_seconds` | histogram | protocol, operation | execution (query, mutation) or set-up (subscription) |
 * | `reelgraph_subscriptions_open` | gauge | protocol | subscriptions streaming now |
 * | `reelgraph_jobs_active` | gauge | pipeline, state | jobs in a non-terminal state, as last pushed by the job watch |
 * | `reelgraph_jobs_finished_total` | counter | pipeline, state | jobs seen reaching SUCCESS, FAILURE, KILLED, UNRUNNABLE |
 * | `reelgraph_serving_model_info` | gauge | version | 1 for the model version serving now (none before the first model) |
 * | `reelgraph_model_updates_total` | counter | | models swapped in by the registry |
 * | `reelgraph_engine_commit_duration_seconds` | histogram | repo, operation | ModifyFile (a commit with files) and FinishCommit calls of the services |
 * plus prom-client's default process metrics (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, …).
 *
 * Job states use Pachyderm's names without the prefix (`RUNNING`, `SUCCESS`…). The job watch
 * delivers each state change once per process (watch.ts), so the counters count jobs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  execute as graphqlExecute,
  type ExecutionArgs,
  getOperationAST,
  subscribe as graphqlSubscribe,
} from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Pachyderm } from '../pachyderm/port';
import { isTerminalJobState, JobState, type JobInfo } from '../pachyderm/types';
import type { Services } from '../services';

/** The content type of the text format (prom-client's `Registry.contentType`). */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Routes reported as themselves; any other path is `other` (bounded label values). */
const ROUTES = [
  '/',
  '/graphql',
  '/metrics',
  '/healthz',
  '/readyz',
  '/playground',
  '/graphiql',
  '/train',
  '/predict',
  '/result',
];
const PREFIXES = ['/playground/assets/', '/assets/', '/examples/'];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** The `route` label of a request URL: one of {@link ROUTES}, a prefix of {@link PREFIXES} + `*`, or `other`. */
export function routeOf(url: string | undefined): string {
  const q = (url ?? '/').indexOf('?');
  const p = q < 0 ? (url ?? '/') : (url ?? '/').slice(0, q);
  if (ROUTES.includes(p)) return p;
  for (const prefix of PREFIXES) if (p.startsWith(prefix)) return `${prefix}*`;
  return 'other';
}

/** A job state's label: Pachyderm's enum name without `JOB_` (e.g. `SUCCESS`). */
export function jobStateLabel(state: JobState): string {
  return (JobState[state] ?? 'JOB_STATE_UNKNOWN').replace(/^JOB_/, '');
}

/** What the WebSocket gateway (ws.ts) calls, per protocol. */
export interface WebSocketInstruments {
  /** A connection was accepted. */
  opened(): void;
  /** graphql's `execute`, counted and timed. */
  execute: typeof graphqlExecute;
  /** graphql's `subscribe`, counted and timed; the stream is counted open while it runs. */
  subscribe: typeof graphqlSubscribe;
}

/** What the gauges read at scrape time; without them: 0 connections, no serving model series. */
export interface MetricSources {
  /** Open WebSocket connections. */
  connections?: () => number;
  /** The serving model version, null before the first model. */
  servingVersion?: () => string | null;
}

/** The metrics of one server. */
export class ServerMetrics {
  /** The registry `/metrics` exposes. */
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly wsConnections: Counter<'protocol'>;
  private readonly wsOperations: Counter<'protocol' | 'operation'>;
  private readonly wsDuration: Histogram<'protocol' | 'operation'>;
  private readonly subscriptions: Gauge<'protocol'>;
  private readonly jobsActive: Gauge<'pipeline' | 'state'>;
  private readonly jobsFinished: Counter<'pipeline' | 'state'>;
  private readonly modelUpdates: Counter;
  private readonly engineCommit: Histogram<'repo' | 'operation'>;
  /** Non-terminal jobs by `pipeline\0id` → state label: bounded by the jobs in flight. */
  private readonly active = new Map<string, { pipeline: string; state: string }>();
  private readonly stops: (() => void)[] = [];
  /**
   * Label children of the HTTP metrics by `method route status`: bounded (the label values are
   * from fixed sets and HTTP status codes).
   */
  private readonly httpChildren = new Map<
    string,
    { count: { inc(): void }; duration: { observe(v: number): void } }
  >();

  /** Where the gauges read at scrape time (see {@link attach}). */
  private sources: MetricSources = {};

  constructor() {
    const r = this.registry;
    const sources = () => this.sources;
    collectDefaultMetrics({ register: r });
    this.httpRequests = new Counter({
      name: 'reelgraph_http_requests_total',
      help: 'HTTP requests answered, by method, route and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [r],
    });
    this.httpDuration = new Histogram({
      name: 'reelgraph_http_request_duration_seconds',
      help: 'HTTP request duration, from the request to the end of the response, seconds.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [r],
    });
    this.wsConnections = new Counter({
      name: 'reelgraph_ws_connections_total',
      help: 'WebSocket connections accepted on /graphql, by subprotocol.',
      labelNames: ['protocol'],
      registers: [r],
    });
    new Gauge({
      name: 'reelgraph_ws_connections_open',
      help: 'WebSocket connections open now (both protocols).',
      registers: [r],
      collect() {
        this.set(sources().connections?.() ?? 0);
      },
    });
    this.wsOperations = new Counter({
      name: 'reelgraph_ws_operations_total',
      help: 'GraphQL operations received over WebSocket, by subprotocol and operation type.',
      labelNames: ['protocol', 'operation'],
      registers: [r],
    });
    this.wsDuration = new Histogram({
      name: 'reelgraph_ws_operation_duration_seconds',
      help: 'GraphQL over WebSocket: execution time of queries and mutations, set-up time of subscriptions, seconds.',
      labelNames: ['protocol', 'operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [r],
    });
    this.subscriptions = new Gauge({
      name: 'reelgraph_subscriptions_open',
      help: 'GraphQL subscriptions streaming now, by subprotocol.',
      labelNames: ['protocol'],
      registers: [r],
    });
    const active = this.active;
    this.jobsActive = new Gauge({
      name: 'reelgraph_jobs_active',
      help: 'Jobs in a non-terminal state (CREATED, STARTING, RUNNING, EGRESSING, FINISHING) as last pushed by the job watch, by pipeline and state.',
      labelNames: ['pipeline', 'state'],
      registers: [r],
      collect() {
        this.reset();
        for (const { pipeline, state } of active.values()) this.inc({ pipeline, state });
      },
    });
    this.jobsFinished = new Counter({
      name: 'reelgraph_jobs_finished_total',
      help: 'Jobs seen reaching a terminal state (SUCCESS, FAILURE, KILLED, UNRUNNABLE) since the process started, by pipeline and state.',
      labelNames: ['pipeline', 'state'],
      registers: [r],
    });
    new Gauge({
      name: 'reelgraph_serving_model_info',
      help: 'The model version (train commit) serving predictions now: 1 for that version.',
      labelNames: ['version'],
      registers: [r],
      collect() {
        this.reset();
        const v = sources().servingVersion?.();
        if (v) this.set({ version: v }, 1);
      },
    });
    this.modelUpdates = new Counter({
      name: 'reelgraph_model_updates_total',
      help: 'New model versions swapped in by the model registry since the process started.',
      registers: [r],
    });
    this.engineCommit = new Histogram({
      name: 'reelgraph_engine_commit_duration_seconds',
      help: 'Commits made by the services in the engine (ModifyFile: a commit with its files; FinishCommit), seconds, by repo.',
      labelNames: ['repo', 'operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [r],
    });
  }

  /** Sets where the gauges read at scrape time (the server does it once it has them). */
  attach(sources: MetricSources): void {
    this.sources = sources;
  }

  /** Counts and times one HTTP request when its response finishes (or the client goes away). */
  observeHttp(req: IncomingMessage, res: ServerResponse): void {
    const t0 = process.hrtime.bigint();
    const method = METHODS.has(req.method ?? '') ? req.method! : 'other';
    const route = routeOf(req.url);
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const status = String(res.statusCode);
      // the label children, cached: prom-client hashes a labels object on every call otherwise
      const key = `${method} ${route} ${status}`;
      let c = this.httpChildren.get(key);
      if (!c) {
        c = {
          count: this.httpRequests.labels(method, route, status),
          duration: this.httpDuration.labels(method, route),
        };
        this.httpChildren.set(key, c);
      }
      c.count.inc();
      c.duration.observe(seconds);
    };
    res.once('finish', end);
    res.once('close', end);
  }

  /** The instruments of one WebSocket subprotocol (see {@link WebSocketInstruments}). */
  websocket(protocol: string): WebSocketInstruments {
    const operationOf = (args: ExecutionArgs) =>
      getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
    const timed = <T>(args: ExecutionArgs, run: () => T): T => {
      const operation = operationOf(args);
      this.wsOperations.inc({ protocol, operation });
      const stop = this.wsDuration.startTimer({ protocol, operation });
      const out = run();
      if (out instanceof Promise) void out.finally(() => stop());
      else stop();
      return out;
    };
    const gauge = this.subscriptions;
    /**
     * The stream, counted open until it ends, errs or is returned. A plain iterator object, not an
     * async generator: a generator's `return()` would queue behind the pending `next()` of an idle
     * subscription and never run.
     */
    const counted = <T>(stream: AsyncIterator<T>): AsyncGenerator<T> => {
      gauge.inc({ protocol });
      let open = true;
      const end = () => {
        if (open) gauge.dec({ protocol });
        open = false;
      };
      const settle = async (p: Promise<IteratorResult<T>>) => {
        try {
          const r = await p;
          if (r.done) end();
          return r;
        } catch (e) {
          end();
          throw e;
        }
      };
      const it: AsyncIterableIterator<T> & Pick<AsyncGenerator<T>, 'return' | 'throw'> = {
        next: () => settle(stream.next()),
        return: (v?: unknown) => {
          end();
          return stream.return
            ? settle(stream.return(v))
            : Promise.resolve({ done: true, value: v as T });
        },
        throw: (e?: unknown) => {
          end();
          return stream.throw ? settle(stream.throw(e)) : Promise.reject(e);
        },
        [Symbol.asyncIterator]: () => it,
      };
      // graphql-ws and the legacy server only call next/return/throw on it
      return it as unknown as AsyncGenerator<T>;
    };
    return {
      opened: () => this.wsConnections.inc({ protocol }),
      execute: ((args: ExecutionArgs) =>
        timed(args, () => graphqlExecute(args))) as typeof graphqlExecute,
      subscribe: (async (args: ExecutionArgs) => {
        const result = await timed(args, () => graphqlSubscribe(args));
        return Symbol.asyncIterator in result ? counted(result[Symbol.asyncIterator]()) : result;
      }) as typeof graphqlSubscribe,
    };
  }

  /** Records one pushed job state (the JOB_UPDATED topic). */
  jobUpdated(j: JobInfo): void {
    const pipeline = j.job.pipeline.name;
    const key = `${pipeline}\0${j.job.id}`;
    const state = jobStateLabel(j.state);
    if (isTerminalJobState(j.state)) {
      this.active.delete(key);
      this.jobsFinished.inc({ pipeline, state });
    } else {
      this.active.set(key, { pipeline, state });
    }
  }

  /**
   * Follows the services' JOB_UPDATED and MODEL_UPDATED topics until {@link close}. Services
   * without an event bus (a partial fixture) are not followed.
   */
  follow(services: Pick<Services, 'events'>): void {
    if (!services.events) return;
    const follow = <T>(stream: AsyncIterable<T>, on: (v: T) => void) => {
      const it = stream[Symbol.asyncIterator]();
      let stopped = false;
      void (async () => {
        while (!stopped) {
          const next = await it.next();
          if (next.done) return;
          on(next.value);
        }
      })();
      this.stops.push(() => {
        stopped = true;
        void it.return?.();
      });
    };
    follow(services.events.subscribe('JOB_UPDATED'), (j) => this.jobUpdated(j));
    follow(services.events.subscribe('MODEL_UPDATED'), () => this.modelUpdates.inc());
  }

  /**
   * The engine port with its commits timed ({@link Pachyderm.modifyFile} and
   * {@link Pachyderm.finishCommit}); every other call passes through unchanged.
   */
  instrumentEngine<P extends Pachyderm>(pach: P): P {
    const histogram = this.engineCommit;
    const repoOf = (ref: unknown): string => {
      const s = typeof ref === 'string' ? ref.split('@')[0] : (ref as { repo?: unknown })?.repo;
      if (typeof s === 'string') return s;
      const name = (s as { name?: unknown } | undefined)?.name;
      return typeof name === 'string' ? name : 'unknown';
    };
    return new Proxy(pach, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (key !== 'modifyFile' && key !== 'finishCommit') {
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (ref: unknown, ...rest: unknown[]) => {
          const stop = histogram.startTimer({ repo: repoOf(ref), operation: key });
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).call(
              target,
              ref,
              ...rest,
            );
          } finally {
            stop();
          }
        };
      },
    });
  }

  /** The text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops following the topics. */
  close(): void {
    for (const stop of this.stops.splice(0)) stop();
  }
}
