/**
 * Traces (OpenTelemetry): the one tracer every floor uses, and the W3C trace context a
 * destination sends so the receiver's trace continues Postroom's. Only the API is loaded here:
 * without an SDK (service/telemetry.ts sets one up when `telemetry.otlp` or
 * OTEL_EXPORTER_OTLP_ENDPOINT is set) every span is a no-op and no header is sent.
 */
import { context, propagation, type Tracer, trace } from '@opentelemetry/api';

export const TRACER_NAME = 'postroom';

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** `traceparent` (and `tracestate`) of the active span, for a destination's headers; empty when nothing is traced. */
export function traceHeaders(): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}
