/**
 * Redis Streams destination (ioredis): one XADD per pipeline message, counted as delivered once
 * Redis has answered.
 *
 * An XADD id is not an idempotency key (Redis makes a new one each time, and an id given by the
 * client must grow), so the guard lives in Redis: one Lua script, which Redis runs atomically,
 * looks for `<stream>:postroom:seen:<pipeline message id>`, and only when it is absent adds the
 * entry and sets that key (kept for `deduplicationWindow`). A redelivery after a crash between
 * the XADD and the outbox update, or a second worker delivering the same message, adds nothing.
 *
 * The entry's fields: `id` (the pipeline message id), `connection`, `kind`, `filename`,
 * `content-type`, `size`, `envelope` (the envelope as JSON), `traceparent` when Postroom is
 * traced, and either `content` (the bytes, up to `maxInlineBytes`) or `content-key`: a claim
 * check, the key of a string holding the bytes (`<stream>:postroom:content:<id>`, set in the
 * same script, expiring after `contentTtl`), which the reader fetches with GET. `maxLength`
 * trims the stream with `MAXLEN ~` on each XADD.
 *
 * CloudEvents (Redis has no binding of its own; this follows the HTTP binding's naming):
 * `format: cloudevents` adds each event attribute as a field `ce-<name>` (the value as it is, a
 * Redis field is binary-safe), `content-type` being datacontenttype; `format: cloudevents-structured`
 * makes `content` (or the claim-checked string) one CloudEvents JSON document with the content
 * as `data_base64`, and `content-type` application/cloudevents+json. A reader hands the fields
 * to the CloudEvents SDK as headers (`HTTP.toEvent({ headers, body })`).
 *
 * ioredis sends each command whole, so content is capped by `maxMessageBytes` and concurrent
 * deliveries hold at most that much. One connection is shared by every delivery; it reconnects
 * by itself, and a delivery while it is down fails at once (and is retried) rather than waiting.
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from '../config/destinations/redis-options.ts';
import type { DeliveryReceipt, Destination, DestinationContext, OutgoingMessage } from '../model/destination.ts';
import type { Envelope } from '../model/envelope.ts';
import { PostroomError } from '../model/errors.ts';
import { traceHeaders } from '../model/tracing.ts';
import { isPemText, readCaFile } from '../net/ca-file.ts';
import { eventAttributes, STRUCTURED_CONTENT_TYPE, structuredEventBuffer } from './cloudevents.ts';
import { memoryBudget, readWhole } from './whole-content.ts';

export { type RedisOptions, redisOptions } from '../config/destinations/redis-options.ts';

/**
 * KEYS: stream, guard, content key. ARGV: guard ttl (ms), MAXLEN ('0': none), content ttl (ms,
 * '0': inline), content (claim check only), then the entry's field/value pairs.
 * Returns {1, entry id} when it added the entry, {0, entry id} when the guard says it is there.
 */
const GUARDED_XADD = `
local seen = redis.call('GET', KEYS[2])
if seen then return {0, seen} end
if ARGV[3] ~= '0' then redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[3]) end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
local id
if ARGV[2] ~= '0' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
else
  id = redis.call('XADD', KEYS[1], '*', unpack(fields))
end
redis.call('SET', KEYS[2], id, 'PX', ARGV[1])
return {1, id}
`;

interface GuardedRedis extends Redis {
  guardedXadd(stream: string, guard: string, contentKey: string, ...args: Array<string | Buffer>): Promise<[number, string]>;
}

/** Redis as people may see it: host and port, never the password in the URL. */
function serverName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'Redis';
  }
}

function fill(template: string, envelope: Envelope): string {
  return template.replaceAll('{connection}', envelope.connection).replaceAll('{kind}', envelope.kind);
}

/** The keys the destination writes next to a stream, as the README documents them. */
export function guardKey(stream: string, id: string): string {
  return `${stream}:postroom:seen:${id}`;
}
export function contentKey(stream: string, id: string): string {
  return `${stream}:postroom:content:${id}`;
}

export function createRedisDestination(name: string, options: RedisOptions, context: DestinationContext): Destination {
  const where = serverName(options.url);
  const budget = memoryBudget(options.maxMessageBytes);
  let client: GuardedRedis | undefined;

  const open = (): GuardedRedis => {
    const ca = options.tls?.ca === undefined ? undefined : isPemText(options.tls.ca) ? options.tls.ca : readCaFile(options.tls.ca);
    const redis = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.timeout,
      commandTimeout: options.timeout,
      // A command while disconnected fails at once (the outbox retries it) instead of queueing.
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 200, 5_000),
      connectionName: `postroom:${name}`,
      ...(options.url.startsWith('rediss://') ? { tls: { rejectUnauthorized: options.tls?.rejectUnauthorized ?? true, ...(ca ? { ca } : {}) } } : {}),
    }) as GuardedRedis;
    let reported = false;
    redis.on('error', (error: Error) => {
      if (reported) return;
      reported = true;
      context.log.warn({ server: where, err: error.message }, 'Redis connection failed; deliveries are retried while it reconnects');
    });
    redis.on('ready', () => {
      reported = false;
    });
    redis.defineCommand('guardedXadd', { numberOfKeys: 3, lua: GUARDED_XADD });
    return redis;
  };

  return {
    name,
    type: 'redis',
    async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
      const { envelope } = message;
      if (envelope.size > options.maxMessageBytes) {
        throw new PostroomError(
          'DELIVERY_REJECTED',
          `${envelope.id} (${envelope.filename}) is ${envelope.size} bytes, over maxMessageBytes ${options.maxMessageBytes} of destination "${name}"`,
          {
            hint: 'the Redis client sends each message whole: raise maxMessageBytes, or send large attachments to a webhook or directory destination',
          },
        );
      }
      const stream = fill(options.stream, envelope);
      await budget.take(envelope.size);
      try {
        const trace = traceHeaders();
        const whole = await readWhole(message, options.maxMessageBytes, `maxMessageBytes of destination "${name}"`);
        const attributes = options.format === 'raw' ? undefined : eventAttributes(envelope, trace);
        const structured = options.format === 'cloudevents-structured';
        const content = structured ? structuredEventBuffer(attributes!, whole) : whole;
        const inline = content.length <= options.maxInlineBytes;
        const fields: Array<string | Buffer> = [
          'id',
          envelope.id,
          'connection',
          envelope.connection,
          'kind',
          envelope.kind,
          'filename',
          envelope.filename,
          'content-type',
          structured ? STRUCTURED_CONTENT_TYPE : envelope.contentType,
          'size',
          String(content.length),
          'envelope',
          JSON.stringify(envelope),
          ...Object.entries(trace).flat(),
          ...(options.format === 'cloudevents'
            ? Object.entries(attributes!).flatMap(([attribute, value]) => (attribute === 'datacontenttype' ? [] : [`ce-${attribute}`, String(value)]))
            : []),
          ...(inline ? ['content', content] : ['content-key', contentKey(stream, envelope.id)]),
        ];
        client ??= open();
        if (client.status === 'wait') await client.connect();
        const [added, entry] = await client.guardedXadd(
          stream,
          guardKey(stream, envelope.id),
          contentKey(stream, envelope.id),
          String(options.deduplicationWindow),
          String(options.maxLength ?? 0),
          inline ? '0' : String(options.contentTtl),
          inline ? '' : content,
          ...fields,
        );
        if (!added) context.log.debug({ id: envelope.id, stream, entry }, 'already in the Redis stream; not added again');
        return { reply: `Redis stream ${stream} entry ${entry}${added ? '' : ' (already there: not added again)'}` };
      } catch (error) {
        if (error instanceof PostroomError) throw error;
        throw new PostroomError('DELIVERY_FAILED', `Redis at ${where} did not take ${envelope.id}: ${(error as Error).message}`, { cause: error });
      } finally {
        budget.give(envelope.size);
      }
    },
    async close(): Promise<void> {
      const current = client;
      client = undefined;
      if (!current) return;
      await current.quit().catch(() => current.disconnect());
    },
  };
}
