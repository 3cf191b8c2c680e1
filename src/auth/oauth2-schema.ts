/**
 * The `oauth2:` block of an IMAP / POP3 connection and of the email destination's `smtp:`.
 * Kept here rather than in config/schema.ts so that destinations can use it without importing
 * the config schema (which imports the destination registry: a cycle).
 */
import { z } from 'zod';

/** YAML (and a whole-value ${ENV}) reads `secret: 12345` as a number: take it as the text it is. */
const text = z.union([z.string(), z.number()]).transform(String);

export const oauth2Schema = z
  .object({
    /** Token endpoint for a refresh-token grant, or Microsoft's client-credentials flow. */
    tokenUrl: z.string().url().optional(),
    clientId: z.string().min(1),
    clientSecret: text.optional(),
    refreshToken: text.optional(),
    tenantId: z.string().optional(),
    scope: z.string().optional(),
    /** A bearer token given as is (mostly for tests and short-lived scripts). */
    accessToken: z.string().optional(),
  })
  .strict();

export type OAuth2Settings = z.output<typeof oauth2Schema>;
