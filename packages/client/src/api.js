// A thin REST client: bearer token, JSON in and out, and the contract's error
// shape turned into one exception type.

/** An error response from the API: `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the request never got a response)
   * @param {string} code the contract's snake_case code, e.g. `not_found`
   * @param {string} message
   * @param {unknown[]} [details]
   */
  constructor(status, code, message, details = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Worth another try: the network failed, the server was busy or broken. */
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export class ApiClient {
  /**
   * @param {object} options
   * @param {string} options.baseUrl e.g. `/api` or `https://api.example.com/prod`
   * @param {() => string | null | Promise<string | null>} options.token
   *   called before every request, so a refreshed token is picked up without
   *   rebuilding the client
   * @param {typeof fetch} [options.fetch]
   */
  constructor({ baseUrl, token, fetch: fetchImpl = globalThis.fetch.bind(globalThis) }) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.token = token;
    this.fetch = fetchImpl;
  }

  /**
   * @param {string} method
   * @param {string} path a REST path as the contract and events name it, e.g. `/courses/c_1`
   * @param {unknown} [body]
   * @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<any>} the parsed JSON body, or null for an empty response
   */
  async request(method, path, body, { signal } = {}) {
    /** @type {Record<string, string>} */
    const headers = {};
    const token = await this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await this.fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiError(0, 'network_error', `${method} ${path}: ${String(err)}`);
    }
    const text = await response.text();
    const doc = text ? safeJson(text) : null;
    if (!response.ok) {
      const error = doc?.error ?? {};
      throw new ApiError(
        response.status,
        error.code ?? `http_${response.status}`,
        error.message ?? `${method} ${path} answered ${response.status}`,
        error.details ?? [],
      );
    }
    return doc;
  }

  /** @param {string} path @param {{signal?: AbortSignal}} [options] */
  get(path, options) {
    return this.request('GET', path, undefined, options);
  }

  /** @param {string} path @param {unknown} [body] @param {{signal?: AbortSignal}} [options] */
  post(path, body, options) {
    return this.request('POST', path, body ?? {}, options);
  }

  /** @param {string} path @param {unknown} [body] */
  put(path, body) {
    return this.request('PUT', path, body ?? {});
  }

  /** @param {string} path @param {unknown} body */
  patch(path, body) {
    return this.request('PATCH', path, body);
  }

  /** @param {string} path */
  delete(path) {
    return this.request('DELETE', path);
  }
}

/** @param {string} text */
function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
