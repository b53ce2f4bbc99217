/**
 * Web actions, response side: a finished activation becomes the HTTP response, per extension, as
 * OpenWhisk's `WebActions.scala` (apache/openwhisk 1fae641a) does it with pekko-http and spray-json.
 * Pure functions, no I/O.
 */
import {
  isJsonFamily,
  parseContentType,
  parseMediaParts,
  renderContentType,
  type ContentTypeInfo,
  type MediaTypeInfo,
  type WebRoute,
} from './web-request';
import { isBinaryCode } from '../model/entity';
import { isJsonObject } from '../model/json-object';

/** Activation statusCode (0 success, 1 application error, 2 developer error, 3 whisk error) and response.result. */
export interface WebResult {
  statusCode: 0 | 1 | 2 | 3;
  result: unknown;
}

export interface WebHttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer | string | undefined;
  /**
   * True for the responses OpenWhisk produces outside the web-action route's directives, so
   * without the CORS and activation-id headers: the 406 of content negotiation (a rejection) and
   * the 500 for a result that is not a JSON object (an exception).
   */
  bare?: boolean;
}

export interface WebResponseOptions {
  /** The request's Accept header: pekko negotiates the response's content type against it (406 otherwise). */
  accept?: string;
}

/** OpenWhisk's messages (Messages in ErrorResponse.scala), as they appear in `{error, code}` bodies. */
export const WebResponseMessages = {
  errorProcessingRequest: 'There was an error processing your request.',
  propertyNotFound: 'Response does not include requested property.',
  httpUnknownContentType: 'Response did not specify a known content-type.',
  httpContentTypeError: 'Response type in header did not match generated content type.',
  invalidMedia: (mediaType: string) => `Response is not valid '${mediaType}'.`,
  notAcceptable: 'Resource representation is only available with these types:',
  internalServerError: 'There was an internal server error.',
  /** `terminate(Unauthorized)`: pekko's default message for 401 (require-whisk-auth failed). */
  unauthorized: 'Authentication is possible but has failed or not yet been provided.',
  /** `RejectRequest(NotFound)`: unknown namespace, package or action, or an action not web-exported. */
  notFound: 'The requested resource does not exist.',
  /** pekko's rejection of a path no route matches (compact JSON through OpenWhisk's rejection handler). */
  routeNotFound: 'The requested resource could not be found.',
  /** 202 with the activation id header when the blocking wait expires. */
  responseNotReady: 'Response not yet ready.',
} as const;

// ---------------------------------------------------------------------------------------------
// spray-json printing

/** A JSON number as Scala's BigDecimal prints it (exponent with a capital E). */
export function formatNumber(value: number): string {
  return String(value).replace('e', 'E');
}

function has(object: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key) && object[key] !== undefined;
}

/** Keys in spray's order: parsed objects are TreeMaps, so sorted by UTF-16 code units. */
function keysOf(object: Record<string, unknown>, sorted: boolean): string[] {
  const keys = Object.keys(object).filter((k) => object[k] !== undefined);
  return sorted ? keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : keys;
}

/**
 * spray-json's PrettyPrinter: objects one member a line indented by two, arrays inline
 * (`[1, 2]`), an empty object `{\n\n}`. Keys sorted like spray's parsed objects unless `sorted` is false.
 */
export function prettyPrint(value: unknown, sorted = true, indent = 0): string {
  if (Array.isArray(value)) return `[${value.map((v) => prettyPrint(v === undefined ? null : v, sorted, indent)).join(', ')}]`;
  if (isJsonObject(value)) {
    const pad = ' '.repeat(indent + 2);
    const members = keysOf(value, sorted).map((k) => `${pad}${JSON.stringify(k)}: ${prettyPrint(value[k], sorted, indent + 2)}`);
    return `{\n${members.join(',\n')}\n${' '.repeat(indent)}}`;
  }
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  return 'null';
}

// ---------------------------------------------------------------------------------------------
// base64 as java.util.Base64 checks and decodes it

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** `Base64.getDecoder().decode`: strict alphabet, optional but exact padding; undefined where Java throws. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const out: number[] = [];
  let bits = 0;
  let shift = 18;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    const index = BASE64.indexOf(c);
    if (index < 0) {
      if (c !== '=') return undefined;
      if (shift === 18) return undefined;
      if (shift === 6) {
        if (text[i + 1] !== '=') return undefined;
        i++;
      }
      i++;
      break;
    }
    bits |= index << shift;
    shift -= 6;
    if (shift < 0) {
      out.push((bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff);
      bits = 0;
      shift = 18;
    }
  }
  if (shift === 6) out.push((bits >> 16) & 0xff);
  else if (shift === 0) out.push((bits >> 16) & 0xff, (bits >> 8) & 0xff);
  else if (shift === 12) return undefined;
  if (i < text.length) return undefined;
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------------------------
// completions

interface Completion {
  status: number;
  /** The action's headers, in order, without Content-Type. */
  headers: [string, string][];
  /** Undefined for an entity-less response (no Content-Type, no negotiation). */
  entity?: { contentType: string; mediaType: MediaTypeInfo; alternative: string; body: Buffer | string };
  bare?: boolean;
}

const APPLICATION_JSON = parseContentType('application/json')!;
const TEXT_PLAIN = parseContentType('text/plain; charset=UTF-8')!;
const TEXT_HTML = parseContentType('text/html; charset=UTF-8')!;
const IMAGE_SVG = parseContentType('image/svg+xml')!;

function entity(status: number, contentType: ContentTypeInfo, body: Buffer | string, headers: [string, string][] = []): Completion {
  const rendered = renderContentType(contentType);
  return { status, headers, entity: { contentType: rendered, mediaType: contentType.mediaType, alternative: rendered, body } };
}

/** spray's JSON marshaller (pretty, application/json). */
function json(status: number, value: unknown, headers: [string, string][] = []): Completion {
  return entity(status, APPLICATION_JSON, prettyPrint(value), headers);
}

/** pekko's String marshaller: text/plain, offered as an open-charset alternative. */
function text(value: string): Completion {
  return { status: 200, headers: [], entity: { contentType: renderContentType(TEXT_PLAIN), mediaType: TEXT_PLAIN.mediaType, alternative: 'text/plain', body: value } };
}

/** `ErrorResponse.terminate`: `{"error": message, "code": transaction id}`, pretty printed. */
function terminate(status: number, message: string, transactionId: string): Completion {
  return entity(status, APPLICATION_JSON, prettyPrint({ error: message.trim(), code: transactionId }, false));
}

/**
 * An error in OpenWhisk's shape for the route's own failures: `terminate(status, message)` prints
 * `{"error", "code"}` pretty (401, 404 lookups, 400 overrides and the 202 "Response not yet
 * ready."); pekko's rejections (no matching route, malformed bodies) come out `compact`.
 */
export function webErrorResponse(status: number, message: string, transactionId: string, compact = false): WebHttpResponse {
  const body = compact ? JSON.stringify({ error: message, code: transactionId }) : prettyPrint({ error: message.trim(), code: transactionId }, false);
  return { status, headers: { 'content-type': 'application/json' }, body };
}

// ---------------------------------------------------------------------------------------------
// transcoders (WebActions.scala:188-373)

function resultAsHtml(result: unknown, transactionId: string): Completion {
  const html = isJsonObject(result) ? (has(result, 'body') ? result.body : has(result, 'html') ? result.html : null) : result;
  return typeof html === 'string' ? entity(200, TEXT_HTML, html) : terminate(400, WebResponseMessages.invalidMedia('text/html'), transactionId);
}

function resultAsSvg(result: unknown, transactionId: string): Completion {
  const svg = isJsonObject(result) ? (has(result, 'body') ? result.body : has(result, 'svg') ? result.svg : null) : result;
  return typeof svg === 'string' ? entity(200, IMAGE_SVG, svg) : terminate(400, WebResponseMessages.invalidMedia('image/svg+xml'), transactionId);
}

function resultAsText(result: unknown, transactionId: string): Completion {
  const value = isJsonObject(result) ? (has(result, 'body') ? result.body : has(result, 'text') ? result.text : undefined) : result;
  if (value === undefined) return terminate(404, WebResponseMessages.propertyNotFound, transactionId);
  if (typeof value === 'object' && value !== null) return text(prettyPrint(value));
  if (typeof value === 'string') return text(value);
  if (typeof value === 'boolean') return text(String(value));
  if (typeof value === 'number') return text(formatNumber(value));
  return text('null');
}

function resultAsJson(result: unknown, transactionId: string): Completion {
  if (typeof result === 'object' && result !== null) return json(200, result);
  return terminate(400, WebResponseMessages.invalidMedia('application/json'), transactionId);
}

class InvalidHttpResult extends Error {}

function headersFromJson(name: string, value: unknown): [string, string][] {
  if (typeof value === 'string') return [[name, value]];
  if (typeof value === 'boolean') return [[name, String(value)]];
  if (typeof value === 'number') return [[name, formatNumber(value)]];
  if (Array.isArray(value)) return value.flatMap((inner) => headersFromJson(name, inner));
  throw new InvalidHttpResult('Invalid header');
}

/** `c.toIntExact` for numbers, `String.toInt` for strings, then a status pekko can model (100-599). */
function statusCodeOf(value: unknown): number {
  let code: number;
  if (typeof value === 'number') {
    code = value;
  } else if (typeof value === 'string' && /^[+-]?\d+$/.test(value)) {
    code = Number(value);
  } else {
    throw new InvalidHttpResult('Illegal status code');
  }
  if (!Number.isInteger(code) || code < -2147483648 || code > 2147483647) throw new InvalidHttpResult('Illegal status code');
  if (code < 100 || code > 599) throw new InvalidHttpResult('Illegal status code');
  return code;
}

/** Raw headers pekko's response renderer drops (plus Content-Type, which OpenWhisk removes itself). */
const SUPPRESSED = new Set(['content-type', 'content-length', 'transfer-encoding', 'date', 'server', 'connection']);

function withoutSuppressed(headers: [string, string][]): [string, string][] {
  return headers.filter(([name]) => !SUPPRESSED.has(name.toLowerCase()));
}

function contentTypeHeader(headers: [string, string][]): string | undefined {
  return headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
}

/** A Content-Type as `MediaType.parse` reads it: the media type only (a charset is dropped). */
function responseMediaType(header: string): ContentTypeInfo | undefined {
  const parsed = parseContentType(header);
  return parsed && { mediaType: parsed.mediaType, ...(parsed.mediaType.kind === 'open' ? { charset: 'UTF-8' } : {}) };
}

/** WebActions.scala:343-369: a non-empty string body. */
function interpretHttpResponse(status: number, headers: [string, string][], body: string, transactionId: string): Completion {
  const header = contentTypeHeader(headers);
  const contentType = header === undefined ? TEXT_HTML : responseMediaType(header);
  if (!contentType) return terminate(400, WebResponseMessages.httpUnknownContentType, transactionId);
  const binary = contentType.mediaType.kind === 'binary';
  if (binary || (isJsonFamily(contentType.mediaType) && isBinaryCode(body))) {
    const bytes = decodeBase64Strict(body);
    if (!bytes) return terminate(400, WebResponseMessages.httpContentTypeError, transactionId);
    return entity(status, contentType, bytes, withoutSuppressed(headers));
  }
  return entity(status, contentType, body, withoutSuppressed(headers));
}

/** WebActions.scala:315-341: a body that is a JSON value other than a string or null. */
function interpretHttpResponseAsJson(status: number, headers: [string, string][], body: unknown, transactionId: string): Completion {
  const header = contentTypeHeader(headers);
  const contentType = header === undefined ? APPLICATION_JSON : parseContentType(header);
  if (contentType && contentType.mediaType.value.toLowerCase() === 'application/json') return json(status, body, withoutSuppressed(headers));
  if (contentType && isJsonFamily(contentType.mediaType)) {
    // MediaType.customWithFixedCharset(main, sub, UTF-8): parameters dropped, no charset rendered
    const { mainType, subType } = contentType.mediaType;
    const custom: ContentTypeInfo = { mediaType: { mainType, subType, params: [], kind: 'fixed', value: `${mainType}/${subType}` } };
    return entity(status, custom, prettyPrint(body), withoutSuppressed(headers));
  }
  return terminate(400, WebResponseMessages.httpContentTypeError, transactionId);
}

/** WebActions.scala:237-275. */
function resultAsHttp(result: unknown, transactionId: string): Completion {
  try {
    if (!isJsonObject(result)) throw new InvalidHttpResult('not an object');
    let headers: [string, string][] = [];
    if (has(result, 'headers')) {
      const value = result.headers;
      if (!isJsonObject(value)) throw new InvalidHttpResult('Invalid header');
      headers = keysOf(value, true).flatMap((name) => headersFromJson(name, value[name]));
    }
    const code = has(result, 'statusCode') ? statusCodeOf(result.statusCode) : undefined;
    const body = result.body;
    if (typeof body === 'string' && body.length > 0) return interpretHttpResponse(code ?? 200, headers, body, transactionId);
    if (body === undefined || body === null || body === '') return { status: code ?? 204, headers: withoutSuppressed(headers) };
    return interpretHttpResponseAsJson(code ?? 200, headers, body, transactionId);
  } catch (error) {
    if (!(error instanceof InvalidHttpResult)) throw error;
    return terminate(400, WebResponseMessages.invalidMedia('message/http'), transactionId);
  }
}

const TRANSCODERS: Record<WebRoute['extension'], (result: unknown, transactionId: string) => Completion> = {
  http: resultAsHttp,
  json: resultAsJson,
  html: resultAsHtml,
  svg: resultAsSvg,
  text: resultAsText,
};

// ---------------------------------------------------------------------------------------------
// content negotiation (pekko MediaTypeNegotiator; Accept-Charset is not considered)

interface MediaRange {
  mainType: string;
  subType: string;
  params: [string, string][];
  q: number;
}

function splitList(header: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (quoted && c === '\\') {
      current += c + (header[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      items.push(current);
      current = '';
    } else current += c;
  }
  items.push(current);
  return items;
}

/** The Accept header's media ranges, most specific first; undefined when pekko could not parse it (then anything goes). */
function acceptedRanges(header: string): MediaRange[] | undefined {
  if (header.trim() === '') return [];
  const ranges: MediaRange[] = [];
  for (const raw of splitList(header)) {
    const item = raw.trim();
    const parts = item === '*' || item.startsWith('*;') || item.startsWith('* ') ? parseMediaParts('*/*' + item.slice(1)) : parseMediaParts(item);
    if (!parts) return undefined;
    const mainType = parts.mainType.toLowerCase();
    const subType = parts.subType.toLowerCase();
    if (mainType === '*' && subType !== '*') return undefined;
    const params = new Map(parts.params);
    let q = 1;
    if (params.has('q')) {
      const text = params.get('q')!.trim();
      params.delete('q');
      const parsed = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/.test(text) ? parseFloat(text) : /^[+-]?(NaN|Infinity)$/.test(text) ? NaN : 1;
      if (!(parsed >= 0 && parsed <= 1)) return undefined;
      q = parsed;
    }
    ranges.push({ mainType, subType, params: [...params.entries()], q });
  }
  const rank = (r: MediaRange) => (r.mainType === '*' ? 2 : r.subType === '*' ? 1 : 0);
  return ranges
    .map((range, index) => ({ range, index }))
    .sort((a, b) => rank(a.range) - rank(b.range) || b.range.params.length - a.range.params.length || b.range.q - a.range.q || a.index - b.index)
    .map(({ range }) => range);
}

function matches(range: MediaRange, mediaType: MediaTypeInfo): boolean {
  const paramsMatch = (ignoreCharset: boolean) =>
    range.params.every(([key, value]) => (ignoreCharset && key === 'charset') || mediaType.params.some(([k, v]) => k === key && v === value));
  if (range.subType === '*') return (range.mainType === '*' || range.mainType === mediaType.mainType) && paramsMatch(false);
  return range.mainType === mediaType.mainType && range.subType === mediaType.subType && paramsMatch(true);
}

function isAccepted(accept: string | undefined, mediaType: MediaTypeInfo): boolean {
  if (accept === undefined) return true;
  const ranges = acceptedRanges(accept);
  if (!ranges || ranges.length === 0) return true;
  const first = ranges.find((range) => matches(range, mediaType));
  return first !== undefined && first.q > 0;
}

// ---------------------------------------------------------------------------------------------

const NO_BODY_STATUS = (status: number) => status < 200 || status === 204 || status === 205 || status === 304;

function toResponse(completion: Completion, accept: string | undefined, transactionId: string): WebHttpResponse {
  const { entity: content } = completion;
  if (content && !isAccepted(accept, content.mediaType)) {
    // UnacceptedResponseContentTypeRejection, rendered by OpenWhisk's rejection handler (compact JSON).
    const error = `${WebResponseMessages.notAcceptable}\n${content.alternative}`;
    return { status: 406, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error, code: transactionId }), bare: true };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of completion.headers) {
    const existing = headers[name];
    headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  if (content) headers['content-type'] = content.contentType;
  const body = content && !NO_BODY_STATUS(completion.status) ? content.body : undefined;
  return { status: completion.status, headers, body, ...(completion.bare ? { bare: true } : {}) };
}

/**
 * Maps a finished activation to the HTTP response (WebActions.scala:661-690 and the transcoders).
 *
 * - The result must be a JSON object (`activation.resultAsJson`), otherwise OpenWhisk fails with an
 *   exception: 500 text/plain 'There was an internal server error.' (bare).
 * - Success projects the whole result; an application error projects `result.error` (404
 *   'Response does not include requested property.' when absent) through the same extension;
 *   developer and whisk errors give 400 'There was an error processing your request.'.
 * - No projection of `route.path`: OpenWhisk removed path projections (apache/openwhisk#4415);
 *   the extra path only reaches the action as `__ow_path`.
 * - Errors are `{"error": message, "code": transactionId}` pretty printed, application/json.
 * - With `options.accept`, pekko's content negotiation: an entity whose media type the Accept
 *   header excludes becomes 406 (bare); responses without an entity are never refused.
 * - Bodies of 1xx, 204, 205 and 304 responses are dropped (HTTP forbids them).
 */
export function webActionResponse(route: WebRoute, outcome: WebResult, transactionId: string, options: WebResponseOptions = {}): WebHttpResponse {
  const result = outcome.result;
  if (!isJsonObject(result)) {
    return { status: 500, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: WebResponseMessages.internalServerError, bare: true };
  }
  let completion: Completion;
  if (outcome.statusCode === 0) {
    completion = TRANSCODERS[route.extension](result, transactionId);
  } else if (outcome.statusCode === 1) {
    completion = has(result, 'error')
      ? TRANSCODERS[route.extension](result.error, transactionId)
      : terminate(404, WebResponseMessages.propertyNotFound, transactionId);
  } else {
    completion = terminate(400, WebResponseMessages.errorProcessingRequest, transactionId);
  }
  return toResponse(completion, options.accept, transactionId);
}
