/**
 * The Prometheus metrics of one Tidings: a prom-client Registry of its own
 * (not prom-client's global one, so several Tidings in one process do not
 * clash), the typed metric objects the parts count on, and the scrape that
 * GET /metrics serves (src/api/metrics.ts). Parts get it passed in, as they
 * get `log`; without it they count nothing.
 *
 * Names follow Prometheus' conventions: `tidings_` first, counters end in
 * `_total`, durations are in seconds.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** what the runner counted, once per successful sink write (ProcessorStats) */
  readonly processor: {
    readonly records: Counter<'processor'>;
    readonly skipped: Counter<'processor'>;
    readonly deadLetters: Counter<'processor'>;
    readonly batches: Counter<'processor'>;
    readonly outputs: Counter<'processor' | 'kind'>;
    /** seconds from deciding a written batch's first record to its sink write done, retries included */
    readonly batchDuration: Histogram<'processor'>;
  };
  readonly websocket: {
    readonly connections: Gauge;
    readonly opened: Counter;
    readonly framesSent: Counter<'type'>;
    readonly slowClientCloses: Counter;
  };
  /** delivery results committed by the delivery lanes */
  readonly deliveries: Counter<'channel' | 'outcome'>;
  readonly http: {
    /** seconds; `route` is the route's pattern (`/v1/notifications/:id/read`), never the raw URL */
    readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  };
  /**
   * Adds a callback run before every scrape, for values read when asked
   * (a lag monitor setting its gauges from its latest sample). Its metrics are
   * created with `registers: [metrics.registry]`.
   */
  addCollector(collect: () => void | Promise<void>): void;
  /** The text exposition of every metric, after each collector ran. */
  scrape(): Promise<string>;
  /** Content-Type of what scrape returns */
  readonly contentType: string;
}

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC …), prefixed `tidings_`; default true */
  defaultMetrics?: boolean;
}

/** seconds: from a millisecond of work to a batch that waited out its retries */
const BATCH_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** seconds */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'tidings_' });
  const processor = ['processor'] as const;
  const collectors: (() => void | Promise<void>)[] = [];
  return {
    registry,
    processor: {
      records: new Counter({ name: 'tidings_processor_records_total', help: 'Input records a processor wrote (records its sink skipped as written before a crash not counted).', labelNames: processor, registers }),
      skipped: new Counter({ name: 'tidings_processor_records_skipped_total', help: 'Input records a processor\'s sink skipped as written before a crash.', labelNames: processor, registers }),
      deadLetters: new Counter({ name: 'tidings_processor_dead_letters_total', help: 'Input records a processor dead-lettered.', labelNames: processor, registers }),
      batches: new Counter({ name: 'tidings_processor_batches_total', help: 'Batches a processor\'s sink wrote.', labelNames: processor, registers }),
      outputs: new Counter({ name: 'tidings_processor_outputs_total', help: 'Outputs of the records a processor wrote, by kind.', labelNames: ['processor', 'kind'], registers }),
      batchDuration: new Histogram({ name: 'tidings_processor_batch_duration_seconds', help: 'Seconds from deciding a batch\'s first record to its sink write done, retries included, per written batch.', labelNames: processor, buckets: BATCH_BUCKETS, registers }),
    },
    websocket: {
      connections: new Gauge({ name: 'tidings_websocket_connections', help: 'WebSockets open on this gateway.', registers }),
      opened: new Counter({ name: 'tidings_websocket_connections_opened_total', help: 'WebSockets opened on this gateway.', registers }),
      framesSent: new Counter({ name: 'tidings_websocket_frames_sent_total', help: 'Frames sent to WebSocket clients, by frame type.', labelNames: ['type'], registers }),
      slowClientCloses: new Counter({ name: 'tidings_websocket_slow_client_closes_total', help: 'WebSockets dropped because their client did not read its frames (TIDINGS_WS_MAX_BUFFERED_BYTES queued).', registers }),
    },
    deliveries: new Counter({ name: 'tidings_deliveries_total', help: 'Delivery results committed by the delivery lanes, by channel and outcome.', labelNames: ['channel', 'outcome'], registers }),
    http: {
      requestDuration: new Histogram({ name: 'tidings_http_request_duration_seconds', help: 'Seconds from receiving an HTTP request to its response sent, by method, route pattern and status code.', labelNames: ['method', 'route', 'status_code'], buckets: HTTP_BUCKETS, registers }),
    },
    addCollector(collect) {
      collectors.push(collect);
    },
    async scrape() {
      for (const collect of collectors) await collect();
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}

/** A processor's counters, bound to its name and at 0 from its start (so rates exist before its first batch). */
export interface ProcessorMeter {
  /** Counts one successful sink write. */
  written(batch: { records: number; skipped: number; deadLetters: number; outputs: Readonly<Record<string, number>>; seconds: number }): void;
}

export function processorMeter(metrics: Metrics, name: string): ProcessorMeter {
  const m = metrics.processor;
  const labels = { processor: name };
  const [records, skipped, deadLetters, batches] = [m.records, m.skipped, m.deadLetters, m.batches].map((counter) => {
    counter.inc(labels, 0);
    return counter.labels(labels);
  }) as [Counter.Internal, Counter.Internal, Counter.Internal, Counter.Internal];
  m.batchDuration.zero(labels);
  return {
    written(batch) {
      records.inc(batch.records);
      skipped.inc(batch.skipped);
      deadLetters.inc(batch.deadLetters);
      batches.inc();
      for (const [kind, n] of Object.entries(batch.outputs)) m.outputs.inc({ processor: name, kind }, n);
      m.batchDuration.observe(labels, batch.seconds);
    },
  };
}
