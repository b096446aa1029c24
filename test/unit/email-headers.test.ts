import { describe, expect, it } from 'vitest';
import { emailHeaders, messageIdOf } from '../../src/channels/email/headers.ts';

const base = { deliveryId: '0b6f1c52-5d1e-4d8e-9a43-2f1a7c1e9b10', domain: 'mail.example.test', severity: 'info' as const, mandatory: false };
const url = 'https://tidings.example.test/v1/unsubscribe?token=v1.abc.def';

describe('e-mail headers', () => {
  it('derives the Message-ID from the delivery id alone, so every attempt carries the same one', () => {
    expect(emailHeaders(base)['Message-ID']).toBe('<0b6f1c52-5d1e-4d8e-9a43-2f1a7c1e9b10@mail.example.test>');
    expect(emailHeaders({ ...base, severity: 'critical', unsubscribeUrl: url })['Message-ID']).toBe(emailHeaders(base)['Message-ID']);
  });

  it('adds one-click List-Unsubscribe (RFC 8058) to a non-mandatory e-mail', () => {
    const headers = emailHeaders({ ...base, unsubscribeUrl: url });
    expect(headers['List-Unsubscribe']).toBe(`<${url}>`);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });

  it('never adds them to a mandatory e-mail, nor without a URL', () => {
    for (const headers of [emailHeaders({ ...base, unsubscribeUrl: url, mandatory: true }), emailHeaders(base)]) {
      expect(headers).not.toHaveProperty('List-Unsubscribe');
      expect(headers).not.toHaveProperty('List-Unsubscribe-Post');
    }
  });

  it('maps severity to X-Priority and Importance: KrakenHashes\' critical and error high, the rest normal', () => {
    const of = (severity: typeof base.severity | 'critical' | 'error' | 'warning' | 'success') => {
      const h = emailHeaders({ ...base, severity });
      return [h['X-Priority'], h.Importance];
    };
    expect(of('critical')).toEqual(['1 (Highest)', 'high']);
    expect(of('error')).toEqual(['1 (Highest)', 'high']);
    expect(of('warning')).toEqual(['3 (Normal)', 'normal']);
    expect(of('info')).toEqual(['3 (Normal)', 'normal']);
    expect(of('success')).toEqual(['3 (Normal)', 'normal']);
    expect(emailHeaders(base)['Auto-Submitted']).toBe('auto-generated');
  });

  it('maps Nexora\'s severities: high as error, medium as warning, and only low marked low', () => {
    const of = (severity: 'low' | 'medium' | 'high') => {
      const h = emailHeaders({ ...base, severity });
      return [h['X-Priority'], h.Importance];
    };
    expect([of('high'), of('medium'), of('low')]).toEqual([['1 (Highest)', 'high'], ['3 (Normal)', 'normal'], ['5 (Lowest)', 'low']]);
  });

  it('refuses what would break a header: CR/LF or ">" in the URL, an id or domain that is not an atom', () => {
    expect(() => emailHeaders({ ...base, unsubscribeUrl: 'https://x.test/\r\nBcc: a@b.c' })).toThrow(RangeError);
    expect(() => emailHeaders({ ...base, unsubscribeUrl: 'https://x.test/>' })).toThrow(RangeError);
    expect(() => emailHeaders({ ...base, unsubscribeUrl: 'javascript:alert(1)' })).toThrow(RangeError);
    expect(() => messageIdOf('a b', 'x.test')).toThrow(RangeError);
    expect(() => messageIdOf('d1', 'x.test>')).toThrow(RangeError);
  });
});
