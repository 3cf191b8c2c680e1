/** The email destination's options: validating a config loads this, not the SMTP client. */
import { z } from 'zod';
import { oauth2Schema } from '../oauth2-schema.ts';
import { singleLine } from '../single-line.ts';
import { tlsSchema } from '../tls-schema.ts';

const addresses = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((value) => (Array.isArray(value) ? value : [value]));

const smtpOptions = z
  .object({
    host: singleLine(z.string().min(1), 'host').describe('SMTP server host name.'),
    port: z.number().int().min(1).max(65535).optional().describe('SMTP port; default 465 with `secure`, else 587.'),
    secure: z.boolean().default(false).describe('Implicit TLS (port 465); otherwise STARTTLS on the plain port.'),
    startTls: z.boolean().default(true).describe('Require STARTTLS on the plain port (default); `false` sends in plain text.'),
    username: singleLine(z.string().min(1), 'username').optional().describe('SMTP user name.'),
    password: z
      .union([z.string(), z.number()])
      .transform(String)
      .pipe(singleLine(z.string(), 'password'))
      .optional()
      .describe('SMTP password, e.g. `${SMTP_PASSWORD}`; or `oauth2` instead.'),
    oauth2: oauth2Schema.optional().meta({
      description: "XOAUTH2 instead of a password: the same block as a connection's `oauth2` (see Microsoft 365 (Graph) and OAuth2).",
      collapse: true,
    }),
    tls: tlsSchema.prefault({}).describe('How the server certificate is checked.'),
  })
  .strict();

const graphOptions = z
  .object({
    tenantId: singleLine(z.string().min(1), 'tenantId').describe('The Microsoft Entra tenant (directory) id.'),
    clientId: singleLine(z.string().min(1), 'clientId').describe("The app registration's client id."),
    clientSecret: singleLine(z.string(), 'clientSecret').optional().describe("The app's client secret; or `certificate`."),
    certificate: z
      .object({
        thumbprint: z.string().describe('SHA-1 thumbprint of the certificate uploaded to the app (hex).'),
        privateKey: z.string().describe('Its private key, PEM text.'),
      })
      .strict()
      .optional()
      .describe('Sign in with a certificate instead of a client secret.'),
    mailbox: singleLine(z.string().min(1), 'mailbox').describe('The mailbox that sends (the app needs the Mail.Send application permission).'),
    graphEndpoint: z.string().url().default('https://graph.microsoft.com').describe("Graph's address (national clouds have their own)."),
    authorityHost: z.string().url().default('https://login.microsoftonline.com').describe('Where tokens come from (national clouds have their own).'),
    tls: tlsSchema.prefault({}).describe('How the server certificate is checked.'),
  })
  .strict();

export const emailOptions = z
  .object({
    type: z.literal('email'),
    from: z.string().min(1, 'give the sender address').describe('The sender address, e.g. `Postroom <postroom@example.com>`.'),
    to: addresses.describe('Recipient address, or a list.'),
    cc: addresses.optional().describe('Cc address, or a list.'),
    subject: z.string().default('{subject}').describe('Subject; `{subject}`, `{filename}`, `{connection}` and `{kind}` are replaced from the envelope.'),
    smtp: smtpOptions.optional().describe('Send through SMTP (give `smtp` or `graph`).'),
    graph: graphOptions.optional().describe('Send through Microsoft Graph sendMail (give `smtp` or `graph`).'),
    /**
     * The throttle account whose pause stops sending. Defaults to the sending account itself
     * (`<smtp host>/<username>`, or `graph/<mailbox>`, the same as a Graph connection reading it);
     * name a reading connection's account (e.g. `outlook.office365.com/orders@contoso.com`) to
     * pause sending while that one is throttled.
     */
    throttleAccount: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The throttle account whose pause stops sending; default the sending account (`<smtp host>/<username>` or `graph/<mailbox>`). Name a reading connection's account to pause while it is throttled.",
      ),
    throttlePattern: z.string().optional().describe("Extra throttling patterns for SMTP replies, as a connection's `throttlePattern`."),
    format: z
      .enum(['raw', 'cloudevents'], {
        error: () => 'format is raw or cloudevents for an email destination (an email has its content as the attachment, so there is no structured mode)',
      })
      .default('raw')
      .describe(
        "`raw`: Postroom's `X-Postroom-*` headers; `cloudevents`: also each CloudEvents 1.0 attribute as a `ce-<name>` header of the email (named and percent-encoded as in the HTTP binding), the data being the attachment (or the body).",
      ),
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
