import type { Readable } from 'node:stream';
import { PostroomError } from '../../model/errors.ts';
import { defineRoute, param } from '../route.ts';
import { errorSchema } from '../schemas.ts';
import { findDeadLetter } from './find-dead-letter.ts';

/** Resolves once the stream can be read, so a missing file is a 404 rather than a cut-off body. */
function readable(stream: Readable): Promise<Readable> {
  return new Promise((resolve, reject) => {
    stream.once('readable', () => resolve(stream));
    stream.once('error', reject);
  });
}

export const getDeadLetterRaw = defineRoute({
  method: 'GET',
  url: '/api/dead-letters/:id/raw',
  tag: 'dead letters',
  summary: 'Download the raw email (RFC 822) the dead letter was made from',
  responses: {
    200: { description: 'The raw email', contentType: 'message/rfc822' },
    404: { description: 'No dead letter has that id, or its raw email is no longer kept', schema: errorSchema },
  },
  async handle(request, reply, { opened }) {
    const message = await findDeadLetter(opened.store, param(request, 'id'));
    const ledger = await opened.store.findLedger(message.connection, message.sourceKey);
    if (!ledger?.rawRef) throw new PostroomError('DEAD_LETTER_NOT_FOUND', `the raw email of "${message.id}" is no longer kept`);
    let stream: Readable;
    try {
      stream = await readable(opened.content.open(ledger.rawRef));
    } catch (error) {
      throw new PostroomError('DEAD_LETTER_NOT_FOUND', `the raw email of "${message.id}" could not be read`, { cause: error });
    }
    reply.header('content-type', 'message/rfc822').header('content-disposition', `attachment; filename="${message.id}.eml"`);
    return reply.send(stream);
  },
});
