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
  /** The `x-openwhisk-activation-id` header of an invoke or fire, which an array result lacks in its body. */
  activationId?: string;
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
    return { status: response.status, body, activationId: response.headers.get('x-openwhisk-activation-id') ?? undefined };
  }

  /** The namespace from the configuration (`_` stands for the caller's own). */
  get namespace(): string {
    return this.config.namespace;
  }

  /** The API host, as configured (`https://host[:port]`). */
  get apihost(): string {
    return this.config.apihost.replace(/\/+$/, '');
  }

  /** The `uuid:key` the CLI authenticates with (feeds get it as `authKey`). */
  get authKey(): string {
    return this.config.auth;
  }

  private resolved?: Promise<string>;

  /** The caller's namespace by name: the configured one, or when that is `_`, the one `GET /namespaces` names. */
  resolvedNamespace(): Promise<string> {
    if (this.config.namespace !== '_') return Promise.resolve(this.config.namespace);
    this.resolved ??= this.request('GET', 'namespaces').then(({ body }) => {
      const [namespace] = body as string[];
      if (typeof namespace !== 'string') throw new Error('The API host did not name a namespace for this key.');
      return namespace;
    });
    return this.resolved;
  }

  /**
   * A fully qualified name `/ns/[pkg/]name`: `/ns/...` stays as it is, three parts without the
   * leading slash are `ns/pkg/name`, anything else lives in `namespace`.
   */
  static qualify(name: string, namespace: string): string {
    if (name.startsWith('/')) return name;
    if (name.split('/').length === 3) return `/${name}`;
    return `/${namespace}/${name}`;
  }

  /** `Api.qualify` in the caller's namespace, which is resolved only when the name needs it. */
  async fullyQualified(name: string): Promise<string> {
    return name.startsWith('/') || name.split('/').length === 3 ? Api.qualify(name, '_') : Api.qualify(name, await this.resolvedNamespace());
  }

  /** The API path of a collection in `namespace` (given as `ns` or `/ns`; the configured one when absent). */
  collectionPath(collection: string, namespace?: string): string {
    const ns = namespace?.replace(/^\/+|\/+$/g, '') || this.config.namespace;
    return `namespaces/${encodeURIComponent(ns)}/${collection}`;
  }

  /** The API path of a collection, or of one entity named `name`, `pkg/name`, `/ns/name` or `[/]ns/pkg/name`. */
  entityPath(collection: string, name?: string): string {
    let namespace = this.config.namespace;
    let path = name;
    if (name !== undefined && (name.startsWith('/') || name.split('/').length === 3)) {
      const [ns, ...rest] = name.replace(/^\//, '').split('/');
      namespace = ns;
      path = rest.join('/');
    }
    const base = this.collectionPath(collection, namespace);
    return path === undefined ? base : `${base}/${path.split('/').map(encodeURIComponent).join('/')}`;
  }
}
