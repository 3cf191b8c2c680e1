/** The directory destination's options, as the config file, the API and the UI take them. */
import { z } from 'zod';
import { formatOption } from './format-option.ts';

/**
 * Owner read-write, group read, others nothing: a pipeline that reads as another user in the
 * group (the usual hand-off) still can, a local user outside it cannot read the emails.
 */
export const DEFAULT_FILE_MODE = 0o640;

/** A file mode as octal text ("0640", "640") or a number (0o640 in YAML 1.2, 416). */
const fileMode = z
  .union([
    z.number().int(),
    z
      .string()
      .regex(/^0?o?[0-7]{3}$/, 'give fileMode as octal text, e.g. "0640"')
      .transform((text) => Number.parseInt(text.replace(/^0?o?/, ''), 8)),
  ])
  .refine((mode) => mode >= 0 && mode <= 0o777, 'fileMode is a permission mode from 0 to 0777, e.g. "0640"');

export const directoryOptions = z
  .object({
    type: z.literal('directory'),
    path: z
      .string()
      .min(1, 'give the directory to write pipeline messages into')
      .describe('The directory to write `<id>.data` and `<id>.json` into (relative to postroom.yaml); created if missing.'),
    format: formatOption.describe(
      '`raw`: `.data` and `.json`; `cloudevents`: also `<id>.ce.json`, the CloudEvents attributes with `dataref` naming `<id>.data`; `cloudevents-structured`: `<id>.ce.json` is the whole event, the content as `data_base64`.',
    ),
    fileMode: fileMode
      .optional()
      .describe(
        'Mode of `.data` and `.json`, as octal text (default `"0640"`: owner and group read them); a directory Postroom creates gets the matching x bits.',
      ),
  })
  .strict();

export type DirectoryOptions = z.infer<typeof directoryOptions>;
