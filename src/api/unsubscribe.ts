/**
 * RFC 8058 one-click unsubscribe, the target of every non-mandatory e-mail's
 * List-Unsubscribe link (src/channels/email/sender.ts). No JWT: the signed
 * token (src/channels/email/unsubscribe.ts) is the credential.
 *
 * - POST turns that type's e-mail off: the user's projected set with email
 *   false for the type (in_app and webhook as chosen, or the type's defaults),
 *   published whole to notification.preferences, as PUT /v1/preferences does.
 *   Mail clients send the body `List-Unsubscribe=One-Click` as
 *   application/x-www-form-urlencoded or multipart/form-data; both are taken
 *   and neither is required (the POST itself is the consent).
 * - GET changes nothing: mail clients and link scanners fetch links on their
 *   own. It answers a page whose button POSTs.
 *
 * A mandatory type cannot be turned off: 409 TIDINGS_UNSUBSCRIBE_MANDATORY
 * (its e-mails carry no link, so only a hand-made token gets there). An
 * invalid token is 400 TIDINGS_UNSUBSCRIBE_INVALID with the reason.
 *
 * The set is read from the read model: a PUT of the same user that the
 * projector has not applied yet is overwritten (seconds, in practice).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Publisher } from '../kafka/publisher.ts';
import type { Pool } from '../db/pool.ts';
import { getPreferences } from '../db/preferences.ts';
import { typeInfo } from '../model/catalogue.ts';
import { channelsFor, type PreferenceSet } from '../model/routing.ts';
import { UnsubscribeTokenError, verifyUnsubscribe, type UnsubscribeClaim } from '../channels/email/unsubscribe.ts';
import { BadRequestError, TidingsError } from '../errors.ts';

export interface UnsubscribeRoutesDeps {
  publisher: Publisher;
  pool: Pool;
  preferencesTopic: string;
  /** the key the e-mail sender signs links with */
  secret: string | Buffer;
}

/** bytes of a one-click body accepted at most; RFC 8058's is 26 */
const FORM_LIMIT = 4_096;

const querystring = {
  type: 'object', required: ['token'], additionalProperties: false,
  properties: { token: { type: 'string', minLength: 1, maxLength: 2_000 } },
} as const;

export async function unsubscribeRoutes(app: FastifyInstance, deps: UnsubscribeRoutesDeps): Promise<void> {
  // Only this plugin's routes take forms; the body carries nothing the route needs, so it is kept as text.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => done(null, body));

  const claimOf = (token: string): UnsubscribeClaim => {
    try {
      return verifyUnsubscribe(token, deps.secret);
    } catch (err) {
      if (err instanceof UnsubscribeTokenError) throw new BadRequestError('invalid unsubscribe token', [`token: ${err.message}`], 400, err.code, { cause: err });
      throw err;
    }
  };

  app.post<{ Querystring: { token: string } }>('/v1/unsubscribe', {
    schema: { summary: 'One-click unsubscribe (RFC 8058): turns the e-mail of the token\'s type off for its user', security: [], querystring },
  }, async (request, reply) => {
    const { userId, type } = claimOf(request.query.token);
    if (typeInfo(type).mandatory) throw new MandatoryTypeError(type);
    const stored = await getPreferences(deps.pool, userId);
    const current: PreferenceSet | undefined = stored && { user_id: userId, preferences: stored.preferences, updated_at: stored.updated_at.getTime() };
    // Without a choice for the type, some of its e-mails may go out by default (its defaults, or its severity's): an explicit "off" is written.
    const chosen = current?.preferences.find((p) => p.type === type);
    const changed = chosen?.email !== false;
    if (changed) {
      const others = current?.preferences.filter((p) => p.type !== type) ?? [];
      const set: PreferenceSet = { user_id: userId, preferences: [...others, { type, ...channelsFor(type, current), email: false }], updated_at: Date.now() };
      await deps.publisher.publish(deps.preferencesTopic, userId, set);
    }
    if (request.headers.accept?.includes('text/html')) return page(reply, 200, `<p>You will no longer get e-mails about <b>${escapeHtml(type)}</b>.</p>`);
    return reply.code(200).send({ type, email: false, changed });
  });

  app.get<{ Querystring: { token: string } }>('/v1/unsubscribe', {
    schema: { summary: 'The page an unsubscribe link opens; changes nothing (its button POSTs)', security: [], querystring },
  }, async (request, reply) => {
    const { type } = claimOf(request.query.token);
    if (typeInfo(type).mandatory) return page(reply, 409, `<p>E-mails about <b>${escapeHtml(type)}</b> cannot be turned off.</p>`);
    return page(reply, 200, `<p>Stop e-mails about <b>${escapeHtml(type)}</b>?</p>
<form method="post" action="?token=${escapeHtml(encodeURIComponent(request.query.token))}">
<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button>
</form>`);
  });
}

/** A type whose e-mail always goes out. */
export class MandatoryTypeError extends TidingsError {
  constructor(type: string) {
    super('TIDINGS_UNSUBSCRIBE_MANDATORY', `e-mails of ${type} are mandatory and cannot be turned off`, 'poison', 409);
    this.name = 'MandatoryTypeError';
  }
}

/** A tiny page: no scripts, not cached, not indexed, and no Referer that would carry the token on. */
function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex')
    .header('content-security-policy', "default-src 'none'; form-action 'self'; style-src 'unsafe-inline'")
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title></head><body style="font-family:sans-serif">${body}</body></html>`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
