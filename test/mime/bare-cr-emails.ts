/**
 * Two emails written with bare CR line endings, shared by the split test and the IMAP/POP3 pickup tests.
 */
const CR = '\r';

export const BARE_CR_TEXT = [
  'From: "Mac" <mac@postroom.test>',
  'To: receiver@postroom.test',
  'Subject: bare CR text',
  'Message-ID: <bare-cr-text@postroom.test>',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'first line',
  'second line',
  '',
].join(CR);

export const BARE_CR_ATTACHMENT = [
  'From: "Mac" <mac@postroom.test>',
  'To: receiver@postroom.test',
  'Subject: bare CR attachment',
  'Message-ID: <bare-cr-attachment@postroom.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="B"',
  '',
  '--B',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'see the file',
  '--B',
  'Content-Type: application/pdf; name="a.pdf"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="a.pdf"',
  '',
  'QUJDREVG',
  'R0hJ',
  '--B--',
  '',
].join(CR);
