/**
 * Field-level validation errors for the REST API: a zod failure becomes `400` with
 * `{ error, message, issues: [{ path: 'port', message }] }`, the path written as in the config file.
 */
import type { z } from 'zod';
import { formatPath } from '../config/load-config.ts';
import { PostroomError } from '../model/errors.ts';

export interface FieldIssue {
  /** The field, as written in postroom.yaml: `port`, `tls.ca`, `oauth2.clientId`. */
  path: string;
  message: string;
}

export class RequestInvalid extends PostroomError {
  readonly issues: FieldIssue[];

  constructor(issues: FieldIssue[]) {
    super('CONFIG_INVALID', issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; '));
    this.issues = issues;
  }
}

export function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** Parses with a zod schema; a failure throws RequestInvalid naming each field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RequestInvalid(issuesOf(parsed.error));
  return parsed.data;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
