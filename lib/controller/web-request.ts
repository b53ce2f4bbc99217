/**
 * Web actions, request side: the route shape `/api/v1/web/{ns}/{pkg|default}/{name}{.ext}{/path}`,
 * the arguments an action receives, and the default CORS headers. Pure functions, no I/O.
 *
 * Behaviour follows OpenWhisk's `WebActions.scala` (controller) together with the pekko-http
 * details it relies on (how the request entity, its content type and the query are modelled).
 * References to `WebActions.scala` lines are to apache/openwhisk at 1fae641a.
 */
import { MAX_JSON_NESTING, nestsDeeperThan } from '../model/json-depth';
import { defineOwn, isJsonObject } from '../model/json-object';
import { isValidEntityName } from '../model/names';

export type WebExtension = 'http' | 'json' | 'html' | 'svg' | 'text';

/** Extensions in the order OpenWhisk tries them (WebActions.scala:146-154). */
export const WEB_EXTENSIONS: readonly WebExtension[] = ['http', 'json', 'html', 'svg', 'text'];

export interface WebRoute {
  namespace: string;
  /** Undefined for the `default` package. */
  pkg?: string;
  name: string;
  extension: WebExtension;
  /** False when the name carried no known extension and `.http` applies by default. */
  extensionGiven: boolean;
  /** Extra path after the action+ext, '' or starting with '/', re-encoded as pekko renders a path. */
  path: string;
}

/** The reserved argument names (WebActions.scala:72-79). */
export const WEB_RESERVED_KEYS: readonly string[] = ['__ow_method', '__ow_headers', '__ow_path', '__ow_user', '__ow_query', '__ow_body'];

export const WebMessages = {
  parametersNotAllowed: 'Request defines parameters that are not allowed (e.g., reserved properties).',
  malformedContent: 'The request content was malformed:',
  nestedTooDeeply: `JSON input nested too deeply:JSON input was nested more deeply than the configured limit of maxNesting = ${MAX_JSON_NESTING}`,
} as const;

// ---------------------------------------------------------------------------------------------
// percent-encoding (pekko's Uri parsing and rendering)

const HEX = '0123456789ABCDEF';
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/**
 * Decodes %XX escapes (UTF-8, malformed sequences become U+FFFD); other characters stand for
 * themselves, so an already decoded path survives. Undefined when a '%' is not followed by two hex digits.
 */
function percentDecode(text: string, plusIsSpace: boolean): string | undefined {
  if (!text.includes('%') && !(plusIsSpace && text.includes('+'))) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25) {
      if (!isHexDigit(text.charCodeAt(i + 1)) || !isHexDigit(text.charCodeAt(i + 2))) return undefined;
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (plusIsSpace && code === 0x2b) {
      bytes.push(0x20);
    } else if (code < 0x80) {
      bytes.push(code);
    } else {
      const point = text.codePointAt(i)!;
      const char = String.fromCodePoint(point);
      for (const b of utf8Encoder.encode(char)) bytes.push(b);
      i += char.length - 1;
    }
  }
  return utf8Decoder.decode(Uint8Array.from(bytes));
}

function charSet(chars: string): Set<number> {
  const set = new Set<number>();
  for (let c = 0x41; c <= 0x5a; c++) set.add(c);
  for (let c = 0x61; c <= 0x7a; c++) set.add(c);
  for (let c = 0x30; c <= 0x39; c++) set.add(c);
  for (const c of chars) set.add(c.charCodeAt(0));
  return set;
}

// pekko CharacterClasses: `pchar-base` = unreserved ++ sub-delims ++ '@' ++ ':'
const PATH_KEEP = charSet("-._~!$&'()*+,;=@:");
// `strict-query-char-np` = pchar-base ++ "/?" -- "&=;" -- '+'
const QUERY_KEEP = charSet("-._~!$'()*,@:/?");

function percentEncode(text: string, keep: Set<number>, spaceAsPlus: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (keep.has(code)) out += text[i];
    else if (spaceAsPlus && code === 0x20) out += '+';
    else {
      const point = text.codePointAt(i)!;
      const char = String.fromCodePoint(point);
      for (const b of utf8Encoder.encode(char)) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
      i += char.length - 1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// route

/**
 * Parses the part after `/api/v1/web/` — `ns/pkg/name.ext/extra/path` — percent-encoded as on the
 * wire (a path that Hono already decoded, with `%25` kept, parses the same). Undefined when the
 * route does not match (OpenWhisk answers 404 then): fewer than three segments, a namespace,
 * package or name segment that is not an entity name, or a malformed escape.
 *
 * As in OpenWhisk (`mediaTranscoderForName`, WebActions.scala:165-175, enforceExtension = false),
 * an unknown extension is not an error: `name.xml` is the action `name.xml` answered as `.http`.
 * The whole name segment must be a valid entity name including its extension (the path matcher
 * applies `EntityName.REGEX` to the segment, WebActions.scala:406,460), then the base name too
 * (OpenWhisk fails with a 500 when only the base is invalid, e.g. `a .json`; here that is a miss).
 */
export function parseWebRoute(rest: string): WebRoute | undefined {
  const segments = rest.split('/');
  if (segments.length < 3) return undefined;
  const [namespace, pkg, nameWithExtension] = segments.slice(0, 3).map((s) => percentDecode(s, false));
  if (namespace === undefined || pkg === undefined || nameWithExtension === undefined) return undefined;
  if (!isValidEntityName(namespace)) return undefined;
  if (pkg !== 'default' && !isValidEntityName(pkg)) return undefined;
  if (!isValidEntityName(nameWithExtension)) return undefined;

  let name = nameWithExtension;
  let extension: WebExtension = 'http';
  let extensionGiven = false;
  for (const ext of WEB_EXTENSIONS) {
    if (nameWithExtension.endsWith(`.${ext}`)) {
      name = nameWithExtension.slice(0, -(ext.length + 1));
      extension = ext;
      extensionGiven = true;
      break;
    }
  }
  if (!isValidEntityName(name)) return undefined;

  // The unmatched path, as pekko's `Path.toString` renders it (decoded segments re-encoded).
  let path = '';
  for (const segment of segments.slice(3)) {
    const decoded = percentDecode(segment, false);
    if (decoded === undefined) return undefined;
    path += '/' + percentEncode(decoded, PATH_KEEP, false);
  }
  return { namespace, ...(pkg === 'default' ? {} : { pkg }), name, extension, extensionGiven, path };
}

// ---------------------------------------------------------------------------------------------
// query (pekko Uri.Query)

/** A query parameter; `bare` when it had no '=' (rendered back without one). */
interface QueryPair {
  key: string;
  value: string;
  bare: boolean;
}

/** Parses a raw query string as pekko does in relaxed mode: '+' is a space, last value wins in maps. */
function parseQuery(raw: string): QueryPair[] {
  if (raw === '') return [];
  return raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    // pekko rejects a malformed escape before routing; keep it literally here.
    const key = percentDecode(rawKey, true) ?? rawKey.replace(/\+/g, ' ');
    const value = percentDecode(rawValue, true) ?? rawValue.replace(/\+/g, ' ');
    return { key, value, bare: eq < 0 };
  });
}

/** `Query.toString`: keys and values re-encoded, spaces as '+' (used for `__ow_query`). */
function renderQuery(pairs: QueryPair[]): string {
  return pairs.map((p) => percentEncode(p.key, QUERY_KEEP, true) + (p.bare ? '' : '=' + percentEncode(p.value, QUERY_KEEP, true))).join('&');
}

// ---------------------------------------------------------------------------------------------
// content types (pekko MediaType / ContentType)

export type MediaKind = 'binary' | 'fixed' | 'open';

export interface MediaTypeInfo {
  mainType: string;
  subType: string;
  /** Parameters other than charset, sorted by name (pekko keeps them in a TreeMap). */
  params: [string, string][];
  /** Binary, text with a fixed charset (UTF-8) or text with an open charset. */
  kind: MediaKind;
  /** pekko's `MediaType.value`: `main/sub` plus `; k=v` parameters. */
  value: string;
}

export interface ContentTypeInfo {
  mediaType: MediaTypeInfo;
  /** The charset of an open-charset type, when given (canonical name). */
  charset?: string;
}

const OPEN_TYPES = [
  ...['atom+xml', 'base64', 'javascript', 'rss+xml', 'soap+xml', 'vnd.google-earth.kml+xml', 'x-latex', 'x-vrml', 'xhtml+xml', 'xml-dtd', 'xml', 'problem+xml'].map((s) => `application/${s}`),
  ...[
    'asp', 'cache-manifest', 'calendar', 'css', 'csv', 'html', 'markdown', 'mcf', 'plain', 'richtext', 'tab-separated-values', 'uri-list', 'vnd.wap.wml',
    'vnd.wap.wmlscript', 'x-asm', 'x-c', 'x-component', 'x-h', 'x-java-source', 'x-pascal', 'x-script', 'x-scriptcsh', 'x-scriptelisp', 'x-scriptksh',
    'x-scriptlisp', 'x-scriptperl', 'x-scriptperl-module', 'x-scriptphyton', 'x-scriptrexx', 'x-scriptscheme', 'x-scriptsh', 'x-scripttcl', 'x-scripttcsh',
    'x-scriptzsh', 'x-server-parsed-html', 'x-setext', 'x-sgml', 'x-speech', 'x-uuencode', 'x-vcalendar', 'x-vcard', 'xml',
  ].map((s) => `text/${s}`),
];
const FIXED_TYPES = [
  ...['json', 'json-patch+json', 'merge-patch+json', 'problem+json', 'vnd.api+json', 'x-www-form-urlencoded'].map((s) => `application/${s}`),
  'text/event-stream',
];
const BINARY_TYPES = [
  ...[
    'cbor', 'gnutar', 'java-archive', 'grpc+proto', 'lha', 'lzx', 'msword', 'octet-stream', 'pdf', 'postscript', 'vnd.google-earth.kmz', 'vnd.ms-excel',
    'vnd.ms-excel.addin.macroEnabled.12', 'vnd.ms-excel.sheet.binary.macroEnabled.12', 'vnd.ms-excel.sheet.macroEnabled.12',
    'vnd.ms-excel.template.macroEnabled.12', 'vnd.ms-fontobject', 'vnd.ms-powerpoint', 'vnd.ms-powerpoint.addin.macroEnabled.12',
    'vnd.ms-powerpoint.presentation.macroEnabled.12', 'vnd.ms-powerpoint.slideshow.macroEnabled.12', 'vnd.ms-word.document.macroEnabled.12',
    'vnd.ms-word.template.macroEnabled.12', 'vnd.oasis.opendocument.chart', 'vnd.oasis.opendocument.database', 'vnd.oasis.opendocument.formula',
    'vnd.oasis.opendocument.graphics', 'vnd.oasis.opendocument.image', 'vnd.oasis.opendocument.presentation', 'vnd.oasis.opendocument.spreadsheet',
    'vnd.oasis.opendocument.text', 'vnd.oasis.opendocument.text-master', 'vnd.oasis.opendocument.text-web',
    'vnd.openxmlformats-officedocument.presentationml.presentation', 'vnd.openxmlformats-officedocument.presentationml.slide',
    'vnd.openxmlformats-officedocument.presentationml.slideshow', 'vnd.openxmlformats-officedocument.presentationml.template',
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'vnd.openxmlformats-officedocument.spreadsheetml.template',
    'vnd.openxmlformats-officedocument.wordprocessingml.document', 'vnd.openxmlformats-officedocument.wordprocessingml.template', 'x-7z-compressed',
    'x-ace-compressed', 'x-apple-diskimage', 'x-arc-compressed', 'x-bzip', 'x-bzip2', 'x-chrome-extension', 'x-compress', 'x-compressed',
    'x-debian-package', 'x-dvi', 'x-font-truetype', 'x-font-opentype', 'x-gtar', 'x-gzip', 'x-rar-compressed', 'x-redhat-package-manager',
    'x-shockwave-flash', 'x-tar', 'x-tex', 'x-texinfo', 'x-x509-ca-cert', 'x-xpinstall', 'zip',
  ].map((s) => `application/${s}`),
  ...['aiff', 'basic', 'midi', 'mod', 'mpeg', 'ogg', 'voc', 'vorbis', 'voxware', 'wav', 'x-pn-realaudio', 'x-psid', 'xm', 'webm'].map((s) => `audio/${s}`),
  'font/woff',
  'font/woff2',
  ...['gif', 'jpeg', 'pict', 'png', 'svg+xml', 'tiff', 'x-icon', 'x-ms-bmp', 'x-pcx', 'x-pict', 'x-quicktime', 'x-rgb', 'x-xbitmap', 'x-xpixmap', 'webp'].map(
    (s) => `image/${s}`,
  ),
  ...['http', 'delivery-status', 'rfc822'].map((s) => `message/${s}`),
  ...['avs-video', 'divx', 'gl', 'mp4', 'mpeg', 'ogg', 'quicktime', 'x-dv', 'x-flv', 'x-motion-jpeg', 'x-ms-asf', 'x-msvideo', 'x-sgi-movie', 'webm'].map(
    (s) => `video/${s}`,
  ),
];

/** pekko's predefined media types (MediaTypes): lowercase key → canonical value and kind. */
const REGISTERED = new Map<string, { value: string; kind: MediaKind }>([
  ...OPEN_TYPES.map((v) => [v.toLowerCase(), { value: v, kind: 'open' as const }] as const),
  ...FIXED_TYPES.map((v) => [v.toLowerCase(), { value: v, kind: 'fixed' as const }] as const),
  ...BINARY_TYPES.map((v) => [v.toLowerCase(), { value: v, kind: 'binary' as const }] as const),
]);

/** pekko HttpCharsets: aliases of the registered charsets → canonical name. */
const CHARSETS = new Map<string, string>();
for (const [name, ...aliases] of [
  ['US-ASCII', 'iso-ir-6', 'ANSI_X3.4-1968', 'ANSI_X3.4-1986', 'ISO_646.irv:1991', 'ASCII', 'ISO646-US', 'us', 'IBM367', 'cp367', 'csASCII'],
  ['ISO-8859-1', 'iso-ir-100', 'ISO_8859-1', 'latin1', 'l1', 'IBM819', 'CP819', 'csISOLatin1'],
  ['UTF-8', 'UTF8'],
  ['UTF-16', 'UTF16'],
  ['UTF-16BE'],
  ['UTF-16LE'],
  ['ISO-8859-2', 'iso-ir-101', 'ISO_8859-2', 'latin2', 'l2', 'csISOLatin2'],
  ['ISO-8859-3', 'iso-ir-109', 'ISO_8859-3', 'latin3', 'l3', 'csISOLatin3'],
  ['ISO-8859-4', 'iso-ir-110', 'ISO_8859-4', 'latin4', 'l4', 'csISOLatin4'],
  ['ISO-8859-5', 'iso-ir-144', 'ISO_8859-5', 'cyrillic', 'csISOLatinCyrillic'],
  ['ISO-8859-6', 'iso-ir-127', 'ISO_8859-6', 'ECMA-114', 'ASMO-708', 'arabic', 'csISOLatinArabic'],
  ['ISO-8859-7', 'iso-ir-126', 'ISO_8859-7', 'ELOT_928', 'ECMA-118', 'greek', 'greek8', 'csISOLatinGreek'],
  ['ISO-8859-8', 'iso-ir-138', 'ISO_8859-8', 'hebrew', 'csISOLatinHebrew'],
  ['ISO-8859-9', 'iso-ir-148', 'ISO_8859-9', 'latin5', 'l5', 'csISOLatin5'],
  ['ISO-8859-10', 'iso-ir-157', 'l6', 'ISO_8859-10', 'csISOLatin6', 'latin6'],
  ['UTF-32', 'UTF32'],
  ['UTF-32BE'],
  ['UTF-32LE'],
  ['windows-1250', 'cp1250', 'cp5346'],
  ['windows-1251', 'cp1251', 'cp5347'],
  ['windows-1252', 'cp1252', 'cp5348'],
  ['windows-1253', 'cp1253', 'cp5349'],
  ['windows-1254', 'cp1254', 'cp5350'],
  ['windows-1257', 'cp1257', 'cp5353'],
]) {
  for (const alias of [name, ...aliases]) CHARSETS.set(alias.toLowerCase(), name);
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `~~#` in pekko's rendering: a token as is, anything else as a quoted-string. */
function renderParamValue(value: string): string {
  return value === '' || TCHAR.test(value) ? value : `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function mediaValue(mainType: string, subType: string, params: [string, string][]): string {
  return `${mainType}/${subType}` + params.map(([k, v]) => `; ${k}=${renderParamValue(v)}`).join('');
}

/** `type/subtype *(; name=value)` as pekko's `media-type` rule reads it; names keep their case. */
export function parseMediaParts(header: string): { mainType: string; subType: string; params: [string, string][] } | undefined {
  const text = header;
  let pos = 0;
  const ows = () => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  };
  const token = (): string | undefined => {
    const match = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(text.slice(pos));
    if (!match) return undefined;
    pos += match[0].length;
    ows();
    return match[0];
  };
  const quoted = (): string | undefined => {
    let out = '';
    pos++;
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\\' && pos + 1 < text.length) pos++;
      out += text[pos++];
    }
    if (text[pos] !== '"') return undefined;
    pos++;
    ows();
    return out;
  };
  ows();
  const mainType = token();
  if (mainType === undefined || text[pos] !== '/') return undefined;
  pos++;
  const subType = token();
  if (subType === undefined) return undefined;
  const params: [string, string][] = [];
  while (pos < text.length) {
    if (text[pos] !== ';') return undefined;
    pos++;
    ows();
    const key = token();
    if (key === undefined || text[pos] !== '=') return undefined;
    pos++;
    ows();
    const value = text[pos] === '"' ? quoted() : token();
    if (value === undefined) return undefined;
    params.push([key, value]);
  }
  return { mainType, subType, params };
}

function byKey([a]: [string, string], [b]: [string, string]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses a Content-Type header value as pekko does (`media-type` rule, CommonActions.getMediaType):
 * known types keep their kind, unknown ones are binary unless a charset is given, multipart is binary.
 * Undefined when the value does not parse.
 */
export function parseContentType(header: string): ContentTypeInfo | undefined {
  const parts = parseMediaParts(header);
  if (!parts) return undefined;
  const params = new Map<string, string>();
  let charset: string | undefined;
  for (const [key, value] of parts.params) {
    if (key.toLowerCase() === 'charset') charset = CHARSETS.get(value.toLowerCase()) ?? value;
    else params.set(key, value);
  }
  const sorted = [...params.entries()].sort(byKey);
  const mainType = parts.mainType.toLowerCase();
  const subType = parts.subType.toLowerCase();
  const registered = mainType === 'multipart' ? undefined : REGISTERED.get(`${mainType}/${subType}`);
  const kind: MediaKind = registered ? registered.kind : mainType !== 'multipart' && charset !== undefined ? 'open' : 'binary';
  const value = registered && sorted.length === 0 ? registered.value : mediaValue(mainType, subType, sorted);
  const mediaType: MediaTypeInfo = { mainType, subType, params: sorted, kind, value };
  return kind === 'open' && charset !== undefined ? { mediaType, charset } : { mediaType };
}

/** `ContentType.toString`: the media type, plus `; charset=…` for an open-charset type that has one. */
export function renderContentType(contentType: ContentTypeInfo): string {
  const { mediaType, charset } = contentType;
  return mediaType.kind === 'open' && charset !== undefined ? `${mediaType.value}; charset=${charset}` : mediaType.value;
}

/** `WhiskWebActionsApi.isJsonFamily` (WebActions.scala:311-313): application/json or a value ending in +json. */
export function isJsonFamily(mediaType: MediaTypeInfo): boolean {
  return mediaType.value.toLowerCase() === 'application/json' || mediaType.value.endsWith('+json');
}

const OCTET_STREAM: ContentTypeInfo = parseContentType('application/octet-stream')!;

// ---------------------------------------------------------------------------------------------
// request bodies

export interface WebRequest {
  method: string;
  /** Lowercased names. */
  headers: Record<string, string>;
  path: string;
  /** Raw query string without '?'. */
  query: string;
  /** May be empty. */
  body: Uint8Array;
}

export class WebActionError extends Error {
  override name = 'WebActionError';
  constructor(
    readonly status: 400 | 401 | 404 | 406 | 413 | 415,
    message: string,
    /**
     * True for a pekko rejection (malformed JSON or form body): OpenWhisk renders it outside the
     * web-action directives, as compact `{"error","code"}` without CORS headers. False for
     * OpenWhisk's own `terminate` (reserved/final parameters): pretty, with CORS headers.
     */
    readonly rejection = false,
  ) {
    super(message);
  }
}

function utf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Defines a property even when its name is `__proto__`. */
const put = defineOwn;

/**
 * Parses a JSON body. On failure, the message spray-json's parser gives for the same bytes (pekko
 * turns it into a MalformedRequestContentRejection: "The request content was malformed:\n" + message).
 * A body nesting deeper than MAX_JSON_NESTING is refused the same way, in the words spray-json uses
 * for its own nesting limit (1000 in OpenWhisk; here the REST API's 100, for every body).
 */
function parseJsonBody(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = JSON.parse(utf8(bytes));
  } catch {
    throw new WebActionError(400, `${WebMessages.malformedContent}\n${sprayJsonError(bytes) ?? 'Unexpected end-of-input'}`, true);
  }
  if (nestsDeeperThan(value, MAX_JSON_NESTING)) throw new WebActionError(400, `${WebMessages.malformedContent}\n${WebMessages.nestedTooDeeply}`, true);
  return value;
}

/**
 * An `application/x-www-form-urlencoded` body as pekko's FormData unmarshaller reads it
 * (`Uri.Query` in relaxed mode): raw characters must be visible ASCII, '+' is a space, escapes
 * are UTF-8, the last of repeated keys wins. A ValidationRejection (400) otherwise.
 */
function parseFormBody(bytes: Uint8Array): Record<string, string> {
  const text = utf8(bytes);
  const form: Record<string, string> = {};
  let column = 1;
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    const segments = eq < 0 ? [part] : [part.slice(0, eq), part.slice(eq + 1)];
    const decoded: string[] = [];
    for (const [i, segment] of segments.entries()) {
      for (let j = 0; j < segment.length; j++) {
        const code = segment.charCodeAt(j);
        const visible = code >= 0x21 && code <= 0x7e && code !== 0x23;
        const escape = code === 0x25 && isHexDigit(segment.charCodeAt(j + 1)) && isHexDigit(segment.charCodeAt(j + 2));
        if (!visible || (code === 0x25 && !escape)) {
          const at = column + (i === 1 ? eq + 1 : 0) + j;
          throw new WebActionError(400, `Illegal query: Invalid input '${segment[j]}' (line 1, column ${at}): ${text}`, true);
        }
        if (escape) j += 2;
      }
      decoded.push(percentDecode(segment, true)!);
    }
    put(form, decoded[0], decoded.length > 1 ? decoded[1] : '');
    column += part.length + 1;
  }
  return form;
}

/** The entity pekko models for the request: no entity at all, or a content type with bytes. */
function requestEntity(request: WebRequest): { contentType?: ContentTypeInfo; headerValue?: string } {
  const raw = Object.entries(request.headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  const parsed = raw === undefined ? undefined : parseContentType(raw);
  if (request.body.length === 0) {
    // HttpEntity.Empty without a Content-Type; an empty Strict entity with one. A Content-Type
    // pekko cannot parse stays a raw header and the entity is Empty.
    if (parsed) return { contentType: parsed, headerValue: renderContentType(parsed) };
    return { headerValue: raw };
  }
  // A body without a (valid) Content-Type is application/octet-stream to pekko.
  const contentType = parsed ?? OCTET_STREAM;
  return { contentType, headerValue: renderContentType(contentType) };
}

type Body = { kind: 'none' } | { kind: 'value'; value: unknown };

/** WebActions.scala:594-627 (extractEntityAndProcessRequest). */
function requestBody(request: WebRequest, contentType: ContentTypeInfo | undefined, raw: boolean): Body {
  if (!contentType) return { kind: 'none' };
  const mediaType = contentType.mediaType;
  if (isJsonFamily(mediaType) && !raw) {
    return request.body.length ? { kind: 'value', value: parseJsonBody(request.body) } : { kind: 'none' };
  }
  if (mediaType.value.toLowerCase() === 'application/x-www-form-urlencoded' && !raw) {
    return { kind: 'value', value: request.body.length ? parseFormBody(request.body) : {} };
  }
  // "for legacy, we are encoding application/json still" (only exactly application/json)
  if (mediaType.kind === 'binary' || mediaType.value.toLowerCase() === 'application/json') {
    return { kind: 'value', value: base64(request.body) };
  }
  return { kind: 'value', value: utf8(request.body) };
}

/**
 * The arguments the action receives on top of its bound parameters (WebActions.scala:109-141):
 * `__ow_method` (lowercase), `__ow_headers` (lowercased names; Content-Type as pekko renders the
 * entity's, Content-Length and Transfer-Encoding absent), `__ow_path`, `__ow_user` when a caller
 * authenticated, then query parameters, then body parameters (body wins).
 *
 * - JSON-family bodies (application/json, *+json) are parsed: an object is promoted to top-level
 *   keys, any other JSON value becomes `__ow_body` as is; an empty body adds nothing; invalid JSON
 *   is a 400 "The request content was malformed:\n…". Form bodies are promoted as strings.
 * - Other bodies become `__ow_body`: base64 for binary media types (and a body without a
 *   Content-Type, which pekko types application/octet-stream), UTF-8 text otherwise.
 * - Raw mode (`raw-http`): nothing is promoted nor checked; `__ow_query` is the query as pekko
 *   re-renders it and `__ow_body` the body (base64 for binary types and exactly application/json),
 *   both '' when absent.
 *
 * Outside raw mode, a query or body-object key that is reserved (`__ow_*`) or in `protectedKeys`
 * throws WebActionError(400, 'Request defines parameters that are not allowed (e.g., reserved properties).').
 */
export function webActionArgs(request: WebRequest, options: { raw: boolean; protectedKeys: string[]; user?: string }): Record<string, unknown> {
  const { raw, protectedKeys, user } = options;
  const entity = requestEntity(request);
  const body = requestBody(request, entity.contentType, raw);
  const query = parseQuery(request.query);

  if (!raw) {
    const forbidden = new Set([...WEB_RESERVED_KEYS, ...protectedKeys]);
    const bodyKeys = body.kind === 'value' && isJsonObject(body.value) ? Object.keys(body.value) : [];
    if ([...query.map((p) => p.key), ...bodyKeys].some((key) => forbidden.has(key))) {
      throw new WebActionError(400, WebMessages.parametersNotAllowed);
    }
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'timeout-access' || lower === 'content-type') continue;
    put(headers, lower, value);
  }
  if (entity.headerValue !== undefined) headers['content-type'] = entity.headerValue;

  const args: Record<string, unknown> = {
    __ow_method: request.method.toLowerCase(),
    __ow_headers: headers,
    __ow_path: request.path,
  };
  if (user !== undefined) args.__ow_user = user;

  if (raw) {
    args.__ow_query = renderQuery(query);
    args.__ow_body = body.kind === 'value' ? body.value : '';
  } else {
    for (const { key, value } of query) put(args, key, value);
    if (body.kind === 'value') {
      if (isJsonObject(body.value)) for (const [key, value] of Object.entries(body.value)) put(args, key, value);
      else args.__ow_body = body.value;
    }
  }
  return args;
}

// ---------------------------------------------------------------------------------------------
// CORS (CorsSettings.WebActions, WebActions.scala:409-420)

export const WEB_CORS_ALLOW_METHODS = 'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH';
export const WEB_CORS_DEFAULT_ALLOW_HEADERS = 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent';

/**
 * The CORS headers OpenWhisk adds to every web-action response (and answers OPTIONS with, 200 and
 * no body) unless the action is annotated `web-custom-options`. `Access-Control-Allow-Headers`
 * echoes the request's `Access-Control-Request-Headers` (as pekko re-renders a token list:
 * comma-space separated) or lists the defaults.
 */
export function webCorsHeaders(requestHeaders: Record<string, string>): Record<string, string> {
  const requested = Object.entries(requestHeaders).find(([name]) => name.toLowerCase() === 'access-control-request-headers')?.[1];
  let allowHeaders = WEB_CORS_DEFAULT_ALLOW_HEADERS;
  if (requested !== undefined) {
    const tokens = requested.split(',').map((t) => t.trim());
    const list = requested.trim() === '' ? [] : tokens;
    allowHeaders = list.every((t) => TCHAR.test(t)) ? list.join(', ') : requested.trim();
  }
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': WEB_CORS_ALLOW_METHODS,
    'Access-Control-Allow-Headers': allowHeaders,
  };
}

// ---------------------------------------------------------------------------------------------
// spray-json's error messages (JsonParser 1.3.5, reading the body's bytes)

const EOI = 0xffff;
const ERROR_CHAR = 0xfffd;

class SprayFailure extends Error {}

function isIsoControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/** Replays spray-json's parser over `bytes`; the ParsingException message of its first failure. */
export function sprayJsonError(bytes: Uint8Array): string | undefined {
  let cursor = -1;
  let pendingLow = -1;
  const nextChar = (): number => {
    cursor++;
    return cursor < bytes.length ? bytes[cursor] : EOI;
  };
  const nextUtf8Char = (): number => {
    if (pendingLow >= 0) {
      const low = pendingLow;
      pendingLow = -1;
      return low;
    }
    cursor++;
    if (cursor >= bytes.length) return EOI;
    const first = bytes[cursor];
    if (first < 0x80) return first;
    const extra = (first & 0xe0) === 0xc0 ? 1 : (first & 0xf0) === 0xe0 ? 2 : (first & 0xf8) === 0xf0 ? 3 : -1;
    if (extra < 0) return ERROR_CHAR;
    const sequence = [first];
    for (let i = 0; i < extra; i++) {
      cursor++;
      if (cursor >= bytes.length) return ERROR_CHAR;
      sequence.push(bytes[cursor]);
    }
    const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(Uint8Array.from(sequence));
    if (text.length === 0 || text.includes('\ufffd')) return ERROR_CHAR;
    if (text.length === 2) pendingLow = text.charCodeAt(1);
    return text.charCodeAt(0);
  };

  let c = nextChar();
  const current = () => c; // read through a call: TypeScript narrows `c` across advance()
  const advance = () => {
    c = nextChar();
    return true;
  };
  const ch = (expected: string) => (c === expected.charCodeAt(0) ? advance() : false);
  const ws = () => {
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) advance();
  };
  const wsCh = (expected: string) => {
    if (!ch(expected)) return false;
    ws();
    return true;
  };

  const fail = (target: string, at: number = cursor, errorChar: number = c): never => {
    // ParserInput.getLine, replayed from the start with nextUtf8Char
    const saved = cursor;
    cursor = -1;
    pendingLow = -1;
    let line = '';
    let ix = 0;
    let lineStart = 0;
    let lineNr = 1;
    for (;;) {
      const next = nextUtf8Char();
      if (next === 0x0a && at > ix) {
        line = '';
        lineStart = ix + 1;
        lineNr++;
        ix++;
      } else if (next === 0x0a || next === EOI) break;
      else {
        line += String.fromCharCode(next);
        ix++;
      }
    }
    cursor = saved;
    const column = at - lineStart + 1;
    const unexpected =
      errorChar !== EOI
        ? `character '${isIsoControl(errorChar) ? `\\u${errorChar.toString(16).padStart(4, '0')}` : String.fromCharCode(errorChar)}'`
        : 'end-of-input';
    const expected = target === "'\uffff'" ? 'end-of-input' : target;
    const summary = `Unexpected ${unexpected} at input index ${at} (line ${lineNr}, position ${column}), expected ${expected}`;
    const sanitized = [...line].map((x) => (isIsoControl(x.charCodeAt(0)) ? '?' : x)).join('');
    throw new SprayFailure(`${summary}:\n${sanitized}\n${' '.repeat(Math.max(0, column - 1))}^\n`);
  };
  const require = (expected: string) => {
    if (!ch(expected)) fail(`'${expected}'`);
  };
  const digit = () => (c >= 0x30 && c <= 0x39 ? advance() : false);
  const oneOrMoreDigits = () => {
    if (!digit()) fail('DIGIT');
    while (digit());
  };

  const hexValue = (code: number): number => {
    if (code >= 0x30 && code <= 0x39) return code - 0x30;
    if (code >= 0x61 && code <= 0x66) return code - 87;
    if (code >= 0x41 && code <= 0x46) return code - 55;
    return fail('hex digit');
  };
  const escaped = () => {
    switch (c) {
      case 0x22: case 0x2f: case 0x5c: case 0x62: case 0x66: case 0x6e: case 0x72: case 0x74: // " / \ b f n r t
        return;
      case 0x75: // u
        advance();
        for (let i = 0; i < 4; i++) {
          hexValue(c);
          if (i < 3) advance();
        }
        return;
      default:
        fail('JSON escape sequence');
    }
  };
  const string = () => {
    if (c === 0x22) c = nextUtf8Char();
    else fail("'\"'");
    for (;;) {
      if (c === 0x22 || c === EOI) break;
      if (c === 0x5c) {
        advance();
        escaped();
      } else if (c < 0x20) break;
      c = nextUtf8Char();
    }
    require('"');
    ws();
  };
  const number = () => {
    const start = cursor;
    ch('-');
    if (!ch('0')) oneOrMoreDigits();
    if (ch('.')) oneOrMoreDigits();
    if (ch('e') || ch('E')) {
      if (!ch('-')) ch('+');
      oneOrMoreDigits();
    }
    const length = cursor - start;
    if (length > 100) {
      const snippet = utf8(bytes.subarray(start, Math.min(cursor, start + 20)));
      throw new SprayFailure(
        `Number too long:The number starting with '${snippet}' had ${length} characters which is more than the allowed limit maxNumberCharacters = 100. If this is legit input consider increasing the limit.`,
      );
    }
    ws();
  };
  const value = (remaining: number): void => {
    if (remaining === 0) {
      throw new SprayFailure('JSON input nested too deeply:JSON input was nested more deeply than the configured limit of maxNesting = 1000');
    }
    const mark = cursor;
    const simple = (matched: boolean) => {
      if (!matched) fail('JSON Value', mark);
    };
    switch (c) {
      case 0x66: // f
        return simple(advance() && ch('a') && ch('l') && ch('s') && wsCh('e'));
      case 0x6e: // n
        return simple(advance() && ch('u') && ch('l') && wsCh('l'));
      case 0x74: // t
        return simple(advance() && ch('r') && ch('u') && wsCh('e'));
      case 0x7b: // {
        advance();
        ws();
        if (current() !== 0x7d) {
          do {
            string();
            require(':');
            ws();
            value(remaining - 1);
          } while (wsCh(','));
          require('}');
        } else advance();
        ws();
        return;
      case 0x5b: // [
        advance();
        ws();
        if (current() !== 0x5d) {
          do value(remaining - 1);
          while (wsCh(','));
          require(']');
        } else advance();
        ws();
        return;
      case 0x22:
        return string();
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number();
        fail('JSON Value');
    }
  };

  try {
    ws();
    value(1000);
    if (c !== EOI) fail("'\uffff'");
    return undefined;
  } catch (error) {
    if (error instanceof SprayFailure) return error.message;
    throw error;
  }
}
