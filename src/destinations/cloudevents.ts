/**
 * CloudEvents 1.0 (cloudevents.io) for the destinations that offer `format: cloudevents`
 * (binary content mode: the attributes beside the content) or `format: cloudevents-structured`
 * (one JSON document, the content as `data_base64`).
 *
 * The attributes of a pipeline message:
 *   - `specversion` 1.0, `id` the pipeline message id, `source` /postroom/connections/<connection>,
 *     `type` email.body.received, email.attachment.received or email.original.received,
 *     `time` envelope.receivedAt, `subject` the file name, `datacontenttype` the content type;
 *   - extensions (lowercase names, as the spec requires): `connection`, `partindex`, `sha256`,
 *     and when the part has them `emailmessageid`, `inline`, `contentid`, `method`; `traceparent`
 *     (and `tracestate`) of the delivery's span when Postroom is traced (the distributed tracing
 *     extension);
 *   - a text attribute longer than MAX_TEXT_ATTRIBUTE characters is left out (a header must stay
 *     small; the envelope has every field in full). What CloudEvents cannot carry (recipients,
 *     the source key, nested fields) stays in the envelope, which travels beside the event as
 *     each destination documents (`Postroom-Envelope`).
 *
 * Bindings: HTTP and NATS put each attribute in a `ce-<name>` header, the value percent-encoded
 * as the HTTP binding says (3.1.3.2) and `datacontenttype` as Content-Type; AMQP puts them in
 * application properties named `cloudEvents:<name>`, typed (integers and booleans as such).
 */
import { type Readable, Transform } from 'node:stream';
import type { Envelope } from '../model/envelope.ts';

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';
/** Longer text attributes are left out rather than cut: a cut value would be a wrong value. */
export const MAX_TEXT_ATTRIBUTE = 256;

export type AttributeValue = string | number | boolean;

/** The CloudEvents `type` of each kind of pipeline message. */
export function eventType(kind: Envelope['kind']): string {
  return `email.${kind}.received`;
}

export function eventSource(connection: string): string {
  return `/postroom/connections/${connection}`;
}

/** Every attribute of the event (datacontenttype included), in a stable order. */
export function eventAttributes(envelope: Envelope, extra: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: envelope.id,
    source: eventSource(envelope.connection),
    type: eventType(envelope.kind),
    time: envelope.receivedAt,
    subject: envelope.filename,
    datacontenttype: envelope.contentType,
    connection: envelope.connection,
    partindex: envelope.partIndex,
    sha256: envelope.sha256,
    ...(envelope.email.messageId ? { emailmessageid: envelope.email.messageId } : {}),
    ...(envelope.inline !== undefined ? { inline: envelope.inline } : {}),
    ...(envelope.contentId ? { contentid: envelope.contentId } : {}),
    ...(envelope.method ? { method: envelope.method } : {}),
    ...extra,
  };
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'string' && value.length > MAX_TEXT_ATTRIBUTE && !REQUIRED.has(name)) delete attributes[name];
  }
  return attributes;
}

const REQUIRED = new Set(['specversion', 'id', 'source', 'type']);

/**
 * HTTP binding 3.1.3.2: a header value is UTF-8, and every byte outside printable ASCII, and
 * space, double quote and percent, is percent-encoded.
 */
export function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `ce-<name>` headers for HTTP and NATS; datacontenttype is left to Content-Type. */
export function binaryHeaders(attributes: Record<string, AttributeValue>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'datacontenttype') continue;
    headers[`ce-${name}`] = percentEncode(String(value));
  }
  return headers;
}

/** AMQP binding: application properties `cloudEvents:<name>`, typed; datacontenttype is the message's content-type. */
export function amqpProperties(attributes: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const properties: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) if (name !== 'datacontenttype') properties[`cloudEvents:${name}`] = value;
  return properties;
}

/** Bytes of base64 for `size` bytes of content. */
function base64Length(size: number): number {
  return Math.ceil(size / 3) * 4;
}

/**
 * The structured document, streamed: the attributes as JSON, then `data_base64` encoded as the
 * content goes by (never whole in memory). `length` is exact, for Content-Length.
 */
export function structuredEvent(attributes: Record<string, AttributeValue>, size: number): { length: number; open(content: Readable): Readable } {
  const head = Buffer.from(`${JSON.stringify(attributes).slice(0, -1)},"data_base64":"`, 'utf8');
  const tail = Buffer.from('"}', 'utf8');
  return {
    length: head.length + base64Length(size) + tail.length,
    open(content) {
      let carry: Buffer = Buffer.alloc(0);
      const encoder = new Transform({
        construct(callback) {
          this.push(head);
          callback();
        },
        transform(chunk: Buffer, _encoding, callback) {
          const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
          const whole = bytes.length - (bytes.length % 3);
          carry = bytes.subarray(whole);
          callback(null, whole ? Buffer.from(bytes.subarray(0, whole).toString('base64'), 'ascii') : undefined);
        },
        flush(callback) {
          if (carry.length) this.push(Buffer.from(carry.toString('base64'), 'ascii'));
          this.push(tail);
          callback();
        },
      });
      content.on('error', (error) => encoder.destroy(error));
      return content.pipe(encoder);
    },
  };
}

/** The whole structured document, for destinations that send a message whole (AMQP, NATS). */
export function structuredEventBuffer(attributes: Record<string, AttributeValue>, content: Buffer): Buffer {
  return Buffer.from(JSON.stringify({ ...attributes, data_base64: content.toString('base64') }), 'utf8');
}
