import { describe, expect, it } from 'vitest';
import { stableBase64 } from '../../src/util/redact-forms.js';
import { Redactor } from '../../src/util/secrets.js';
import { encodedForms } from '../helpers/secret-scan.js';

const SECRETS = ['sk-ant-api03-Zq9/+Kx_long-1', 'ghp_T0k~en.value', 'p@ss wörd!&x=1'];
const redactor = new Redactor(SECRETS);

/** `text` with a line break after every `width` characters, as `base64 -w` or `fold -w` write it. */
function wrap(text: string, width: number, eol = '\n'): string {
  return text.replace(new RegExp(`(.{${width}})(?=.)`, 'g'), `$1${eol}`);
}

describe('Redactor: every encoded form', () => {
  it("redacts each secret's literal, base64 (3 alignments), base64url, hex (both cases) and URL-encoded forms", () => {
    const urlForms = (secret: string) => [
      { form: 'encodeURIComponent', needle: encodeURIComponent(secret) },
      { form: 'every byte %XX', needle: [...Buffer.from(secret)].map((b) => `%${b.toString(16)}`).join('') },
      {
        form: "Python's quote",
        needle: encodeURIComponent(secret).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16)}`),
      },
    ];
    for (const secret of SECRETS)
      for (const { form, needle } of [...encodedForms(secret), ...urlForms(secret)]) {
        const variants = [needle, needle.toUpperCase() === needle ? needle : undefined].filter(Boolean) as string[];
        if (form === 'hex') variants.push(needle.toUpperCase(), needle.slice(0, 6).toUpperCase() + needle.slice(6));
        for (const text of variants) {
          const out = redactor.redact(`<<${text}>>`);
          expect(out, `${form} of ${secret}`).toMatch(/^<<.{0,3}\[REDACTED\].{0,3}>>$/);
          expect(redactor.redactBuffer(Buffer.from(`<<${text}>>`)).toString(), `${form} (bytes)`).toBe(out);
        }
      }
  });

  it('redacts base64 wherever the secret sits in a longer stream, and keeps the stream around it', () => {
    for (const secret of SECRETS)
      for (let before = 0; before < 6; before += 1) {
        const encoded = Buffer.from(`${'#'.repeat(before)}${secret}\n`).toString('base64');
        const out = redactor.redact(`data:${encoded};`);
        expect(out, `${before} bytes before`).toContain('[REDACTED]');
        expect(out.startsWith(`data:${encoded.slice(0, Math.floor((before * 4) / 3))}`)).toBe(true);
        for (const offset of [0, 1, 2] as const) expect(out).not.toContain(stableBase64(Buffer.from(secret), offset));
      }
  });

  it('redacts forms split by the line breaks an agent inserted, real or JSON-escaped', () => {
    for (const secret of SECRETS)
      for (const { form, needle } of encodedForms(secret))
        for (const [width, eol] of [
          [76, '\n'],
          [4, '\n'],
          [1, '\r\n'],
          [5, '\\n'],
        ] as const) {
          const out = redactor.redact(`x ${wrap(needle, width, eol)} y`);
          expect(out, `${form} wrapped at ${width}`).toMatch(/^x .{0,3}\[REDACTED\].{0,3} y$/s);
        }
  });

  it('redacts full percent-encoding in any case, "+" for a space, and JSON escapes', () => {
    const r = new Redactor(['a "quoted" secret\\path']);
    expect(r.redact('q=a+%22quoted%22%20secret%5cpath&')).toBe('q=[REDACTED]&');
    expect(r.redact('%61%20%22quoted%22+%73ecret%5Cpath')).toBe('[REDACTED]');
    expect(r.redact(JSON.stringify({ v: 'a "quoted" secret\\path' }))).toBe('{"v":"[REDACTED]"}');
  });

  it('changes no byte it does not replace, in text and in arbitrary bytes', () => {
    const before = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0a, 0xc3]);
    const after = Buffer.from([0xc3, 0x28, 0x00, 0x0d, 0x7f]);
    const data = Buffer.concat([before, Buffer.from(SECRETS[2]!), after]);
    expect(redactor.redactBuffer(data)).toEqual(Buffer.concat([before, Buffer.from('[REDACTED]'), after]));
    const text = 'héllo \u{1f600} \ud800 lone surrogate; ';
    expect(redactor.redact(`${text}${SECRETS[0]}${text}`)).toBe(`${text}[REDACTED]${text}`);
    expect(redactor.redact(text)).toBe(text);
  });

  it('leaves ordinary text alone: a near miss is not a match', () => {
    const near = `${SECRETS[0]!.slice(0, -1)}X ${Buffer.from('ghp_T0k~en.valuX').toString('hex')}`;
    expect(redactor.redact(near)).toBe(near);
  });
});
