/**
 * Finds a mail folder by what the config says: a well-known name (`inbox`, `archive`, ...), which
 * Graph accepts in place of an id, or a path of display names (`Inbox/Orders/2025`), resolved one
 * level at a time through `childFolders` with a `displayName` filter.
 */
import { PostroomError } from '../../model/errors.ts';
import { type GraphClient, odataString } from './graph-client.ts';

/** learn.microsoft.com mailFolder resource, "Use well-known folder names". */
const WELL_KNOWN = new Set([
  'archive',
  'clutter',
  'conflicts',
  'conversationhistory',
  'deleteditems',
  'drafts',
  'inbox',
  'junkemail',
  'localfailures',
  'msgfolderroot',
  'outbox',
  'recoverableitemsdeletions',
  'scheduled',
  'searchfolders',
  'sentitems',
  'serverfailures',
  'syncissues',
]);

/** Folder names listed in a "not found" message: enough to spot a typo, short enough to read. */
const LISTED_NAMES = 30;

export interface GraphFolder {
  id: string;
  displayName?: string;
  unreadItemCount?: number;
  totalItemCount?: number;
}

const FOLDER_FIELDS = 'id,displayName,unreadItemCount,totalItemCount';

export function isWellKnownFolder(name: string): boolean {
  return WELL_KNOWN.has(name.toLowerCase());
}

/** The folder's id (or its well-known name, which Graph takes as an id), with its counts. */
export async function resolveFolder(client: GraphClient, path: string): Promise<GraphFolder & { ref: string }> {
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) throw new PostroomError('CONFIG_INVALID', 'the folder name is empty');
  let parent = 'msgfolderroot';
  let folder: GraphFolder | undefined;
  for (const [index, segment] of segments.entries()) {
    const walked = segments.slice(0, index + 1).join('/');
    if (index === 0 && isWellKnownFolder(segment)) {
      folder = await client.json<GraphFolder>({
        method: 'GET',
        path: `mailFolders/${segment.toLowerCase()}?$select=${FOLDER_FIELDS}`,
        stage: 'folder',
        what: `folder "${walked}"`,
      });
    } else {
      const matches = await client.collect<GraphFolder>(
        {
          method: 'GET',
          path: `mailFolders/${encodeURIComponent(parent)}/childFolders?$filter=${encodeURIComponent(`displayName eq ${odataString(segment)}`)}&$select=${FOLDER_FIELDS}`,
          stage: 'folder',
          what: `folder "${walked}"`,
        },
        1,
      );
      folder = matches[0];
      if (!folder) {
        const siblings = await client
          .collect<GraphFolder>(
            {
              method: 'GET',
              path: `mailFolders/${encodeURIComponent(parent)}/childFolders?$select=displayName&$top=${LISTED_NAMES}`,
              stage: 'folder',
              what: 'the folder list',
            },
            LISTED_NAMES,
          )
          .then((list) => list.map((f) => f.displayName).filter(Boolean))
          .catch(() => [] as Array<string | undefined>);
        throw new PostroomError('FOLDER_NOT_FOUND', `"${walked}" in mailbox ${client.mailbox}`, {
          hint: siblings.length
            ? `Folders there: ${siblings.join(', ')}. Use a well-known name (inbox, archive, ...) or a path of display names such as Inbox/Orders.`
            : 'Use a well-known name (inbox, archive, ...) or a path of display names such as Inbox/Orders.',
        });
      }
    }
    if (!folder?.id) throw new PostroomError('PROTOCOL_ERROR', `Graph answered folder "${walked}" without an id`);
    parent = folder.id;
  }
  const only = segments.length === 1 && isWellKnownFolder(segments[0]!);
  return { ...folder!, ref: only ? segments[0]!.toLowerCase() : folder!.id };
}
