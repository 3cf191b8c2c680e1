/**
 * The engine's spans: one per poll (`postroom.poll`), one per email, from pickup through commit to
 * acknowledge (`postroom.email`, a child of its poll), and one per delivery attempt
 * (`postroom.deliver`, a child of its email's span, so one trace covers an email from the
 * mailbox to the destination, and the destination passes it on as `traceparent`).
 *
 * A delivery finds its email's span through the pipeline message id, remembered in this process
 * for the last REMEMBERED_EMAILS pipeline messages committed: a message delivered by another
 * worker, or after a restart, starts a trace of its own (with the message id as an attribute).
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type SpanContext } from '@opentelemetry/api';
import { tracer } from '../model/tracing.ts';

const REMEMBERED_EMAILS = 10_000;
const emailSpans = new Map<string, SpanContext>();

/** Runs `work` inside a new active span, ending it with the outcome (an error marks it failed). */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>, options: { parent?: SpanContext; kind?: SpanKind } = {}): Promise<T> {
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

/** The email's committed pipeline messages, so their deliveries continue its trace. */
export function rememberEmailSpan(messageIds: string[], span: Span): void {
  const spanContext = span.spanContext();
  if (!trace.isSpanContextValid(spanContext)) return;
  for (const id of messageIds) {
    emailSpans.delete(id);
    emailSpans.set(id, spanContext);
  }
  for (const oldest of emailSpans.keys()) {
    if (emailSpans.size <= REMEMBERED_EMAILS) break;
    emailSpans.delete(oldest);
  }
}

/** Runs one delivery attempt in a `postroom.deliver` span under its email's span, when this process knows it. */
export function inDeliverySpan<T>(message: { id: string; connection: string; destination: string; attempts: number }, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = emailSpans.get(message.id);
  return inSpan(
    'postroom.deliver',
    { 'postroom.message_id': message.id, 'postroom.connection': message.connection, 'postroom.destination': message.destination, 'postroom.attempt': message.attempts + 1 },
    work,
    { kind: SpanKind.PRODUCER, ...(parent ? { parent } : {}) },
  );
}
