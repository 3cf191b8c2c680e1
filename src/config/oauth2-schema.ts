/**
 * The `oauth2:` block of an IMAP / POP3 connection and of the email destination's `smtp:`.
 * Kept here rather than in config/schema.ts so that destinations can use it without importing
 * the config schema (which imports the destination registry: a cycle).
 */
import { z } from 'zod';
import { singleLine } from './single-line.ts';

/** YAML (and a whole-value ${ENV}) reads `secret: 12345` as a number: take it as the text it is. */
const text = z.union([z.string(), z.number()]).transform(String);

export const oauth2Schema = z
  .object({
    /** Token endpoint for a refresh-token grant, or Microsoft's client-credentials flow. */
    tokenUrl: singleLine(z.string().url(), 'tokenUrl').optional(),
    clientId: singleLine(z.string().min(1), 'clientId'),
    clientSecret: text.pipe(singleLine(z.string(), 'clientSecret')).optional(),
    refreshToken: text.pipe(singleLine(z.string(), 'refreshToken')).optional(),
    tenantId: singleLine(z.string(), 'tenantId').optional(),
    scope: singleLine(z.string(), 'scope').optional(),
    /** A bearer token given as is (mostly for tests and short-lived scripts). */
    accessToken: singleLine(z.string(), 'accessToken').optional(),
  })
  .strict();

export type OAuth2Settings = z.output<typeof oauth2Schema>;
