/** What the producer client sends through: Kafka (Avro through the registry) or HTTP ingest. */
import type { PreparedEvent } from './event.ts';

/** Where an event was written. */
export interface Sent {
  /** the key it went under (its source key, or `…:*` for an audience) */
  key: string;
  /** user id → notification id of each named recipient */
  notificationIds: Record<string, string>;
  partition: number;
  offset: string;
}

export interface Transport {
  /** Writes the events in order; resolves once each is on notification.events, one Sent per event. */
  send(events: readonly PreparedEvent[]): Promise<Sent[]>;
  /** Flushes and lets go of connections. */
  close(): Promise<void>;
}
