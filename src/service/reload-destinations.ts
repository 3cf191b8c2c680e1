/**
 * Reloading a running service's destinations from its config file (SIGHUP, or
 * POST /api/destinations/reload): the whole file is read and validated exactly as at start-up,
 * `${VAR}` expanded from this process's own environment. An invalid file changes nothing. Each
 * destination whose settings changed is built anew and swapped in for the next delivery (the
 * worker closes the old one once its deliveries under way are over). What a running service
 * cannot apply (a destination added or removed, other sections such as connections) is left as
 * it was and said, in the answer and in the one log line each reload writes.
 */
import type { Logger } from 'pino';
import type { DestinationReload } from '../api/schemas.ts';
import { configChanges } from '../config/config-changes.ts';
import { loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import type { Worker } from '../engine/worker.ts';
import { errorMessage } from '../model/errors.ts';

const RESTART = 'restart `postroom run` to apply it';

export interface ReloadTarget {
  file: string;
  worker: Worker;
  log: Logger;
  /** The configuration running now: the file at start-up, with the destinations reloads applied. */
  running: Config;
}

/** Reads the file again and applies its destinations' changes; returns the answer and the configuration now running. */
export function reloadDestinations(target: ReloadTarget, by: string): { answer: DestinationReload; running: Config } {
  const { file, worker, log } = target;
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(file, process.env);
  } catch (error) {
    log.error({ by, file }, `destinations not reloaded (asked by ${by}): nothing changed: ${errorMessage(error)}`);
    throw error;
  }
  const changes = configChanges(target.running, loaded.config);
  const notApplied: DestinationReload['notApplied'] = [
    ...changes.added.map((name) => ({ name, reason: `destination added: a new destination needs a restart (its delivery lane is made at start); ${RESTART}` })),
    ...changes.removed.map((name) => ({ name, reason: `destination removed: still delivered to with its old settings until a restart; ${RESTART}` })),
    ...changes.otherSections.map((name) => ({ name, reason: `${name} changed: a running service does not apply it; ${RESTART}` })),
  ];
  const changed: DestinationReload['changed'] = [];
  let destinations = target.running.destinations;
  for (const change of changes.changed) {
    const options = loaded.config.destinations[change.name]!;
    try {
      worker.swapDestination(change.name, options);
      changed.push(change);
      destinations = { ...destinations, [change.name]: options };
    } catch (error) {
      notApplied.push({ name: change.name, reason: `not swapped in, the old settings stay: ${errorMessage(error)}` });
    }
  }
  const answer: DestinationReload = { file, changed, unchanged: changes.unchanged, notApplied, warnings: loaded.warnings };
  // One line per reload, naming destinations and fields, never a value.
  const said = changed.length ? changed.map((c) => `${c.name} (${c.fields.join(', ')})`).join(', ') : 'none';
  const left = notApplied.length ? `; not applied, needs a restart: ${notApplied.map((n) => n.name).join(', ')}` : '';
  log[notApplied.length ? 'warn' : 'info'](
    { by, file, changed: changed.map((c) => c.name), unchanged: changes.unchanged, notApplied: notApplied.map((n) => n.name) },
    `destinations reloaded from ${file} (asked by ${by}): changed: ${said}${left}`,
  );
  return { answer, running: { ...target.running, destinations } };
}
