/** TLS options of a connection to a server (IMAP, POP3, SMTP, HTTPS): one schema for all. */
import { z } from 'zod';
import { singleLine } from './single-line.ts';

/** What every `tls.ca` takes, said once (the README's field reference shows it). */
export const CA_DESCRIPTION =
  'CA certificate(s) to trust: PEM text (`-----BEGIN CERTIFICATE-----…`), or in postroom.yaml the path of a PEM file, relative to it, read once at start (the API takes PEM text only).';

export const tlsSchema = z
  .object({
    rejectUnauthorized: z
      .boolean()
      .default(true)
      .describe('Verify the server certificate (default). Turn off only for a server you trust on a network you trust.'),
    ca: z.string().optional().describe(CA_DESCRIPTION),
    servername: singleLine(z.string(), 'servername').optional().describe('The name to check the certificate against, when it is not the host.'),
  })
  .strict();
