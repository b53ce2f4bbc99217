import type { CliConfig } from './config';

/** An API error in OpenWhisk's shape, with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** A small client of the OpenWhisk REST API for the CLI. */
export class Api {
  constructor(private readonly config: CliConfig) {}

  private url(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
    const url = new URL(`${this.config.apihost}/api/v1/${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /** Sends a request; statuses below 400, and 502 when `acceptActionErrors`, are answers, not errors. */
  async request(
    method: string,
    path: string,
    options: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; acceptActionErrors?: boolean } = {},
  ): Promise<ApiResponse> {
    const response = await fetch(this.url(path, options.query), {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(this.config.auth).toString('base64')}`,
        'content-type': 'application/json',
        'user-agent': 'skywhisk-cli',
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    // 502 carries a failed activation (or its result): an answer to show, not a request error.
    const actionError = options.acceptActionErrors && response.status === 502 && typeof body === 'object';
    if (response.status >= 400 && !actionError) {
      const message = body && typeof body === 'object' && 'error' in body ? String((body as { error: unknown }).error) : text || response.statusText;
      throw new ApiError(response.status, message, body);
    }
    return { status: response.status, body };
  }

  /** The API path of a collection, or of one entity named `name`, `pkg/name`, `/ns/name` or `/ns/pkg/name`. */
  entityPath(collection: string, name?: string): string {
    let namespace = this.config.namespace;
    let path = name;
    if (name?.startsWith('/')) {
      const [ns, ...rest] = name.slice(1).split('/');
      namespace = ns;
      path = rest.join('/');
    }
    const base = `namespaces/${encodeURIComponent(namespace)}/${collection}`;
    return path === undefined ? base : `${base}/${path.split('/').map(encodeURIComponent).join('/')}`;
  }
}
