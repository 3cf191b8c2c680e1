/**
 * Every connection the worker polls: those of postroom.yaml (read-only) and those created through
 * the API (kept in the store, so they survive a restart). The worker asks `all()` on each tick; the
 * API changes stored ones here. Other workers sharing the store see changes on their next refresh.
 */
import type { Logger } from 'pino';
import type { Config, ConnectionConfig } from '../config/schema.ts';
import type { Clock } from '../model/clock.ts';
import { errorMessage, PostroomError } from '../model/errors.ts';
import { SECRET_KEY_HINT, SecretBox } from '../store/secret-box.ts';
import type { ManagedConnection, Store } from '../store/store.ts';
import { keepStoredSecrets, validateConnection } from './connection-input.ts';
import { needsResealing, openSecrets, sealSecrets, secretsOf } from './connection-secrets.ts';
import { checkHostsAllowed } from './host-guard.ts';
import { isPlainObject, RequestInvalid } from './validation.ts';

/** How often stored connections are re-read, so a connection added on another worker is polled here too. */
export const CONNECTIONS_REFRESH_MS = 5_000;

export type ConnectionSource = 'config' | 'api';

export interface ConnectionEntry {
  name: string;
  source: ConnectionSource;
  enabled: boolean;
  /** The validated connection; absent when a stored one no longer validates (see `problem`). */
  config?: ConnectionConfig;
  /** As written: the stored input (API) or the parsed config (file). Holds secrets: never send it out. */
  input: Record<string, unknown>;
  problem?: string;
}

export interface ConnectionRegistryDeps {
  store: Store;
  config: Config;
  log: Logger;
  clock: Clock;
  /** Seals secrets at rest; from POSTROOM_SECRET_KEY by default. */
  secrets?: SecretBox;
}

export class ConnectionRegistry {
  private readonly fromFile: Map<string, ConnectionEntry>;
  private stored = new Map<string, ConnectionEntry>();
  private polled: ConnectionConfig[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly box: SecretBox;

  private constructor(private readonly deps: ConnectionRegistryDeps) {
    this.box = deps.secrets ?? SecretBox.fromEnv();
    this.fromFile = new Map(
      deps.config.connections.map((config) => [
        config.name,
        { name: config.name, source: 'config' as const, enabled: config.enabled, config, input: config as Record<string, unknown> },
      ]),
    );
  }

  static async open(deps: ConnectionRegistryDeps): Promise<ConnectionRegistry> {
    const registry = new ConnectionRegistry(deps);
    await registry.sealPlainRows();
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

  /** API connections may point only where api.allowPrivateHosts / api.allowHosts say. */
  private async checkHosts(input: Record<string, unknown>): Promise<void> {
    await checkHostsAllowed(input, this.deps.config.api);
  }

  private destinations(): string[] {
    return Object.keys(this.deps.config.destinations);
  }

  /**
   * Rows written before secrets were sealed (or under a previous key) are sealed under the current
   * key once, when the store is opened with one.
   */
  private async sealPlainRows(): Promise<void> {
    if (!this.box.canSeal) return;
    let sealed = 0;
    for (const row of await this.deps.store.listManagedConnections()) {
      if (!needsResealing(row.config, this.box)) continue;
      try {
        await this.deps.store.updateManagedConnection(row.name, { config: sealSecrets(row.config, this.box) }, row.updatedAt);
        sealed += 1;
      } catch (error) {
        this.deps.log.warn({ connection: row.name, err: error }, 'could not encrypt the stored secrets of a connection');
      }
    }
    if (sealed) this.deps.log.info({ connections: sealed, keyId: this.box.keyId }, 'encrypted the stored secrets of connections with POSTROOM_SECRET_KEY');
  }

  /** What to write to the store: the input with its secrets sealed (refused when there is a secret and no key). */
  private toStored(input: Record<string, unknown>): Record<string, unknown> {
    if (secretsOf(input).length > 0 && !this.box.canSeal)
      throw new PostroomError('SECRET_KEY_MISSING', 'a connection with a password or secret was not saved', { hint: SECRET_KEY_HINT });
    return sealSecrets(input, this.box);
  }

  private entryOf(row: ManagedConnection): ConnectionEntry {
    const entry: ConnectionEntry = { name: row.name, source: 'api', enabled: row.enabled, input: row.config };
    try {
      entry.input = openSecrets(row.config, this.box);
    } catch (error) {
      entry.problem = `${errorMessage(error)}: not polled until that key is set`;
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
      if (entry.problem && !this.stored.get(row.name)?.problem)
        this.deps.log.warn({ connection: row.name, problem: entry.problem }, 'stored connection is not valid any more: not polled until it is fixed');
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
    await this.checkHosts(valid.input);
    const name = valid.config.name;
    if (this.fromFile.has(name)) throw new RequestInvalid([{ path: 'name', message: `"${name}" is already defined in postroom.yaml; choose another name` }]);
    const now = this.deps.clock.now();
    const inserted = await this.deps.store.insertManagedConnection({
      name,
      config: this.toStored(valid.input),
      enabled: valid.enabled,
      createdAt: now,
      updatedAt: now,
    });
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
    await this.checkHosts(valid.input);
    const now = this.deps.clock.now();
    const updated = await this.deps.store.updateManagedConnection(name, { config: this.toStored(valid.input), enabled: valid.enabled }, now);
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
   * with secrets left out taken from the saved connection of that name when the body still sends
   * them to the same server (never from a postroom.yaml connection).
   */
  async forCheck(name: string, body?: unknown): Promise<ConnectionConfig> {
    const current = this.get(name);
    if (body === undefined || (isPlainObject(body) && Object.keys(body).length === 0)) {
      if (!current) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
      if (!current.config) throw new PostroomError('CONFIG_INVALID', `"${name}": ${current.problem ?? 'not valid'}`);
      return current.config;
    }
    const withName = isPlainObject(body) ? { ...body, name } : body;
    const valid = validateConnection(current ? keepStoredSecrets(withName, current.input, { carry: current.source === 'api' }) : withName, this.destinations());
    await this.checkHosts(valid.input);
    return valid.config;
  }
}
