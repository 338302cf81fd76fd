/**
 * The chunked body's byte states (RFC 9112 7.1) shared with the response parser, and the
 * grammar of chunk extensions as a pure step function: the parser keeps the state and
 * the limits, this file says which byte may come next.
 */
import { HttpParseError } from './errors.js';

/** The response parser's states; the chunk-extension ones are stepped by {@link extStep}. */
export const enum S {
  Head,
  HeadLf,
  Length,
  Eof,
  ChunkSize,
  ChunkSizeWs,
  /** After `;`: optional whitespace, then an extension name. */
  ExtPre,
  ExtName,
  /** Whitespace after a name: `=` or `;` must follow. */
  ExtWsEq,
  /** After `=`: optional whitespace, then a token or a quoted string. */
  ExtPreValue,
  ExtToken,
  ExtQuoted,
  ExtQuotedEsc,
  /** Right after a quoted string: `;`, whitespace or the line end. */
  ExtPostQuote,
  /** Whitespace after a value: `;` must follow. */
  ExtWsSemi,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  TrailerStart,
  TrailerStartLf,
  Trailers,
  Done,
}

/** What {@link extStep} returns for an LF that ends the chunk-size line. */
export const EXT_LINE_END = -1;

/** tchar (RFC 9110 5.6.2) by byte value. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = TCHAR[c + 32] = 1;

/** qdtext (RFC 9110 5.6.4): HTAB, SP, visible ASCII but `"` and `\\`, obs-text. */
function isQdtext(c: number): boolean {
  return c === 9 || c === 32 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/** A hex digit's value, or -1. */
export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

function badExt(c: number, why: string): never {
  throw new HttpParseError(`invalid chunk extension: unexpected byte 0x${c.toString(16)}${why === '' ? '' : ` (${why})`}`);
}

/** CR or LF ends a chunk-size line whose extensions are complete; any other byte is an error. */
function extLineEnd(c: number): S | typeof EXT_LINE_END {
  if (c === 13) return S.ChunkSizeLf;
  if (c === 10) return EXT_LINE_END;
  return badExt(c, '');
}

/**
 * One byte of chunk extensions, checked against RFC 9112 7.1.1:
 * `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`. Their content is
 * not kept. Returns the next state, or {@link EXT_LINE_END} for the LF that ends the line.
 * @throws HttpParseError for a byte the grammar does not allow.
 */
export function extStep(state: S, c: number): S | typeof EXT_LINE_END {
  const ws = c === 32 || c === 9;
  switch (state) {
    case S.ExtPre:
      if (TCHAR[c] === 1) return S.ExtName;
      if (!ws) badExt(c, 'a chunk extension name must follow ";"');
      return state;
    case S.ExtName:
      if (TCHAR[c] === 1) return state;
      if (c === 61) return S.ExtPreValue;
      if (c === 59) return S.ExtPre;
      if (ws) return S.ExtWsEq;
      return extLineEnd(c);
    case S.ExtWsEq:
      if (c === 61) return S.ExtPreValue;
      if (c === 59) return S.ExtPre;
      if (!ws) badExt(c, '"=" or ";" must follow whitespace');
      return state;
    case S.ExtPreValue:
      if (c === 34) return S.ExtQuoted;
      if (TCHAR[c] === 1) return S.ExtToken;
      if (!ws) badExt(c, 'a token or a quoted string must follow "="');
      return state;
    case S.ExtToken:
      if (TCHAR[c] === 1) return state;
      if (c === 59) return S.ExtPre;
      if (ws) return S.ExtWsSemi;
      return extLineEnd(c);
    case S.ExtQuoted:
      if (c === 34) return S.ExtPostQuote;
      if (c === 92) return S.ExtQuotedEsc;
      if (!isQdtext(c)) badExt(c, 'in a quoted string (unclosed quote?)');
      return state;
    case S.ExtQuotedEsc:
      if (c === 9 || (c >= 32 && c !== 127)) return S.ExtQuoted;
      return badExt(c, 'after "\\" in a quoted string');
    case S.ExtPostQuote:
      if (c === 59) return S.ExtPre;
      if (ws) return S.ExtWsSemi;
      return extLineEnd(c);
    case S.ExtWsSemi:
      if (c === 59) return S.ExtPre;
      if (!ws) badExt(c, '";" must follow whitespace');
      return state;
    default:
      throw new Error(`response parser: byte in state ${state}`);
  }
}
