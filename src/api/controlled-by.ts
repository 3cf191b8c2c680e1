/** Who asked for a control through the API (the web UI goes through it too), as the status board and the connection's controls show it. */
import type { FastifyRequest } from 'fastify';

export const controlledBy = (request: FastifyRequest): string => `API from ${request.ip}`;
