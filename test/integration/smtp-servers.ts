/**
 * SMTP servers for the e-mail tests: real `smtp-server` instances on
 * 127.0.0.1 that keep every message they accept, parsed, with the time its
 * DATA ended.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { freePort } from '../../src/stack/process.ts';

export interface Received {
  mail: ParsedMail;
  /** ms since the epoch at the end of DATA, as the server saw it */
  at: number;
}

export interface TestSmtp {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** Starts a server on a free loopback port; `onRcptTo` may put off or refuse recipients. */
export async function startSmtp(options: Pick<SMTPServerOptions, 'onRcptTo'> = {}): Promise<TestSmtp> {
  const received: Received[] = [];
  const server = new SMTPServer({
    // Stopping drops the pooled connections after 200 ms instead of waiting 30 s for them.
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, closeTimeout: 200,
    ...options,
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => { received.push({ mail, at: Date.now() }); callback(); }, callback);
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
