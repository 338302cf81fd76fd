/**
 * Following a redirect (opt-in through `maxRedirections`): the next request from a 3xx
 * response and the request that got it, with the method and body rules of RFC 9110 15.4
 * as browsers and undici apply them, and credentials kept only within the same origin.
 */
import { headerEntries, prepare, type PreparedRequest, type RequestDefaults, type RequestOptions, type HeaderValue } from './request.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Fields that carry credentials: never sent to another origin than the one they were given for. */
const CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie']);
/** Fields that describe the body: dropped with it when a redirect turns the request into a GET. */
const BODY_FIELDS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']);

/**
 * The request a redirect leads to, or null when `status`/`location` are not a redirect to
 * follow: no Location, a scheme the client does not speak, or a 307/308 that would have to
 * send a streamed body again.
 * - 303 (and 301/302 after a POST) become a GET without body; 307/308 keep method and body.
 * - To another origin (scheme, host or port), `Authorization`, `Proxy-Authorization`,
 *   `Cookie` and `Host` are dropped.
 */
export function redirectRequest(req: PreparedRequest, status: number, location: string | undefined,
  defaults: RequestDefaults): PreparedRequest | null {
  if (!REDIRECTS.has(status) || location === undefined || location === '') return null;
  let target: URL;
  try {
    target = new URL(location, req.url);
  } catch {
    return null;
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return null;
  const from = new URL(req.url);
  const sameOrigin = from.origin === target.origin;
  let method = req.method;
  let dropBody = false;
  if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
    method = 'GET';
    dropBody = true;
  }
  const src = req.source;
  if (!dropBody && req.bodyStream !== null) return null;
  const headers: Array<[string, HeaderValue]> = [];
  let hasAuth = false;
  if (src.headers !== undefined) {
    for (const [name, v] of headerEntries(src.headers)) {
      if (v === undefined) continue;
      const lower = String(name).toLowerCase();
      if (!sameOrigin && (CREDENTIALS.has(lower) || lower === 'host')) continue;
      if (dropBody && BODY_FIELDS.has(lower)) continue;
      if (lower === 'authorization') hasAuth = true;
      headers.push([String(name), v]);
    }
  }
  // Credentials from the first URL's user info go on within the same origin only.
  if (sameOrigin && !hasAuth && req.urlAuth !== '' && target.username === '' && target.password === '') {
    headers.push(['Authorization', req.urlAuth]);
  }
  const next: RequestOptions = { ...src, url: target.href, method, headers };
  if (dropBody) delete next.body;
  return prepare(next, defaults);
}
