/** Parses /metrics with a Prometheus text-format parser (parse-prometheus-text-format), typed. */
import { createRequire } from 'node:module';

export interface MetricSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: MetricSample[];
}

const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => MetricFamily[];

export function parsePrometheus(text: string): Map<string, MetricFamily> {
  return new Map(parse(text).map((family) => [family.name, family]));
}

/** The value of one series (by its connection label), or undefined when absent. */
export function sample(families: Map<string, MetricFamily>, name: string, connection?: string): MetricSample | undefined {
  return families.get(name)?.metrics.find((m) => connection === undefined || m.labels?.connection === connection);
}

export function metricValue(families: Map<string, MetricFamily>, name: string, connection?: string): number {
  return Number(sample(families, name, connection)?.value ?? 0);
}
