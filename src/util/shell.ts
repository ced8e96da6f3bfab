/** Characters a bash word may hold unquoted: such words stay as they are, for readable commands and logs. */
const SHELL_SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** Quotes one word for bash. */
export function shellQuote(word: string): string {
  if (SHELL_SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
