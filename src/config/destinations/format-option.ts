/** The `format` option of the destinations that can send CloudEvents (the schema only; destinations/cloudevents.ts does the work). */
import { z } from 'zod';

export const MESSAGE_FORMATS = ['raw', 'cloudevents', 'cloudevents-structured'] as const;
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

/**
 * `raw` (default): the content as it is, Postroom's own headers. `cloudevents`: a CloudEvents 1.0
 * event in binary content mode (attributes beside the content). `cloudevents-structured`: one
 * CloudEvents JSON document with the content as data_base64.
 */
export const formatOption = z
  .enum(MESSAGE_FORMATS, { error: () => `format is one of ${MESSAGE_FORMATS.join(', ')}` })
  .default('raw')
  .describe(
    "`raw`: the content with Postroom's headers; `cloudevents`: a CloudEvents 1.0 event in binary content mode; `cloudevents-structured`: one CloudEvents JSON document, the content as `data_base64`.",
  );
