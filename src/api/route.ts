/**
 * One REST operation per file under routes/, each described by an ApiRoute: the server registers
 * it and the OpenAPI document is generated from the same description (zod schemas included).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Config } from '../config/schema.ts';
import type { Worker } from '../engine/worker.ts';
import type { Clock } from '../model/clock.ts';
import type { OpenedStore } from '../store/open-store.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import type { PostroomMetrics } from './metrics.ts';
import type { DestinationReload } from './schemas.ts';

export interface ApiContext {
  config: Config;
  opened: OpenedStore;
  /** The running worker, when there is one (replays nudge its delivery loop). */
  worker?: Worker;
  log: Logger;
  connections: ConnectionRegistry;
  metrics: PostroomMetrics;
  clock: Clock;
  /** Reads the config file again and swaps in changed destinations (the service's; absent without a config file). */
  reloadDestinations?: (by: string) => Promise<DestinationReload>;
}

export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
  /** Response headers worth documenting, by name. */
  headers?: Record<string, { description: string; type: 'integer' | 'string' }>;
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify syntax: /api/connections/:name */
  url: string;
  summary: string;
  description?: string;
  tag: string;
  /** Callable without the token (health, metrics). Absent: the token is required (deny by default). */
  public?: true;
  /** The request body's schema, for the document; handlers validate with it (or a stricter path). */
  body?: { schema: z.ZodType; required: boolean; description?: string };
  query?: z.ZodObject;
  responses: Record<number, RouteResponse>;
  handle(request: FastifyRequest, reply: FastifyReply, context: ApiContext): Promise<unknown>;
}

export function defineRoute(route: ApiRoute): ApiRoute {
  return route;
}

/** A path parameter (Fastify has already matched the route, so it is there). */
export function param(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? '';
}
