// npm start on a fresh clone: create postroom.yaml from the example so there is something to edit.
import { copyFileSync, existsSync } from 'node:fs';

if (!existsSync('postroom.yaml') && !process.env.POSTROOM_CONFIG) {
  copyFileSync('postroom.example.yaml', 'postroom.yaml');
  process.stderr.write('postroom: created postroom.yaml from postroom.example.yaml; edit it to add your mailboxes\n');
}
