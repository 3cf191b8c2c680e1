/**
 * Reads postroom.yaml: YAML, then `${ENV}` interpolation (secrets stay out of the file), then the
 * zod schema. Every error names the field, its line, and what to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { type Document, isScalar, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { PostroomError } from '../model/errors.ts';
import { isPemText, readCaFile } from '../net/ca-file.ts';
import { type Config, type ConnectionConfig, configSchema } from './schema.ts';

export const DEFAULT_CONFIG_FILES = ['postroom.yaml', 'postroom.yml'];

export interface LoadedConfig {
  config: Config;
  path: string;
  /** The directory relative paths in the file are resolved against. */
  baseDir: string;
  warnings: string[];
}

export interface ConfigProblem {
  path: string;
  line?: number;
  message: string;
}

/** An invalid config file: the message `postroom validate` prints, and each problem (field, line, fix) for the API. */
export class ConfigInvalid extends PostroomError {
  constructor(
    detail: string,
    readonly problems: ConfigProblem[] = [],
  ) {
    super('CONFIG_INVALID', detail);
  }
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

/** Replaces ${NAME} and ${NAME:-default} in every string of the parsed YAML. */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[], problems: ConfigProblem[]): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{[^}]+\}$/.test(value);
    const text = value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({
        path: formatPath(path),
        message: `environment variable ${name} is not set: export it (e.g. ${name}=... postroom run) or give a default with \${${name}:-value}`,
      });
      return '';
    });
    // `enabled: ${FLAG}` or `port: ${PORT}`: a value that is one reference takes the type it reads as.
    if (whole && /^(true|false)$/.test(text)) return text === 'true';
    if (whole && /^\d+$/.test(text)) return Number(text);
    return text;
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, env, [...path, index], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env, [...path, key], problems)]));
  }
  return value;
}

function lineOf(doc: Document, counter: LineCounter, path: ReadonlyArray<PropertyKey>): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as Array<string | number>, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return counter.linePos(range[0]).line;
    if (isScalar(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

export function describeIssues(issues: z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

export function formatProblems(problems: ConfigProblem[], file?: string): string {
  return problems.map((p) => `  ${file ? `${file}${p.line ? `:${p.line}` : ''}: ` : ''}${p.path || '(top level)'}: ${p.message}`).join('\n');
}

/** Warnings: things that work but that the user most likely did not mean. */
/**
 * What is risky about one connection though valid: said by `validate` and `run` for the file, and
 * returned by the API with every connection it shows. `label` names it in the text.
 */
export function connectionWarnings(connection: ConnectionConfig, original: Record<string, unknown>, label: string): string[] {
  const warnings: string[] = [];
  if (connection.hostType === 'pop3' && original.deleteMessages === false) {
    warnings.push(`${label}.deleteMessages: POP3 always deletes emails after pickup (the protocol has no read flag); the setting is ignored`);
  }
  if (connection.hostType !== 'graph') {
    if (!connection.useSsl && !connection.startTls && connection.hostType === 'pop3')
      warnings.push(`${label} (${connection.name}): useSsl and startTls are off, so the password travels unencrypted`);
    // imapflow upgrades through STARTTLS whenever the server offers it: what happened is said after connecting.
    if (!connection.useSsl && !connection.startTls && connection.hostType === 'imap')
      warnings.push(
        `${label} (${connection.name}): useSsl and startTls are off: the password travels unencrypted unless the server offers STARTTLS (set startTls: true to require it)`,
      );
    if (!connection.tls.rejectUnauthorized)
      warnings.push(`${label} (${connection.name}): tls.rejectUnauthorized is off, so the server's certificate is not checked`);
  }
  return warnings;
}

export function configWarnings(raw: unknown, config: Config): string[] {
  const rawConnections = (raw as { connections?: Array<Record<string, unknown>> } | null)?.connections ?? [];
  return config.connections.flatMap((connection, index) => connectionWarnings(connection, rawConnections[index] ?? {}, `connections[${index}]`));
}

export function parseConfigText(text: string, options: { file?: string; env?: NodeJS.ProcessEnv } = {}): { config: Config; warnings: string[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigInvalid(`${options.file ?? 'config'} is not valid YAML:\n${doc.errors.map((e) => `  ${e.message}`).join('\n')}`);
  }
  const problems: ConfigProblem[] = [];
  const raw = interpolate(doc.toJS() ?? {}, options.env ?? process.env, [], problems);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) problems.push(...describeIssues(parsed.error.issues));
  if (problems.length) {
    for (const problem of problems) {
      const line = lineOf(
        doc,
        counter,
        problem.path
          .split(/\.|\[|\]/)
          .filter(Boolean)
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      );
      if (line !== undefined) problem.line = line;
    }
    throw new ConfigInvalid(`${options.file ?? 'the configuration'} has ${problems.length} problem(s):\n${formatProblems(problems, options.file)}`, problems);
  }
  const config = parsed.data!;
  return { config, warnings: configWarnings(raw, config) };
}

/** Relative paths in the file mean "relative to the file", wherever postroom is started from. */
function resolvePaths(config: Config, baseDir: string): Config {
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  const destinations = Object.fromEntries(
    Object.entries(config.destinations).map(([name, options]) => [
      name,
      typeof options.path === 'string' ? { ...options, path: absolute(options.path) } : options,
    ]),
  );
  const store = /^postgres(ql)?:\/\//.test(config.store) ? config.store : absolute(config.store);
  const api = config.api.tls ? { api: { ...config.api, tls: { cert: absolute(config.api.tls.cert), key: absolute(config.api.tls.key) } } } : {};
  const readCas = <T>(value: T, field: string): T => withCaFilesRead(value, field, absolute);
  return {
    ...config,
    store,
    ...(config.contentDir ? { contentDir: absolute(config.contentDir) } : {}),
    destinations: readCas(destinations, 'destinations'),
    connections: config.connections.map((connection, index) => readCas(connection, `connections[${index}]`)),
    ...api,
  };
}

/** A copy with every `tls.ca` that names a file replaced by the file's PEM text, read once, here. */
function withCaFilesRead<T>(value: T, field: string, absolute: (path: string) => string): T {
  if (Array.isArray(value)) return value.map((item, index) => withCaFilesRead(item, `${field}[${index}]`, absolute)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const path = `${field}.${key}`;
    if (key === 'ca' && field.endsWith('tls') && typeof item === 'string' && item !== '' && !isPemText(item)) out[key] = readCaFile(absolute(item), path);
    else out[key] = withCaFilesRead(item, path, absolute);
  }
  return out as T;
}

export function findConfigFile(explicit?: string, cwd = process.cwd()): string {
  const candidate = explicit ?? process.env.POSTROOM_CONFIG;
  if (candidate) {
    const path = resolve(cwd, candidate);
    if (!existsSync(path)) throw new PostroomError('CONFIG_NOT_FOUND', path, { hint: 'Check the --config path.' });
    return path;
  }
  for (const name of DEFAULT_CONFIG_FILES) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  throw new PostroomError('CONFIG_NOT_FOUND', `looked for ${DEFAULT_CONFIG_FILES.join(' and ')} in ${cwd}`, {
    hint: 'Copy postroom.example.yaml to postroom.yaml and edit it, or pass --config <file>.',
  });
}

export function loadConfig(explicit?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const path = findConfigFile(explicit);
  const { config, warnings } = parseConfigText(readFileSync(path, 'utf8'), { file: path, env });
  const baseDir = dirname(path);
  return { config: resolvePaths(config, baseDir), path, baseDir, warnings };
}
