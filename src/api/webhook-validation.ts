/**
 * What a webhook endpoint set must be to be saved: the JSON schema of one
 * endpoint, the checks the schema cannot make, and the addresses its URLs may
 * reach (src/channels/webhook/address-guard.ts).
 */
import { WEBHOOK_FORMATS, WEBHOOK_SECRET_PATTERN, WEBHOOK_TIMEOUT_MS, webhookSecretProblem, type WebhookFormat } from '../model/routing.ts';
import { vetUrl, type Network, type Resolver } from '../channels/webhook/address-guard.ts';
import { detectFormat } from '../channels/webhook/payload.ts';

export interface EndpointBody {
  id: string;
  url: string;
  format?: WebhookFormat;
  secret?: string;
  enabled?: boolean;
  types?: string[];
  /** null: keep the value stored for this header (the API never shows one) */
  headers?: Record<string, string | null>;
  timeout_ms?: number;
}

/** Headers Tidings sets itself (or HTTP owns), which an endpoint may not set. */
const RESERVED_HEADERS = /^(webhook-.*|content-type|content-length|host|connection|transfer-encoding|keep-alive|upgrade|te|trailer|expect|proxy-.*)$/i;

export const MAX_ENDPOINTS = 20;

export const ENDPOINT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

export const endpointSchema = {
  type: 'object',
  required: ['id', 'url'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: ENDPOINT_ID_PATTERN },
    url: { type: 'string', maxLength: 2048 },
    format: { type: 'string', enum: WEBHOOK_FORMATS, description: 'Payload format; left out: detected from the URL (Discord, Slack, Teams, else generic).' },
    secret: { type: 'string', pattern: WEBHOOK_SECRET_PATTERN, description: 'Standard Webhooks signing secret (generic format only); generated when left out.' },
    enabled: { type: 'boolean', default: true },
    types: { type: 'array', maxItems: 200, items: { type: 'string', pattern: '^[a-z][a-z0-9_.-]{0,99}$' }, description: 'Notification types sent to it; empty or left out for all.' },
    headers: {
      type: 'object', maxProperties: 20, description: 'Extra HTTP headers sent with every delivery (not webhook-*, content-type or hop-by-hop headers). Values are sealed at rest and never shown again (null in answers); null in a request keeps the value stored for that header.',
      propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$" },
      additionalProperties: { type: ['string', 'null'], maxLength: 1024, pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$' },
    },
    timeout_ms: { type: 'integer', minimum: 100, maximum: WEBHOOK_TIMEOUT_MS.max, description: `Milliseconds one attempt may take (default ${WEBHOOK_TIMEOUT_MS.default}).` },
  },
} as const;

export const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', pattern: ENDPOINT_ID_PATTERN } } } as const;


/** Every reason the set cannot be stored, besides what the JSON schema checks and the addresses its URLs reach. */
export function endpointProblems(endpoints: readonly EndpointBody[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  endpoints.forEach((e, i) => {
    if (seen.has(e.id)) problems.push(`endpoints[${i}].id: "${e.id}" appears twice`);
    seen.add(e.id);
    let url: URL | undefined;
    try {
      url = new URL(e.url);
    } catch {
      problems.push(`endpoints[${i}].url: not a URL`);
    }
    if (url && url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`endpoints[${i}].url: must be http or https, not ${url.protocol}`);
    if (url && (url.username || url.password)) problems.push(`endpoints[${i}].url: must not carry credentials; generic endpoints are signed instead`);
    const secretProblem = e.secret === undefined ? undefined : webhookSecretProblem(e.secret);
    if (secretProblem) problems.push(`endpoints[${i}].secret: ${secretProblem}`);
    const format = e.format ?? detectFormat(e.url);
    if (e.secret !== undefined && format !== 'generic') problems.push(`endpoints[${i}].secret: only generic endpoints are signed; ${format} carries its credential in the URL`);
    for (const name of Object.keys(e.headers ?? {})) {
      if (RESERVED_HEADERS.test(name)) problems.push(`endpoints[${i}].headers: ${name} is set by Tidings or by HTTP itself`);
    }
  });
  return problems;
}

/** Why each http(s) URL of the set may not be reached: refused addresses, names that do not resolve. */
export async function addressProblems(endpoints: readonly EndpointBody[], allowed: readonly Network[], resolve: Resolver): Promise<string[]> {
  const reasons = await Promise.all(endpoints.map((e) => {
    const protocol = URL.canParse(e.url) ? new URL(e.url).protocol : undefined;
    return protocol === 'http:' || protocol === 'https:' ? vetUrl(e.url, allowed, resolve) : undefined;
  }));
  return reasons.flatMap((reason, i) => (reason === undefined ? [] : [`endpoints[${i}].url: ${reason}`]));
}
