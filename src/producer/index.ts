/**
 * Tidings' producer client: typed events, checked and keyed before they leave,
 * written to Kafka or posted over HTTP through the same API.
 */
export { createProducerClient, type ProducerClient, type ProducerClientOptions } from './client.ts';
export { buildEvent, prepareEvents, violationsOf, type EventInput, type EventType, type Instant, type KnownType, type PreparedEvent } from './event.ts';
export { createKafkaTransport, type KafkaTransportOptions } from './kafka-transport.ts';
export { createHttpTransport, type HttpTransportOptions } from './http-transport.ts';
export type { Sent, Transport } from './transport.ts';
