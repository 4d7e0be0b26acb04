/**
 * Bounded JSON: the nesting depth of a JSON text, measured on the raw text (bytes or string)
 * before anything parses it, so that no parser, validator or walker downstream (JSON.parse,
 * Apollo's variable coercion, graphql-query-complexity, graphql-ws' message checks) ever sees a
 * document deep enough to exhaust the call stack. Applied to every parse path of the server:
 * HTTP bodies (GraphQL fast path, express' JSON parser, the REST routes), GET query parameters
 * (`variables`, `extensions`) and WebSocket messages (both protocols).
 *
 * The scan is one linear pass, O(length), that stops as soon as the limit is passed; it counts
 * `[` and `{` outside strings (escapes honoured). UTF-8 bytes of multi-byte characters never
 * equal an ASCII bracket or quote, so bytes and the decoded string give the same depth.
 */

/** The default deepest nesting of a JSON body, variables or WebSocket message (levels). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The deepest nesting of arrays and objects in a JSON text (0 for a scalar), or `stopAbove + 1`
 * as soon as it passes `stopAbove` (the rest is not read). Works on text that is not valid JSON
 * too (the parser then reports that): only brackets outside strings count.
 * @param text the raw JSON (UTF-8 bytes or a string)
 * @param stopAbove the depth above which scanning stops (default: scan everything)
 */
export function jsonNestingDepth(
  text: string | Uint8Array,
  stopAbove = Number.POSITIVE_INFINITY,
): number {
  const n = text.length;
  const at: (i: number) => number =
    typeof text === 'string' ? (i) => text.charCodeAt(i) : (i) => text[i];
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < n; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && depth > 0) depth--;
  }
  return deepest;
}

/**
 * A JSON text nested deeper than the limit: HTTP 400 (`status`, and `type`
 * `entity.too.deep` as body-parser names its own errors), WebSocket close 1009.
 */
export class JsonTooDeepError extends Error {
  /** The HTTP status (400). */
  readonly status = 400;
  /** body-parser style error type. */
  readonly type = 'entity.too.deep';
  /**
   * @param what what was nested too deeply, e.g. "request body", "variables"
   * @param max the limit, levels
   */
  constructor(
    readonly what: string,
    readonly max: number,
  ) {
    super(`${what} nests JSON deeper than ${max} levels (REELGRAPH_MAX_JSON_DEPTH)`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * Throws {@link JsonTooDeepError} when `text` nests deeper than `max` levels.
 * @param what names the text in the error ("request body", "variables", "WebSocket message")
 */
export function assertJsonDepth(text: string | Uint8Array, max: number, what: string): void {
  if (jsonNestingDepth(text, max) > max) throw new JsonTooDeepError(what, max);
}
