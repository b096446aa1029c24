/**
 * The producer client: events typed by the catalogue, checked and keyed here,
 * then written by a transport (Kafka or HTTP) — one API for both.
 */
import { prepareEvents, type EventInput } from './event.ts';
import type { Sent, Transport } from './transport.ts';

export interface ProducerClient {
  /**
   * Checks and sends one event.
   * @throws ValidationError listing every reason when it would be refused; nothing is sent then
   */
  send(input: EventInput): Promise<Sent>;
  /**
   * Checks every event, then sends them in order (in as few Kafka requests as fit).
   * @throws ValidationError listing every reason of every event (`events.<index>.<field>: …`); nothing is sent then
   */
  sendBatch(inputs: readonly EventInput[]): Promise<Sent[]>;
  /** Flushes and closes the transport. */
  close(): Promise<void>;
}

export interface ProducerClientOptions {
  transport: Transport;
  /** the clock that fills in occurred_at (ms); default Date.now */
  now?: () => number;
}

export function createProducerClient({ transport, now = Date.now }: ProducerClientOptions): ProducerClient {
  const sendBatch = async (inputs: readonly EventInput[]) => (inputs.length === 0 ? [] : transport.send(prepareEvents(inputs, now())));
  return {
    async send(input) {
      const [sent] = await sendBatch([input]);
      if (!sent) throw new TypeError('the transport answered no record for one event');
      return sent;
    },
    sendBatch,
    close: () => transport.close(),
  };
}
