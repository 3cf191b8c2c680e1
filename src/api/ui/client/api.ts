/** The browser's side of the REST API: bearer token, JSON, and errors that keep the field issues. */
import type { FieldIssue } from '../../validation.ts';

const TOKEN_KEY = 'postroom.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

export class Api {
  private token: string | null = sessionStorage.getItem(TOKEN_KEY);
  /** Called when the server says the token is missing or wrong (back to the login screen). */
  onUnauthorized: () => void = () => {};

  hasToken(): boolean {
    return this.token !== null;
  }

  setToken(token: string | null): void {
    this.token = token;
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  }

  /** X-Postroom-Request on every call: the server takes a mutation only with it or a JSON body (a page on another site can send neither). */
  private headers(json: boolean): Record<string, string> {
    return {
      'x-postroom-request': '1',
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...(json ? { 'content-type': 'application/json' } : {}),
    };
  }

  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await fetch(path, { method, headers: this.headers(body !== undefined), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (response.ok) return response;
    let code = 'HTTP_ERROR';
    let message = `${response.status} ${response.statusText}`;
    let issues: FieldIssue[] = [];
    try {
      const payload = (await response.json()) as { error?: string; message?: string; issues?: FieldIssue[] };
      code = payload.error ?? code;
      message = payload.message ?? message;
      issues = payload.issues ?? [];
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401) this.onUnauthorized();
    throw new ApiError(response.status, code, message, issues);
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.raw(method, path, body);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  /** Tries the token with a cheap authenticated call; true when it is accepted. */
  async login(token: string | null): Promise<void> {
    const previous = this.token;
    this.token = token;
    try {
      await this.raw('GET', '/api/destinations');
      this.setToken(token);
    } catch (error) {
      this.token = previous;
      throw error;
    }
  }
}

export const api = new Api();
