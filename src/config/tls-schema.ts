/** TLS options of a connection to a server (IMAP, POP3, SMTP, HTTPS): one schema for all. */
import { z } from 'zod';
import { singleLine } from './single-line.ts';

export const tlsSchema = z
  .object({
    /** Verify the server certificate (default). Turn off only for a server you trust on a network you trust. */
    rejectUnauthorized: z.boolean().default(true),
    /** Extra CA certificate(s), PEM text or a path to a PEM file. */
    ca: z.string().optional(),
    servername: singleLine(z.string(), 'servername').optional(),
  })
  .strict();
