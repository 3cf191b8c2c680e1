/**
 * The engine's spans: one per poll (`postroom.poll`), one per email, from pickup through commit to
 * acknowledge (`postroom.email`, a child of its poll), and one per delivery attempt
 * (`postroom.deliver`, a child of its email's span, so one trace covers an email from the
 * mailbox to the destination, and the destination passes it on as `traceparent`).
 *
 * A delivery finds its email's span through the W3C `traceparent` stored with each pipeline
 * message when the email was committed (outbox.trace_parent): the trace goes on whichever worker
 * delivers, after a restart, and for a dead letter replayed days later.
 */
import { type Attributes, context, ROOT_CONTEXT, type Span, type SpanContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { tracer } from '../model/tracing.ts';

/** Runs `work` inside a new active span, ending it with the outcome (an error marks it failed). */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  options: { parent?: SpanContext; kind?: SpanKind } = {},
): Promise<T> {
  const parent = options.parent ? trace.setSpanContext(ROOT_CONTEXT, options.parent) : context.active();
  const span = tracer().startSpan(name, { attributes, ...(options.kind !== undefined ? { kind: options.kind } : {}) }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** A span for one email, started under the active (poll) span and ended by the caller. */
export function startEmailSpan(connection: string, sourceKey: string): Span {
  return tracer().startSpan('postroom.email', { attributes: { 'postroom.connection': connection, 'postroom.source_key': sourceKey } });
}

/** The email span's W3C traceparent, stored with its pipeline messages; undefined when not traced. */
export function traceParentOf(span: Span): string | undefined {
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return undefined;
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/** W3C trace context 3.2: version 00, 32 hex trace id, 16 hex parent id, 2 hex flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function spanContextOf(traceParent: string | null): SpanContext | undefined {
  const match = traceParent ? TRACEPARENT.exec(traceParent) : null;
  if (!match) return undefined;
  const spanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16), isRemote: true };
  return trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** Runs one delivery attempt in a `postroom.deliver` span under its email's span, when it was traced. */
export function inDeliverySpan<T>(
  message: { id: string; connection: string; destination: string; attempts: number; traceParent: string | null },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = spanContextOf(message.traceParent);
  return inSpan(
    'postroom.deliver',
    {
      'postroom.message_id': message.id,
      'postroom.connection': message.connection,
      'postroom.destination': message.destination,
      'postroom.attempt': message.attempts + 1,
    },
    work,
    { kind: SpanKind.PRODUCER, ...(parent ? { parent } : {}) },
  );
}
