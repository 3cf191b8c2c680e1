/** The email destination's options: validating a config loads this, not the SMTP client. */
import { z } from 'zod';
import { oauth2Schema } from '../oauth2-schema.ts';
import { singleLine } from '../single-line.ts';
import { tlsSchema } from '../tls-schema.ts';

const addresses = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((value) => (Array.isArray(value) ? value : [value]));

const smtpOptions = z
  .object({
    host: singleLine(z.string().min(1), 'host'),
    port: z.number().int().min(1).max(65535).optional(),
    /** Implicit TLS (port 465); otherwise STARTTLS is required on the plain port unless startTls is false. */
    secure: z.boolean().default(false),
    startTls: z.boolean().default(true),
    username: singleLine(z.string().min(1), 'username').optional(),
    password: z.union([z.string(), z.number()]).transform(String).pipe(singleLine(z.string(), 'password')).optional(),
    oauth2: oauth2Schema.optional(),
    tls: tlsSchema.prefault({}),
  })
  .strict();

const graphOptions = z
  .object({
    tenantId: singleLine(z.string().min(1), 'tenantId'),
    clientId: singleLine(z.string().min(1), 'clientId'),
    clientSecret: singleLine(z.string(), 'clientSecret').optional(),
    certificate: z.object({ thumbprint: z.string(), privateKey: z.string() }).strict().optional(),
    /** The mailbox that sends (needs the Mail.Send application permission). */
    mailbox: singleLine(z.string().min(1), 'mailbox'),
    graphEndpoint: z.string().url().default('https://graph.microsoft.com'),
    authorityHost: z.string().url().default('https://login.microsoftonline.com'),
    tls: tlsSchema.prefault({}),
  })
  .strict();

export const emailOptions = z
  .object({
    type: z.literal('email'),
    from: z.string().min(1, 'give the sender address'),
    to: addresses,
    cc: addresses.optional(),
    subject: z.string().default('{subject}'),
    smtp: smtpOptions.optional(),
    graph: graphOptions.optional(),
    /**
     * The throttle account whose pause stops sending. Defaults to the sending account itself
     * (`<smtp host>/<username>`, or `graph/<mailbox>`, the same as a Graph connection reading it);
     * name a reading connection's account (e.g. `outlook.office365.com/orders@contoso.com`) to
     * pause sending while that one is throttled.
     */
    throttleAccount: z.string().min(1).optional(),
    /** Extra throttling patterns for SMTP replies, as a connection's throttlePattern. */
    throttlePattern: z.string().optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (!options.smtp === !options.graph) ctx.addIssue({ code: 'custom', path: ['smtp'], message: 'give either smtp: or graph: (how the email is sent)' });
    if (options.smtp && options.smtp.password === undefined && !options.smtp.oauth2 && options.smtp.username !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['smtp', 'password'], message: 'give a password (e.g. password: ${SMTP_PASSWORD}) or an oauth2 block' });
    }
    if (options.graph && !options.graph.clientSecret && !options.graph.certificate) {
      ctx.addIssue({ code: 'custom', path: ['graph', 'clientSecret'], message: 'give clientSecret or certificate' });
    }
  });

export type EmailOptions = z.infer<typeof emailOptions>;
