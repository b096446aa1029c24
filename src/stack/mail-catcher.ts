/**
 * The local stack's SMTP server: accepts every message, keeps the newest in
 * memory and serves them as JSON so tests and developers can read mail back.
 *
 *   GET    /health               200 when up
 *   GET    /messages?to=a@b.c    captured messages, newest last (optionally for one recipient)
 *   DELETE /messages             forget everything
 *
 * Run by `tidings stack up` as its own process, and by docker-compose.yml from
 * the Tidings image (host 0.0.0.0), as
 *   node --import tsx src/stack/mail-catcher.ts <smtpPort> <httpPort> [host, default 127.0.0.1]
 */
import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

export interface CapturedMail {
  id: string;
  receivedAt: string;
  envelopeFrom: string;
  envelopeTo: string[];
  messageId: string | undefined;
  from: string | undefined;
  to: string[];
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  headers: Record<string, string>;
}

const LIMIT = 5_000; // messages kept; the oldest go first

/** Starts both servers; resolves once they listen. */
export async function startMailCatcher(smtpPort: number, httpPort: number, host = '127.0.0.1'): Promise<{ close(): Promise<void> }> {
  const messages: CapturedMail[] = [];

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 25 * 1024 * 1024,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const headers: Record<string, string> = {};
          for (const line of parsed.headerLines) headers[line.key] = line.line.slice(line.key.length + 1).trim();
          messages.push({
            id: randomUUID(),
            receivedAt: new Date().toISOString(),
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            messageId: parsed.messageId,
            from: parsed.from?.text,
            to: addresses(parsed.to),
            subject: parsed.subject,
            text: parsed.text,
            html: typeof parsed.html === 'string' ? parsed.html : undefined,
            headers,
          });
          if (messages.length > LIMIT) messages.splice(0, messages.length - LIMIT);
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });

  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/health') return send(200, { status: 'ok', messages: messages.length });
    if (url.pathname === '/messages' && req.method === 'GET') {
      const to = url.searchParams.get('to')?.toLowerCase();
      return send(200, to ? messages.filter((m) => m.envelopeTo.some((r) => r.toLowerCase() === to)) : messages);
    }
    if (url.pathname === '/messages' && req.method === 'DELETE') {
      messages.length = 0;
      return send(200, { deleted: true });
    }
    return send(404, { error: 'not found' });
  });

  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(smtpPort, host, () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(httpPort, host, () => resolve());
  });

  return {
    async close() {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  if (!field) return [];
  const list = Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.map((v) => v.address ?? '')).filter((a) => a.length > 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [smtpArg, httpArg, host] = process.argv.slice(2);
  const [smtpPort, httpPort] = [Number(smtpArg), Number(httpArg)];
  if (!smtpPort || !httpPort) throw new Error('usage: mail-catcher.ts <smtpPort> <httpPort> [host]');
  const catcher = await startMailCatcher(smtpPort, httpPort, host);
  const stop = () => void catcher.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
