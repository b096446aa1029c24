/** notification.dlq.redrives: a dead letter an operator redrove (schemas/dead-letter-redrive.avsc). */
export interface DeadLetterRedrive {
  /** the dead-letter topic without the deployment prefix */
  dlq_topic: string;
  partition: number;
  offset: string;
  /** the topic written back to, without the deployment prefix */
  redriven_to: string;
  /** ms since the epoch */
  redriven_at: number;
  by: string;
}
