/**
 * The OpenTelemetry SDK, set up only when traces have somewhere to go: `telemetry.otlp` in the
 * config, or OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT in the environment
 * (read by the exporter as the OpenTelemetry spec says). The SDK packages are imported here, on
 * demand, so a Postroom that is not traced never loads them.
 *
 * What it sets up: a tracer provider whose spans go through a batch processor to the OTLP/HTTP
 * (JSON) exporter, an AsyncLocalStorage context manager (so a span stays active across awaits),
 * and the W3C trace-context propagator (`traceparent`, `tracestate`) the destinations use.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/schema.ts';

export interface Telemetry {
  /** Sends what is buffered and stops; spans after this are dropped. */
  shutdown(): Promise<void>;
}

export function tracingWanted(config: Config, env: NodeJS.ProcessEnv = process.env): boolean {
  return config.telemetry.otlp !== undefined || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Installs the SDK globally. `exporter` replaces the OTLP exporter (tests hand an in-memory
 * one); `simple` exports each span as it ends instead of in batches.
 */
export async function startTracing(config: Config, options: { exporter?: SpanExporter; simple?: boolean } = {}): Promise<Telemetry> {
  const [api, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { resourceFromAttributes }, sdk] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  let exporter = options.exporter;
  if (!exporter) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    const otlp = config.telemetry.otlp;
    exporter = new OTLPTraceExporter(otlp ? { url: `${otlp.endpoint.replace(/\/+$/, '')}/v1/traces`, headers: otlp.headers } : {});
  }
  const processor = options.simple ? new sdk.SimpleSpanProcessor(exporter) : new sdk.BatchSpanProcessor(exporter);
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.telemetry.serviceName }),
    spanProcessors: [processor],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown();
      api.trace.disable();
      api.propagation.disable();
      api.context.disable();
    },
  };
}
