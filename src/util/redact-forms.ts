/**
 * Regular-expression sources that match one secret in every form an agent is likely to write it in: literal,
 * URL-encoded (any mix of raw and `%XX`, `+` for a space), JSON-escaped, base64 and base64url at each of the three
 * alignments it can have inside a longer stream, and hex in either case — each also with line breaks between its
 * characters (`base64` wraps at 76 columns, `xxd -p` at 60) or JSON-escaped ones (a log line holding such output).
 */

/** What may stand between two characters of any form: nothing, a line break, or a JSON-escaped line break. */
const BREAK = String.raw`(?:\r?\n|(?:\\r)?\\n)?`;

/**
 * How the text a pattern runs on holds the secret's non-ASCII characters: as JavaScript characters (`text`), or as
 * one latin1 character per UTF-8 byte (`bytes`: a file read as latin1, so every other byte is kept exactly).
 */
export type PatternMode = 'text' | 'bytes';

export interface SecretForm {
  form: 'literal' | 'base64' | 'hex';
  source: string;
  /** Characters of the shortest text it matches: longer forms go first in an alternation. */
  length: number;
}

/** Every code unit escaped: the source matches exactly these characters, whatever they are. */
function escapeExactly(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) out += `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

function hexDigit(digit: string): string {
  return /[0-9]/.test(digit) ? digit : `[${digit.toLowerCase()}${digit.toUpperCase()}]`;
}

/** `%XX` for every byte (line breaks allowed inside too: an agent's wrapping does not respect escapes). */
function percentEncoded(bytes: Uint8Array): string {
  return [...bytes].map((b) => ['%', ...[...b.toString(16).padStart(2, '0')].map(hexDigit)].join(BREAK)).join(BREAK);
}

/** JSON.stringify's escapes of the characters it escapes in strings (and the optional `\/`). */
const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/' };

function literalForm(secret: string, mode: PatternMode): SecretForm {
  const units = [...secret].map((char) => {
    const utf8 = Buffer.from(char);
    const options = [escapeExactly(mode === 'text' ? char : utf8.toString('latin1')), percentEncoded(utf8)];
    if (char === ' ') options.push(String.raw`\+`);
    const json = JSON_ESCAPES[char];
    if (json) options.push(escapeExactly(json));
    return `(?:${options.join('|')})`;
  });
  return { form: 'literal', source: units.join(BREAK), length: secret.length };
}

/**
 * The base64 characters that depend on the secret's bytes alone when it starts `offset` bytes (0, 1 or 2) into a
 * 3-byte group: characters shared with the bytes before or after it are left out, so the match holds wherever
 * the secret sits in the encoded stream.
 */
export function stableBase64(bytes: Uint8Array, offset: 0 | 1 | 2): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
  return encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
}

/** base64 and base64url in one pattern: they differ only in the two characters `+/` and `-_`. */
function base64Form(encoded: string): SecretForm {
  const chars = [...encoded].map((c) => (c === '+' ? String.raw`[+\-]` : c === '/' ? '[/_]' : c));
  return { form: 'base64', source: chars.join(BREAK), length: encoded.length };
}

function hexForm(bytes: Uint8Array): SecretForm {
  const digits = [...Buffer.from(bytes).toString('hex')].map(hexDigit);
  return { form: 'hex', source: digits.join(BREAK), length: digits.length };
}

/** Every form of one secret, as regex sources for the given mode. */
export function secretForms(secret: string, mode: PatternMode): SecretForm[] {
  const bytes = Buffer.from(secret);
  const encodings = new Set(([0, 1, 2] as const).map((offset) => stableBase64(bytes, offset)));
  return [literalForm(secret, mode), ...[...encodings].filter((e) => e.length > 0).map(base64Form), hexForm(bytes)];
}

/** One global regex for every form of every secret, longest first so a secret containing another goes whole. */
export function secretsPattern(secrets: readonly string[], mode: PatternMode): RegExp | undefined {
  const forms = secrets.flatMap((s) => secretForms(s, mode)).sort((a, b) => b.length - a.length);
  return forms.length > 0 ? new RegExp(forms.map((f) => f.source).join('|'), 'g') : undefined;
}
