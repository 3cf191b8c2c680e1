/**
 * Every connection the worker polls: those of postroom.yaml (read-only) and those created through
 * the API (kept in the store, so they survive a restart). The worker asks `all()` on each tick; the
 * API changes stored ones here. Other workers sharing the store see changes on their next refresh.
 */
import type { Logger } from 'pino';
import type { Config, ConnectionConfig } from '../config/schema.ts';
import type { Clock } from '../engine/clock.ts';
import { PostroomError, errorMessage } from '../errors.ts';
import { SECRET_KEY_ENV, isSealed, secretBoxFromEnv, type SecretBox } from '../store/secret-box.ts';
import type { ManagedConnection, Store } from '../store/store.ts';
import { keepStoredSecrets, mapSecrets, secretsOf, validateConnection } from './connection-input.ts';
import { hostPolicyIssues, type HostPolicy } from './host-policy.ts';
import { RequestInvalid, isPlainObject } from './validation.ts';

/** How often stored connections are re-read, so a connection added on another worker is polled here too. */
export const CONNECTIONS_REFRESH_MS = 5_000;

export type ConnectionSource = 'config' | 'api';

export interface ConnectionEntry {
  name: string;
  source: ConnectionSource;
  enabled: boolean;
  /** The validated connection; absent when a stored one no longer validates (see `problem`). */
  config?: ConnectionConfig;
  /** As written: the stored input (API, secrets opened) or the parsed config (file). Holds secrets: never send it out. */
  input: Record<string, unknown>;
  problem?: string;
}

export interface ConnectionRegistryDeps {
  store: Store;
  config: Config;
  log: Logger;
  clock: Clock;
  /** Seals secrets before they are stored and opens them after; default: the keys in POSTROOM_SECRET_KEY(_PREVIOUS). */
  secrets?: SecretBox;
}

export class ConnectionRegistry {
  private readonly fromFile: Map<string, ConnectionEntry>;
  private stored = new Map<string, ConnectionEntry>();
  private polled: ConnectionConfig[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly secrets: SecretBox;

  private constructor(private readonly deps: ConnectionRegistryDeps) {
    this.secrets = deps.secrets ?? secretBoxFromEnv();
    this.fromFile = new Map(
      deps.config.connections.map((config) => [config.name, { name: config.name, source: 'config' as const, enabled: config.enabled, config, input: config as Record<string, unknown> }]),
    );
  }

  static async open(deps: ConnectionRegistryDeps): Promise<ConnectionRegistry> {
    const registry = new ConnectionRegistry(deps);
    await registry.sealStoredSecrets();
    await registry.refresh();
    return registry;
  }

  /** The connections to poll (the worker skips disabled ones). */
  all(): ConnectionConfig[] {
    return this.polled;
  }

  /** Every connection, config file first, for the API. */
  list(): ConnectionEntry[] {
    return [...this.fromFile.values(), ...[...this.stored.values()].sort((a, b) => a.name.localeCompare(b.name))];
  }

  get(name: string): ConnectionEntry | undefined {
    return this.fromFile.get(name) ?? this.stored.get(name);
  }

  private get policy(): HostPolicy {
    return { allowHosts: this.deps.config.api.allowHosts, allowPrivateHosts: this.deps.config.api.allowPrivateHosts };
  }

  /** Refuses (400, naming the field) a connection from the API that would reach a host the policy keeps out. */
  private async assertAllowed(config: ConnectionConfig): Promise<void> {
    const issues = await hostPolicyIssues(config, this.policy);
    if (issues.length) throw new RequestInvalid(issues);
  }

  private destinations(): string[] {
    return Object.keys(this.deps.config.destinations);
  }

  /** The input with each secret sealed, as it is stored; refused (SECRET_KEY_MISSING) while no key is set. */
  private sealed(input: Record<string, unknown>): Record<string, unknown> {
    return mapSecrets(input, (value) => this.secrets.seal(value));
  }

  /**
   * Start-up pass: rows whose secrets are plain text (stored before encryption) or sealed under
   * the previous key are written again under the current key. Without a key, says how many rows
   * keep plain-text secrets.
   */
  private async sealStoredSecrets(): Promise<void> {
    const rows = await this.deps.store.listManagedConnections();
    let sealed = 0;
    let plain = 0;
    for (const row of rows) {
      const secrets = secretsOf(row.config);
      if (!this.secrets.canSeal) {
        if (secrets.some(({ value }) => !isSealed(value))) plain++;
        continue;
      }
      if (!secrets.some(({ value }) => this.secrets.needsReseal(value))) continue;
      let next: Record<string, unknown>;
      try {
        next = mapSecrets(row.config, (value) => this.secrets.seal(this.secrets.open(value)));
      } catch {
        continue; // sealed under a key that is not set: the entry shows the problem
      }
      // Same updated_at: re-encrypting is not an edit. Only if nobody changed the row meanwhile.
      if (await this.deps.store.updateManagedConnection(row.name, { config: next, ifConfig: row.config }, row.updatedAt)) sealed++;
    }
    if (sealed) this.deps.log.info({ connections: sealed }, 'stored connection secrets encrypted under the current POSTROOM_SECRET_KEY');
    if (plain) this.deps.log.warn({ connections: plain }, `stored connections keep secrets in plain text: set ${SECRET_KEY_ENV} (e.g. openssl rand -hex 32) to encrypt them`);
  }

  private entryOf(row: ManagedConnection): ConnectionEntry {
    const entry: ConnectionEntry = { name: row.name, source: 'api', enabled: row.enabled, input: row.config };
    try {
      entry.input = mapSecrets(row.config, (value) => this.secrets.open(value));
    } catch (error) {
      entry.problem = `its secrets cannot be read: ${errorMessage(error)}`;
      return entry;
    }
    try {
      const valid = validateConnection({ ...entry.input, enabled: row.enabled }, this.destinations());
      entry.config = valid.config;
    } catch (error) {
      entry.problem = error instanceof RequestInvalid ? error.issues.map((i) => `${i.path}: ${i.message}`).join('; ') : errorMessage(error);
    }
    return entry;
  }

  private rebuild(): void {
    const stored = [...this.stored.values()].filter((entry) => !this.fromFile.has(entry.name) && entry.config);
    this.polled = [...this.deps.config.connections, ...stored.map((entry) => entry.config!)];
  }

  /** Re-reads stored connections. */
  async refresh(): Promise<void> {
    const rows = await this.deps.store.listManagedConnections();
    const next = new Map<string, ConnectionEntry>();
    for (const row of rows) {
      const entry = this.entryOf(row);
      // The policy may have changed since it was stored: literal addresses and allowHosts are checked on every read (no DNS here).
      const blocked = entry.config ? await hostPolicyIssues(entry.config, this.policy, async () => []) : [];
      if (blocked.length) {
        delete entry.config;
        entry.problem = blocked.map((i) => `${i.path}: ${i.message}`).join('; ');
      }
      if (entry.problem && !this.stored.get(row.name)?.problem) this.deps.log.warn({ connection: row.name, problem: entry.problem }, 'stored connection is not valid any more: not polled until it is fixed');
      next.set(row.name, entry);
    }
    this.stored = next;
    this.rebuild();
  }

  startRefreshing(intervalMs = CONNECTIONS_REFRESH_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.deps.log.warn({ err: error }, 'could not re-read stored connections'));
    }, intervalMs);
    this.timer.unref();
  }

  stopRefreshing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private storedOrThrow(name: string): ConnectionEntry {
    const entry = this.get(name);
    if (!entry) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
    if (entry.source === 'config') throw new PostroomError('CONNECTION_READ_ONLY', `"${name}" is defined in postroom.yaml`);
    return entry;
  }

  async create(body: unknown): Promise<ConnectionEntry> {
    const valid = validateConnection(body, this.destinations());
    const name = valid.config.name;
    await this.assertAllowed(valid.config);
    if (this.fromFile.has(name)) throw new RequestInvalid([{ path: 'name', message: `"${name}" is already defined in postroom.yaml; choose another name` }]);
    const now = this.deps.clock.now();
    const inserted = await this.deps.store.insertManagedConnection({ name, config: this.sealed(valid.input), enabled: valid.enabled, createdAt: now, updatedAt: now });
    if (!inserted) throw new PostroomError('CONNECTION_EXISTS', `"${name}"`, { hint: 'Edit it, or choose another name.' });
    const entry: ConnectionEntry = { name, source: 'api', enabled: valid.enabled, config: valid.config, input: valid.input };
    this.stored.set(name, entry);
    this.rebuild();
    return entry;
  }

  /** Replaces a stored connection's settings; secrets left out are kept. The name cannot change. */
  async update(name: string, body: unknown): Promise<ConnectionEntry> {
    const current = this.storedOrThrow(name);
    if (isPlainObject(body) && body.name !== undefined && body.name !== name) {
      throw new RequestInvalid([{ path: 'name', message: 'a connection cannot be renamed; delete it and add it under the new name' }]);
    }
    const withName = isPlainObject(body) ? { ...body, name } : body;
    const merged = keepStoredSecrets(withName, current.input);
    const enabledGiven = isPlainObject(body) && body.enabled !== undefined;
    const valid = validateConnection(enabledGiven ? merged : { ...(merged as Record<string, unknown>), enabled: current.enabled }, this.destinations());
    await this.assertAllowed(valid.config);
    const now = this.deps.clock.now();
    const updated = await this.deps.store.updateManagedConnection(name, { config: this.sealed(valid.input), enabled: valid.enabled }, now);
    if (!updated) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
    // New settings take effect at once: poll it now rather than at the old schedule.
    await this.deps.store.setNextDue(name, now);
    const entry: ConnectionEntry = { name, source: 'api', enabled: valid.enabled, config: valid.config, input: valid.input };
    this.stored.set(name, entry);
    this.rebuild();
    return entry;
  }

  async remove(name: string): Promise<void> {
    this.storedOrThrow(name);
    await this.deps.store.deleteManagedConnection(name);
    this.stored.delete(name);
    this.rebuild();
  }

  async setEnabled(name: string, enabled: boolean): Promise<ConnectionEntry> {
    const current = this.storedOrThrow(name);
    const now = this.deps.clock.now();
    await this.deps.store.updateManagedConnection(name, { enabled }, now);
    if (enabled) await this.deps.store.setNextDue(name, now);
    const entry: ConnectionEntry = { ...current, enabled, ...(current.config ? { config: { ...current.config, enabled } } : {}) };
    this.stored.set(name, entry);
    this.rebuild();
    return entry;
  }

  /**
   * The connection to test: the saved one, or (from the dialog, before saving) the body given,
   * with secrets left out taken from the saved connection of that name while the body still points
   * where they were saved for (never from postroom.yaml: a body must bring its own secrets there).
   */
  async forCheck(name: string, body?: unknown): Promise<{ config: ConnectionConfig; input: Record<string, unknown> }> {
    const current = this.get(name);
    if (body === undefined || (isPlainObject(body) && Object.keys(body).length === 0)) {
      if (!current) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
      if (!current.config) throw new PostroomError('CONFIG_INVALID', `"${name}": ${current.problem ?? 'not valid'}`);
      // postroom.yaml's own connections are the operator's: only API ones are held to the host policy.
      if (current.source === 'api') await this.assertAllowed(current.config);
      return { config: current.config, input: current.input };
    }
    const withName = isPlainObject(body) ? { ...body, name } : body;
    const valid = validateConnection(current ? keepStoredSecrets(withName, current.input, { fromFile: current.source === 'config' }) : withName, this.destinations());
    await this.assertAllowed(valid.config);
    return { config: valid.config, input: valid.input };
  }
}
