/** A word as a POSIX shell reads it back unchanged: bare when it is plainly safe, else in single quotes. */
export const shellQuote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
